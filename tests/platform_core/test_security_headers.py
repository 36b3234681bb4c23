"""Security headers on every response: CSP, nosniff, Referrer-Policy, no framing by other
sites; HSTS in production over HTTPS only; no forced redirect to HTTPS."""

from __future__ import annotations

import pytest

from platform_core.app import create_app
from platform_core.config import TestConfig


def _csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {
        part.split()[0]: " ".join(part.split()[1:])
        for part in (p.strip() for p in policy.split(";"))
        if part
    }


@pytest.mark.parametrize(
    "path", ["/login", "/healthz", "/api/v1/stores/nowhere/program", "/enroll/nowhere"]
)
def test_every_response_carries_the_headers(client, path):
    response = client.get(path)
    csp = _csp(response)
    assert csp["frame-ancestors"] == "'self'"
    assert csp["object-src"] == "'none'"
    assert csp["base-uri"] == "'self'"
    assert csp["default-src"] == "'self'"
    # Scripts and styles from this origin only (plus this response's nonce), no CDN.
    script = csp["script-src"].split()
    style = csp["style-src"].split()
    assert script[0] == style[0] == "'self'"
    assert all(s.startswith("'nonce-") for s in script[1:] + style[1:])
    assert "'unsafe-inline'" not in script + style
    assert not any(s.startswith(("http", "*")) for s in script + style)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "Strict-Transport-Security" not in response.headers


def test_console_pages_carry_a_fresh_nonce_on_their_inline_script(client, login_as, platform_admin):
    login_as(platform_admin)
    first = client.get("/admin/")
    second = client.get("/admin/")
    nonce = _csp(first)["script-src"].split()[1][len("'nonce-") : -1]
    assert f'nonce="{nonce}"' in first.text
    assert nonce not in _csp(second)["script-src"]
    # Flask-Admin's assets come from its own static folder, never from another host.
    assert "/admin/static/vendor/jquery.min.js" in first.text
    assert "cdn" not in first.text.lower()
    assert " onclick=" not in first.text


def test_token_pages_keep_their_stricter_referrer_policy(client):
    response = client.get("/password/reset/not-a-token")
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_no_redirect_to_https_outside_production(client):
    assert client.get("/login").status_code == 200


@pytest.fixture(scope="module")
def production_headers_app():
    # The production headers only (the rest of ProductionConfig wants Redis and SMTP).
    return create_app(config=TestConfig(), overrides={"ENV_NAME": "production"})


def test_production_sends_hsts_over_https_and_does_not_force_a_redirect(production_headers_app):
    client = production_headers_app.test_client()
    secure = client.get("/healthz", base_url="https://loyalty.example.lu")
    assert secure.status_code == 200
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31556926")
    plain = client.get("/healthz")
    # TLS ends at the reverse proxy, which redirects HTTP; the load balancer probes over HTTP.
    assert plain.status_code == 200
    assert "Strict-Transport-Security" not in plain.headers


def test_another_app_does_not_change_this_apps_headers(client, production_headers_app):
    assert "Strict-Transport-Security" not in client.get("/login", base_url="https://x").headers

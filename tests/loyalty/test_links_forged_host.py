"""Links come from PUBLIC_BASE_URL, never from the request's Host or X-Forwarded-Host.

Each attack sends the request as an attacker would (a forged ``Host``, or a forged
``X-Forwarded-Host`` through one trusted proxy) and reads back every link the product
emailed (the memory provider serializes the real MIME message) and returned.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from werkzeug.middleware.proxy_fix import ProxyFix

from messaging.providers import clear_outbox, outbox
from platform_core.app import _init_proxy
from seeds.seed_email_templates_core import core_templates, upsert_templates
from seeds.seed_email_templates_loyalty import loyalty_templates

BASE = "https://loyalty.example.lu"
EVIL = "evil.example"
_URL = re.compile(r"https?://[^\s\"'<>/]+")

ATTACKS = {
    "host": {"Host": EVIL},
    "forwarded-host": {"X-Forwarded-Host": EVIL, "X-Forwarded-For": "203.0.113.9"},
}


@pytest.fixture(params=sorted(ATTACKS))
def forged(request, app, monkeypatch) -> dict[str, str]:
    """The forged headers; for X-Forwarded-Host the app trusts one proxy, as in production."""
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", BASE)
    if request.param == "forwarded-host":
        monkeypatch.setattr(app, "wsgi_app", app.wsgi_app)
        monkeypatch.setitem(app.config, "TRUSTED_PROXY_COUNT", 1)
        _init_proxy(app)
        assert isinstance(app.wsgi_app, ProxyFix)
    return ATTACKS[request.param]


@pytest.fixture
def mailbox(session: Any) -> Iterator[list[EmailMessage]]:
    upsert_templates(core_templates())
    upsert_templates(loyalty_templates())
    clear_outbox()
    yield outbox
    clear_outbox()


def _hosts_in(text: str) -> set[str]:
    return {url.split("://", 1)[1] for url in _URL.findall(text)}


def _links(messages: list[EmailMessage], path: str) -> list[str]:
    found = []
    for message in messages:
        for part in message.walk():
            if part.get_content_maintype() == "text":
                found += [u for u in re.findall(r"https?://[^\s\"'<>]+", part.get_content())]
    return [link for link in found if path in link]


def _assert_on_base(messages: list[EmailMessage], path: str) -> None:
    links = _links(messages, path)
    assert links, f"no {path} link was emailed"
    assert all(link.startswith(BASE + path) for link in links), links
    for message in messages:
        for part in message.walk():
            if part.get_content_maintype() == "text":
                assert EVIL not in part.get_content()


def test_forgot_password_emails_the_reset_link_on_the_configured_host(
    client, forged, mailbox, merchant_admin
):
    response = client.post("/password/forgot", data={"email": merchant_admin.email}, headers=forged)
    assert response.status_code == 200
    assert len(mailbox) == 1
    _assert_on_base(mailbox, "/password/reset/")


def test_staff_invitation_link_is_on_the_configured_host(
    client, forged, mailbox, merchant_admin, dummy_store
):
    # The admin's browser holds a session on whatever host it talks to.
    host = forged.get("Host", "localhost")
    with client.session_transaction(base_url=f"http://{host}") as sess:
        sess["_user_id"] = merchant_admin.get_id()
        sess["_fresh"] = True
    response = client.post(
        "/admin/staffuser/new/",
        data={
            "email": "new.person@example.lu",
            "full_name": "Nora Klein",
            "role": "store_staff",
            "password": "",
            "is_active_user": "y",
            "merchant": str(merchant_admin.merchant_id),
            "stores": str(dummy_store.id),
            "preferred_locale": "en",
        },
        headers=forged,
    )
    assert response.status_code == 302
    assert EVIL not in response.headers["Location"]
    assert len(mailbox) == 1
    _assert_on_base(mailbox, "/password/set/")


def test_api_enrollment_returns_and_emails_card_links_on_the_configured_host(
    client, forged, mailbox, dummy_store, points_program
):
    body = {
        "email": "jean.schmit@example.lu",
        "first_name": "Jean",
        "last_name": "Schmit",
        "locale": "en",
        "accept_terms": True,
    }
    response = client.post("/api/v1/stores/kirchberg/enroll", json=body, headers=forged)
    assert response.status_code == 201
    returned = response.get_json()["card"]["card_page_url"]
    assert returned.startswith(BASE + "/card/")
    assert EVIL not in response.get_data(as_text=True)
    assert mailbox, "the enrollment emails were sent"
    _assert_on_base(mailbox, "/card/")


def test_web_enrollment_page_links_the_card_on_the_configured_host(
    client, forged, mailbox, dummy_store, points_program
):
    form = {
        "email": "lea.muller@example.lu",
        "first_name": "Léa",
        "last_name": "Muller",
        "preferred_locale": "en",
        "accept_terms": "y",
    }
    response = client.post("/enroll/kirchberg?lang=en", data=form, headers=forged)
    assert response.status_code == 303
    assert EVIL not in response.headers["Location"]
    response = client.get(response.headers["Location"], headers=forged)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'href="{BASE}/card/' in html
    assert EVIL not in html
    _assert_on_base(mailbox, "/card/")


@pytest.fixture
def production_hosts(app, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", BASE)
    monkeypatch.setitem(app.config, "REJECT_UNKNOWN_HOSTS", True)


def test_production_refuses_unknown_hosts_before_any_view(
    client,
    production_hosts,
    merchant_admin,
    mailbox,
    create_store_domain,
    dummy_store,
    points_program,
):
    create_store_domain(store=dummy_store, host="bakery.example.lu")
    refused = client.post(
        "/password/forgot", data={"email": merchant_admin.email}, headers={"Host": EVIL}
    )
    assert refused.status_code == 400
    assert mailbox == [], "the view did not run"
    for path in ("/", "/login", "/admin/", "/api/v1/stores/kirchberg/program"):
        assert client.get(path, headers={"Host": EVIL}).status_code == 400, path
    # The platform's host and a store's own domain answer; the health check answers anywhere.
    assert client.get("/login", headers={"Host": "loyalty.example.lu"}).status_code == 200
    assert client.get("/", headers={"Host": "Bakery.Example.LU."}).status_code == 200
    assert client.get("/healthz", headers={"Host": "10.0.0.7:8000"}).status_code == 200


def test_without_the_production_switch_unknown_hosts_are_served(client):
    assert client.get("/login", headers={"Host": EVIL}).status_code == 200


def test_production_config_rejects_unknown_hosts_by_default():
    from platform_core.config import Config, ProductionConfig

    assert ProductionConfig.REJECT_UNKNOWN_HOSTS is True
    assert Config.REJECT_UNKNOWN_HOSTS is False

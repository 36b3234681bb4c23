"""Error pages in the visitor's language with a way back; JSON errors under /api/; bad
input that used to answer 500 now answers a readable 4xx."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask, abort, g
from flask_babel import force_locale

from platform_core.app import create_app
from platform_core.config import TestConfig
from platform_core.errors import ERRORS

CODES = (400, 403, 404, 405, 410, 413, 429, 500)


@pytest.fixture(scope="module")
def boom_app() -> Iterator[Flask]:
    """An app whose test routes raise each status, with exceptions handled as in production."""
    app = create_app(config=TestConfig(), overrides={"PROPAGATE_EXCEPTIONS": False})

    def boom(code: int):
        if code == 500:
            raise RuntimeError("planted failure")
        abort(code)

    def boom_with_request_id():
        g.request_id = "req-4711"
        raise RuntimeError("planted failure")

    for prefix in ("", "/admin", "/api/v1"):
        app.add_url_rule(f"{prefix}/test-boom/<int:code>", f"boom{prefix}", boom)
    app.add_url_rule("/test-boom-id", "boom_id", boom_with_request_id)
    return app


def _texts(status: int, locale: str) -> tuple[str, str]:
    _code, heading, message = ERRORS[status]
    with force_locale(locale):
        return str(heading), str(message)


@pytest.mark.parametrize("status", CODES)
@pytest.mark.parametrize("lang", ["en", "lb"])
@pytest.mark.parametrize(("prefix", "back"), [("", 'href="/"'), ("/admin", 'href="/admin/"')])
def test_each_status_has_a_localized_page_with_a_way_back(boom_app, status, lang, prefix, back):
    with boom_app.test_request_context():
        heading, message = _texts(status, lang)
        english, _ = _texts(status, "en")
    response = boom_app.test_client().get(f"{prefix}/test-boom/{status}?lang={lang}")
    assert response.status_code == status
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    assert heading in html
    assert message.replace("'", "&#39;") in html
    assert back in html
    if lang == "lb":
        assert heading != english, f"{status} has no Luxembourgish heading"
    assert "Werkzeug" not in html
    assert "The requested URL" not in html


def test_the_500_page_shows_the_request_id_when_there_is_one(boom_app):
    response = boom_app.test_client().get("/test-boom-id")
    assert response.status_code == 500
    assert "req-4711" in response.get_data(as_text=True)


@pytest.mark.parametrize("status", CODES)
def test_api_errors_are_json_with_a_stable_code(boom_app, status):
    response = boom_app.test_client().get(f"/api/v1/test-boom/{status}?lang=lb")
    assert response.status_code == status
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == ERRORS[status][0]
    with boom_app.test_request_context():
        assert error["message"] == _texts(status, "lb")[1]


def test_unknown_api_path_and_wrong_method_answer_json(app, client):
    missing = client.get("/api/v1/no-such-thing?lang=fr")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    with app.test_request_context():
        french, english = _texts(404, "fr")[1], _texts(404, "en")[1]
    assert missing.get_json()["error"]["message"] == french != english
    wrong = client.delete("/api/v1/stores/anything/enroll")
    assert wrong.status_code == 405
    assert wrong.get_json()["error"]["code"] == "method_not_allowed"
    assert "POST" in wrong.headers["Allow"]
    outside = client.get("/api/no-version")
    assert outside.get_json()["error"]["code"] == "not_found"


def test_public_404_and_405_are_pages_in_the_visitors_language(client):
    page = client.get("/no-such-page?lang=lb")
    assert page.status_code == 404
    assert 'lang="lb"' in page.text
    assert "Säit net fonnt" in page.text
    wrong = client.post("/healthz?lang=de")
    assert wrong.status_code == 405
    assert 'lang="de"' in wrong.text


# --- input that answered 500 ---------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "/admin/terminal/99999999999999999999999/",
        "/admin/terminal/1/cards/99999999999999999999999/",
        "/admin/loyaltycard/?page=99999999999999999999",
        "/admin/loyaltytransaction/?page=99999999999999999999",
        "/admin/customer/?page=-3",
    ],
)
def test_absurd_ids_and_pages_in_the_console_answer_404(client, login_as, platform_admin, url):
    login_as(platform_admin)
    response = client.get(f"{url}{'&' if '?' in url else '?'}lang=lb")
    assert response.status_code == 404
    assert "Säit net fonnt" in response.text
    assert 'href="/admin/"' in response.text


def test_numbers_the_database_cannot_hold_are_a_400(client, login_as, platform_admin, app):
    # A filter value is only read as an integer; the driver cannot bind this one.
    login_as(platform_admin)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        response = client.get("/admin/loyaltytransaction/?flt1_1=99999999999999999999999")
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
    assert response.status_code in (200, 400)
    assert "Internal Server Error" not in response.text

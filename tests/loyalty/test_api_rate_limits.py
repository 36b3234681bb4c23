"""Rate limits of the public endpoints: one enrollment budget shared by form and API,
program info on its own budget, and client addresses that cannot be forged."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import count

import pytest
from flask import Flask

from platform_core.app import create_app
from platform_core.config import TestConfig
from platform_core.extensions import limiter

_emails = count(1)


def _api_body() -> dict:
    return {
        "email": f"rl{next(_emails)}@example.lu",
        "first_name": "Rita",
        "last_name": "Lang",
        "locale": "en",
        "marketing_consent": False,
        "accept_terms": True,
    }


def _form_body() -> dict:
    return {
        "email": f"rl{next(_emails)}@example.lu",
        "first_name": "Rita",
        "last_name": "Lang",
        "preferred_locale": "en",
        "accept_terms": "y",
    }


def _assert_retry_after(response) -> None:
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_form_and_api_share_ten_enrollments_a_minute(client, session, dummy_store, points_program):
    for _ in range(5):
        assert client.post("/enroll/kirchberg", data=_form_body()).status_code == 303
        assert client.post("/api/v1/stores/kirchberg/enroll", json=_api_body()).status_code == 201

    api = client.post("/api/v1/stores/kirchberg/enroll?lang=en", json=_api_body())
    assert api.status_code == 429
    _assert_retry_after(api)
    assert api.get_json()["error"]["code"] == "rate_limited"

    form = client.post("/enroll/kirchberg?lang=en", data=_form_body())
    assert form.status_code == 429
    _assert_retry_after(form)
    assert form.mimetype == "text/html"
    html = form.get_data(as_text=True)
    assert "You have tried too often in a short time." in html  # the form, kept
    assert 'lang="en"' in html

    # Looking at the form is not an attempt: it still opens.
    assert client.get("/enroll/kirchberg").status_code == 200


def test_invalid_attempts_count_too(client, session, dummy_store, points_program):
    for _ in range(10):
        assert client.post("/api/v1/stores/kirchberg/enroll", json={}).status_code == 422
    assert client.post("/api/v1/stores/kirchberg/enroll", json=_api_body()).status_code == 429


def test_program_info_allows_thirty_a_minute(client, session, dummy_store, points_program):
    for _ in range(30):
        assert client.get("/api/v1/stores/kirchberg/program").status_code == 200
    response = client.get("/api/v1/stores/kirchberg/program")
    assert response.status_code == 429
    _assert_retry_after(response)
    assert response.is_json
    # Its budget is its own: enrolling still works.
    assert client.post("/api/v1/stores/kirchberg/enroll", json=_api_body()).status_code == 201


def test_forged_forwarded_for_does_not_give_a_fresh_bucket(
    client, session, dummy_store, points_program
):
    # No proxy is trusted (TRUSTED_PROXY_COUNT=0): X-Forwarded-For is just a header.
    for n in range(10):
        response = client.post(
            "/api/v1/stores/kirchberg/enroll",
            json=_api_body(),
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        )
        assert response.status_code == 201
    response = client.post(
        "/api/v1/stores/kirchberg/enroll",
        json=_api_body(),
        headers={"X-Forwarded-For": "198.51.100.77"},
    )
    assert response.status_code == 429


@pytest.fixture(scope="module")
def proxied_app(app: Flask) -> Iterator[Flask]:
    """The same app behind one trusted proxy; it shares the test database and transaction."""
    from tests.conftest import IsolatedClient

    proxied = create_app(config=TestConfig(), overrides={"TRUSTED_PROXY_COUNT": 1})
    proxied.test_client_class = IsolatedClient
    yield proxied
    with proxied.app_context():
        limiter.reset()


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket(
    proxied_app, connection, session, dummy_store, points_program
):
    with proxied_app.app_context():
        limiter.reset()
    client = proxied_app.test_client()

    def enroll(address: str):
        return client.post(
            "/api/v1/stores/kirchberg/enroll",
            json=_api_body(),
            headers={"X-Forwarded-For": address},
        )

    for _ in range(10):
        assert enroll("198.51.100.1").status_code == 201
    assert enroll("198.51.100.1").status_code == 429
    # Another customer behind the same proxy is not blocked by the first one.
    assert enroll("198.51.100.2").status_code == 201
    # The proxy appends the address it saw; a client-supplied value before it is ignored.
    assert enroll("10.0.0.1, 198.51.100.1").status_code == 429

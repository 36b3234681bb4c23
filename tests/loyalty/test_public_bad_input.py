"""Bad input on the public pages and the API: readable 4xx answers, nothing lost."""

from __future__ import annotations

from itertools import count

import pytest

_emails = count(1)


def test_deeply_nested_json_is_a_400(client, dummy_store, points_program):
    for body in ("[" * 100_000, '{"a":' * 100_000):
        response = client.post(
            "/api/v1/stores/kirchberg/enroll", data=body, content_type="application/json"
        )
        assert response.status_code == 400
        assert response.get_json()["error"]["code"] == "invalid_json"


@pytest.mark.parametrize(
    ("path", "kwargs"),
    [
        ("/api/v1/stores/kirchberg/enroll", {"data": "{" + " " * 1_100_000 + "}"}),
        ("/enroll/kirchberg", {"data": {"first_name": "x" * 1_100_000}}),
        ("/enroll/no-such-store", {"data": {"first_name": "x" * 1_100_000}}),
        ("/login", {"data": {"email": "x" * 1_100_000}}),
    ],
)
def test_bodies_over_one_megabyte_are_refused_with_413(client, dummy_store, path, kwargs):
    if "api" in path:
        kwargs = {**kwargs, "content_type": "application/json"}
    response = client.post(f"{path}?lang=fr", **kwargs)
    assert response.status_code == 413
    if "api" in path:
        assert response.get_json()["error"]["code"] == "payload_too_large"
    else:
        assert 'lang="fr"' in response.text


def test_a_body_just_under_the_limit_still_works(client, dummy_store, points_program):
    response = client.post(
        "/api/v1/stores/kirchberg/enroll",
        data='{"padding": "' + "x" * 1_000_000 + '"}',
        content_type="application/json",
    )
    assert response.status_code == 422  # read and validated, not refused for its size


def test_enrollment_refused_by_the_rate_limit_keeps_what_was_typed(
    client, app, monkeypatch, dummy_store, points_program
):
    monkeypatch.setitem(app.config, "RATELIMIT_ENROLL", "1/minute")
    first = {
        "email": f"first{next(_emails)}@example.lu",
        "first_name": "Rita",
        "last_name": "Lang",
        "preferred_locale": "lb",
        "accept_terms": "y",
    }
    assert client.post("/enroll/kirchberg", data=first).status_code == 303
    typed = {
        "email": "jemp.schmit@example.lu",
        "first_name": "Jemp",
        "last_name": "Schmit",
        "phone": "+352 621 123 456",
        "preferred_locale": "lb",
        "accept_terms": "y",
    }
    refused = client.post("/enroll/kirchberg?lang=lb", data=typed)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    html = refused.get_data(as_text=True)
    for value in ("jemp.schmit@example.lu", "Jemp", "Schmit", "+352 621 123 456"):
        assert f'value="{value}"' in html
    assert '<html lang="lb">' in html
    assert "<form" in html

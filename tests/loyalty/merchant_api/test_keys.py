"""API keys: shown once and stored hashed, Bearer auth, scopes, revocation, rate limit, CLI."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from loyalty.merchant_api.keys import hash_key, revoke_api_key
from loyalty.merchant_api.models import ApiKey
from platform_core import db as dbmod
from platform_core.extensions import db
from tests.loyalty.merchant_api.conftest import bearer


def test_cli_prints_the_key_alone_on_its_last_line_and_stores_only_its_hash(
    runner, session, dummy_store, points_program, client, card
):
    result = runner.invoke(
        args=[
            "merchants",
            "api-key",
            "create",
            "--merchant",
            "boulangerie-kirchberg",
            "--store",
            "kirchberg",
            "--name",
            "Till 1",
        ]
    )
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("lk_")
    assert " " not in key
    assert len(key) > 40
    row = session.scalar(select(ApiKey).where(ApiKey.name == "Till 1"))
    assert row.store_id == dummy_store.id
    assert row.key_hash == hash_key(key)
    stored = " ".join(str(v) for v in (row.prefix, row.key_hash, row.scopes, row.name))
    assert key not in stored
    assert key.split("_")[-1] not in stored
    assert row.last_used_at is None
    answer = client.get(f"/api/v1/merchant/cards/{card.card_number}", headers=bearer(key))
    assert answer.status_code == 200
    db.session.refresh(row)
    assert row.last_used_at is not None


def test_cli_refuses_unknown_merchant_and_scope(runner, session, dummy_merchant):
    bad = runner.invoke(
        args=["merchants", "api-key", "create", "--merchant", "nope", "--name", "x"]
    )
    assert bad.exit_code != 0
    assert "nope" in bad.output
    scope = runner.invoke(
        args=[
            "merchants",
            "api-key",
            "create",
            "--merchant",
            dummy_merchant.slug,
            "--name",
            "x",
            "--scopes",
            "cards:read,admin",
        ]
    )
    assert scope.exit_code != 0
    assert "admin" in scope.output


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer lk_nothing", "Basic abc", "Bearer lk_00000000_wrongsecret"],
)
def test_missing_or_bad_key_answers_401(client, session, card, api_key, header):
    headers = {"Authorization": header} if header else {}
    answer = client.get(f"/api/v1/merchant/cards/{card.card_number}", headers=headers)
    assert answer.status_code == 401
    assert answer.get_json()["error"]["code"] == "unauthorized"


def test_right_prefix_wrong_secret_answers_401(client, session, card, api_key):
    forged = api_key[:-4] + ("aaaa" if not api_key.endswith("aaaa") else "bbbb")
    answer = client.get(f"/api/v1/merchant/cards/{card.card_number}", headers=bearer(forged))
    assert answer.status_code == 401


def test_revoked_key_answers_401_at_once(client, session, card, api_key):
    url = f"/api/v1/merchant/cards/{card.card_number}"
    assert client.get(url, headers=bearer(api_key)).status_code == 200
    row = session.scalar(select(ApiKey))
    revoke_api_key(row)
    dbmod.commit()
    assert client.get(url, headers=bearer(api_key)).status_code == 401


def test_missing_scope_answers_403(client, session, card, make_key, dummy_merchant):
    read_only = make_key(dummy_merchant, scopes=["cards:read"])
    answer = client.post(
        f"/api/v1/merchant/cards/{card.card_number}/earn",
        json={"points": 5, "store": "kirchberg"},
        headers=bearer(read_only, **{"Idempotency-Key": "k1"}),
    )
    assert answer.status_code == 403
    assert answer.get_json()["error"]["code"] == "forbidden"
    enroll_only = make_key(dummy_merchant, scopes=["enroll"])
    lookup = client.get(f"/api/v1/merchant/cards/{card.card_number}", headers=bearer(enroll_only))
    assert lookup.status_code == 403


def test_rate_limit_is_per_key_and_answers_429_with_retry_after(
    app, client, session, card, make_key, dummy_merchant
):
    first, second = make_key(dummy_merchant), make_key(dummy_merchant)
    url = f"/api/v1/merchant/cards/{card.card_number}"
    app.config["MERCHANT_API_RATELIMIT"] = "3/minute"
    try:
        for _ in range(3):
            assert client.get(url, headers=bearer(first)).status_code == 200
        limited = client.get(url, headers=bearer(first, **{"Accept-Language": "de"}))
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) >= 1
        assert limited.get_json()["error"]["code"] == "rate_limited"
        assert "Anfragen" in limited.get_json()["error"]["message"]  # German, once translated
        # Another key of the same merchant has its own budget.
        assert client.get(url, headers=bearer(second)).status_code == 200
    finally:
        app.config["MERCHANT_API_RATELIMIT"] = "600/minute"

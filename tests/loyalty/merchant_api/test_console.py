"""Integrations in the console: keys and endpoints created (shown once) and revoked by
merchant admins for their merchant and by platform admins for any; scoped like every view."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from loyalty.merchant_api.keys import create_api_key, hash_key
from loyalty.merchant_api.models import ApiKey
from loyalty.webhooks.endpoints import create_endpoint
from loyalty.webhooks.models import WebhookDelivery, WebhookEndpoint
from platform_core import db as dbmod
from tests.loyalty.merchant_api.conftest import bearer
from tests.support.webhook_receiver import webhook_receiver

KEYS = "/admin/api_keys/"
HOOKS = "/admin/webhook_endpoints/"
DELIVERIES = "/admin/webhook_deliveries/"


@pytest.fixture
def other(create_merchant, create_store):
    merchant = create_merchant(name="Rival", slug="rival")
    create_store(merchant=merchant, name="Rival store", slug="rival-store")
    return merchant


def _shown_key(page: str) -> str:
    match = re.search(r"(lk_[0-9a-f]{8}_[A-Za-z0-9_-]+)", page)
    assert match, page
    return match.group(1)


def test_merchant_admin_creates_a_key_shown_once_for_their_merchant(
    login_as, session, merchant_admin, dummy_merchant, dummy_store, other, card
):
    client = login_as(merchant_admin)
    form = client.get(f"{KEYS}add/")
    assert form.status_code == 200
    assert "Rival" not in form.get_data(as_text=True)  # no other merchant's stores offered
    # A merchant_id in the post is ignored: the key is for their own merchant.
    answer = client.post(
        f"{KEYS}add/",
        data={
            "name": "Web shop",
            "store_id": "",
            "scopes": ["cards:read"],
            "merchant_id": str(other.id),
        },
    )
    assert answer.status_code == 200
    key = _shown_key(answer.get_data(as_text=True))
    row = session.scalar(select(ApiKey).where(ApiKey.name == "Web shop"))
    assert row.merchant_id == dummy_merchant.id
    assert row.key_hash == hash_key(key)
    assert row.scopes == "cards:read"
    listing = client.get(KEYS).get_data(as_text=True)
    assert "Web shop" in listing
    assert key not in listing  # only its prefix
    api = client.get(f"/api/v1/merchant/cards/{card.card_number}", headers=bearer(key))
    assert api.status_code == 200


def test_a_store_of_another_merchant_is_refused(login_as, session, merchant_admin, other):
    client = login_as(merchant_admin)
    rival_store = other.id  # any id outside the scoped choices
    answer = client.post(
        f"{KEYS}add/", data={"name": "x", "store_id": str(rival_store + 1000), "scopes": ["enroll"]}
    )
    assert answer.status_code == 200
    assert session.scalar(select(ApiKey)) is None


def test_revoking_takes_effect_at_once_and_is_scoped(
    login_as, session, merchant_admin, dummy_merchant, other, card
):
    mine = create_api_key(dummy_merchant, "Till")
    theirs = create_api_key(other, "Rival till")
    dbmod.commit()
    client = login_as(merchant_admin)
    assert "Rival till" not in client.get(KEYS).get_data(as_text=True)
    assert client.post(f"{KEYS}revoke/", data={"id": theirs.api_key.id}).status_code == 404
    assert session.get(ApiKey, theirs.api_key.id).revoked_at is None
    url = f"/api/v1/merchant/cards/{card.card_number}"
    assert client.get(url, headers=bearer(mine.key)).status_code == 200
    assert client.post(f"{KEYS}revoke/", data={"id": mine.api_key.id}).status_code == 302
    assert client.get(url, headers=bearer(mine.key)).status_code == 401


def test_platform_admin_creates_for_any_merchant(login_as, session, platform_admin, other):
    client = login_as(platform_admin)
    answer = client.post(
        f"{KEYS}add/",
        data={
            "name": "Rival API",
            "merchant_id": str(other.id),
            "store_id": "",
            "scopes": ["cards:read", "enroll"],
        },
    )
    assert answer.status_code == 200
    _shown_key(answer.get_data(as_text=True))
    row = session.scalar(select(ApiKey).where(ApiKey.name == "Rival API"))
    assert row.merchant_id == other.id


def test_store_staff_cannot_open_integrations(login_as, session, store_staff):
    client = login_as(store_staff)
    for url in (KEYS, f"{KEYS}add/", HOOKS, DELIVERIES):
        assert client.get(url).status_code == 403


def test_webhook_endpoint_secret_shown_once_deliveries_listed_and_replayed(
    login_as, session, merchant_admin, dummy_merchant, other, card, api_key
):
    client = login_as(merchant_admin)
    with webhook_receiver() as rec:
        answer = client.post(f"{HOOKS}add/", data={"url": rec.url, "events": ["points.earned"]})
        assert answer.status_code == 200
        page = answer.get_data(as_text=True)
        secret = re.search(r"(whsec_[A-Za-z0-9+/=]+)", page).group(1)
        rec.secret = secret
        endpoint = session.scalar(select(WebhookEndpoint))
        assert endpoint.merchant_id == dummy_merchant.id
        assert secret not in client.get(HOOKS).get_data(as_text=True)
        client.post(
            f"/api/v1/merchant/cards/{card.card_number}/earn",
            json={"store": "kirchberg", "points": 3},
            headers=bearer(api_key, **{"Idempotency-Key": "c1"}),
        )
        assert rec.types() == ["points.earned"]
        listing = client.get(DELIVERIES).get_data(as_text=True)
        assert "points.earned" in listing
        assert "200" in listing
        delivery = session.scalar(select(WebhookDelivery))
        assert client.post(f"{DELIVERIES}replay/", data={"id": delivery.id}).status_code == 302
        assert len(rec.delivered()) == 2
        assert all(r.verified for r in rec.received)


def test_another_merchants_endpoint_and_deliveries_are_404(
    login_as, session, merchant_admin, other
):
    theirs = create_endpoint(other, "https://rival.example.lu/hooks", "points.earned")
    dbmod.commit()
    client = login_as(merchant_admin)
    assert "rival.example.lu" not in client.get(HOOKS).get_data(as_text=True)
    assert client.post(f"{HOOKS}enable/", data={"id": theirs.endpoint.id}).status_code == 404
    assert client.post(f"{HOOKS}delete/", data={"id": theirs.endpoint.id}).status_code in (302, 404)
    assert session.get(WebhookEndpoint, theirs.endpoint.id) is not None
    assert client.post(f"{DELIVERIES}replay/", data={"id": 999999}).status_code == 404

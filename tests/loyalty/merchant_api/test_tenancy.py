"""Tenancy: every endpoint tried with another merchant's key and with a store-limited key."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from loyalty.models import LoyaltyTransaction
from loyalty.services.ledger import earn_points
from platform_core import db as dbmod
from tests.loyalty.merchant_api.conftest import bearer


@pytest.fixture
def world(session, card, dummy_store, second_store, make_key, dummy_merchant, other_merchant_key):
    """A card with an earn at each of the merchant's two stores."""
    at_home = earn_points(card, store=dummy_store, points=10)
    elsewhere = earn_points(card, store=second_store, points=20)
    dbmod.commit()
    return {
        "card": card,
        "home_tx": at_home.id,
        "other_store_tx": elsewhere.id,
        "store_key": make_key(dummy_merchant, store=dummy_store),
        "foreign_key": other_merchant_key,
    }


def _endpoints(world):
    n = world["card"].card_number
    email = world["card"].customer.email
    return [
        ("get", f"/cards/{n}", None),
        ("get", f"/cards?email={email}", None),
        ("post", f"/cards/{n}/earn", {"points": 5}),
        ("post", f"/cards/{n}/redeem", {"points": 5}),
        ("post", f"/cards/{n}/stamps", {"count": 1}),
        ("post", f"/cards/{n}/stamp-reward", {}),
        ("post", f"/transactions/{world['home_tx']}/void", {}),
    ]


def _call(client, method, url, key, body, idem):
    headers = bearer(key, **{"Idempotency-Key": idem})
    if method == "get":
        return client.get(f"/api/v1/merchant{url}", headers=headers)
    return client.post(f"/api/v1/merchant{url}", json=body, headers=headers)


def _ledger_rows(session) -> int:
    return session.scalar(select(func.count()).select_from(LoyaltyTransaction))


def test_another_merchants_key_gets_404_on_every_endpoint_and_changes_nothing(
    client, session, world
):
    before = _ledger_rows(session)
    for index, (method, url, body) in enumerate(_endpoints(world)):
        payload = dict(body or {}, store="other-store")
        answer = _call(client, method, url, world["foreign_key"], payload, f"f{index}")
        assert answer.status_code == 404, (url, answer.get_json())
        assert answer.get_json()["error"]["code"] in ("card_not_found", "transaction_not_found")
    # Naming the victim merchant's store does not help either.
    earn = _call(
        client,
        "post",
        f"/cards/{world['card'].card_number}/earn",
        world["foreign_key"],
        {"points": 5, "store": "kirchberg"},
        "f-store",
    )
    assert earn.status_code == 404
    assert earn.get_json()["error"]["code"] == "store_not_found"
    enroll = _call(
        client,
        "post",
        "/enroll",
        world["foreign_key"],
        {
            "store": "kirchberg",
            "email": "z@example.lu",
            "first_name": "Z",
            "last_name": "Z",
            "accept_terms": True,
        },
        "f-enroll",
    )
    assert enroll.status_code == 404
    assert _ledger_rows(session) == before


def test_store_limited_key_acts_only_for_its_store(client, session, world):
    key = world["store_key"]
    n = world["card"].card_number
    # Its own store by default, and by name.
    earned = _call(client, "post", f"/cards/{n}/earn", key, {"points": 5}, "s1")
    assert earned.status_code == 201
    assert earned.get_json()["transaction"]["store"] == "kirchberg"
    named = _call(
        client, "post", f"/cards/{n}/earn", key, {"points": 5, "store": "kirchberg"}, "s2"
    )
    assert named.status_code == 201
    # Another store of the same merchant: refused on every operation.
    for index, (method, url, body) in enumerate(_endpoints(world)):
        if method == "get":
            continue
        answer = _call(client, method, url, key, dict(body, store="gasperich"), f"s-other{index}")
        assert answer.status_code == 403, (url, answer.get_json())
        assert answer.get_json()["error"]["code"] == "store_not_allowed"
    enroll = _call(
        client,
        "post",
        "/enroll",
        key,
        {
            "store": "gasperich",
            "email": "y@example.lu",
            "first_name": "Y",
            "last_name": "Y",
            "accept_terms": True,
        },
        "s-enroll",
    )
    assert enroll.status_code == 403
    # A transaction of the other store is invisible to it: 404, as in the console.
    void = _call(client, "post", f"/transactions/{world['other_store_tx']}/void", key, {}, "s-void")
    assert void.status_code == 404
    # History shows its store's rows only.
    card = _call(client, "get", f"/cards/{n}", key, None, "s-get").get_json()["card"]
    assert {row["store"] for row in card["history"]} == {"kirchberg"}


def test_merchant_wide_key_voids_any_store_of_its_merchant(client, session, world, api_key):
    void = _call(client, "post", f"/transactions/{world['other_store_tx']}/void", api_key, {}, "v")
    assert void.status_code == 201
    assert void.get_json()["transaction"]["store"] == "gasperich"

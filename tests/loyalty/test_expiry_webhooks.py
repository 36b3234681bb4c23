"""points.expired and points.expiring webhook events from the batch jobs: written in bulk
in each chunk's transaction, one per card, only for merchants with a subscribed endpoint."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from loyalty.models import LoyaltyTransaction, TransactionType
from loyalty.services.expiry import expire_inactive_points, send_expiry_warnings
from loyalty.webhooks.endpoints import create_endpoint
from loyalty.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEvent
from platform_core import db as dbmod
from platform_core.models_base import utcnow

URL = "https://hooks.example.com/loyalty"


def _idle(make_card, store, n, days):
    cards = [make_card(store) for _ in range(n)]
    for card in cards:
        card.last_activity_at = utcnow() - timedelta(days=days)
    return cards


def _events(session, event_type):
    return list(
        session.scalars(
            select(WebhookEvent).where(WebhookEvent.type == event_type).order_by(WebhookEvent.id)
        )
    )


def test_expiry_emits_one_points_expired_event_per_card_with_its_transaction(
    session, dummy_merchant, points_program, dummy_store, make_card
):
    create_endpoint(dummy_merchant, URL, ["points.expired"])
    cards = _idle(make_card, dummy_store, 5, days=400)
    dbmod.commit()
    balances = {card.id: card.points_balance for card in cards}
    assert all(balances.values())

    report = expire_inactive_points(chunk_size=2, commit=dbmod.commit)

    assert report.cards == 5
    events = _events(session, "points.expired")
    assert sorted(e.card_id for e in events) == sorted(balances)
    ledger = {
        row.card_id: row.id
        for row in session.scalars(
            select(LoyaltyTransaction).where(LoyaltyTransaction.type == TransactionType.EXPIRY)
        )
    }
    for event in events:
        body = json.loads(event.payload)
        assert body["type"] == "points.expired"
        assert event.merchant_id == dummy_merchant.id
        assert body["data"]["points"] == balances[event.card_id]
        assert body["data"]["transaction_id"] == ledger[event.card_id]
        assert body["data"]["card"]["points_balance"] == 0
    deliveries = list(session.scalars(select(WebhookDelivery)))
    assert len(deliveries) == 5
    assert {d.status for d in deliveries} == {DeliveryStatus.PENDING}
    assert {d.event_id for d in deliveries} == {e.id for e in events}


def test_no_event_rows_without_a_subscribed_endpoint(
    session, dummy_merchant, points_program, dummy_store, make_card
):
    # Subscribed to other events only, and a disabled one that wants points.expired.
    create_endpoint(dummy_merchant, URL, ["points.earned"])
    disabled = create_endpoint(dummy_merchant, URL + "/off", ["points.expired", "points.expiring"])
    disabled.endpoint.is_active = False
    _idle(make_card, dummy_store, 3, days=400)
    _idle(make_card, dummy_store, 2, days=360)
    dbmod.commit()
    before = session.scalar(select(func.count()).select_from(WebhookEvent))

    assert expire_inactive_points(commit=dbmod.commit).cards == 3
    assert send_expiry_warnings(commit=dbmod.commit).cards == 2

    assert session.scalar(select(func.count()).select_from(WebhookEvent)) == before
    assert not _events(session, "points.expired")
    assert not _events(session, "points.expiring")


def test_warnings_emit_points_expiring_with_the_expiry_date(
    session, dummy_merchant, points_program, dummy_store, make_card
):
    create_endpoint(dummy_merchant, URL, ["points.expiring"])
    cards = _idle(make_card, dummy_store, 3, days=360)
    dbmod.commit()

    assert send_expiry_warnings(chunk_size=2, commit=dbmod.commit).cards == 3

    events = _events(session, "points.expiring")
    assert sorted(e.card_id for e in events) == sorted(c.id for c in cards)
    for event in events:
        data = json.loads(event.payload)["data"]
        assert data["points"] > 0
        assert data["expires_on"]
    assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 3

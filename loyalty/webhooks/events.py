"""Writing webhook events into the outbox, inside the transaction of the change.

Services call :func:`emit` (or the helpers below) before their caller commits. It inserts one
``WebhookEvent`` and one pending ``WebhookDelivery`` per subscribed endpoint, and registers
the dispatch task with ``after_commit``: a rolled-back change leaves no event and sends
nothing. Nothing at all is written for a merchant without a subscribed endpoint.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert, select

from loyalty.models import LoyaltyCard, LoyaltyTransaction, TransactionType
from loyalty.webhooks.models import (
    EVENT_TYPES,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from platform_core import db as dbmod
from platform_core.extensions import db
from platform_core.models_base import utcnow

_LEDGER_EVENTS = {
    TransactionType.EARN: "points.earned",
    TransactionType.REDEEM: "points.redeemed",
    TransactionType.VOID: "points.voided",
    TransactionType.ADJUSTMENT: "points.adjusted",
    TransactionType.STAMP: "stamps.added",
    TransactionType.STAMP_REWARD: "reward.redeemed",
}


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def _subscribed(merchant_id: int, event_type: str) -> list[int]:
    rows = db.session.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.events).where(
            WebhookEndpoint.merchant_id == merchant_id, WebhookEndpoint.is_active.is_(True)
        )
    )
    return [row.id for row in rows if event_type in row.events.split()]


def card_summary(card: LoyaltyCard) -> dict[str, Any]:
    return {
        "number": card.card_number,
        "points_balance": card.points_balance,
        "stamp_count": card.stamp_count,
        "rewards_available": card.stamp_rewards_earned - card.stamp_rewards_redeemed,
    }


def emit(
    merchant_id: int, event_type: str, *, card_id: int | None, data: dict[str, Any]
) -> WebhookEvent | None:
    """Put ``event_type`` in the outbox for every endpoint of the merchant that wants it.

    :param merchant_id: whose endpoints receive it.
    :param event_type: one of :data:`EVENT_TYPES`.
    :param card_id: the card it is about; events of one card are delivered in order.
    :param data: the event's ``data`` object (JSON-serialisable).
    :return: the event, or ``None`` when no endpoint is subscribed.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event {event_type!r}")
    endpoint_ids = _subscribed(merchant_id, event_type)
    if not endpoint_ids:
        return None
    moment = utcnow()
    event = WebhookEvent(
        merchant_id=merchant_id,
        message_id=f"msg_{secrets.token_urlsafe(18)}",
        type=event_type,
        card_id=card_id,
        payload=json.dumps({"type": event_type, "timestamp": _iso(moment), "data": data}),
        created_at=moment,
    )
    db.session.add(event)
    db.session.flush()
    db.session.execute(
        insert(WebhookDelivery),
        [
            {
                "merchant_id": merchant_id,
                "endpoint_id": endpoint_id,
                "event_id": event.id,
                "card_id": card_id,
                "status": DeliveryStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": moment,
                "created_at": moment,
            }
            for endpoint_id in endpoint_ids
        ],
    )
    from loyalty.webhooks.tasks import dispatch_event_task

    dbmod.after_commit(dispatch_event_task, event.id)
    return event


def emit_for_transaction(row: LoyaltyTransaction, card: LoyaltyCard) -> None:
    """The event(s) of a new ledger row (called by the ledger service, row flushed)."""
    event_type = _LEDGER_EVENTS.get(row.type)
    if event_type is None:
        return
    from loyalty.merchant_api.serialize import transaction_json

    data = {"card": card_summary(card), "transaction": transaction_json(row)}
    emit(card.merchant_id, event_type, card_id=card.id, data=data)
    completed = getattr(row, "completed_rewards", 0)
    if completed:
        emit(
            card.merchant_id,
            "reward.ready",
            card_id=card.id,
            data={"card": card_summary(card), "rewards_completed": completed},
        )


def emit_card_enrolled(card: LoyaltyCard, *, store_slug: str | None, welcome_bonus: int) -> None:
    """``card.enrolled`` (called by enrollment, card flushed)."""
    customer = card.customer
    emit(
        card.merchant_id,
        "card.enrolled",
        card_id=card.id,
        data={
            "card": card_summary(card),
            "customer": {
                "email": customer.email,
                "first_name": customer.first_name,
                "last_name": customer.last_name,
                "locale": customer.preferred_locale,
            },
            "store": store_slug,
            "welcome_bonus_points": welcome_bonus,
        },
    )


def emit_points_expired(card: LoyaltyCard, points: int, transaction_id: int | None = None) -> None:
    """``points.expired``, for the expiry service to call in its chunk's transaction."""
    emit(
        card.merchant_id,
        "points.expired",
        card_id=card.id,
        data={"card": card_summary(card), "points": points, "transaction_id": transaction_id},
    )


def emit_points_expiring(card: LoyaltyCard, points: int, expires_on: date) -> None:
    """``points.expiring``, for the expiry-warning job to call in its chunk's transaction."""
    emit(
        card.merchant_id,
        "points.expiring",
        card_id=card.id,
        data={"card": card_summary(card), "points": points, "expires_on": expires_on.isoformat()},
    )

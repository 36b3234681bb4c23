"""Writing webhook events into the outbox, inside the transaction of the change.

Services call :func:`emit` (or the helpers below) before their caller commits. It inserts one
``WebhookEvent`` and one pending ``WebhookDelivery`` per subscribed endpoint, and registers
the dispatch task with ``after_commit``: a rolled-back change leaves no event and sends
nothing. Nothing at all is written for a merchant without a subscribed endpoint.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import Integer, Table, bindparam, insert, literal, select, text
from sqlalchemy.dialects.postgresql import ARRAY

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


# -- many events at once (the batch jobs) ---------------------------------------------------


def subscribed_endpoints(merchant_id: int, event_type: str) -> list[int]:
    """The merchant's enabled endpoints that want ``event_type`` (one small query)."""
    return _subscribed(merchant_id, event_type)


def emit_many(
    merchant_id: int,
    event_type: str,
    items: Sequence[tuple[int, dict[str, Any]]],
    *,
    endpoint_ids: Sequence[int] | None = None,
) -> list[int]:
    """Put one ``event_type`` event per ``(card_id, data)`` in the outbox, set-based: one
    multi-row insert of the events and one of their deliveries, whatever the count, and one
    dispatch task for all of them after the commit. Nothing is written (and, given
    ``endpoint_ids``, nothing is read) for a merchant without a subscribed endpoint.

    :param endpoint_ids: the subscribed endpoints, when the caller looked them up already
        (:func:`subscribed_endpoints`).
    :return: the events' ids, in the order of ``items``.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event {event_type!r}")
    if not items:
        return []
    endpoints = list(
        endpoint_ids if endpoint_ids is not None else _subscribed(merchant_id, event_type)
    )
    if not endpoints:
        return []
    moment = utcnow()
    stamp = _iso(moment)
    message_ids = [f"msg_{secrets.token_urlsafe(18)}" for _ in items]
    card_ids = [card_id for card_id, _ in items]
    payloads = [
        json.dumps({"type": event_type, "timestamp": stamp, "data": data}) for _, data in items
    ]
    events = cast(Table, WebhookEvent.__table__)
    if db.session.get_bind().dialect.name == "postgresql":
        rows = db.session.execute(
            text(
                "INSERT INTO webhook_events (merchant_id, message_id, type, card_id, payload,"
                " created_at)"
                " SELECT :merchant_id, u.message_id, :type, u.card_id, u.payload, :now"
                " FROM unnest(CAST(:message_ids AS text[]), CAST(:card_ids AS integer[]),"
                " CAST(:payloads AS text[]))"
                " WITH ORDINALITY AS u(message_id, card_id, payload, ord)"
                " ORDER BY u.ord"
                " RETURNING id, message_id"
            ),
            {
                "merchant_id": merchant_id,
                "type": event_type,
                "now": moment,
                "message_ids": message_ids,
                "card_ids": card_ids,
                "payloads": payloads,
            },
        ).all()
    else:
        rows = db.session.execute(
            insert(events).returning(events.c.id, events.c.message_id),
            [
                {
                    "merchant_id": merchant_id,
                    "message_id": message_id,
                    "type": event_type,
                    "card_id": card_id,
                    "payload": payload,
                    "created_at": moment,
                }
                for message_id, card_id, payload in zip(
                    message_ids, card_ids, payloads, strict=True
                )
            ],
        ).all()
    by_message = {row.message_id: row.id for row in rows}
    event_ids = [by_message[message_id] for message_id in message_ids]
    # The deliveries, from the events just written: events x endpoints, in event order so
    # each card's deliveries keep the order of its events.
    deliveries = cast(Table, WebhookDelivery.__table__)
    endpoint_table = cast(Table, WebhookEndpoint.__table__)
    if db.session.get_bind().dialect.name == "postgresql":
        event_in = events.c.id == bindparam("event_ids", event_ids, type_=ARRAY(Integer)).any_()
    else:
        event_in = events.c.id.in_(event_ids)
    db.session.execute(
        insert(deliveries).from_select(
            [
                "merchant_id",
                "endpoint_id",
                "event_id",
                "card_id",
                "status",
                "attempts",
                "next_attempt_at",
                "created_at",
            ],
            select(
                events.c.merchant_id,
                endpoint_table.c.id,
                events.c.id,
                events.c.card_id,
                literal(DeliveryStatus.PENDING.value),
                literal(0),
                events.c.created_at,
                events.c.created_at,
            )
            .select_from(events.join(endpoint_table, endpoint_table.c.id.in_(endpoints)))
            .where(event_in)
            .order_by(events.c.id, endpoint_table.c.id),
        )
    )
    from loyalty.webhooks.tasks import dispatch_events_task

    dbmod.after_commit(dispatch_events_task, event_ids)
    return event_ids

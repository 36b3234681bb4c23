"""Delivering the outbox: one signed POST per delivery, in order per endpoint and card.

A delivery goes out only when it is the oldest pending delivery of its endpoint and card
(its id is the card's sequence), when it is due and when its endpoint is active. A worker
claims it with a conditional UPDATE committed *before* the HTTP call, so no row lock is held
while waiting on the merchant's server and two workers never send the same delivery at once.

Failures retry with exponential back-off (``WEBHOOK_RETRY_BASE_SECONDS`` x 4^n, at most 6 h
apart) until 24 h after the first attempt; then the delivery is ``failed``. An endpoint that
has failed without a single success for 24 h is disabled and its merchant told by email.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast, overload

import requests
from flask import current_app
from sqlalchemy import ColumnElement, CursorResult, and_, exists, select, update
from sqlalchemy.orm import aliased
from standardwebhooks.webhooks import Webhook

from loyalty.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from loyalty.webhooks.ssrf import BlockedAddressError, check_url, http_session
from platform_core import db as dbmod
from platform_core.extensions import db
from platform_core.models_base import utcnow

log = logging.getLogger(__name__)

#: Deliveries are retried for this long after their first attempt.
RETRY_WINDOW = timedelta(hours=24)
#: An endpoint failing this long without any success is disabled.
DISABLE_AFTER = timedelta(hours=24)
MAX_DELAY = timedelta(hours=6)
USER_AGENT = "loyalty-platform-webhooks/1"


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    #: ``delivered``, ``retry``, ``failed`` or ``skipped`` (not claimable now).
    result: str
    response_code: int | None = None
    #: The next delivery of the same card, to send now.
    next_id: int | None = None


@overload
def _aware(value: datetime) -> datetime: ...
@overload
def _aware(value: None) -> None: ...
@overload
def _aware(value: datetime | None) -> datetime | None: ...
def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt."""
    base = float(current_app.config.get("WEBHOOK_RETRY_BASE_SECONDS", 5))
    return min(timedelta(seconds=base * 4 ** max(attempts - 1, 0)), MAX_DELAY)


def _is_head() -> ColumnElement[bool]:
    older = aliased(WebhookDelivery)
    return ~exists().where(
        and_(
            older.endpoint_id == WebhookDelivery.endpoint_id,
            older.card_id == WebhookDelivery.card_id,
            older.status == DeliveryStatus.PENDING,
            older.id < WebhookDelivery.id,
        )
    )


def _claim(delivery_id: int, now: datetime, *, force: bool = False) -> bool:
    lease = now + timedelta(seconds=float(current_app.config.get("WEBHOOK_TIMEOUT", 10)) + 30)
    conditions = [
        WebhookDelivery.id == delivery_id,
        WebhookDelivery.status == DeliveryStatus.PENDING,
        (WebhookDelivery.locked_until.is_(None)) | (WebhookDelivery.locked_until < now),
        WebhookDelivery.endpoint_id.in_(
            select(WebhookEndpoint.id).where(WebhookEndpoint.is_active.is_(True))
        ),
    ]
    if not force:
        conditions += [WebhookDelivery.next_attempt_at <= now, _is_head()]
    result = cast(
        CursorResult[Any],
        db.session.execute(
            update(WebhookDelivery)
            .where(*conditions)
            .values(locked_until=lease)
            .execution_options(synchronize_session=False)
        ),
    )
    dbmod.commit()
    return bool(result.rowcount)


def next_in_chain(delivery: WebhookDelivery) -> int | None:
    """The oldest pending delivery of the same endpoint and card, if any."""
    if delivery.card_id is None:
        return None
    return db.session.scalar(
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.endpoint_id == delivery.endpoint_id,
            WebhookDelivery.card_id == delivery.card_id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
        )
        .order_by(WebhookDelivery.id)
        .limit(1)
    )


def _post(endpoint: WebhookEndpoint, event: WebhookEvent) -> int:
    """Send the signed request; the status code, or raise on a network error."""
    allow_private = bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE"))
    if not allow_private:
        check_url(endpoint.url)
    # The timestamp is the real sending time: receivers check it against their clock.
    timestamp = datetime.now(UTC)
    signature = Webhook(endpoint.secret).sign(event.message_id, timestamp, event.payload)
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": event.message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature,
    }
    with http_session(allow_private=allow_private) as session:
        response = session.post(
            endpoint.url,
            data=event.payload.encode("utf-8"),
            headers=headers,
            timeout=float(current_app.config.get("WEBHOOK_TIMEOUT", 10)),
            allow_redirects=False,
        )
        response.close()
        return response.status_code


def attempt_delivery(
    delivery_id: int, *, now: datetime | None = None, force: bool = False
) -> Outcome:
    """Try to send one delivery now (claim, POST, record the outcome, commit).

    :param delivery_id: the delivery to send.
    :param now: the current time for scheduling (tests move it; signing uses the clock).
    :param force: send even if not due or not the head of its chain (replay).
    """
    moment = now or utcnow()
    if not _claim(delivery_id, moment, force=force):
        return Outcome(delivery_id, "skipped")
    delivery = db.session.get(WebhookDelivery, delivery_id)
    assert delivery is not None  # claimed just above: the row exists
    endpoint, event = delivery.endpoint, delivery.event
    code: int | None = None
    error: str | None = None
    try:
        code = _post(endpoint, event)
        if not 200 <= code < 300:
            error = f"HTTP {code}"
    except BlockedAddressError as exc:
        error = f"refused: {exc}"
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    delivery = db.session.get(WebhookDelivery, delivery_id)
    assert delivery is not None  # still leased to this call: nobody else deletes it
    endpoint = delivery.endpoint
    delivery.attempts += 1
    delivery.last_attempt_at = moment
    delivery.first_attempt_at = delivery.first_attempt_at or moment
    delivery.response_code = code
    delivery.locked_until = None
    if error is None:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = moment
        delivery.last_error = None
        endpoint.failing_since = None
        db.session.flush()
        following = next_in_chain(delivery)
        dbmod.commit()
        return Outcome(delivery_id, "delivered", code, following)
    delivery.last_error = error
    endpoint.failing_since = _aware(endpoint.failing_since) or moment
    result = "retry"
    if moment - _aware(delivery.first_attempt_at) >= RETRY_WINDOW:
        delivery.status = DeliveryStatus.FAILED
        result = "failed"
    else:
        delivery.next_attempt_at = moment + retry_delay(delivery.attempts)
    if endpoint.is_active and moment - _aware(endpoint.failing_since) >= DISABLE_AFTER:
        from loyalty.webhooks.endpoints import disable_failing_endpoint

        disable_failing_endpoint(endpoint, moment)
    db.session.flush()
    following = next_in_chain(delivery) if result == "failed" else None
    dbmod.commit()
    log.info("webhook delivery %s failed (%s): %s", delivery_id, result, error)
    return Outcome(delivery_id, result, code, following)


def deliver_chain(
    delivery_id: int, *, now: datetime | None = None, force: bool = False
) -> list[Outcome]:
    """Send ``delivery_id`` and then, while they succeed, the next deliveries of its card."""
    outcomes = []
    current: int | None = delivery_id
    while current is not None:
        outcome = attempt_delivery(current, now=now, force=force)
        outcomes.append(outcome)
        force = False
        current = outcome.next_id
    return outcomes


def due_heads(now: datetime, limit: int = 500) -> list[int]:
    """Deliveries that can go out now: due, head of their chain, endpoint active."""
    return list(
        db.session.scalars(
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.status == DeliveryStatus.PENDING,
                WebhookDelivery.next_attempt_at <= now,
                (WebhookDelivery.locked_until.is_(None)) | (WebhookDelivery.locked_until < now),
                WebhookDelivery.endpoint_id.in_(
                    select(WebhookEndpoint.id).where(WebhookEndpoint.is_active.is_(True))
                ),
                _is_head(),
            )
            .order_by(WebhookDelivery.id)
            .limit(limit)
        )
    )


def deliver_due(now: datetime | None = None, limit: int = 500) -> list[Outcome]:
    """The sweep: send every due head of chain (and what follows it on success)."""
    moment = now or utcnow()
    outcomes: list[Outcome] = []
    for delivery_id in due_heads(moment, limit):
        outcomes.extend(deliver_chain(delivery_id, now=moment))
    return outcomes

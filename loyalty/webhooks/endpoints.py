"""Registering webhook endpoints, disabling failing ones, replaying deliveries."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from loyalty.webhooks.models import (
    EVENT_TYPES,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
)
from platform_core import db as dbmod
from platform_core.extensions import db
from platform_core.i18n_lazy import _l
from platform_core.models_base import utcnow
from platform_core.tenancy.models import Merchant


class WebhookError(ValueError):
    """An endpoint could not be saved (localized message)."""


@dataclass(frozen=True)
class NewEndpoint:
    endpoint: WebhookEndpoint
    #: ``whsec_...``: shown once.
    secret: str


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def parse_events(values: list[str] | tuple[str, ...] | str) -> list[str]:
    if isinstance(values, str):
        values = values.replace(",", " ").split()
    wanted = {v.strip() for v in values if v and v.strip()}
    unknown = wanted - set(EVENT_TYPES)
    if unknown:
        raise WebhookError(_l("Unknown event: %(events)s.", events=", ".join(sorted(unknown))))
    if not wanted:
        raise WebhookError(_l("Choose at least one event."))
    return [e for e in EVENT_TYPES if e in wanted]


def check_endpoint_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 500:
        raise WebhookError(_l("Enter an http:// or https:// address."))
    if parts.username or parts.password:
        raise WebhookError(_l("The address must not contain a user name or password."))
    return url


def create_endpoint(
    merchant: Merchant, url: str, events: list[str] | tuple[str, ...] | str
) -> NewEndpoint:
    """Register an endpoint for ``merchant``; flushes. The secret is returned once.

    Private addresses are refused when the requests are made (after DNS resolution), not
    here: a name's addresses may change after it was registered.

    :raises WebhookError: bad URL, unknown or no events.
    """
    endpoint = WebhookEndpoint(
        merchant_id=merchant.id,
        url=check_endpoint_url(url),
        events=" ".join(parse_events(events)),
        secret=new_secret(),
        is_active=True,
        created_at=utcnow(),
    )
    db.session.add(endpoint)
    db.session.flush()
    return NewEndpoint(endpoint=endpoint, secret=endpoint.secret)


def enable_endpoint(endpoint: WebhookEndpoint) -> None:
    """Switch an endpoint back on; its pending deliveries go out with the next sweep."""
    endpoint.is_active = True
    endpoint.disabled_at = None
    endpoint.failing_since = None
    db.session.flush()


def disable_failing_endpoint(endpoint: WebhookEndpoint, moment: datetime) -> None:
    """Disable an endpoint that failed for 24 h and email its merchant (after the commit)."""
    endpoint.is_active = False
    endpoint.disabled_at = moment
    from loyalty.webhooks.notify import endpoint_disabled

    endpoint_disabled(endpoint)


def replay_delivery(delivery: WebhookDelivery) -> WebhookDelivery:
    """A new delivery of the same event to the same endpoint (same ``webhook-id``), sent
    after the commit; the original row keeps its history."""
    copy = WebhookDelivery(
        merchant_id=delivery.merchant_id,
        endpoint_id=delivery.endpoint_id,
        event_id=delivery.event_id,
        card_id=delivery.card_id,
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=utcnow(),
        replay_of_id=delivery.id,
        created_at=utcnow(),
    )
    db.session.add(copy)
    db.session.flush()
    from loyalty.webhooks.tasks import deliver_webhook_task

    dbmod.after_commit(deliver_webhook_task, copy.id, True)
    return copy

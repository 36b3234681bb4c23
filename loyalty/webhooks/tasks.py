"""Huey tasks: send an event's deliveries after its commit, retry on schedule, sweep."""

from __future__ import annotations

from huey import crontab

from platform_core.huey import huey
from platform_core.task_context import app_task


@huey.task()
@app_task
def dispatch_event_task(event_id: int) -> None:
    """Send the deliveries of a just-committed event (each waits for its card's older ones)."""
    from loyalty.webhooks.models import WebhookDelivery
    from platform_core.extensions import db

    ids = list(
        db.session.scalars(
            db.select(WebhookDelivery.id)
            .where(WebhookDelivery.event_id == event_id)
            .order_by(WebhookDelivery.id)
        )
    )
    for delivery_id in ids:
        _deliver(delivery_id, force=False)


@huey.task()
@app_task
def dispatch_events_task(event_ids: list[int]) -> None:
    """Send the deliveries of many just-committed events (one batch job chunk's)."""
    from loyalty.webhooks.models import WebhookDelivery
    from platform_core.extensions import db

    ids = list(
        db.session.scalars(
            db.select(WebhookDelivery.id)
            .where(WebhookDelivery.event_id.in_(event_ids))
            .order_by(WebhookDelivery.id)
        )
    )
    for delivery_id in ids:
        _deliver(delivery_id, force=False)


@huey.task()
@app_task
def deliver_webhook_task(delivery_id: int, force: bool = False) -> None:
    """Send one delivery (and what follows it for the same card); schedule its retry."""
    _deliver(delivery_id, force=force)


def _deliver(delivery_id: int, *, force: bool) -> None:
    from loyalty.webhooks.delivery import deliver_chain, retry_delay
    from loyalty.webhooks.models import WebhookDelivery
    from platform_core.extensions import db

    for outcome in deliver_chain(delivery_id, force=force):
        if outcome.result == "retry" and not huey.immediate:
            row = db.session.get(WebhookDelivery, outcome.delivery_id)
            if row is not None:
                deliver_webhook_task.schedule(
                    (outcome.delivery_id,), delay=retry_delay(row.attempts).total_seconds()
                )


@huey.periodic_task(crontab(minute="*"))
@app_task
def sweep_webhooks_task() -> None:
    """Every minute: send what is due (retries whose scheduled task was lost, re-enabled
    endpoints, deliveries that waited for an older one of their card)."""
    from loyalty.webhooks.delivery import deliver_due

    deliver_due()


@huey.periodic_task(crontab(hour="3", minute="15"))
@app_task
def purge_idempotency_keys_task() -> None:
    """Forget Idempotency-Key answers older than ``MERCHANT_API_IDEMPOTENCY_HOURS``."""
    from flask import current_app

    from loyalty.merchant_api.idempotency import purge_expired
    from platform_core import db as dbmod

    purge_expired(int(current_app.config.get("MERCHANT_API_IDEMPOTENCY_HOURS", 48)))
    dbmod.commit()

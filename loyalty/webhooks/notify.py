"""Telling a merchant that one of its webhook endpoints was disabled (a platform email)."""

from __future__ import annotations

from flask_babel import force_locale, format_datetime

from loyalty.webhooks.models import WebhookEndpoint
from messaging.queueing import send

CODE = "webhook_endpoint_disabled"


def endpoint_disabled(endpoint: WebhookEndpoint) -> None:
    """Queue the email to the merchant's contact address (sent after the commit)."""
    merchant = endpoint.merchant
    if not merchant.contact_email:
        return
    locale = (
        merchant.default_locale if merchant.default_locale in ("en", "fr", "de", "lb") else "en"
    )
    with force_locale(locale):
        disabled_at = format_datetime(endpoint.disabled_at, "medium")
    send(
        CODE,
        recipient=merchant.contact_email,
        locale=locale,
        context={
            "merchant_name": merchant.name,
            "endpoint_url": endpoint.url,
            "disabled_at": disabled_at,
        },
        merchant_id=merchant.id,
    )

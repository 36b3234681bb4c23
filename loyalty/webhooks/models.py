"""Webhook endpoints, the event outbox and the deliveries of each event to each endpoint."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loyalty.models import _enum
from platform_core.extensions import Model
from platform_core.models_base import utcnow
from platform_core.tenancy.models import Merchant

#: Every event a merchant can subscribe to.
EVENT_TYPES = (
    "card.enrolled",
    "points.earned",
    "points.redeemed",
    "points.voided",
    "points.adjusted",
    "points.expired",
    "points.expiring",
    "stamps.added",
    "reward.ready",
    "reward.redeemed",
    #: A customer's personal data was erased (payload: customer id and card numbers only).
    "customer.erased",
)


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    #: Retried for 24 h without success (or its endpoint was deleted).
    FAILED = "failed"


class WebhookEndpoint(Model):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(500))
    #: Space-separated event types.
    events: Mapped[str] = mapped_column(Text, default="")
    #: ``whsec_...`` (base64 key), as the standardwebhooks package takes it. Needed in clear
    #: to sign; shown to the merchant once.
    secret: Mapped[str] = mapped_column(String(100))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: First failure of the current run of failures; cleared by any success.
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    merchant: Mapped[Merchant] = relationship()

    @property
    def event_set(self) -> frozenset[str]:
        return frozenset(self.events.split())

    def __str__(self) -> str:
        return self.url


class WebhookEvent(Model):
    """One event, written in the transaction of the change it reports (the outbox)."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    #: ``msg_...``: the ``webhook-id`` header, the same for every attempt and replay.
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    card_id: Mapped[int | None] = mapped_column(Integer)
    #: The JSON body sent to the endpoints.
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    merchant: Mapped[Merchant] = relationship()

    def __str__(self) -> str:
        return f"{self.type} {self.message_id}"


class WebhookDelivery(Model):
    """An event on its way to one endpoint. Ids give the order per endpoint and card."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The head of each card's queue: the oldest pending delivery per endpoint and card.
        Index("ix_webhook_deliveries_chain", "endpoint_id", "card_id", "status", "id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True
    )
    #: Copied from the event: deliveries of one card go out one after the other.
    card_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[DeliveryStatus] = mapped_column(
        _enum(DeliveryStatus, "webhook_delivery_status"), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: A worker claimed the delivery until then (no row lock is held across the HTTP call).
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    response_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Set on a delivery made by a replay from the console.
    replay_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    merchant: Mapped[Merchant] = relationship()
    endpoint: Mapped[WebhookEndpoint] = relationship()
    event: Mapped[WebhookEvent] = relationship()

    def __str__(self) -> str:
        return f"#{self.id}"

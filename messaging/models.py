"""Email templates, store overrides (with their versions) and the email log."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, DateTime, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from platform_core.extensions import Model
from platform_core.models_base import TimestampMixin, utcnow
from platform_core.staff.models import StaffUser
from platform_core.tenancy.models import Merchant, Store


class EmailStatus(enum.StrEnum):
    QUEUED = "queued"
    #: Claimed by one delivery, which holds it until ``lease_expires_at``.
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    #: Not attempted: the address is on the merchant's suppression list.
    SUPPRESSED = "suppressed"


class EmailOutcome(enum.StrEnum):
    """What the mail server made of one attempt."""

    ACCEPTED = "accepted"
    #: A 4xx, a refused connection, a timeout before DATA: nothing was handed over.
    TEMPORARY = "temporary"
    #: A 5xx: the server will never take this message for this address.
    REFUSED = "refused"
    #: The connection was lost or the reply timed out after DATA: it may have arrived.
    UNKNOWN = "unknown"


class EmailTemplate(TimestampMixin, Model):
    """The platform's template for one code in one locale."""

    __tablename__ = "email_templates"
    __table_args__ = (UniqueConstraint("code", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: e.g. ``loyalty_enrollment``; its variables are declared in ``messaging.catalog``.
    code: Mapped[str] = mapped_column(String(64), index=True)
    locale: Mapped[str] = mapped_column(String(5))
    subject: Mapped[str] = mapped_column(String(255))
    body_html: Mapped[str] = mapped_column(Text)
    #: Empty: derived from the HTML body when the message is rendered.
    body_text: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(String(255), default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Fingerprint of the content the seed last wrote; a seed never overwrites a template
    #: whose content no longer matches it (staff edited it).
    seeded_hash: Mapped[str | None] = mapped_column(String(64))
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )

    updated_by: Mapped[StaffUser | None] = relationship()

    def __str__(self) -> str:
        return f"{self.code} ({self.locale})"


class StoreEmailTemplate(TimestampMixin, Model):
    """A store's override of a platform template, for one code and one locale."""

    __tablename__ = "store_email_templates"
    __table_args__ = (UniqueConstraint("store_id", "code", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(5))
    subject: Mapped[str] = mapped_column(String(255))
    body_html: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text, default="")
    #: Who saved the current version.
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )

    merchant: Mapped[Merchant] = relationship()
    store: Mapped[Store] = relationship()
    updated_by: Mapped[StaffUser | None] = relationship()
    versions: Mapped[list[StoreEmailTemplateVersion]] = relationship(
        back_populates="override",
        order_by="StoreEmailTemplateVersion.version.desc()",
        cascade="all, delete-orphan",
    )

    def __str__(self) -> str:
        return f"{self.store} · {self.code} ({self.locale})"


class StoreEmailTemplateVersion(Model):
    """Every saved state of an override, so any earlier one can be restored."""

    __tablename__ = "store_email_template_versions"
    __table_args__ = (UniqueConstraint("override_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    override_id: Mapped[int] = mapped_column(
        ForeignKey("store_email_templates.id", ondelete="CASCADE"), index=True
    )
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(255))
    body_html: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    override: Mapped[StoreEmailTemplate] = relationship(back_populates="versions")
    created_by: Mapped[StaffUser | None] = relationship()


class EmailLog(TimestampMixin, Model):
    """One row per email we intend to send; the send task moves it to sent or failed."""

    __tablename__ = "email_logs"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int | None] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    store_id: Mapped[int | None] = mapped_column(
        ForeignKey("stores.id", ondelete="SET NULL"), index=True
    )
    recipient: Mapped[str] = mapped_column(String(254))
    code: Mapped[str] = mapped_column(String(64), index=True)
    locale: Mapped[str] = mapped_column(String(5))
    status: Mapped[EmailStatus] = mapped_column(
        Enum(
            EmailStatus,
            name="email_status",
            native_enum=False,
            length=10,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=EmailStatus.QUEUED,
        index=True,
    )
    #: Template variables as JSON, so the task (and a resend) renders the same message.
    context_json: Mapped[str] = mapped_column(Text, default="{}")
    #: Deliveries that claimed the row (each one is an attempt, even if its consumer died).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: Attempts whose outcome is unknown (connection lost after DATA, reply timed out).
    unknown_attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_outcome: Mapped[EmailOutcome | None] = mapped_column(
        Enum(
            EmailOutcome,
            name="email_outcome",
            native_enum=False,
            length=10,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    #: The delivery holding a ``sending`` row; its conditional updates name it.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    #: When the sweeper takes the row over: a ``queued`` row whose task never ran, a
    #: ``sending`` row whose consumer died. ``MAIL_STALE_AFTER`` from the enqueue or claim.
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    #: Chosen at the first attempt and kept by every retry, so a receiver can tell a
    #: repeat of a message whose first copy may have arrived.
    message_id: Mapped[str | None] = mapped_column(String(255))
    subject: Mapped[str | None] = mapped_column(String(255))
    body_html: Mapped[str | None] = mapped_column(Text)
    body_text: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: A marketing email's one-click unsubscribe address: sent as ``List-Unsubscribe`` with
    #: ``List-Unsubscribe-Post`` (RFC 8058). Service emails have none.
    list_unsubscribe_url: Mapped[str | None] = mapped_column(String(500))
    #: For a resend: the log row it repeats.
    resent_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("email_logs.id", ondelete="SET NULL")
    )

    merchant: Mapped[Merchant | None] = relationship()
    store: Mapped[Store | None] = relationship()

    def __str__(self) -> str:
        return f"{self.code} → {self.recipient}"


def normalize_address(address: str) -> str:
    """The form an address is suppressed under: trimmed, lower case."""
    return address.strip().lower()


class EmailSuppression(Model):
    """An address the merchant's emails are no longer sent to: the server refused it for good.

    Staff lift a suppression by deleting the row; later emails are attempted again.
    """

    __tablename__ = "email_suppressions"
    __table_args__ = (UniqueConstraint("merchant_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    #: Normalized with :func:`normalize_address`.
    address: Mapped[str] = mapped_column(String(254))
    #: The SMTP reply code of the refusal (e.g. 550).
    code: Mapped[int | None] = mapped_column(Integer)
    #: The server's reply text.
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: The log row whose refusal put the address here.
    email_log_id: Mapped[int | None] = mapped_column(
        ForeignKey("email_logs.id", ondelete="SET NULL")
    )

    merchant: Mapped[Merchant] = relationship()

    def __str__(self) -> str:
        return self.address

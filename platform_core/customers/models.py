"""Customers belong to a merchant: the same person at two merchants is two rows."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from platform_core.extensions import Model
from platform_core.i18n_lazy import _l
from platform_core.models_base import TimestampMixin, utcnow
from platform_core.tenancy.models import Merchant


class Customer(TimestampMixin, Model):
    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("merchant_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    #: Stored lower-case; unique per merchant.
    email: Mapped[str] = mapped_column(String(254))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    #: en, fr, de or lb: emails and public pages use it.
    preferred_locale: Mapped[str] = mapped_column(String(5), default="en")
    phone: Mapped[str | None] = mapped_column(String(40))
    birthday: Mapped[date | None] = mapped_column(Date)
    #: The current state of the ``marketing_email`` consent: a copy of the latest
    #: :class:`ConsentRecord` for it, kept by ``record_consent`` so that the marketing jobs
    #: filter on a column. Never set it directly.
    marketing_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    #: When the customer was anonymized (a data subject's erasure or retention); the row
    #: stays for the ledger, with placeholders instead of the personal data.
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    merchant: Mapped[Merchant] = relationship(back_populates="customers")
    consent_records: Mapped[list[ConsentRecord]] = relationship(
        back_populates="customer",
        order_by="ConsentRecord.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>"


class ConsentPurpose(enum.StrEnum):
    #: The program's terms and conditions, accepted to join.
    TERMS = "terms"
    #: News and offers by email (birthday wishes, re-engagement): never needed to join.
    MARKETING_EMAIL = "marketing_email"

    @property
    def label(self) -> str:
        return str(_PURPOSE_LABELS[self])


class ConsentSource(enum.StrEnum):
    """Where a consent was given or withdrawn."""

    PUBLIC_FORM = "public_form"
    API = "api"
    TERMINAL = "terminal"
    CONSOLE = "console"
    UNSUBSCRIBE = "unsubscribe"
    IMPORT = "import"
    #: The customer's data was erased (on request or by retention): consent withdrawn.
    ERASURE = "erasure"

    @property
    def label(self) -> str:
        return str(_SOURCE_LABELS[self])


_PURPOSE_LABELS = {
    ConsentPurpose.TERMS: _l("Terms and conditions"),
    ConsentPurpose.MARKETING_EMAIL: _l("News and offers by email"),
}
_SOURCE_LABELS = {
    ConsentSource.PUBLIC_FORM: _l("Enrollment form"),
    ConsentSource.API: _l("API"),
    ConsentSource.TERMINAL: _l("Store terminal"),
    ConsentSource.CONSOLE: _l("Console"),
    ConsentSource.UNSUBSCRIBE: _l("Unsubscribe link"),
    ConsentSource.IMPORT: _l("Import"),
    ConsentSource.ERASURE: _l("Erasure of the customer's data"),
}


def _enum(kind: type[enum.StrEnum], name: str, length: int) -> Enum:
    return Enum(
        kind,
        name=name,
        native_enum=False,
        length=length,
        values_callable=lambda e: [m.value for m in e],
    )


class ConsentRecord(Model):
    """One consent given or withdrawn: append-only, the customer's current consent is the
    latest row per purpose.

    The wording shown is kept as a hash (``wording_hash``) so that a merchant can show which
    text a customer agreed to without the table storing every translation again.
    """

    __tablename__ = "consent_records"
    __table_args__ = (Index("ix_consent_records_customer_purpose", "customer_id", "purpose", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[ConsentPurpose] = mapped_column(_enum(ConsentPurpose, "consent_purpose", 20))
    granted: Mapped[bool] = mapped_column(Boolean)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    source: Mapped[ConsentSource] = mapped_column(_enum(ConsentSource, "consent_source", 20))
    #: The language the wording was shown in (en, fr, de, lb).
    locale: Mapped[str] = mapped_column(String(5))
    #: SHA-256 of the exact wording shown (label and, for terms, the terms' address).
    wording_hash: Mapped[str] = mapped_column(String(64))
    #: The staff member who recorded it (console, terminal), if any.
    staff_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )

    customer: Mapped[Customer] = relationship(back_populates="consent_records")

    def __str__(self) -> str:
        return f"{self.purpose.value} {'granted' if self.granted else 'withdrawn'}"

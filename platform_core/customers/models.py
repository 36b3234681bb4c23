"""Customers belong to a merchant: the same person at two merchants is two rows."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from platform_core.extensions import Model
from platform_core.models_base import TimestampMixin
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
    #: The customer agreed to receive marketing messages.
    marketing_consent: Mapped[bool] = mapped_column(Boolean, default=False)

    merchant: Mapped[Merchant] = relationship(back_populates="customers")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>"

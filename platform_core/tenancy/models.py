"""Merchants, their stores, and the host names that reach a store's public pages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from platform_core.extensions import Model
from platform_core.models_base import TimestampMixin

if TYPE_CHECKING:
    from platform_core.customers.models import Customer


class Merchant(TimestampMixin, Model):
    __tablename__ = "merchants"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Trading name shown to customers (and on the From line of emails).
    name: Mapped[str] = mapped_column(String(120))
    #: URL-safe identifier used by the CLI and seeds.
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    #: Registered company name, for invoices and legal pages.
    legal_name: Mapped[str] = mapped_column(String(200), default="")
    #: Where customers' replies go (Reply-To of every email).
    contact_email: Mapped[str] = mapped_column(String(254))
    #: en, fr, de or lb.
    default_locale: Mapped[str] = mapped_column(String(5), default="en")

    stores: Mapped[list[Store]] = relationship(
        back_populates="merchant", order_by="Store.name", cascade="all, delete-orphan"
    )
    customers: Mapped[list[Customer]] = relationship(
        back_populates="merchant", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return self.name


class Store(TimestampMixin, Model):
    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    #: Used in public URLs: /enroll/<slug>.
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    #: Street address, postcode and town, one per line.
    address: Mapped[str] = mapped_column(String(400), default="")
    default_locale: Mapped[str] = mapped_column(String(5), default="en")

    merchant: Mapped[Merchant] = relationship(back_populates="stores")
    domains: Mapped[list[StoreDomain]] = relationship(
        back_populates="store", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return self.name


class StoreDomain(TimestampMixin, Model):
    __tablename__ = "store_domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    #: Lower-case host name without port, e.g. ``boulangerie-kirchberg.lu``.
    host: Mapped[str] = mapped_column(String(253), unique=True)

    store: Mapped[Store] = relationship(back_populates="domains")

    def __str__(self) -> str:
        return self.host

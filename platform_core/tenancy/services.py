"""Merchants, stores and domains: creation and look-ups used by seeds, CLI and views."""

from __future__ import annotations

from sqlalchemy import select

from platform_core.extensions import db
from platform_core.tenancy.models import Merchant, Store, StoreDomain


def get_merchant_by_slug(slug: str) -> Merchant | None:
    return db.session.scalar(select(Merchant).where(Merchant.slug == slug))


def get_store_by_slug(slug: str) -> Store | None:
    return db.session.scalar(select(Store).where(Store.slug == slug))


def create_merchant(
    name: str, slug: str, contact_email: str, legal_name: str = "", default_locale: str = "en"
) -> Merchant:
    """Create a merchant and flush it."""
    merchant = Merchant(
        name=name,
        slug=slug,
        contact_email=contact_email.strip().lower(),
        legal_name=legal_name,
        default_locale=default_locale,
    )
    db.session.add(merchant)
    db.session.flush()
    return merchant


def create_store(
    merchant: Merchant, name: str, slug: str, address: str = "", default_locale: str | None = None
) -> Store:
    """Create a store of ``merchant`` and flush it."""
    store = Store(
        merchant=merchant,
        name=name,
        slug=slug,
        address=address,
        default_locale=default_locale or merchant.default_locale,
    )
    db.session.add(store)
    db.session.flush()
    return store


def add_store_domain(store: Store, host: str) -> StoreDomain:
    """Route ``host`` to ``store``'s public pages; flushes."""
    domain = StoreDomain(store=store, host=host.strip().lower().rstrip("."))
    db.session.add(domain)
    db.session.flush()
    return domain

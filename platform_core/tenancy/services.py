"""Merchants, stores and domains: creation and look-ups used by seeds, CLI and views."""

from __future__ import annotations

import re

from sqlalchemy import select

from platform_core.extensions import db
from platform_core.i18n_lazy import _
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
    """Route ``host`` to ``store``'s public pages; flushes.

    :raises StoreDomainError: when ``host`` is not a host name or already taken.
    """
    domain = StoreDomain(store=store, host=check_store_domain_host(host))
    db.session.add(domain)
    db.session.flush()
    return domain


class StoreDomainError(ValueError):
    """A host name cannot be routed to a store; the message says why (translated)."""


# One DNS label: letters, digits and inner hyphens, at most 63 characters.
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def normalise_host(value: str) -> str:
    """Lower-case ``value`` and check that it is a bare host name (no scheme, port or path).

    :param value: what a person typed, e.g. ``" Hoffmann-Gare.lu. "``.
    :returns: the stored form, e.g. ``"hoffmann-gare.lu"``.
    :raises StoreDomainError: when ``value`` is not a host name.
    """
    host = (value or "").strip().lower().rstrip(".")
    if not host:
        raise StoreDomainError(_("Please enter a host name."))
    if "://" in host or any(ch in host for ch in "/:?#@ "):
        raise StoreDomainError(
            _("Enter the host name only, without http://, port or path (e.g. shop.example.lu).")
        )
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise StoreDomainError(_("This is not a valid host name.")) from None
    if len(host) > 253 or not all(_LABEL.match(label) for label in host.split(".")):
        raise StoreDomainError(_("This is not a valid host name."))
    return host


def get_store_domain_by_host(host: str) -> StoreDomain | None:
    return db.session.scalar(select(StoreDomain).where(StoreDomain.host == host))


def check_store_domain_host(value: str, exclude_id: int | None = None) -> str:
    """Normalise ``value`` and make sure no other store uses it.

    :param exclude_id: the domain being edited, which may keep its own host.
    :raises StoreDomainError: when the host is malformed or taken.
    """
    host = normalise_host(value)
    existing = get_store_domain_by_host(host)
    if existing is not None and existing.id != exclude_id:
        raise StoreDomainError(_("The host %(host)s already points to a store.", host=host))
    return host

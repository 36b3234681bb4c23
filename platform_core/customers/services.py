"""Customers: look-ups and creation shared by the admin, enrollment, seeds and the CLI."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from platform_core.customers.consent import record_consent
from platform_core.customers.models import ConsentPurpose, ConsentSource, Customer
from platform_core.extensions import db
from platform_core.i18n_lazy import _
from platform_core.tenancy.models import Merchant


class CustomerError(ValueError):
    """A customer cannot be saved as asked; ``field`` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def get_customer_by_email(merchant_id: int, email: str) -> Customer | None:
    """The merchant's customer with this email (compared case-insensitively), or ``None``."""
    return db.session.scalar(
        select(Customer).where(
            Customer.merchant_id == merchant_id,
            func.lower(Customer.email) == normalise_email(email),
        )
    )


def check_customer_email(merchant_id: int, email: str, exclude_id: int | None = None) -> str:
    """Normalise ``email`` and make sure the merchant has no other customer with it.

    :param merchant_id: the merchant the customer belongs to.
    :param exclude_id: the customer being edited, who may keep their own address.
    :raises CustomerError: when another customer of the merchant uses the address.
    """
    email = normalise_email(email)
    existing = get_customer_by_email(merchant_id, email)
    if existing is not None and existing.id != exclude_id:
        raise CustomerError(
            _("This merchant already has a customer with the email %(email)s.", email=email),
            field="email",
        )
    return email


@dataclass(frozen=True)
class ConsentGiven:
    """A consent the new customer gave, as :func:`record_consent` records it."""

    purpose: ConsentPurpose
    source: ConsentSource
    locale: str
    #: The wording shown, or its hash (``wording_hash``).
    wording: str
    granted: bool = True
    staff_user_id: int | None = None


def create_customer(
    merchant: Merchant,
    email: str,
    first_name: str,
    last_name: str,
    preferred_locale: str | None = None,
    phone: str | None = None,
    birthday: date | None = None,
    consent: Iterable[ConsentGiven] = (),
) -> Customer:
    """Create a customer of ``merchant`` and flush it, with a consent row per ``consent``
    (the marketing flag is derived from them).

    :param preferred_locale: en, fr, de or lb; defaults to the merchant's language.
    :raises CustomerError: when the merchant already has a customer with this email.
    """
    customer = Customer(
        merchant=merchant,
        email=check_customer_email(merchant.id, email),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        preferred_locale=preferred_locale or merchant.default_locale,
        phone=phone,
        birthday=birthday,
        marketing_consent=False,
    )
    db.session.add(customer)
    db.session.flush()
    for given in consent:
        record_consent(
            customer,
            given.purpose,
            granted=given.granted,
            source=given.source,
            locale=given.locale,
            wording=given.wording,
            staff_user_id=given.staff_user_id,
        )
    return customer

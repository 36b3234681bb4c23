"""Enrollment: a customer joins the merchant's program and gets a card."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError

from loyalty import errors
from loyalty.consent_wording import ConsentWording, marketing_hash, public_wording, terms_hash
from loyalty.models import LoyaltyCard
from loyalty.notifications import loyalty_notifications
from loyalty.services.cards import random_card_number
from loyalty.services.ledger import check_store_access, credit_welcome_bonus
from loyalty.services.program_texts import has_terms, program_texts
from loyalty.services.programs import get_merchant_program
from loyalty.wallet.service import mark_for_sync
from loyalty.webhooks.events import emit_card_enrolled
from platform_core.customers.consent import record_consent
from platform_core.customers.models import ConsentPurpose, ConsentSource, Customer
from platform_core.extensions import db
from platform_core.i18n import current_locale_code
from platform_core.models_base import utcnow
from platform_core.staff.models import StaffUser
from platform_core.tenancy.models import Store

#: Sources where the customer enrolls themself (the merchant may switch these off).
SELF_ENROLLMENT_SOURCES = frozenset({"web", "api"})
SUPPORTED_LOCALES = ("en", "fr", "de", "lb")
#: ``enroll_customer``'s source → where the consent rows say it was given.
_CONSENT_SOURCES = {
    "web": ConsentSource.PUBLIC_FORM,
    "api": ConsentSource.API,
    "merchant_api": ConsentSource.API,
    "staff": ConsentSource.TERMINAL,
    "terminal": ConsentSource.TERMINAL,
    "console": ConsentSource.CONSOLE,
    "import": ConsentSource.IMPORT,
}
# A clash on a random 16-digit card number is astronomically rare; a few retries suffice.
_CARD_NUMBER_ATTEMPTS = 3


@dataclass
class EnrollmentData:
    email: str
    first_name: str
    last_name: str
    locale: str
    marketing_consent: bool
    accept_terms: bool
    phone: str | None = None
    birthday: date | None = None
    #: The checkbox texts the customer was shown, and their language; ``None``: the public
    #: form's, in the request's language (what the APIs document).
    consent: ConsentWording | None = None


@dataclass
class EnrollmentResult:
    card: LoyaltyCard
    #: False when the email already had a card: nothing was created.
    created: bool
    #: Points credited at enrollment (0 when none, or when nothing was created).
    welcome_bonus: int


def _clean(data: EnrollmentData) -> EnrollmentData:
    email = (data.email or "").strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or " " in email:
        raise errors.invalid_email()
    first, last = (data.first_name or "").strip(), (data.last_name or "").strip()
    if not first or not last:
        raise errors.name_required()
    return EnrollmentData(
        email=email,
        first_name=first,
        last_name=last,
        locale=data.locale,
        marketing_consent=bool(data.marketing_consent),
        accept_terms=bool(data.accept_terms),
        phone=(data.phone or "").strip() or None,
        birthday=data.birthday,
        consent=data.consent,
    )


def _customer_and_card(merchant_id: int, email: str) -> tuple[Customer | None, LoyaltyCard | None]:
    """The merchant's customer with this email and their card (each may be ``None``)."""
    row = db.session.execute(
        select(Customer, LoyaltyCard)
        .outerjoin(
            LoyaltyCard,
            and_(LoyaltyCard.customer_id == Customer.id, LoyaltyCard.merchant_id == merchant_id),
        )
        .where(Customer.merchant_id == merchant_id, Customer.email == email)
        .limit(1)
    ).first()
    if row is None:
        return None, None
    return row[0], row[1]


def _already_enrolled(card: LoyaltyCard) -> EnrollmentResult:
    # Tell the card's owner by email rather than the person at the form, who may not be the
    # owner: the page answers the same either way, so it reveals nothing about the address.
    loyalty_notifications.enrollment(card.id)
    return EnrollmentResult(card=card, created=False, welcome_bonus=0)


def enroll_customer(
    store: Store,
    data: EnrollmentData,
    *,
    staff_user: StaffUser | None = None,
    source: str = "web",
    now: datetime | None = None,
    consent_source: ConsentSource | None = None,
) -> EnrollmentResult:
    """Enroll a customer at ``store``: get or create the customer, create the card, credit
    the welcome bonus, and queue the enrollment (and bonus) emails.

    An email that already has a card at this merchant creates nothing: the owner gets the
    enrollment email again and the result says ``created=False``.

    :param store: the store where the customer joins.
    :param data: what the customer entered.
    :param staff_user: the staff member enrolling the customer (console or terminal);
        staff enrollment is allowed even when self-enrollment is off.
    :param source: ``web`` or ``api`` for self-enrollment; anything else is staff-made.
    :param now: the enrollment time (seeds backdate; default: now).
    :param consent_source: what the consent rows name as their source (default: from
        ``source``: ``web`` the public form, ``api``/``merchant_api`` the API, ``staff``
        the terminal). The terms row is always written, the marketing email row only when
        the customer asked for it: joining never needs it.
    :raises LoyaltyError: ``self_enrollment_disabled``, ``program_missing``,
        ``terms_not_accepted``, ``invalid_email``, ``name_required``, ``store_not_allowed``.
    """
    merchant_id = store.merchant_id
    if staff_user is not None:
        check_store_access(staff_user, store)
    # Merchant, program and settings in one query; ``setup`` also keeps the merchant in the
    # session for the emails below (the identity map holds rows only while referenced).
    setup = get_merchant_program(merchant_id)
    self_service = staff_user is None and source in SELF_ENROLLMENT_SOURCES
    if self_service and not setup.settings.self_enrollment_enabled:
        raise errors.self_enrollment_disabled()
    program = setup.program
    if program is None:
        raise errors.program_missing()
    # A program without terms asks nobody to accept terms no one can read.
    if not data.accept_terms and has_terms(program):
        raise errors.terms_not_accepted()
    data = _clean(data)

    customer, existing = _customer_and_card(merchant_id, data.email)
    if existing is not None:
        return _already_enrolled(existing)

    moment = now or utcnow()
    bonus = program.welcome_bonus_points if program.uses_points else 0
    card = None
    for attempt in range(_CARD_NUMBER_ATTEMPTS):
        try:
            with db.session.begin_nested():
                card = _create_card(store, program.id, customer, data, moment)
                if bonus > 0:
                    # Before the card's first flush: customer, card (with the bonus) and the
                    # ledger row go in with one flush, inside this savepoint.
                    credit_welcome_bonus(card, bonus, store=store, now=moment, new_card=True)
                db.session.flush()
            break
        except IntegrityError:
            # Either a concurrent submit of the same email won (then that card is the
            # answer) or the card number clashed (then try another number).
            customer, existing = _customer_and_card(merchant_id, data.email)
            if existing is not None:
                return _already_enrolled(existing)
            if attempt == _CARD_NUMBER_ATTEMPTS - 1:
                raise
    assert card is not None
    _record_consent(
        card.customer,
        data,
        terms_url=program_texts(program, current_locale_code()).terms_url or None,
        source=consent_source or _CONSENT_SOURCES.get(source, ConsentSource.PUBLIC_FORM),
        staff_user=staff_user,
        moment=moment,
    )

    # The first sync also creates the program's class, which Google needs before the
    # customer can save the pass.
    mark_for_sync(card)
    emit_card_enrolled(card, store_slug=store.slug, welcome_bonus=max(bonus, 0))
    with loyalty_notifications.batch():
        loyalty_notifications.enrollment(card.id)
        if bonus > 0:
            loyalty_notifications.welcome_bonus(card.id, bonus)
    return EnrollmentResult(card=card, created=True, welcome_bonus=max(bonus, 0))


def _record_consent(
    customer: Customer,
    data: EnrollmentData,
    *,
    terms_url: str | None,
    source: ConsentSource,
    staff_user: StaffUser | None,
    moment: datetime,
) -> None:
    """The terms row, and the marketing email row when the box was ticked."""
    wording = data.consent or public_wording(current_locale_code(), terms_url=terms_url)
    staff_user_id = staff_user.id if staff_user is not None else None
    record_consent(
        customer,
        ConsentPurpose.TERMS,
        granted=True,
        source=source,
        locale=wording.locale,
        wording=terms_hash(wording, terms_url),
        staff_user_id=staff_user_id,
        at=moment,
    )
    if data.marketing_consent:
        record_consent(
            customer,
            ConsentPurpose.MARKETING_EMAIL,
            granted=True,
            source=source,
            locale=wording.locale,
            wording=marketing_hash(wording),
            staff_user_id=staff_user_id,
            at=moment,
        )


def _create_card(
    store: Store, program_id: int, customer: Customer | None, data: EnrollmentData, moment: datetime
) -> LoyaltyCard:
    """The card, and the customer unless ``customer`` (found by email) is given; added to
    the session, not flushed."""
    merchant_id = store.merchant_id
    if customer is None:
        locale = data.locale if data.locale in SUPPORTED_LOCALES else store.default_locale
        customer = Customer(
            merchant_id=merchant_id,
            email=data.email,
            first_name=data.first_name,
            last_name=data.last_name,
            preferred_locale=locale,
            phone=data.phone,
            birthday=data.birthday,
            # Set by the consent row below, never directly.
            marketing_consent=False,
            created_at=moment,
            updated_at=moment,
        )
    card = LoyaltyCard(
        merchant_id=merchant_id,
        # The relationship (not the id) lets one flush insert both rows, and keeps the
        # customer in the session for the emails.
        customer=customer,
        program_id=program_id,
        # No look-up first: the unique constraint refuses a clash and the caller retries.
        card_number=random_card_number(),
        enrolled_at_store_id=store.id,
        # Set here rather than by the column defaults, which apply only at the INSERT: the
        # welcome bonus adds to them before.
        points_balance=0,
        total_points_earned=0,
        last_activity_at=moment,
        created_at=moment,
        updated_at=moment,
    )
    db.session.add(card)
    return card

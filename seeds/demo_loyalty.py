"""Demo loyalty data: a points program at Boulangerie Hoffmann, a stamps program at Café
Schumann, and 300 cards with a year of realistic, backdated history.

Everything goes through the loyalty services (so the ledger is exactly what production would
write and ``flask loyalty verify-ledger`` passes). Idempotent: programs are found by
merchant and name, cards by customer email; cards that exist keep their history, so a
second run changes nothing. A fixed random seed per card makes the data reproducible.
No email is queued while seeding: the demo customers are not real people.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import force_locale
from sqlalchemy import func, select

from loyalty.consent_wording import ConsentWording, public_wording
from loyalty.errors import LoyaltyError
from loyalty.models import LoyaltyCard, LoyaltyProgram, ProgramKind
from loyalty.notifications import loyalty_notifications
from loyalty.services.cards import get_card_for_customer
from loyalty.services.enrollment import EnrollmentData, enroll_customer
from loyalty.services.expiry import expire_inactive_points
from loyalty.services.ledger import (
    add_stamps,
    earn_points,
    redeem_points,
    redeem_stamp_reward,
    void_transaction,
)
from loyalty.services.program_texts import program_texts, set_program_texts
from loyalty.services.programs import create_program, get_settings, set_void_pin
from loyalty.unsubscribe import UNSUBSCRIBE_WORDING
from platform_core.customers.consent import has_consent, record_consent, wording_hash
from platform_core.customers.models import (
    ConsentPurpose,
    ConsentRecord,
    ConsentSource,
    Customer,
)
from platform_core.extensions import db
from platform_core.i18n_lazy import _
from platform_core.models_base import utcnow
from platform_core.staff.models import StaffUser
from platform_core.staff.services import get_staff_user_by_email
from platform_core.tenancy.models import Merchant, Store
from platform_core.tenancy.services import get_merchant_by_slug

MARKETING = ConsentPurpose.MARKETING_EMAIL

#: The demo void PIN of Boulangerie Hoffmann (printed by the seed).
DEMO_VOID_PIN = "2468"

FIRST_NAMES = (
    "Marie",
    "Jean",
    "Claude",
    "Sophie",
    "Paul",
    "Anne",
    "Luc",
    "Carine",
    "Tom",
    "Nathalie",
    "Marc",
    "Isabelle",
    "João",
    "Ana",
    "Pedro",
    "Inês",
    "Lukas",
    "Julia",
    "Yves",
    "Michèle",
    "Pit",
    "Laura",
    "Georges",
    "Tessy",
    "Romain",
    "Elsa",
    "Miguel",
    "Henri",
    "Lisa",
    "Stefan",
    "Chantal",
    "Nora",
    "Ben",
    "Max",
)
LAST_NAMES = (
    "Weber",
    "Schmit",
    "Muller",
    "Wagner",
    "Hoffmann",
    "Klein",
    "Thill",
    "Reuter",
    "Kieffer",
    "Schroeder",
    "Hansen",
    "Dupont",
    "Ferreira",
    "Rodrigues",
    "Becker",
    "Lentz",
    "Majerus",
    "Feller",
    "Ries",
    "Faber",
    "Nilles",
    "Kremer",
    "Pereira",
    "Mersch",
    "Goedert",
    "Bausch",
    "Martins",
    "Wolff",
    "Hilbert",
    "Weis",
    "Lopes",
)
LOCALES = ("lb", "lb", "fr", "fr", "fr", "de", "en")


@dataclass(frozen=True)
class DemoProgram:
    merchant_slug: str
    admin_email: str
    cards: int
    fields: dict[str, Any]
    #: The customer-facing texts per language (all four, as a native speaker writes them).
    texts: dict[str, dict[str, str]]


PROGRAMS = (
    DemoProgram(
        merchant_slug="boulangerie-hoffmann",
        admin_email="anne.hoffmann@demo.example",
        cards=180,
        fields={
            "kind": ProgramKind.POINTS,
            "name": "Hoffmann Fidélité",
            "points_per_euro": Decimal("1.00"),
            # 100 points buy a cake of about 5 €.
            "point_value": Decimal("0.05"),
            "welcome_bonus_points": 50,
            "points_expiry_days": 365,
            "expiry_warning_days": 14,
            "brand_color": "#8b4513",
        },
        texts={
            "lb": {
                "name": "Hoffmann Fidélité",
                "description": "Fir all Euro kritt Dir ee Punkt; mat 100 Punkte kritt Dir e "
                "Kuch no Ärer Wiel.",
                "terms_url": "https://boulangerie-hoffmann.example/lb/konditiounen",
            },
            "fr": {
                "name": "Hoffmann Fidélité",
                "description": "Un point par euro dépensé\u202f; avec 100 points, le gâteau de "
                "votre choix vous est offert.",
                "terms_url": "https://boulangerie-hoffmann.example/fr/conditions",
            },
            "de": {
                "name": "Hoffmann Treuekarte",
                "description": "Pro Euro ein Punkt; für 100 Punkte bekommen Sie einen Kuchen "
                "Ihrer Wahl.",
                "terms_url": "https://boulangerie-hoffmann.example/de/bedingungen",
            },
            "en": {
                "name": "Hoffmann Rewards",
                "description": "One point per euro; 100 points buy a cake of your choice.",
                "terms_url": "https://boulangerie-hoffmann.example/en/terms",
            },
        },
    ),
    DemoProgram(
        merchant_slug="cafe-schumann",
        admin_email="paul.schumann@demo.example",
        cards=120,
        fields={
            "kind": ProgramKind.STAMPS,
            "name": "Schumann Coffee Card",
            "stamps_target": 10,
            "welcome_bonus_points": 0,
            "brand_color": "#2f4f4f",
        },
        # No terms URL: the demo's program whose customers accept no terms (the console
        # warns its merchant).
        texts={
            "fr": {
                "name": "Carte café Schumann",
                "description": "Un tampon par café\u202f; le dixième vous est offert.",
                "reward_description": "Un café offert",
            },
            "lb": {
                "name": "Schumann Kaffiskaart",
                "description": "Fir all Kaffi kritt Dir e Stempel; den zéngte offréiere mir Iech.",
                "reward_description": "E Kaffi gratis",
            },
            "de": {
                "name": "Schumann Kaffeekarte",
                "description": "Ein Stempel pro Kaffee; der zehnte geht aufs Haus.",
                "reward_description": "Ein Kaffee gratis",
            },
            "en": {
                "name": "Schumann Coffee Card",
                "description": "One stamp per coffee; the tenth is on us.",
                "reward_description": "A free coffee",
            },
        },
    ),
)


@contextlib.contextmanager
def _no_emails() -> Iterator[None]:
    # The services queue lifecycle emails; demo customers must not get any.
    names = ("enrollment", "welcome_bonus", "points_expiring", "points_expired", "reward_ready")
    saved = {name: loyalty_notifications.__dict__.get(name) for name in names}
    for name in names:
        setattr(loyalty_notifications, name, lambda *args, **kwargs: None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                delattr(loyalty_notifications, name)
            else:
                setattr(loyalty_notifications, name, value)


def _program(merchant: Merchant, spec: DemoProgram) -> tuple[LoyaltyProgram, bool]:
    program = db.session.scalar(
        select(LoyaltyProgram).where(
            LoyaltyProgram.merchant_id == merchant.id, LoyaltyProgram.name == spec.fields["name"]
        )
    )
    if program is not None:
        # A program seeded before it had texts per language gets the missing ones; what
        # the merchant wrote stays. The migration moved the old English description into
        # the merchant's language: such a row counts as missing.
        legacy = spec.texts["en"]["description"]
        written = {
            text.locale
            for text in program.texts
            if text.locale == "en" or text.description != legacy
        }
        missing = {code: values for code, values in spec.texts.items() if code not in written}
        if missing:
            set_program_texts(program, missing)
        return program, False
    return create_program(merchant, texts=spec.texts, **dict(spec.fields)), True


def _settings(merchant: Merchant, points: bool) -> None:
    settings = get_settings(merchant.id)
    if points and settings.void_pin_hash is None:
        settings.min_points_to_redeem = 50


def _require_void_pin(merchant: Merchant) -> None:
    # Switched on after the history is written: checking an Argon2 PIN costs a fifth of a
    # second, and the demo's past voids predate the rule.
    settings = get_settings(merchant.id)
    if settings.void_pin_hash is None:
        settings.void_requires_pin = True
        set_void_pin(settings, DEMO_VOID_PIN)


def _customers(merchant: Merchant, count: int) -> list[tuple[str, str, str, str]]:
    """(email, first, last, locale) for ``count`` customers: the demo seed's customers
    first, then generated ones with stable emails."""
    existing = list(
        db.session.execute(
            select(
                Customer.email, Customer.first_name, Customer.last_name, Customer.preferred_locale
            )
            .where(
                Customer.merchant_id == merchant.id,
                ~Customer.email.like("demo.%"),
                Customer.email.like("%@mail.example.lu"),
            )
            .order_by(Customer.id)
        )
    )
    people = [tuple(row) for row in existing][:count]
    n = 0
    while len(people) < count:
        rng = random.Random(f"{merchant.slug}-person-{n}")
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"demo.{merchant.slug}.{n:03d}@mail.example.lu"
        people.append((email, first, last, rng.choice(LOCALES)))
        n += 1
    return people  # type: ignore[return-value]


def _history(
    card: LoyaltyCard,
    stores: list[Store],
    admin: StaffUser | None,
    rng: random.Random,
    start: datetime,
    end: datetime,
) -> None:
    """Visits from ``start`` to ``end``: purchases, redemptions, the odd void."""
    program = card.program
    moment = start
    # Some customers stop coming: their points expire, which the demo should show.
    end = end if rng.random() > 0.15 else start + timedelta(days=rng.randint(5, 60))
    home = (
        stores[0]
        if card.enrolled_at_store_id is None
        else next((s for s in stores if s.id == card.enrolled_at_store_id), stores[0])
    )
    while True:
        moment += timedelta(
            days=rng.randint(2, 35), hours=rng.randint(0, 9), minutes=rng.randint(0, 59)
        )
        if moment >= end:
            break
        store = home if rng.random() < 0.8 else rng.choice(stores)
        if program.uses_points:
            amount = Decimal(rng.randint(250, 4500)) / 100
            earn = earn_points(card, store=store, amount=amount, now=moment)
            if admin is not None and rng.random() < 0.03:
                void_transaction(
                    earn,
                    staff_user=admin,
                    store=store,
                    pin=DEMO_VOID_PIN,
                    reason="Scanned the wrong receipt",
                    now=moment + timedelta(minutes=3),
                )
            if card.points_balance >= 100 and rng.random() < 0.5:
                redeem_points(
                    card,
                    100,
                    store=home,
                    note="Cake of your choice",
                    now=moment + timedelta(minutes=5),
                )
        else:
            add_stamps(card, 1 if rng.random() < 0.85 else 2, store=store, now=moment)
            if card.stamp_rewards_earned > card.stamp_rewards_redeemed and rng.random() < 0.7:
                redeem_stamp_reward(
                    card, store=store, note="Free coffee", now=moment + timedelta(minutes=2)
                )


def _terminal_wording(locale: str) -> ConsentWording:
    """The terminal's checkbox texts (as ``admin_views.terminal_forms`` labels them)."""
    with force_locale(locale):
        return ConsentWording(
            locale=locale,
            marketing=_("The customer wants news and offers by email"),
            terms=_("The customer accepts the terms and conditions"),
        )


def _unsubscribe_one(merchant: Merchant, now: datetime) -> None:
    """The merchant's first subscribed customer (by id) used the unsubscribe link once."""
    subscribed = db.session.scalars(
        select(Customer)
        .where(Customer.merchant_id == merchant.id, Customer.marketing_consent.is_(True))
        .order_by(Customer.id)
        .limit(1)
    ).first()
    already = db.session.scalar(
        select(func.count())
        .select_from(ConsentRecord)
        .where(
            ConsentRecord.merchant_id == merchant.id,
            ConsentRecord.source == ConsentSource.UNSUBSCRIBE,
        )
    )
    if subscribed is None or already or not has_consent(subscribed.id, MARKETING):
        return
    record_consent(
        subscribed,
        MARKETING,
        granted=False,
        source=ConsentSource.UNSUBSCRIBE,
        locale=subscribed.preferred_locale,
        wording=wording_hash(UNSUBSCRIBE_WORDING),
        at=now - timedelta(days=3),
    )


def _seed_program(spec: DemoProgram, now: datetime) -> Iterator[str]:
    merchant = get_merchant_by_slug(spec.merchant_slug)
    if merchant is None:
        yield f"no merchant {spec.merchant_slug!r}: run `flask seed demo` first; skipped"
        return
    program, created = _program(merchant, spec)
    yield f"{'created' if created else 'kept'} program {program.name} ({merchant.name})"
    _settings(merchant, program.uses_points)
    stores = list(merchant.stores)
    admin = get_staff_user_by_email(spec.admin_email)
    new_cards = 0
    for index, (email, first, last, locale) in enumerate(_customers(merchant, spec.cards)):
        customer = db.session.scalar(
            select(Customer).where(Customer.merchant_id == merchant.id, Customer.email == email)
        )
        if customer is not None and get_card_for_customer(merchant.id, customer.id):
            continue
        rng = random.Random(f"{merchant.slug}-card-{email}")
        joined = now - timedelta(days=rng.randint(1, 420), hours=rng.randint(0, 10))
        store = stores[index % len(stores)]
        # A third join at the counter (the admin at the terminal), the rest on the form; the
        # consent rows say so.
        at_counter = admin is not None and index % 3 == 0
        try:
            result = enroll_customer(
                store,
                EnrollmentData(
                    email=email,
                    first_name=first,
                    last_name=last,
                    locale=locale,
                    marketing_consent=rng.random() < 0.4,
                    accept_terms=True,
                    consent=(
                        _terminal_wording(locale)
                        if at_counter
                        else public_wording(
                            locale, terms_url=program_texts(program, locale).terms_url or None
                        )
                    ),
                ),
                staff_user=admin if at_counter else None,
                source="seed",
                consent_source=ConsentSource.TERMINAL if at_counter else ConsentSource.PUBLIC_FORM,
                now=joined,
            )
            _history(result.card, stores, admin, rng, joined, now)
        except LoyaltyError as exc:  # a rule refused a generated step: keep the rest
            yield f"  {email}: {exc.code}"
            continue
        new_cards += 1
    _unsubscribe_one(merchant, now)
    if program.uses_points:
        _require_void_pin(merchant)
    total = db.session.scalar(
        select(func.count()).select_from(LoyaltyCard).where(LoyaltyCard.merchant_id == merchant.id)
    )
    yield f"{merchant.name}: {total} loyalty cards ({new_cards} new)"


def seed_demo_loyalty() -> Iterable[str]:
    """Create (or keep) the demo programs, settings and cards; return what was done."""
    lines: list[str] = []
    now = utcnow().replace(microsecond=0)
    with _no_emails():
        for spec in PROGRAMS:
            lines.extend(_seed_program(spec, now))
        # Cards whose customers stopped coming a year ago lose their points, as the nightly
        # job would have done; it finds nothing on a second run.
        report = expire_inactive_points(now=now)
    if report.cards:
        lines.append(f"expired {report.points} points on {report.cards} inactive cards")
    lines.append(f"Hoffmann's void PIN (demo only): {DEMO_VOID_PIN}")
    return lines

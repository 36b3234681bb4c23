"""Two merchants with stores, programs, cards and ledger rows: the data the console and
terminal tests look at (built through the services, as staff would)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from loyalty.models import LoyaltyCard, LoyaltyProgram, LoyaltyTransaction, ProgramKind
from loyalty.services.enrollment import EnrollmentData, enroll_customer
from loyalty.services.ledger import earn_points
from loyalty.services.programs import create_program
from platform_core.extensions import db
from platform_core.staff.models import StaffRole, StaffUser
from platform_core.tenancy.models import Merchant, Store


@dataclass
class World:
    merchant: Merchant
    store: Store  # the store_staff fixture works here
    second_store: Store
    program: LoyaltyProgram
    card: LoyaltyCard  # enrolled at ``store``
    second_card: LoyaltyCard  # enrolled at ``second_store``
    earn_here: LoyaltyTransaction  # at ``store``
    earn_there: LoyaltyTransaction  # at ``second_store``
    other_merchant: Merchant
    other_store: Store
    other_card: LoyaltyCard
    other_earn: LoyaltyTransaction
    other_admin: StaffUser


def _enroll(store: Store, first: str, last: str, email: str) -> LoyaltyCard:
    data = EnrollmentData(
        email=email,
        first_name=first,
        last_name=last,
        locale="en",
        marketing_consent=False,
        accept_terms=True,
    )
    return enroll_customer(store, data, source="console").card


def build_world(merchant: Merchant, store: Store, factories: dict[str, Any]) -> World:
    second_store = factories["store"](merchant=merchant, name="Belair", slug="belair")
    program = create_program(
        merchant,
        kind=ProgramKind.HYBRID,
        name="Kirchberg Rewards",
        points_per_euro=Decimal("1.00"),
        welcome_bonus_points=0,
        stamps_target=5,
        texts={
            "en": {
                "reward_description": "A free croissant",
                "terms_url": "https://kirchberg.example/terms",
            }
        },
    )
    card = _enroll(store, "Anna", "Muller", "anna.muller@example.lu")
    second_card = _enroll(second_store, "Bob", "Schmit", "bob.schmit@example.lu")
    earn_here = earn_points(card, store=store, amount=Decimal("40.00"))
    earn_there = earn_points(second_card, store=second_store, amount=Decimal("25.00"))

    other_merchant = factories["merchant"](name="Café Rouge", slug="cafe-rouge")
    other_store = factories["store"](
        merchant=other_merchant, name="Rouge Centre", slug="rouge-centre"
    )
    create_program(
        other_merchant,
        kind=ProgramKind.POINTS,
        name="Rouge Points",
        points_per_euro=Decimal("2.00"),
    )
    other_card = _enroll(other_store, "Zoe", "Rouge", "zoe.rouge@example.lu")
    other_earn = earn_points(other_card, store=other_store, amount=Decimal("10.00"))
    other_admin = factories["staff"](
        role=StaffRole.MERCHANT_ADMIN, merchant=other_merchant, email="owner@rouge.example"
    )
    db.session.flush()
    return World(
        merchant,
        store,
        second_store,
        program,
        card,
        second_card,
        earn_here,
        earn_there,
        other_merchant,
        other_store,
        other_card,
        other_earn,
        other_admin,
    )


def filter_options(html: str, label: str) -> list[str]:
    """The option labels a list page offers for the filter called ``label``."""
    import json
    import re
    from html import unescape

    match = re.search(r'<div id="filter-groups-data" class="d-none">(.*?)</div>', html, re.S)
    assert match, "the page has no filters"
    groups = json.loads(unescape(match.group(1)))
    options = []
    for flt in groups.get(label, []):
        options.extend(option[1] for option in flt["options"] or [])
    return options

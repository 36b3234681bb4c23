"""Enrollment: customer, card, welcome bonus, emails, and every refusal."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from loyalty import errors
from loyalty.errors import LoyaltyError
from loyalty.models import LoyaltyCard, LoyaltyTransaction, TransactionType
from loyalty.services import enrollment as enrollment_module
from loyalty.services.cards import is_valid_card_number
from loyalty.services.enrollment import enroll_customer
from loyalty.services.verify import verify_ledger
from platform_core import db as dbmod
from platform_core.customers.models import Customer
from platform_core.staff.models import StaffRole


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_enroll_creates_customer_card_bonus_and_queues_emails(
    session, points_program, dummy_store, enrollment_data, notifications
):
    data = enrollment_data(
        email="  Marie.Schmit@Example.LU ",
        locale="lb",
        marketing_consent=True,
        phone="+352 621 123 456",
        birthday=date(1990, 5, 17),
    )
    result = enroll_customer(dummy_store, data)
    card = result.card
    assert result.created
    assert result.welcome_bonus == 50
    assert card.customer.email == "marie.schmit@example.lu"
    assert card.customer.preferred_locale == "lb"
    assert card.customer.marketing_consent is True
    assert card.customer.birthday == date(1990, 5, 17)
    assert card.enrolled_at_store_id == dummy_store.id
    assert card.program_id == points_program.id
    assert is_valid_card_number(card.card_number)
    assert card.points_balance == 50 == card.total_points_earned
    rows = list(
        session.scalars(select(LoyaltyTransaction).where(LoyaltyTransaction.card_id == card.id))
    )
    assert [(r.type, r.points_delta, r.points_balance_after) for r in rows] == [
        (TransactionType.WELCOME_BONUS, 50, 50)
    ]
    assert notifications.queued == [("enrollment", card.id), ("welcome_bonus", card.id, 50)]
    assert notifications.sent == []  # nothing leaves before the commit
    dbmod.commit()
    assert notifications.sent == notifications.queued
    assert verify_ledger().ok


def test_no_bonus_row_or_email_when_bonus_is_zero(
    session, points_program, dummy_store, enrollment_data, notifications
):
    points_program.welcome_bonus_points = 0
    result = enroll_customer(dummy_store, enrollment_data())
    assert result.welcome_bonus == 0
    assert result.card.points_balance == 0
    assert notifications.queued == [("enrollment", result.card.id)]
    assert _count(session, LoyaltyTransaction) == 0


def test_known_email_creates_nothing_and_mails_the_owner(
    session, points_program, dummy_store, enrollment_data, notifications
):
    first = enroll_customer(dummy_store, enrollment_data(email="luc@example.lu"))
    second = enroll_customer(
        dummy_store, enrollment_data(email="LUC@example.lu", first_name="Someone")
    )
    assert second.created is False
    assert second.welcome_bonus == 0
    assert second.card.id == first.card.id
    assert second.card.customer.first_name == "Anna"  # the form cannot rewrite the owner
    assert _count(session, LoyaltyCard) == 1
    assert _count(session, Customer) == 1
    assert notifications.queued.count(("enrollment", first.card.id)) == 2
    assert first.card.points_balance == 50  # no second bonus


def test_existing_customer_without_card_gets_one(
    session, points_program, dummy_store, create_customer, dummy_merchant, enrollment_data
):
    customer = create_customer(merchant=dummy_merchant, email="known@example.lu")
    result = enroll_customer(dummy_store, enrollment_data(email="known@example.lu"))
    assert result.created
    assert result.card.customer_id == customer.id


def test_self_enrollment_switch(
    points_program, dummy_store, settings, enrollment_data, store_staff
):
    settings.self_enrollment_enabled = False
    for source in ("web", "api"):
        with pytest.raises(LoyaltyError) as exc:
            enroll_customer(dummy_store, enrollment_data(), source=source)
        assert exc.value.code == "self_enrollment_disabled"
    result = enroll_customer(
        dummy_store, enrollment_data(), staff_user=store_staff, source="terminal"
    )
    assert result.created


def test_refusals(dummy_store, enrollment_data, points_program):
    cases = [
        (enrollment_data(accept_terms=False), "terms_not_accepted"),
        (enrollment_data(email="not-an-email"), "invalid_email"),
        (enrollment_data(first_name=" "), "name_required"),
    ]
    for data, code in cases:
        with pytest.raises(LoyaltyError) as exc:
            enroll_customer(dummy_store, data)
        assert exc.value.code == code
        assert str(exc.value)


def test_program_missing(dummy_store, enrollment_data):
    with pytest.raises(errors.LoyaltyNotFoundError) as exc:
        enroll_customer(dummy_store, enrollment_data())
    assert exc.value.code == "program_missing"
    assert str(exc.value) == "This merchant has no active loyalty program."


def test_staff_of_another_store_cannot_enroll(
    points_program, dummy_store, create_store, create_staff_user, dummy_merchant, enrollment_data
):
    other = create_store(merchant=dummy_merchant, slug="other-enroll")
    staff = create_staff_user(role=StaffRole.STORE_STAFF, merchant=dummy_merchant, stores=[other])
    with pytest.raises(errors.LoyaltyPermissionError) as exc:
        enroll_customer(dummy_store, enrollment_data(), staff_user=staff, source="terminal")
    assert exc.value.code == "store_not_allowed"


def test_lost_race_returns_the_winners_card(
    session, points_program, dummy_store, enrollment_data, monkeypatch, notifications
):
    """A double submit whose first check ran before the other request's insert: the unique
    constraint refuses the second customer, the savepoint keeps the transaction usable,
    and the winner's card is returned."""
    winner = enroll_customer(dummy_store, enrollment_data(email="race@example.lu")).card
    real_lookup = enrollment_module._customer_and_card
    calls = []

    def stale_lookup(merchant_id, email):
        # The look before the insert misses the other request's customer and card, as it
        # would while that transaction was not committed.
        calls.append(email)
        return (None, None) if len(calls) == 1 else real_lookup(merchant_id, email)

    monkeypatch.setattr(enrollment_module, "_customer_and_card", stale_lookup)
    result = enroll_customer(dummy_store, enrollment_data(email="race@example.lu"))
    assert result.created is False
    assert result.card.id == winner.id
    assert _count(session, LoyaltyCard) == 1
    dbmod.commit()  # the transaction is still healthy

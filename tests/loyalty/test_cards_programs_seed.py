"""Card numbers and look-up, programs and settings, and the demo loyalty seed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from loyalty.errors import LoyaltyError
from loyalty.models import LoyaltyCard, LoyaltyTransaction, ProgramKind
from loyalty.services.cards import (
    card_history,
    find_cards,
    format_card_number,
    generate_card_number,
    get_card_for_customer,
    is_valid_card_number,
)
from loyalty.services.ledger import earn_points
from loyalty.services.programs import create_program, get_active_program, get_settings
from loyalty.services.verify import verify_ledger


def test_card_numbers_carry_a_luhn_check_digit(session):
    numbers = {generate_card_number() for _ in range(50)}
    assert len(numbers) == 50
    for number in numbers:
        assert number.isdigit()
        assert len(number) == 16
        assert is_valid_card_number(number)
        assert is_valid_card_number(format_card_number(number))
        wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
        assert not is_valid_card_number(wrong)
    assert is_valid_card_number("4539 1488 0343 6467")  # a known Luhn-valid number
    assert not is_valid_card_number("4539-1488-0343-646x")


def test_find_cards_by_number_email_and_name(
    card, make_card, dummy_store, dummy_merchant, create_merchant, create_store
):
    other = make_card(
        dummy_store, email="jeanne.faber@example.lu", first_name="Jeanne", last_name="Faber"
    )
    spaced = format_card_number(card.card_number)
    assert find_cards(dummy_merchant.id, spaced) == [card]
    assert card in find_cards(dummy_merchant.id, card.card_number[:8])  # a prefix is enough
    assert find_cards(dummy_merchant.id, "JEANNE.faber@") == [other]
    assert find_cards(dummy_merchant.id, "jeanne faber") == [other]
    assert find_cards(dummy_merchant.id, "Faber") == [other]
    assert find_cards(dummy_merchant.id, "") == []
    # Another merchant never sees these cards.
    foreign = create_merchant()
    assert find_cards(foreign.id, "Faber") == []
    assert find_cards(foreign.id, spaced) == []
    assert get_card_for_customer(dummy_merchant.id, other.customer_id) == other
    assert get_card_for_customer(foreign.id, other.customer_id) is None


def test_card_history_newest_first(card, dummy_store):
    earn = earn_points(card, store=dummy_store, points=3)
    history = card_history(card, limit=5)
    assert [row.id for row in history][0] == earn.id
    assert len(history) == 2


def test_second_active_program_refused(points_program, dummy_merchant):
    assert get_active_program(dummy_merchant.id) == points_program
    with pytest.raises(LoyaltyError) as exc:
        create_program(dummy_merchant, kind=ProgramKind.POINTS, name="Another")
    assert exc.value.code == "program_already_active"
    draft = create_program(dummy_merchant, kind=ProgramKind.POINTS, name="Draft", is_active=False)
    assert draft.id is not None
    with pytest.raises(LoyaltyError) as exc:
        create_program(dummy_merchant, kind=ProgramKind.STAMPS, name="No target", is_active=False)
    assert exc.value.code == "invalid_program"


def test_settings_created_once_with_defaults(session, dummy_merchant):
    settings = get_settings(dummy_merchant.id)
    assert settings.self_enrollment_enabled is True
    assert settings.void_window_days == 30
    assert get_settings(dummy_merchant.id).id == settings.id


def test_demo_seed_without_demo_merchants_creates_nothing(session):
    from seeds.demo_loyalty import seed_demo_loyalty

    lines = list(seed_demo_loyalty())
    assert any("run `flask seed demo` first" in line for line in lines)
    assert session.scalar(select(func.count()).select_from(LoyaltyCard)) == 0


@pytest.mark.slow
def test_demo_seed_is_consistent_and_idempotent(session):
    from seeds.demo import seed_demo

    list(seed_demo())  # runs the loyalty seed too
    cards = session.scalar(select(func.count()).select_from(LoyaltyCard))
    rows = session.scalar(select(func.count()).select_from(LoyaltyTransaction))
    assert cards == 300
    assert rows > 1000
    assert verify_ledger().ok
    from seeds.demo_loyalty import seed_demo_loyalty

    lines = list(seed_demo_loyalty())
    assert any("(0 new)" in line for line in lines)
    assert session.scalar(select(func.count()).select_from(LoyaltyTransaction)) == rows


def test_edited_program_and_settings_are_checked(points_program, dummy_merchant, settings):
    from loyalty.models import LoyaltyProgram
    from loyalty.services.programs import check_program, check_settings

    second = LoyaltyProgram(kind=ProgramKind.POINTS, name="Second", is_active=True)
    with pytest.raises(LoyaltyError) as exc:
        check_program(second, dummy_merchant.id)
    assert exc.value.code == "program_already_active"
    check_program(points_program, dummy_merchant.id)  # itself is no conflict

    points_program.kind = ProgramKind.STAMPS
    points_program.stamps_target = None
    with pytest.raises(LoyaltyError) as exc:
        check_program(points_program, dummy_merchant.id)
    assert exc.value.code == "invalid_program"

    settings.void_requires_pin = True
    settings.void_pin_hash = None
    with pytest.raises(LoyaltyError) as exc:
        check_settings(settings)
    assert exc.value.code == "pin_not_set"

"""Ledger operations: points, stamps, voids, adjustments, permissions and idempotency."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError

from loyalty.errors import LoyaltyError, LoyaltyPermissionError
from loyalty.models import LoyaltyTransaction, TransactionType
from loyalty.services.ledger import (
    add_stamps,
    adjust_points,
    credit_welcome_bonus,
    earn_points,
    redeem_points,
    redeem_stamp_reward,
    void_transaction,
)
from loyalty.services.programs import set_void_pin
from loyalty.services.verify import verify_ledger
from platform_core.models_base import utcnow
from platform_core.staff.models import StaffRole


def _rows(session, card):
    return list(
        session.scalars(
            select(LoyaltyTransaction)
            .where(LoyaltyTransaction.card_id == card.id)
            .order_by(LoyaltyTransaction.id)
        )
    )


def test_earn_from_amount_rounds_down_and_records_running_balance(
    session, card, dummy_store, store_staff
):
    card.program.points_per_euro = Decimal("1.50")
    tx = earn_points(card, store=dummy_store, staff_user=store_staff, amount=Decimal("12.99"))
    assert tx.type == TransactionType.EARN
    assert tx.points_delta == 19  # 19.485 rounded down
    assert tx.purchase_amount == Decimal("12.99")
    assert tx.points_balance_after == 69 == card.points_balance
    assert card.total_points_earned == 69
    assert tx.staff_user_id == store_staff.id
    assert tx.store_id == dummy_store.id
    assert verify_ledger().ok


def test_earn_needs_exactly_one_of_amount_and_points(card, dummy_store):
    for kwargs in ({}, {"amount": Decimal("5"), "points": 5}):
        with pytest.raises(LoyaltyError) as exc:
            earn_points(card, store=dummy_store, **kwargs)
        assert exc.value.code == "amount_or_points"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"amount": Decimal("0")}, "invalid_amount"),
        ({"amount": Decimal("-3")}, "invalid_amount"),
        ({"amount": Decimal("0.50")}, "no_points_for_amount"),
        ({"points": 0}, "invalid_points"),
        ({"points": -4}, "invalid_points"),
    ],
)
def test_earn_refuses_bad_values(card, dummy_store, kwargs, code):
    with pytest.raises(LoyaltyError) as exc:
        earn_points(card, store=dummy_store, **kwargs)
    assert exc.value.code == code
    assert card.points_balance == 50


def test_same_idempotency_key_twice_is_one_row(session, card, dummy_store, store_staff):
    first = earn_points(
        card,
        store=dummy_store,
        staff_user=store_staff,
        points=10,
        idempotency_key="till-7-receipt-42",
    )
    again = earn_points(
        card,
        store=dummy_store,
        staff_user=store_staff,
        points=10,
        idempotency_key="till-7-receipt-42",
    )
    assert again.id == first.id
    assert card.points_balance == 60
    assert len(_rows(session, card)) == 2  # welcome bonus + one earn
    # The key identifies the request whatever the operation: a retry never does a second one.
    same = redeem_points(card, 5, store=dummy_store, idempotency_key="till-7-receipt-42")
    assert same.id == first.id
    assert card.points_balance == 60


def test_redeem_takes_points_off(card, dummy_store, store_staff):
    tx = redeem_points(card, 30, store=dummy_store, staff_user=store_staff, note="cake")
    assert tx.points_delta == -30
    assert tx.points_balance_after == 20
    assert card.total_points_redeemed == 30
    assert tx.note == "cake"


def test_redeem_refuses_more_than_balance(app, card, dummy_store):
    with pytest.raises(LoyaltyError) as exc:
        redeem_points(card, 51, store=dummy_store)
    assert exc.value.code == "insufficient_points"
    assert str(exc.value) == "Not enough points: the card has 50 points."
    with force_locale("fr"):
        assert "50" in str(exc.value)
    assert card.points_balance == 50


def test_redeem_below_minimum_refused(card, dummy_store, settings):
    settings.min_points_to_redeem = 40
    with pytest.raises(LoyaltyError) as exc:
        redeem_points(card, 39, store=dummy_store)
    assert exc.value.code == "below_minimum_redeem"
    assert "40" in str(exc.value)
    redeem_points(card, 40, store=dummy_store)
    assert card.points_balance == 10


def test_cross_store_redemption_rule(card, dummy_store, create_store, dummy_merchant, settings):
    other = create_store(merchant=dummy_merchant, name="Gare", slug="gare-kb")
    redeem_points(card, 10, store=other)  # allowed by default
    settings.cross_store_redemption = False
    with pytest.raises(LoyaltyError) as exc:
        redeem_points(card, 10, store=other)
    assert exc.value.code == "cross_store_not_allowed"
    redeem_points(card, 10, store=dummy_store)
    assert card.points_balance == 30


def test_store_staff_only_in_their_stores(
    card, dummy_store, create_store, dummy_merchant, store_staff, merchant_admin, platform_admin
):
    other = create_store(merchant=dummy_merchant, name="Gare", slug="gare-kb")
    with pytest.raises(LoyaltyPermissionError) as exc:
        earn_points(card, store=other, staff_user=store_staff, points=5)
    assert exc.value.code == "store_not_allowed"
    earn_points(card, store=other, staff_user=merchant_admin, points=5)
    earn_points(card, store=other, staff_user=platform_admin, points=5)
    assert card.points_balance == 60


def test_card_of_another_merchant_refused(card, create_store, create_staff_user, create_merchant):
    foreign_store = create_store(merchant=create_merchant())
    foreign_admin = create_staff_user(
        role=StaffRole.MERCHANT_ADMIN, merchant=foreign_store.merchant
    )
    with pytest.raises(LoyaltyPermissionError) as exc:
        earn_points(card, store=foreign_store, staff_user=foreign_admin, points=5)
    assert exc.value.code == "wrong_merchant"
    with pytest.raises(LoyaltyPermissionError):
        earn_points(card, store=foreign_store, points=5)


def test_inactive_card_refused(card, dummy_store):
    card.is_active = False
    with pytest.raises(LoyaltyError) as exc:
        earn_points(card, store=dummy_store, points=5)
    assert exc.value.code == "card_inactive"


def test_points_operations_refused_on_stamps_program(stamps_program, stamps_store, make_card):
    card = make_card(stamps_store)
    with pytest.raises(LoyaltyError) as exc:
        earn_points(card, store=stamps_store, points=5)
    assert exc.value.code == "program_has_no_points"


def test_stamps_program_refuses_nothing_for_points_card(card, dummy_store):
    with pytest.raises(LoyaltyError) as exc:
        add_stamps(card, store=dummy_store)
    assert exc.value.code == "program_has_no_stamps"


def test_stamps_reach_target_and_reward_is_redeemed(
    session, stamps_program, stamps_store, make_card, notifications
):
    card = make_card(stamps_store)
    assert card.points_balance == 0  # a stamps program has no welcome points
    for _ in range(9):
        add_stamps(card, store=stamps_store)
    assert card.stamp_count == 9
    assert card.stamp_rewards_earned == 0
    assert ("reward_ready", card.id) not in notifications.queued
    with pytest.raises(LoyaltyError) as exc:
        redeem_stamp_reward(card, store=stamps_store)
    assert exc.value.code == "no_reward_available"
    tx = add_stamps(card, 3, store=stamps_store)
    assert tx.stamps_delta == 3
    assert card.stamp_count == 2
    assert card.stamp_rewards_earned == 1
    assert notifications.queued.count(("reward_ready", card.id)) == 1
    reward = redeem_stamp_reward(card, store=stamps_store)
    assert reward.type == TransactionType.STAMP_REWARD
    assert card.stamp_rewards_redeemed == 1
    with pytest.raises(LoyaltyError) as exc:
        redeem_stamp_reward(card, store=stamps_store)
    assert exc.value.code == "no_reward_available"
    with pytest.raises(LoyaltyError) as exc:
        add_stamps(card, 0, store=stamps_store)
    assert exc.value.code == "invalid_stamp_count"
    assert verify_ledger().ok


def test_void_earn_reverses_points(card, dummy_store, store_staff):
    earn = earn_points(card, store=dummy_store, staff_user=store_staff, points=20)
    void = void_transaction(earn, staff_user=store_staff, reason="wrong card")
    assert void.type == TransactionType.VOID
    assert void.voided_transaction_id == earn.id
    assert void.points_delta == -20
    assert void.points_balance_after == 50
    assert card.points_balance == 50
    assert card.total_points_voided == 20
    assert void.note == "wrong card"
    with pytest.raises(LoyaltyError) as exc:
        void_transaction(earn, staff_user=store_staff)
    assert exc.value.code == "already_voided"
    with pytest.raises(LoyaltyError) as exc:
        void_transaction(void, staff_user=store_staff)
    assert exc.value.code == "cannot_void_type"
    assert verify_ledger().ok


def test_void_redeem_gives_points_back(card, dummy_store, merchant_admin):
    redeem = redeem_points(card, 30, store=dummy_store)
    void_transaction(redeem, staff_user=merchant_admin)
    assert card.points_balance == 50
    assert card.total_points_voided == 30
    assert verify_ledger().ok


def test_void_never_drives_balance_negative(card, dummy_store, store_staff):
    earn = earn_points(card, store=dummy_store, points=20)
    redeem_points(card, 60, store=dummy_store)
    with pytest.raises(LoyaltyError) as exc:
        void_transaction(earn, staff_user=store_staff)
    assert exc.value.code == "void_would_go_negative"
    assert "20" in str(exc.value)
    assert "10" in str(exc.value)
    assert card.points_balance == 10


def test_void_window_and_switch(card, dummy_store, store_staff, settings):
    earn = earn_points(card, store=dummy_store, points=20)
    settings.void_window_days = 7
    with pytest.raises(LoyaltyError) as exc:
        void_transaction(earn, staff_user=store_staff, now=utcnow() + timedelta(days=8))
    assert exc.value.code == "void_window_passed"
    assert "7" in str(exc.value)
    settings.voids_allowed = False
    with pytest.raises(LoyaltyError) as exc:
        void_transaction(earn, staff_user=store_staff)
    assert exc.value.code == "voids_disabled"


def test_void_pin(card, dummy_store, store_staff, settings):
    earn = earn_points(card, store=dummy_store, points=20)
    settings.void_requires_pin = True
    set_void_pin(settings, "4821")
    assert settings.void_pin_hash.startswith("$argon2")
    with pytest.raises(LoyaltyError) as exc:
        void_transaction(earn, staff_user=store_staff)
    assert exc.value.code == "pin_required"
    with pytest.raises(LoyaltyError) as exc:
        void_transaction(earn, staff_user=store_staff, pin="0000")
    assert exc.value.code == "pin_incorrect"
    void_transaction(earn, staff_user=store_staff, pin="4821")
    assert card.points_balance == 50


def test_void_by_staff_of_another_store_refused(
    card, dummy_store, create_store, create_staff_user, dummy_merchant
):
    earn = earn_points(card, store=dummy_store, points=20)
    other = create_store(merchant=dummy_merchant, slug="other-kb")
    other_staff = create_staff_user(
        role=StaffRole.STORE_STAFF, merchant=dummy_merchant, stores=[other]
    )
    with pytest.raises(LoyaltyPermissionError):
        void_transaction(earn, staff_user=other_staff)


def test_void_stamps_unearns_reward(
    stamps_program, stamps_store, make_card, create_staff_user, stamps_merchant
):
    admin = create_staff_user(role=StaffRole.MERCHANT_ADMIN, merchant=stamps_merchant)
    card = make_card(stamps_store)
    add_stamps(card, 8, store=stamps_store)
    big = add_stamps(card, 4, store=stamps_store)
    assert (card.stamp_count, card.stamp_rewards_earned) == (2, 1)
    void_transaction(big, staff_user=admin)
    assert (card.stamp_count, card.stamp_rewards_earned) == (8, 0)
    assert verify_ledger().ok
    again = add_stamps(card, 4, store=stamps_store)
    redeem_stamp_reward(card, store=stamps_store)
    with pytest.raises(LoyaltyError) as exc:
        void_transaction(again, staff_user=admin)
    assert exc.value.code == "reward_already_redeemed"


def test_void_reward_redemption(
    stamps_program, stamps_store, make_card, create_staff_user, stamps_merchant
):
    admin = create_staff_user(role=StaffRole.MERCHANT_ADMIN, merchant=stamps_merchant)
    card = make_card(stamps_store)
    add_stamps(card, 10, store=stamps_store)
    reward = redeem_stamp_reward(card, store=stamps_store)
    void_transaction(reward, staff_user=admin)
    assert card.stamp_rewards_redeemed == 0
    assert verify_ledger().ok


def test_adjust_points_platform_admin_only(card, merchant_admin, platform_admin):
    with pytest.raises(LoyaltyPermissionError) as exc:
        adjust_points(card, 10, staff_user=merchant_admin, reason="goodwill")
    assert exc.value.code == "admin_only"
    with pytest.raises(LoyaltyError) as exc:
        adjust_points(card, 10, staff_user=platform_admin, reason="  ")
    assert exc.value.code == "reason_required"
    with pytest.raises(LoyaltyError) as exc:
        adjust_points(card, -51, staff_user=platform_admin, reason="fraud")
    assert exc.value.code == "negative_balance"
    adjust_points(card, 10, staff_user=platform_admin, reason="goodwill")
    tx = adjust_points(card, -25, staff_user=platform_admin, reason="double scan")
    assert tx.type == TransactionType.ADJUSTMENT
    assert tx.note == "double scan"
    assert card.points_balance == 35
    assert verify_ledger().ok


def test_database_refuses_negative_balance_even_bypassing_services(session, card):
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(
            text("UPDATE loyalty_cards SET points_balance = -1 WHERE id = :id"), {"id": card.id}
        )
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(
            insert(LoyaltyTransaction).values(
                merchant_id=card.merchant_id,
                card_id=card.id,
                type=TransactionType.ADJUSTMENT,
                points_delta=-60,
                stamps_delta=0,
                points_balance_after=-10,
                note="",
                created_at=utcnow(),
            )
        )
    count = session.scalar(
        select(func.count())
        .select_from(LoyaltyTransaction)
        .where(LoyaltyTransaction.card_id == card.id)
    )
    assert count == 1


def test_welcome_bonus_is_credited_once_per_card(session, card, dummy_store):
    """Enrollment skips the look-up for a card it has just created; the database still
    refuses a second bonus on a card that has one, and the first one stays."""
    first = _rows(session, card)[0]
    assert credit_welcome_bonus(card, 50, store=dummy_store) is first  # a retry: same row
    with pytest.raises(IntegrityError), session.begin_nested():
        credit_welcome_bonus(card, 50, store=dummy_store, new_card=True)
    session.refresh(card)
    assert card.points_balance == 50
    assert [(r.type, r.points_delta) for r in _rows(session, card)] == [
        (TransactionType.WELCOME_BONUS, 50)
    ]
    assert verify_ledger().ok


def test_voidable_ids_offer_only_what_a_void_would_accept(card, dummy_store, store_staff, settings):
    from loyalty.services.ledger import voidable_ids

    earn = earn_points(card, store=dummy_store, points=20)
    redeem = redeem_points(card, 5, store=dummy_store)
    void = void_transaction(redeem, staff_user=store_staff)
    rows = [earn, redeem, void]
    # The void itself cannot be voided, and the redemption is voided already.
    assert voidable_ids(rows) == {earn.id}
    settings.void_window_days = 7
    assert voidable_ids(rows, now=utcnow() + timedelta(days=8)) == set()
    settings.voids_allowed = False
    assert voidable_ids(rows) == set()

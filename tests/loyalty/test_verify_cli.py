"""``flask loyalty verify-ledger`` and the job commands."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from loyalty.services.ledger import earn_points, redeem_points
from platform_core.models_base import utcnow


def test_clean_ledger_exits_zero(session, runner, card, dummy_store):
    earn_points(card, store=dummy_store, points=30)
    redeem_points(card, 20, store=dummy_store)
    result = runner.invoke(args=["loyalty", "verify-ledger"])
    assert result.exit_code == 0, result.output
    assert "Ledger consistent: 1 cards, 3 transactions" in result.output


def test_corrupted_card_and_row_are_reported(session, runner, card, dummy_store, dummy_merchant):
    earn = earn_points(card, store=dummy_store, points=30)
    session.execute(
        text("UPDATE loyalty_cards SET points_balance = 75 WHERE id = :id"), {"id": card.id}
    )
    session.execute(
        text("UPDATE loyalty_transactions SET points_balance_after = 99 WHERE id = :id"),
        {"id": earn.id},
    )
    result = runner.invoke(args=["loyalty", "verify-ledger", "--merchant", dummy_merchant.slug])
    assert result.exit_code == 1
    assert f"{card.card_number}: points_balance expected 80, found 75" in result.output
    assert (
        f"{card.card_number}: points_balance_after of #{earn.id} expected 80, found 99"
        in result.output
    )
    assert "NOT consistent: 2 differences in 1 card" in result.output


def test_corrupted_total_is_reported(session, runner, card):
    session.execute(
        text("UPDATE loyalty_cards SET total_points_earned = 10 WHERE id = :id"), {"id": card.id}
    )
    result = runner.invoke(args=["loyalty", "verify-ledger"])
    assert result.exit_code == 1
    assert "total_points_earned expected 50, found 10" in result.output


def test_unknown_merchant(session, runner):
    result = runner.invoke(args=["loyalty", "verify-ledger", "--merchant", "nope"])
    assert result.exit_code != 0
    assert "no merchant with slug 'nope'" in result.output


def test_job_commands(session, runner, points_program, dummy_store, make_card):
    soon, due = make_card(dummy_store), make_card(dummy_store)
    soon.last_activity_at = utcnow() - timedelta(days=360)
    due.last_activity_at = utcnow() - timedelta(days=400)
    result = runner.invoke(args=["loyalty", "send-expiry-warnings"])
    assert result.exit_code == 0, result.output
    assert "Warned 1 card in 1 chunk." in result.output
    result = runner.invoke(args=["loyalty", "expire-points", "--chunk-size", "1"])
    assert result.exit_code == 0, result.output
    assert "Expired 50 points on 1 card in 1 chunk." in result.output
    assert due.points_balance == 0

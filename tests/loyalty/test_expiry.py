"""Points expiry in chunks, the warnings before it, and the jobs that commit per chunk."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from loyalty.models import LoyaltyTransaction, TransactionType
from loyalty.services.expiry import expire_inactive_points, send_expiry_warnings
from loyalty.services.verify import verify_ledger
from loyalty.tasks import expire_points_task, expiry_warnings_task
from platform_core import db as dbmod
from platform_core.models_base import utcnow


def _cards(make_card, store, n, idle_days):
    cards = [make_card(store) for _ in range(n)]
    for card in cards:
        card.last_activity_at = utcnow() - timedelta(days=idle_days)
    return cards


def test_expiry_runs_in_chunks_each_committed_before_its_emails(
    session, points_program, dummy_store, make_card, notifications
):
    idle = _cards(make_card, dummy_store, 5, idle_days=366)
    active = make_card(dummy_store)
    dbmod.commit()
    notifications.queued.clear()
    notifications.sent.clear()

    sent_at_commit = []

    def commit():
        dbmod.commit()
        sent_at_commit.append(len(notifications.sent))

    report = expire_inactive_points(chunk_size=2, commit=commit)
    assert report.chunks == 3
    assert report.cards == 5
    assert report.points == 250
    # Each chunk's emails went out with its own commit, not before and not all at the end.
    assert sent_at_commit == [2, 4, 5]
    assert sorted(n[1] for n in notifications.sent) == sorted(c.id for c in idle)
    assert {n[0] for n in notifications.sent} == {"points_expired"}
    for card in idle:
        assert card.points_balance == 0
        assert card.total_points_expired == 50
        row = session.scalars(
            select(LoyaltyTransaction).where(
                LoyaltyTransaction.card_id == card.id,
                LoyaltyTransaction.type == TransactionType.EXPIRY,
            )
        ).one()
        assert row.points_delta == -50
        assert row.points_balance_after == 0
    assert active.points_balance == 50
    assert verify_ledger().ok
    assert expire_inactive_points(chunk_size=2, commit=commit).cards == 0


def test_no_expiry_without_expiry_days(session, points_program, dummy_store, make_card):
    points_program.points_expiry_days = None
    _cards(make_card, dummy_store, 2, idle_days=2000)
    assert expire_inactive_points().cards == 0


def test_expire_points_task_commits_and_reports(
    session, points_program, dummy_store, make_card, notifications
):
    cards = _cards(make_card, dummy_store, 3, idle_days=400)
    expire_points_task()
    assert all(card.points_balance == 0 for card in cards)
    expired = [n for n in notifications.sent if n[0] == "points_expired"]
    assert sorted(n[1] for n in expired) == sorted(c.id for c in cards)


def test_warning_sent_once_per_inactivity_period(
    session, points_program, dummy_store, make_card, notifications
):
    soon = _cards(make_card, dummy_store, 3, idle_days=355)  # expire in 10 days
    _cards(make_card, dummy_store, 1, idle_days=300)  # 65 days left: not yet
    _cards(make_card, dummy_store, 1, idle_days=370)  # already due: expiry's job
    dbmod.commit()
    notifications.queued.clear()
    report = send_expiry_warnings(chunk_size=2, commit=dbmod.commit)
    assert (report.chunks, report.cards) == (2, 3)
    warned = [n for n in notifications.sent if n[0] == "points_expiring"]
    assert sorted(n[1] for n in warned) == sorted(c.id for c in soon)
    expected_day = (soon[0].last_activity_at + timedelta(days=365)).date()
    assert next(n for n in warned if n[1] == soon[0].id)[2:] == (50, expected_day)
    assert all(card.last_expiration_warning_at is not None for card in soon)
    # Running again warns nobody; new activity starts a new period, which is warned again.
    assert send_expiry_warnings().cards == 0
    # (the customer came back after last year's warning and has been away again since)
    soon[0].last_expiration_warning_at = utcnow() - timedelta(days=400)
    soon[0].last_activity_at = utcnow() - timedelta(days=351)
    assert [c for c, _ in send_expiry_warnings().processed] == [soon[0].id]


def test_expiry_warnings_task(session, points_program, dummy_store, make_card, notifications):
    soon = _cards(make_card, dummy_store, 2, idle_days=360)
    expiry_warnings_task()
    warned = [n[1] for n in notifications.sent if n[0] == "points_expiring"]
    assert sorted(warned) == sorted(c.id for c in soon)

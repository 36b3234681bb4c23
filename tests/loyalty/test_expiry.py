"""Points expiry and the warnings before it: keyset chunks, each committed before its
emails are prepared and sent; a failing program does not stop the others; dry runs."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from loyalty.expiry_notifications import EXPIRED, EXPIRING, PENDING_KEY
from loyalty.models import LoyaltyCard, LoyaltyTransaction, ProgramKind, TransactionType
from loyalty.services.expiry import (
    expire_inactive_points,
    expiring_soon,
    preview_expiry,
    send_expiry_warnings,
)
from loyalty.services.programs import create_program
from loyalty.services.verify import verify_ledger
from loyalty.tasks import ProgramsFailed, expire_points_task, expiry_warnings_task
from messaging.models import EmailLog, EmailStatus
from messaging.providers import clear_outbox, outbox
from platform_core import db as dbmod
from platform_core.models_base import utcnow
from platform_core.task_runs.models import TaskRun, TaskRunStatus
from seeds.seed_email_templates_core import core_templates, upsert_templates
from seeds.seed_email_templates_loyalty import loyalty_templates


@pytest.fixture
def templates(session: Any) -> None:
    upsert_templates([*core_templates(), *loyalty_templates()])
    clear_outbox()


def _cards(make_card, store, n, idle_days):
    cards = [make_card(store) for _ in range(n)]
    for card in cards:
        card.last_activity_at = utcnow() - timedelta(days=idle_days)
    return cards


def _emails(session, code):
    return list(session.scalars(select(EmailLog).where(EmailLog.code == code)))


def _sent() -> int:
    return len(outbox)


def test_expiry_runs_in_chunks_each_committed_before_its_emails(
    session, templates, points_program, dummy_store, make_card
):
    idle = _cards(make_card, dummy_store, 5, idle_days=366)
    active = make_card(dummy_store)
    dbmod.commit()
    clear_outbox()

    seen = []

    def commit():
        before = _sent()
        dbmod.commit()
        seen.append((before, _sent()))

    report = expire_inactive_points(chunk_size=2, commit=commit)
    assert (report.chunks, report.cards, report.points) == (3, 5, 250)
    # Nothing was sent before a chunk's commit; each chunk's emails went out right after it.
    assert seen[:3] == [(0, 2), (2, 4), (4, 5)]
    for card in idle:
        assert card.points_balance == 0
        assert card.total_points_expired == 50
        row = session.scalars(
            select(LoyaltyTransaction).where(
                LoyaltyTransaction.card_id == card.id,
                LoyaltyTransaction.type == TransactionType.EXPIRY,
            )
        ).one()
        assert (row.points_delta, row.points_balance_after) == (-50, 0)
    assert active.points_balance == 50
    emails = _emails(session, EXPIRED)
    assert len(emails) == 5
    assert {e.recipient for e in emails} == {c.customer.email for c in idle}
    assert all(e.status == EmailStatus.SENT for e in emails)
    context = json.loads(emails[0].context_json)
    assert PENDING_KEY not in context
    assert context["points"] == "50"
    assert context["card_url"].startswith("http")
    assert emails[0].locale == "fr"
    assert verify_ledger().ok
    assert expire_inactive_points(chunk_size=2, commit=commit).cards == 0


def test_a_card_earning_meanwhile_is_not_expired(session, points_program, dummy_store, make_card):
    from loyalty.services.ledger import earn_points

    cards = _cards(make_card, dummy_store, 3, idle_days=400)
    dbmod.commit()
    earn_points(cards[1], store=dummy_store, points=5)
    report = expire_inactive_points(chunk_size=1, commit=dbmod.commit)
    assert sorted(c for c, _ in report.processed) == sorted([cards[0].id, cards[2].id])
    assert cards[1].points_balance == 55
    assert verify_ledger().ok


def test_no_expiry_without_expiry_days(session, points_program, dummy_store, make_card):
    points_program.points_expiry_days = None
    _cards(make_card, dummy_store, 2, idle_days=2000)
    assert expire_inactive_points().cards == 0


def test_expire_points_task_commits_and_reports(session, points_program, dummy_store, make_card):
    cards = _cards(make_card, dummy_store, 3, idle_days=400)
    expire_points_task()
    assert all(card.points_balance == 0 for card in cards)
    assert len(_emails(session, EXPIRED)) == 3
    run = session.scalars(select(TaskRun).where(TaskRun.task_name == "expire_points_task")).one()
    assert run.status == TaskRunStatus.SUCCEEDED
    assert "cards: 3" in run.summary
    assert "points: 150" in run.summary


def test_a_failing_program_is_recorded_and_the_others_still_expire(
    session, points_program, dummy_store, make_card, create_merchant, create_store, monkeypatch
):
    broken_merchant = create_merchant(name="Broken", slug="broken")
    broken_store = create_store(merchant=broken_merchant, name="Broken", slug="broken-store")
    broken = create_program(
        broken_merchant,
        kind=ProgramKind.POINTS,
        name="Forever",
        points_expiry_days=30,
        welcome_bonus_points=50,
    )
    broken_cards = _cards(make_card, broken_store, 2, idle_days=400)
    good_cards = _cards(make_card, dummy_store, 3, idle_days=400)
    dbmod.commit()
    # The ranges keep settings sane now (issue 8), so the fault is injected: this program's
    # processing fails as an out-of-range date once did (OverflowError), the others do not.
    from loyalty.services import expiry as expiry_service

    real_run_program = expiry_service._run_program

    def failing_for_broken(job, program, *args, **kwargs):
        if program.id == broken.id:
            raise OverflowError("date value out of range")
        return real_run_program(job, program, *args, **kwargs)

    monkeypatch.setattr(expiry_service, "_run_program", failing_for_broken)
    with pytest.raises(ProgramsFailed) as failed:
        expire_points_task.call_local()
    assert "Forever" in str(failed.value)
    assert all(card.points_balance == 0 for card in good_cards)
    assert all(card.points_balance == 50 for card in broken_cards)
    run = session.scalars(select(TaskRun).where(TaskRun.task_name == "expire_points_task")).one()
    assert run.status == TaskRunStatus.FAILED
    assert f"program #{broken.id} 'Forever'" in run.error
    assert "OverflowError" in run.error
    assert run.failed_items == 1
    assert "cards: 3" in run.summary
    assert verify_ledger().ok


def test_warning_sent_once_per_inactivity_period(
    session, templates, points_program, dummy_store, make_card
):
    soon = _cards(make_card, dummy_store, 3, idle_days=355)  # expire in 10 days
    _cards(make_card, dummy_store, 1, idle_days=300)  # 65 days left: not yet
    _cards(make_card, dummy_store, 1, idle_days=370)  # already due: expiry's job
    dbmod.commit()
    report = send_expiry_warnings(chunk_size=2, commit=dbmod.commit)
    assert (report.chunks, report.cards) == (2, 3)
    emails = _emails(session, EXPIRING)
    assert sorted(e.recipient for e in emails) == sorted(c.customer.email for c in soon)
    assert all(e.status == EmailStatus.SENT for e in emails)
    first = next(e for e in emails if e.recipient == soon[0].customer.email)
    expected_day = (soon[0].last_activity_at + timedelta(days=365)).date()
    context = json.loads(first.context_json)
    assert context["points"] == "50"
    assert str(expected_day.year) in context["expiry_date"]
    assert all(card.last_expiration_warning_at is not None for card in soon)
    # Running again warns nobody; new activity starts a new period, which is warned again.
    assert send_expiry_warnings().cards == 0
    # (the customer came back after last year's warning and has been away again since)
    soon[0].last_expiration_warning_at = utcnow() - timedelta(days=400)
    soon[0].last_activity_at = utcnow() - timedelta(days=351)
    assert [c for c, _ in send_expiry_warnings().processed] == [soon[0].id]


def test_expiry_warnings_task(session, points_program, dummy_store, make_card):
    soon = _cards(make_card, dummy_store, 2, idle_days=360)
    expiry_warnings_task()
    assert sorted(e.recipient for e in _emails(session, EXPIRING)) == sorted(
        c.customer.email for c in soon
    )


def test_emails_of_a_run_killed_after_a_commit_are_prepared_by_the_next_run(
    session, templates, points_program, dummy_store, make_card
):
    _cards(make_card, dummy_store, 3, idle_days=400)
    dbmod.commit()
    clear_outbox()

    def commit_and_die():
        # The chunk commits, then the process dies before its after-commit work runs.
        session.commit()
        session.info.clear()

    expire_inactive_points(chunk_size=10, commit=commit_and_die)
    pending = _emails(session, EXPIRED)
    assert len(pending) == 3
    assert all(PENDING_KEY in json.loads(e.context_json) for e in pending)
    expire_points_task()
    session.expire_all()
    emails = _emails(session, EXPIRED)
    assert len(emails) == 3
    assert all(e.status == EmailStatus.SENT for e in emails)
    assert _sent() == 3


def test_dry_run_changes_nothing(session, runner, points_program, dummy_store, make_card):
    due = _cards(make_card, dummy_store, 2, idle_days=400)
    _cards(make_card, dummy_store, 1, idle_days=10)
    dbmod.commit()
    result = runner.invoke(args=["loyalty", "expire-points", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "boulangerie-kirchberg: 2 cards, 100 points would expire" in result.output
    assert all(card.points_balance == 50 for card in due)
    result = runner.invoke(
        args=["loyalty", "send-expiry-warnings", "--dry-run", "--merchant", "boulangerie-kirchberg"]
    )
    assert result.exit_code == 0, result.output
    assert "0 cards" in result.output
    assert session.scalar(select(TaskRun.id)) is None
    result = runner.invoke(args=["loyalty", "expire-points", "--dry-run", "--merchant", "nope"])
    assert result.exit_code != 0
    assert "no merchant with slug 'nope'" in result.output


def test_cli_run_for_one_merchant_is_a_task_run(
    session, runner, points_program, dummy_store, make_card, create_merchant, create_store
):
    other = create_merchant(name="Other", slug="other")
    other_store = create_store(merchant=other, name="Other", slug="other-store")
    create_program(
        other, kind=ProgramKind.POINTS, name="Other", points_expiry_days=30, welcome_bonus_points=50
    )
    mine = _cards(make_card, dummy_store, 2, idle_days=400)
    theirs = _cards(make_card, other_store, 2, idle_days=400)
    dbmod.commit()
    result = runner.invoke(args=["loyalty", "expire-points", "--merchant", "boulangerie-kirchberg"])
    assert result.exit_code == 0, result.output
    assert "Expired 100 points on 2 cards" in result.output
    assert "cards/s" in result.output
    assert all(card.points_balance == 0 for card in mine)
    assert all(card.points_balance == 50 for card in theirs)
    run = session.scalars(select(TaskRun)).one()
    assert run.task_name == "expire_points_task"
    assert run.status == TaskRunStatus.SUCCEEDED


def test_expiring_soon(session, points_program, dummy_store, make_card, create_merchant):
    _cards(make_card, dummy_store, 2, idle_days=350)  # in 15 days
    _cards(make_card, dummy_store, 1, idle_days=400)  # due now: expires at the next run
    _cards(make_card, dummy_store, 1, idle_days=300)  # in 65 days
    zero = make_card(dummy_store)
    zero.points_balance = 0
    zero.last_activity_at = utcnow() - timedelta(days=350)
    session.flush()
    soon = expiring_soon(points_program.merchant_id)
    assert (soon.cards, soon.points) == (3, 150)
    assert expiring_soon(points_program.merchant_id, days=70).cards == 4
    other = create_merchant(name="Empty", slug="empty")
    assert (expiring_soon(other.id).cards, expiring_soon(other.id).points) == (0, 0)
    assert [(f.merchant_slug, f.cards) for f in preview_expiry()] == [("boulangerie-kirchberg", 1)]
    assert session.get(LoyaltyCard, zero.id).points_balance == 0


def test_expiry_warning_names_the_program_in_the_customer_language(
    session, templates, points_program, dummy_store, make_card
):
    from loyalty.services.program_texts import set_program_texts

    points_program.merchant.default_locale = "fr"
    set_program_texts(
        points_program,
        {"lb": {"name": "Kiercheberger Punkten"}, "en": {"name": "Kirchberg Rewards"}},
    )
    [card] = _cards(make_card, dummy_store, 1, idle_days=355)
    card.customer.preferred_locale = "lb"
    [other] = _cards(make_card, dummy_store, 1, idle_days=355)
    other.customer.preferred_locale = "de"
    dbmod.commit()
    send_expiry_warnings(commit=dbmod.commit)
    by_recipient = {e.recipient: json.loads(e.context_json) for e in _emails(session, EXPIRING)}
    assert by_recipient[card.customer.email]["program_name"] == "Kiercheberger Punkten"
    # Neither German nor the merchant's French has a name: English.
    assert by_recipient[other.customer.email]["program_name"] == "Kirchberg Rewards"

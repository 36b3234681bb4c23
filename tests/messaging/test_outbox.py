"""The outbox: a lost enqueue or a dead consumer loses no email; a claim is taken once.

Huey runs in immediate mode here; a failing enqueue is Huey's own ``enqueue`` raising as it
does when Redis is down. The real-process versions (Redis stopped, consumer killed) are in
``test_outbox_processes.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from loyalty.models import LoyaltyCard
from loyalty.notifications import loyalty_notifications
from messaging import delivery
from messaging.delivery import deliver
from messaging.models import EmailLog, EmailStatus
from messaging.outbox import requeue_stale
from messaging.providers import outbox
from messaging.queueing import resend
from messaging.tasks import SWEEP_TASK_NAME
from platform_core import db as dbmod
from platform_core.huey import huey
from platform_core.models_base import utcnow
from platform_core.task_runs.models import TaskRun, TaskRunStatus

pytestmark = pytest.mark.usefixtures("seeded_templates")


@pytest.fixture
def queue_down(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[bool], None]]:
    """``queue_down(True)``: every enqueue fails as with Redis unreachable."""
    real = huey.enqueue

    def refuse(task: Any) -> Any:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    def switch(down: bool) -> None:
        monkeypatch.setattr(huey, "enqueue", refuse if down else real)

    yield switch
    monkeypatch.setattr(huey, "enqueue", real)


def _later(seconds: float) -> Any:
    return utcnow() + timedelta(seconds=seconds)


def _message_ids() -> list[str]:
    return [str(m["Message-ID"]) for m in outbox]


def test_enqueue_lost_at_commit_is_sent_by_the_sweeper_once(
    make_loyalty_card: Callable[..., LoyaltyCard],
    queue_down: Callable[[bool], None],
    session: Any,
) -> None:
    card = make_loyalty_card("lb")
    queue_down(True)
    with_bonus = (
        loyalty_notifications.enrollment(card.id),
        loyalty_notifications.welcome_bonus(card.id, 150),
    )
    dbmod.commit()
    assert outbox == []
    assert all(r.status == EmailStatus.QUEUED for r in with_bonus)

    queue_down(False)
    # Before MAIL_STALE_AFTER the rows still wait for their task: nothing is swept.
    assert requeue_stale().requeued == 0
    assert outbox == []
    report = requeue_stale(now=_later(121))
    assert (report.queued, report.sending) == (2, 0)
    for row in with_bonus:
        session.refresh(row)
        assert row.status == EmailStatus.SENT
        assert row.attempts == 1
    assert len(outbox) == 2
    # A second sweep finds nothing to do.
    assert requeue_stale(now=_later(600)).requeued == 0
    assert len(outbox) == 2


def test_sweep_while_the_queue_is_still_down_keeps_the_rows(
    make_loyalty_card: Callable[..., LoyaltyCard],
    queue_down: Callable[[bool], None],
    session: Any,
) -> None:
    queue_down(True)
    row = loyalty_notifications.enrollment(make_loyalty_card("en").id)
    dbmod.commit()
    assert requeue_stale(now=_later(121)).queued == 1
    session.refresh(row)
    assert row.status == EmailStatus.QUEUED
    fresh = (utcnow() + timedelta(seconds=100)).replace(tzinfo=None)
    assert row.lease_expires_at.replace(tzinfo=None) > fresh, "a fresh lease"
    queue_down(False)
    assert requeue_stale(now=_later(250)).queued == 1
    session.refresh(row)
    assert row.status == EmailStatus.SENT
    assert len(outbox) == 1


def test_sending_row_of_a_dead_consumer_is_resent_with_its_message_id(
    make_loyalty_card: Callable[..., LoyaltyCard],
    queue_down: Callable[[bool], None],
    session: Any,
) -> None:
    queue_down(True)
    row = loyalty_notifications.enrollment(make_loyalty_card("fr").id)
    dbmod.commit()
    # A consumer claims it, then dies (its claim committed, no outcome).
    assert delivery._claim(row, mail_from="loyalty@platform.lu", lease=timedelta(seconds=120))
    session.refresh(row)
    assert row.status == EmailStatus.SENDING
    first_message_id = row.message_id
    queue_down(False)

    # Within the lease the row belongs to its delivery: not swept, not sent by anyone else.
    assert requeue_stale(now=_later(60)).requeued == 0
    deliver(row.id)
    assert outbox == []

    report = requeue_stale(now=_later(121))
    assert (report.queued, report.sending) == (0, 1)
    session.refresh(row)
    assert row.status == EmailStatus.SENT
    assert row.attempts == 2, "the dead consumer's attempt counts"
    assert _message_ids() == [first_message_id]


def test_a_delivery_of_a_claimed_row_does_not_send(
    make_loyalty_card: Callable[..., LoyaltyCard],
    queue_down: Callable[[bool], None],
    session: Any,
) -> None:
    queue_down(True)
    row = loyalty_notifications.enrollment(make_loyalty_card("de").id)
    dbmod.commit()
    queue_down(False)
    lease = timedelta(seconds=120)
    assert delivery._claim(row, mail_from="loyalty@platform.lu", lease=lease)
    # A second claim of the same row (another consumer's task for it) matches nothing.
    session.execute(update(EmailLog).values(status=EmailStatus.SENDING))
    assert not delivery._claim(row, mail_from="loyalty@platform.lu", lease=lease)
    deliver(row.id)
    assert outbox == []


def test_resend_of_a_queued_row_enqueues_that_row(
    make_loyalty_card: Callable[..., LoyaltyCard],
    queue_down: Callable[[bool], None],
    platform_admin: Any,
    session: Any,
) -> None:
    queue_down(True)
    row = loyalty_notifications.enrollment(make_loyalty_card("fr").id)
    dbmod.commit()
    queue_down(False)

    again = resend(row.id, staff_user=platform_admin)
    dbmod.commit()
    assert again.id == row.id
    assert session.scalar(select(func.count()).select_from(EmailLog)) == 1
    session.refresh(row)
    assert row.status == EmailStatus.SENT
    assert len(outbox) == 1

    # A delivered row is sent again as a new row pointing back at it.
    copy = resend(row.id, staff_user=platform_admin)
    dbmod.commit()
    assert copy.id != row.id
    assert copy.resent_from_id == row.id
    assert len(outbox) == 2
    assert len(set(_message_ids())) == 2


def test_resend_of_a_row_being_sent_leaves_it_to_its_delivery(
    make_loyalty_card: Callable[..., LoyaltyCard],
    queue_down: Callable[[bool], None],
    platform_admin: Any,
    session: Any,
) -> None:
    queue_down(True)
    row = loyalty_notifications.enrollment(make_loyalty_card("fr").id)
    dbmod.commit()
    queue_down(False)
    assert delivery._claim(row, mail_from="loyalty@platform.lu", lease=timedelta(seconds=120))
    assert resend(row.id, staff_user=platform_admin).id == row.id
    dbmod.commit()
    assert outbox == []
    assert session.scalar(select(func.count()).select_from(EmailLog)) == 1


def test_cli_requeue_stale_runs_the_sweeper_and_records_the_run(
    make_loyalty_card: Callable[..., LoyaltyCard],
    queue_down: Callable[[bool], None],
    runner: Any,
    app: Any,
    monkeypatch: pytest.MonkeyPatch,
    session: Any,
) -> None:
    queue_down(True)
    row = loyalty_notifications.enrollment(make_loyalty_card("en").id)
    dbmod.commit()
    queue_down(False)
    monkeypatch.setitem(app.config, "MAIL_STALE_AFTER", 0)
    session.execute(update(EmailLog).values(lease_expires_at=utcnow() - timedelta(seconds=1)))
    dbmod.commit()

    result = runner.invoke(args=["messaging", "requeue-stale"])
    assert result.exit_code == 0, result.output
    assert "1 queued and 0 interrupted emails enqueued again." in result.output
    session.expire_all()
    assert session.get(EmailLog, row.id).status == EmailStatus.SENT
    assert len(outbox) == 1
    (run,) = session.scalars(select(TaskRun).where(TaskRun.task_name == SWEEP_TASK_NAME)).all()
    assert run.status == TaskRunStatus.SUCCEEDED
    assert run.summary == "queued: 1, sending: 0, chunks: 1"


def test_sweeper_works_in_chunks(
    make_loyalty_card: Callable[..., LoyaltyCard],
    queue_down: Callable[[bool], None],
    session: Any,
) -> None:
    queue_down(True)
    rows = [loyalty_notifications.enrollment(make_loyalty_card("en").id) for _ in range(5)]
    dbmod.commit()
    queue_down(False)
    report = requeue_stale(now=_later(121), chunk_size=2)
    assert (report.queued, report.chunks) == (5, 3)
    for row in rows:
        session.refresh(row)
        assert row.status == EmailStatus.SENT
    assert len(outbox) == 5


def test_periodic_sweeper_runs_every_minute() -> None:
    from datetime import datetime

    from messaging.tasks import requeue_stale_emails_task

    task = requeue_stale_emails_task.s()
    assert all(task.validate_datetime(datetime(2026, 12, 2, 7, minute)) for minute in range(60))

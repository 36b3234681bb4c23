"""The outbox with real processes: redis-server stopped and started again, a huey_consumer
killed with SIGKILL and started again. Nothing is lost; a duplicate can only be a message
that was in flight at the kill, and it keeps its Message-ID.

The stack (``tests/support/outbox_stack.py``) runs in child processes on a SQLite database
of its own, with ``MAIL_STALE_AFTER=2``; the sweeper runs through
``flask messaging requeue-stale`` (the consumer's periodic sweeper runs every minute).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.outbox_stack import (
    OutboxStack,
    consumer_killed_scenario,
    redis_down_scenario,
)

pytestmark = [pytest.mark.slow, pytest.mark.smtp]

STALE_AFTER = 2
WORKERS = 2


@pytest.fixture
def stack() -> Iterator[OutboxStack]:
    stack = OutboxStack(stale_after=STALE_AFTER, workers=WORKERS, smtp_delay=0.02).start()
    try:
        yield stack
    finally:
        stack.stop()


def test_redis_down_during_an_enrollment_loses_no_email(stack: OutboxStack) -> None:
    figures = redis_down_scenario(stack, sweep_every=1.0)
    rows = stack.rows()
    assert [(r["code"], r["status"]) for r in rows] == [
        ("loyalty_enrollment", "sent"),
        ("loyalty_welcome_bonus", "sent"),
    ], stack.consumer_log()
    assert all(r["attempts"] == 1 for r in rows)
    assert sorted(stack.smtp.received()) == sorted(r["message_id"] for r in rows)
    assert (figures.lost, figures.duplicates) == (0, 0)
    assert figures.recovery_seconds < STALE_AFTER + 60


def test_consumer_killed_during_200_emails_loses_none(stack: OutboxStack) -> None:
    figures = consumer_killed_scenario(stack, enrollments=100, kill_after=40)
    rows = stack.rows()
    assert len(rows) == 200
    assert [r for r in rows if r["status"] != "sent"] == [], stack.consumer_log()
    assert figures.lost == 0
    # Only what was in flight at the kill may arrive twice, with its row's Message-ID.
    assert figures.duplicates <= WORKERS
    assert figures.duplicates == figures.duplicates_same_id
    assert figures.foreign_ids == 0
    assert figures.recovery_seconds < STALE_AFTER + 60

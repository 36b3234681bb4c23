"""SMTP outcomes told apart, against a fault-injecting server on loopback.

Each test asserts the final status of every row, how many times the server received the
message (its *transmissions*), the attempts and outcomes recorded, and that nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from loyalty.models import LoyaltyCard
from loyalty.notifications import loyalty_notifications
from messaging import tasks
from messaging.models import EmailLog, EmailOutcome, EmailStatus, EmailSuppression
from platform_core import db as dbmod
from platform_core.config import load_config
from platform_core.huey import huey
from tests.support.faulty_smtp import FaultySmtpServer

pytestmark = [pytest.mark.smtp, pytest.mark.usefixtures("seeded_templates")]


@pytest.fixture
def faulty() -> Iterator[FaultySmtpServer]:
    server = FaultySmtpServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def send_to(
    faulty: FaultySmtpServer,
    use_smtp: Callable[[int], None],
    make_loyalty_card: Callable[..., LoyaltyCard],
    session: Any,
) -> Callable[..., EmailLog]:
    """Queue and commit one enrollment email to a new card; return its row, refreshed."""
    use_smtp(faulty.port)

    def send(card: LoyaltyCard | None = None) -> EmailLog:
        card = card or make_loyalty_card("fr")
        row = loyalty_notifications.enrollment(card.id)
        dbmod.commit()
        session.refresh(row)
        return row

    return send


def test_retries_are_three_sixty_seconds_apart_outside_tests() -> None:
    production = load_config("development")
    assert (production.MAIL_RETRIES, production.MAIL_RETRY_DELAY) == (3, 60)
    assert production.MAIL_STALE_AFTER == 120
    assert tasks.send_email_task.retries == tasks.MAIL_RETRIES


def test_421_at_greeting_is_retried_sixty_seconds_apart_then_failed(
    faulty: FaultySmtpServer,
    send_to: Callable[..., EmailLog],
    monkeypatch: pytest.MonkeyPatch,
    session: Any,
) -> None:
    # Each scheduled retry is run at its eta (Huey's clock, injected), and its eta must be
    # 60 s after the attempt before it.
    monkeypatch.setattr(tasks.send_email_task.task_class, "default_retry_delay", 60)
    faulty.refuse_greetings = 100
    before = _huey_now()
    row = send_to()
    after = _huey_now()
    assert row.status == EmailStatus.QUEUED, "waiting for its retry"
    etas = []
    while scheduled := huey.scheduled():
        (task,) = scheduled
        assert before + timedelta(seconds=60) <= task.eta <= after + timedelta(seconds=60)
        etas.append(task.eta)
        huey.storage.flush_schedule()
        before = _huey_now()
        huey.execute(task, timestamp=task.eta)
        after = _huey_now()
    session.refresh(row)
    assert len(etas) == 3
    assert row.status == EmailStatus.FAILED
    assert row.attempts == 4
    assert row.last_outcome == EmailOutcome.TEMPORARY
    assert "421" in row.last_error
    assert faulty.connections == 4
    assert faulty.transmissions == []
    assert session.scalars(select(EmailSuppression)).all() == []


def _huey_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # Huey's clock: naive UTC


def test_421_at_greeting_then_accepted(faulty: FaultySmtpServer, send_to: Any) -> None:
    faulty.refuse_greetings = 2
    row = send_to()
    assert row.status == EmailStatus.SENT
    assert (row.attempts, row.unknown_attempts) == (3, 0)
    assert row.last_outcome == EmailOutcome.ACCEPTED
    assert faulty.message_ids == [row.message_id]


def test_451_after_data_is_retried_with_the_same_message_id(
    faulty: FaultySmtpServer, send_to: Any
) -> None:
    faulty.fail_next("data_451")
    row = send_to()
    assert row.status == EmailStatus.SENT
    assert row.attempts == 2
    assert row.unknown_attempts == 0
    assert [t.fault for t in faulty.transmissions] == ["data_451", "ok"]
    assert faulty.message_ids == [row.message_id, row.message_id]


def test_550_at_rcpt_fails_at_once_and_suppresses_the_address(
    faulty: FaultySmtpServer,
    send_to: Any,
    make_loyalty_card: Callable[..., LoyaltyCard],
    session: Any,
) -> None:
    faulty.fail_next("rcpt_550")
    card = make_loyalty_card("fr")
    refused = send_to(card)
    assert refused.status == EmailStatus.FAILED
    assert refused.attempts == 1, "a permanent refusal is not retried"
    assert refused.last_outcome == EmailOutcome.REFUSED
    assert "550" in refused.last_error
    assert faulty.refused_recipients == [card.customer.email]
    assert faulty.transmissions == []
    (suppression,) = session.scalars(select(EmailSuppression)).all()
    assert suppression.merchant_id == card.merchant_id
    assert suppression.address == card.customer.email.lower()
    assert suppression.code == 550
    assert "user unknown" in suppression.reason
    assert suppression.created_at is not None
    assert suppression.email_log_id == refused.id

    # The next email to that address (whatever its case) is recorded, not attempted.
    card.customer.email = card.customer.email.upper()
    later = send_to(card)
    assert later.status == EmailStatus.SUPPRESSED
    assert later.attempts == 0
    assert faulty.refused_recipients == [card.customer.email.lower()]
    # Another customer of the merchant is not affected.
    other = send_to()
    assert other.status == EmailStatus.SENT
    assert faulty.message_ids == [other.message_id]

    # Lifted by staff: the address is attempted again.
    session.delete(suppression)
    dbmod.commit()
    again = send_to(card)
    assert again.status == EmailStatus.SENT
    assert faulty.message_ids == [other.message_id, again.message_id]


def test_554_after_data_fails_at_once(faulty: FaultySmtpServer, send_to: Any, session: Any) -> None:
    faulty.fail_next("data_554", "data_554")
    row = send_to()
    assert row.status == EmailStatus.FAILED
    assert row.attempts == 1
    assert [t.fault for t in faulty.transmissions] == ["data_554"]
    assert session.scalars(select(EmailSuppression.code)).all() == [554]


def test_connection_dropped_after_data_is_an_unknown_outcome_retried_once(
    faulty: FaultySmtpServer, send_to: Any
) -> None:
    first = send_to()  # opens the connection the next email reuses
    faulty.fail_next("drop")
    row = send_to()
    assert first.status == row.status == EmailStatus.SENT
    # The provider did not resend on its own: the retry is a second, counted attempt.
    assert row.attempts == 2
    assert row.unknown_attempts == 1
    assert row.last_outcome == EmailOutcome.ACCEPTED
    assert [t.fault for t in faulty.transmissions] == ["ok", "drop", "ok"]
    assert faulty.message_ids == [first.message_id, row.message_id, row.message_id]


def test_reply_after_the_timeout_is_an_unknown_outcome_sent_twice_at_most(
    faulty: FaultySmtpServer, send_to: Any, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "SMTP_TIMEOUT", 0.5)
    faulty.slow_seconds = 1.5
    faulty.fail_next("slow")
    row = send_to()
    assert row.status == EmailStatus.SENT
    assert (row.attempts, row.unknown_attempts) == (2, 1)
    assert [t.fault for t in faulty.transmissions] == ["slow", "ok"]
    assert faulty.message_ids == [row.message_id] * 2


def test_unknown_outcome_on_every_attempt_fails_the_row(
    faulty: FaultySmtpServer, send_to: Any
) -> None:
    faulty.fail_next("drop", "drop", "drop", "drop")
    row = send_to()
    assert row.status == EmailStatus.FAILED
    assert (row.attempts, row.unknown_attempts) == (4, 4)
    assert row.last_outcome == EmailOutcome.UNKNOWN
    assert faulty.message_ids == [row.message_id] * 4


def test_connection_closed_while_idle_is_replaced_before_sending(
    faulty: FaultySmtpServer, send_to: Any
) -> None:
    faulty.fail_next("close_after")
    first = send_to()
    second = send_to()  # its reused connection is dead at MAIL FROM: a new one, same attempt
    assert first.status == second.status == EmailStatus.SENT
    assert (first.attempts, second.attempts) == (1, 1)
    assert faulty.connections == 2
    assert faulty.message_ids == [first.message_id, second.message_id]


def test_refused_connection_is_temporary(
    use_smtp: Callable[[int], None], make_loyalty_card: Any, session: Any
) -> None:
    from tests.messaging.conftest import free_port

    use_smtp(free_port())
    row = loyalty_notifications.enrollment(make_loyalty_card("de").id)
    dbmod.commit()
    session.refresh(row)
    assert row.status == EmailStatus.FAILED
    assert row.last_outcome == EmailOutcome.TEMPORARY
    assert row.attempts == 4
    assert session.scalars(select(EmailSuppression)).all() == []


def test_permanent_error_of_a_platform_email_fails_without_a_list(
    faulty: FaultySmtpServer, use_smtp: Callable[[int], None], session: Any
) -> None:
    from messaging.queueing import send

    use_smtp(faulty.port)
    faulty.fail_next("rcpt_550")
    row = send(
        "staff_password_reset",
        recipient="gone@platform.lu",
        locale="en",
        context={},
    )
    dbmod.commit()
    session.refresh(row)
    assert row.status == EmailStatus.FAILED
    assert row.attempts == 1
    assert session.scalars(select(EmailSuppression)).all() == []

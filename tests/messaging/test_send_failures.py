"""Failures: an unreachable server is retried then recorded; a failed email can be resent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from loyalty.models import LoyaltyCard
from loyalty.notifications import loyalty_notifications
from messaging import tasks
from messaging.models import EmailLog, EmailStatus
from messaging.queueing import resend
from platform_core import db as dbmod
from tests.messaging.conftest import free_port

pytestmark = pytest.mark.smtp


@pytest.mark.usefixtures("seeded_templates")
def test_refused_connection_is_retried_three_times_then_failed(
    use_smtp: Callable[[int], None],
    make_loyalty_card: Callable[..., LoyaltyCard],
    session: Any,
) -> None:
    assert tasks.MAIL_RETRIES == 3
    assert tasks.MAIL_RETRY_DELAY == 0, "the test configuration retries without waiting"
    use_smtp(free_port())  # nobody listens there
    card = make_loyalty_card("fr")

    row = loyalty_notifications.enrollment(card.id)
    dbmod.commit()

    session.refresh(row)
    assert row.status == EmailStatus.FAILED
    assert row.attempts == 4, "the first attempt and three retries"
    assert "Connection refused" in row.last_error
    assert row.sent_at is None
    # Everything needed to send it again is still there.
    assert row.recipient == card.customer.email
    assert '"customer_first_name": "Léa"' in row.context_json


@pytest.mark.usefixtures("seeded_templates")
def test_failed_email_is_resent_once_the_server_is_back(
    use_smtp: Callable[[int], None],
    smtp_server: Any,
    make_loyalty_card: Callable[..., LoyaltyCard],
    session: Any,
    platform_admin: Any,
) -> None:
    use_smtp(free_port())
    card = make_loyalty_card("lb")
    failed = loyalty_notifications.enrollment(card.id)
    dbmod.commit()
    assert failed.status == EmailStatus.FAILED

    use_smtp(smtp_server.port)
    again = resend(failed.id, staff_user=platform_admin)
    assert again.status == EmailStatus.QUEUED
    assert smtp_server.messages == []
    dbmod.commit()

    session.refresh(again)
    assert again.status == EmailStatus.SENT
    assert again.resent_from_id == failed.id
    assert [m["Subject"] for m in smtp_server.messages] == ["Wëllkomm bei Club Ëlsa, Léa!"]
    rows = session.scalars(select(EmailLog).order_by(EmailLog.id)).all()
    assert [r.status for r in rows] == [EmailStatus.FAILED, EmailStatus.SENT]


@pytest.mark.usefixtures("seeded_templates")
def test_server_refusing_the_recipient_fails_the_row(
    use_smtp: Callable[[int], None],
    smtp_server: Any,
    make_loyalty_card: Callable[..., LoyaltyCard],
    session: Any,
) -> None:
    async def refuse(
        server: Any, session_: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        return "550 No such user here"

    smtp_server.handler.handle_RCPT = refuse
    use_smtp(smtp_server.port)
    row = loyalty_notifications.enrollment(make_loyalty_card("en").id)
    dbmod.commit()

    session.refresh(row)
    assert row.status == EmailStatus.FAILED
    assert "No such user" in row.last_error
    assert smtp_server.messages == []

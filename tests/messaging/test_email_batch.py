"""Emails queued together (enrollment's two) are logged with one flush and sent after commit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from loyalty.models import LoyaltyCard
from loyalty.notifications import loyalty_notifications
from messaging.models import EmailLog, EmailStatus
from messaging.providers import outbox
from platform_core import db as dbmod

pytestmark = pytest.mark.usefixtures("seeded_templates")


def test_a_batch_logs_both_emails_and_sends_them_after_the_commit(
    make_loyalty_card: Callable[..., LoyaltyCard],
    session: Any,
) -> None:
    card = make_loyalty_card("fr")
    with loyalty_notifications.batch():
        first = loyalty_notifications.enrollment(card.id)
        second = loyalty_notifications.welcome_bonus(card.id, 150)
        assert first.id is None  # not flushed yet: both rows go in together
    assert first.id is not None
    assert second.id is not None
    assert outbox == []

    dbmod.commit()

    assert len(outbox) == 2
    rows = session.scalars(select(EmailLog).order_by(EmailLog.id)).all()
    assert [(r.code, r.status) for r in rows] == [
        ("loyalty_enrollment", EmailStatus.SENT),
        ("loyalty_welcome_bonus", EmailStatus.SENT),
    ]


def test_a_batch_that_fails_sends_nothing(
    make_loyalty_card: Callable[..., LoyaltyCard],
    session: Any,
) -> None:
    card = make_loyalty_card("en")
    dbmod.commit()

    def enroll_then_fail() -> None:
        with loyalty_notifications.batch():
            loyalty_notifications.enrollment(card.id)
            raise RuntimeError("the enrollment failed after queueing its email")

    with pytest.raises(RuntimeError):
        enroll_then_fail()
    dbmod.rollback()
    dbmod.commit()

    assert outbox == []
    assert session.scalars(select(EmailLog)).all() == []

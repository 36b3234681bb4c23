"""Delivery: after commit only, exactly once, with the message the log shows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from loyalty.models import LoyaltyCard
from loyalty.notifications import loyalty_notifications
from messaging.delivery import deliver
from messaging.models import EmailLog, EmailStatus
from messaging.providers import outbox
from messaging.queueing import send
from messaging.tasks import send_email_task
from platform_core import db as dbmod

pytestmark = pytest.mark.usefixtures("seeded_templates")


def test_nothing_is_sent_before_commit_nor_after_rollback(
    make_loyalty_card: Callable[..., LoyaltyCard],
    session: Any,
) -> None:
    card = make_loyalty_card("en")
    dbmod.commit()
    row = loyalty_notifications.enrollment(card.id)
    assert row.status == EmailStatus.QUEUED
    assert outbox == []

    dbmod.rollback()
    dbmod.commit()

    assert outbox == []
    assert session.scalars(select(EmailLog)).all() == []


def test_a_retry_after_success_sends_nothing_twice(
    make_loyalty_card: Callable[..., LoyaltyCard],
    session: Any,
) -> None:
    row = loyalty_notifications.points_expired(make_loyalty_card("de").id, 40)
    dbmod.commit()
    assert len(outbox) == 1

    send_email_task.call_local(row.id)
    deliver(row.id)
    dbmod.commit()

    session.refresh(row)
    assert len(outbox) == 1
    assert row.attempts == 1
    assert row.status == EmailStatus.SENT


def test_the_log_keeps_what_was_sent(
    make_loyalty_card: Callable[..., LoyaltyCard],
    session: Any,
) -> None:
    card = make_loyalty_card("fr")
    row = loyalty_notifications.welcome_bonus(card.id, 150)
    dbmod.commit()

    (message,) = outbox
    session.refresh(row)
    assert row.subject == message["Subject"] == "150 points de bienvenue vous attendent"
    assert row.message_id == message["Message-ID"]
    assert row.body_html == message.get_body(("html",)).get_content()
    assert row.body_text == message.get_body(("plain",)).get_content()
    assert "Voir ma carte (http" in row.body_text
    assert row.merchant_id == card.merchant_id
    assert row.store_id == card.enrolled_at_store_id


def test_variables_not_declared_by_the_code_are_refused(session: Any) -> None:
    with pytest.raises(ValueError, match="password"):
        send("loyalty_enrollment", recipient="a@example.lu", locale="en", context={"password": "x"})


def test_wallet_button_only_when_there_is_a_wallet_link(
    make_loyalty_card: Callable[..., LoyaltyCard],
    session: Any,
) -> None:
    card = make_loyalty_card("en")
    send(
        "loyalty_enrollment",
        recipient="a@example.lu",
        locale="en",
        merchant_id=card.merchant_id,
        store_id=card.enrolled_at_store_id,
        context={
            "customer_first_name": "Léa",
            "merchant_name": "Ëlsa",
            "program_name": "Club",
            "card_url": "https://x.lu/card/1",
            "wallet_url": "https://pay.google.com/gp/v/save/abc",
            "brand_color": "#123456",
        },
    )
    dbmod.commit()

    html = outbox[0].get_body(("html",)).get_content()
    assert 'href="https://pay.google.com/gp/v/save/abc"' in html
    assert "Add to Google Wallet" in html

"""The birthday and "we miss you" marketing emails through a real SMTP server.

Marketing: only with the customer's marketing consent granted now, never twice on the same
day, a visible unsubscribe link in both parts and the RFC 8058 headers.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import func, select

from loyalty.models import LoyaltyCard, LoyaltyTransaction, ProgramKind, TransactionType
from loyalty.services.marketing import send_birthday_emails, send_reengagement_emails
from loyalty.tasks import BIRTHDAY_TASK, REENGAGEMENT_TASK, run_marketing
from platform_core import db as dbmod
from platform_core.customers.consent import record_consent
from platform_core.customers.models import ConsentPurpose, ConsentSource
from platform_core.task_runs.models import TaskRun

pytestmark = [pytest.mark.smtp, pytest.mark.usefixtures("seeded_templates")]

TODAY = date(2026, 6, 15)
NOW = datetime(2026, 6, 15, 8, 30, tzinfo=UTC)

BIRTHDAY_SUBJECTS = {
    "en": "Happy birthday, Léa!",
    "fr": "Joyeux anniversaire, Léa\u00a0!",
    "de": "Alles Gute zum Geburtstag, Léa!",
    "lb": "Alles Guddes fir Äre Gebuertsdag, Léa!",
}
MISS_YOU_SUBJECTS = {
    "en": "Léa, we miss you!",
    "fr": "Léa, vous nous manquez\u00a0!",
    "de": "Léa, wir vermissen Sie!",
    "lb": "Léa, mir vermëssen Iech!",
}
UNSUBSCRIBE_LINK = {
    "en": "Unsubscribe",
    "fr": "Se désinscrire",
    "de": "Hier abmelden",
    "lb": "Hei ofmellen",
}
BONUS_PHRASE = {
    "en": "100 points",
    "fr": "100 points",
    "de": "100 Punkte",
    "lb": "100 Punkten",
}


def _consent(card: LoyaltyCard, granted: bool = True, at: datetime | None = None) -> None:
    record_consent(
        card.customer,
        ConsentPurpose.MARKETING_EMAIL,
        granted=granted,
        source=ConsentSource.CONSOLE,
        locale="en",
        wording="test: marketing email",
        at=at,
    )


def _birthday_card(make: Callable[..., LoyaltyCard], locale: str = "en", **kw: Any) -> LoyaltyCard:
    card = make(locale, kind=ProgramKind.HYBRID, **kw)
    card.program.birthday_emails_enabled = True
    card.program.birthday_bonus_points = 100
    card.customer.birthday = date(1990, TODAY.month, TODAY.day)
    return card


def _parts(message: EmailMessage) -> dict[str, str]:
    return {
        part.get_content_subtype(): part.get_payload(decode=True).decode("utf-8")
        for part in message.walk()
        if part.get_content_maintype() == "text"
    }


def _birthday(**kw: Any) -> Any:
    return send_birthday_emails(commit=dbmod.commit, today=TODAY, **kw)


def _bonus_rows(session: Any, card: LoyaltyCard) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(LoyaltyTransaction)
            .where(
                LoyaltyTransaction.card_id == card.id,
                LoyaltyTransaction.type == TransactionType.BIRTHDAY_BONUS,
            )
        )
    )


@pytest.mark.parametrize("locale", ["en", "fr", "de", "lb"])
def test_birthday_email_has_the_link_the_headers_and_the_bonus(
    locale: str,
    smtp_server: Any,
    use_smtp: Callable[[int], None],
    make_loyalty_card: Callable[..., LoyaltyCard],
    session: Any,
) -> None:
    use_smtp(smtp_server.port)
    card = _birthday_card(make_loyalty_card, locale)
    _consent(card)
    dbmod.commit()

    report = _birthday()

    assert (report.cards, report.emails, report.points) == (1, 1, 100)
    [message] = smtp_server.messages
    assert message["Subject"] == BIRTHDAY_SUBJECTS[locale]
    url = message["List-Unsubscribe"].strip("<>")
    assert "/unsubscribe/" in url
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    parts = _parts(message)
    assert f'href="{url}"' in parts["html"]
    assert UNSUBSCRIBE_LINK[locale] in parts["html"]
    assert f"{UNSUBSCRIBE_LINK[locale]} ({url})" in parts["plain"], "visible in the text part"
    assert BONUS_PHRASE[locale] in html.unescape(parts["html"])
    for body in parts.values():
        assert "{{" not in body
        assert "{%" not in body
    session.expire_all()
    assert card.points_balance == 1250 + 100
    assert card.last_birthday_year == TODAY.year


@pytest.mark.parametrize("locale", ["en", "fr", "de", "lb"])
def test_we_miss_you_email_has_the_link_and_the_headers(
    locale: str,
    smtp_server: Any,
    use_smtp: Callable[[int], None],
    make_loyalty_card: Callable[..., LoyaltyCard],
    session: Any,
) -> None:
    use_smtp(smtp_server.port)
    card = make_loyalty_card(locale)
    card.program.reengagement_days = 60
    card.last_activity_at = NOW - timedelta(days=61)
    _consent(card)
    dbmod.commit()

    report = send_reengagement_emails(commit=dbmod.commit, now=NOW)

    assert (report.cards, report.emails) == (1, 1)
    [message] = smtp_server.messages
    assert message["Subject"] == MISS_YOU_SUBJECTS[locale]
    url = message["List-Unsubscribe"].strip("<>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    parts = _parts(message)
    assert f'href="{url}"' in parts["html"]
    assert f"{UNSUBSCRIBE_LINK[locale]} ({url})" in parts["plain"]
    assert "2026" in parts["plain"], "the last visit's date"


def test_no_marketing_email_without_consent_even_withdrawn_yesterday(
    smtp_server: Any,
    use_smtp: Callable[[int], None],
    make_loyalty_card: Callable[..., LoyaltyCard],
    session: Any,
) -> None:
    use_smtp(smtp_server.port)
    never = _birthday_card(make_loyalty_card)
    withdrew = _birthday_card(make_loyalty_card)
    _consent(withdrew, at=NOW - timedelta(days=30))
    _consent(withdrew, granted=False, at=NOW - timedelta(days=1))
    for card in (never, withdrew):
        card.program.reengagement_days = 30
        card.last_activity_at = NOW - timedelta(days=90)
    dbmod.commit()

    assert _birthday().emails == 0
    assert send_reengagement_emails(commit=dbmod.commit, now=NOW).emails == 0

    assert smtp_server.messages == []
    assert _bonus_rows(session, withdrew) == 0
    session.expire_all()
    assert withdrew.last_birthday_year is None


def test_two_birthday_runs_on_the_same_day_send_and_credit_once(
    smtp_server: Any,
    use_smtp: Callable[[int], None],
    make_loyalty_card: Callable[..., LoyaltyCard],
    session: Any,
) -> None:
    use_smtp(smtp_server.port)
    card = _birthday_card(make_loyalty_card)
    _consent(card)
    dbmod.commit()

    first = run_marketing(send_birthday_emails, BIRTHDAY_TASK, today=TODAY)
    second = run_marketing(send_birthday_emails, BIRTHDAY_TASK, today=TODAY)

    assert (first.emails, second.emails) == (1, 0)
    assert len(smtp_server.messages) == 1
    assert _bonus_rows(session, card) == 1
    runs = session.scalars(select(TaskRun).filter_by(task_name=BIRTHDAY_TASK)).all()
    assert len(runs) == 2
    assert all(r.status == "succeeded" for r in runs)
    assert "emails" in runs[0].summary

    # Next year: wished again, credited again (another key).
    next_year = send_birthday_emails(commit=dbmod.commit, today=TODAY.replace(year=2027))
    assert next_year.emails == 1
    assert _bonus_rows(session, card) == 2


def test_february_29_is_celebrated_on_the_28th_in_other_years(
    make_loyalty_card: Callable[..., LoyaltyCard], session: Any
) -> None:
    card = _birthday_card(make_loyalty_card)
    card.customer.birthday = date(2000, 2, 29)
    _consent(card)
    dbmod.commit()

    assert send_birthday_emails(commit=dbmod.commit, today=date(2027, 2, 27)).cards == 0
    assert send_birthday_emails(commit=dbmod.commit, today=date(2027, 2, 28)).cards == 1
    assert send_birthday_emails(commit=dbmod.commit, today=date(2028, 2, 28)).cards == 0
    assert send_birthday_emails(commit=dbmod.commit, today=date(2028, 2, 29)).cards == 1


def test_we_miss_you_once_per_period_of_inactivity(
    smtp_server: Any,
    use_smtp: Callable[[int], None],
    make_loyalty_card: Callable[..., LoyaltyCard],
    session: Any,
) -> None:
    use_smtp(smtp_server.port)
    card = make_loyalty_card("en")
    card.program.reengagement_days = 60
    card.last_activity_at = NOW - timedelta(days=61)
    recent = make_loyalty_card("en")
    recent.last_activity_at = NOW - timedelta(days=59)
    _consent(card)
    _consent(recent)
    dbmod.commit()

    runs = [
        run_marketing(send_reengagement_emails, REENGAGEMENT_TASK, now=NOW).emails for _ in range(2)
    ]
    assert runs == [1, 0], "never twice on the same day"
    # A new activity, then a new period of inactivity: one more email.
    card.last_activity_at = NOW + timedelta(days=1)
    dbmod.commit()
    later = NOW + timedelta(days=62)
    assert send_reengagement_emails(commit=dbmod.commit, now=later).emails == 2  # both cards
    assert send_reengagement_emails(commit=dbmod.commit, now=later).emails == 0
    assert [m["To"] for m in smtp_server.messages].count(card.customer.email) == 2


def test_off_by_default(make_loyalty_card: Callable[..., LoyaltyCard], session: Any) -> None:
    card = make_loyalty_card("en")
    card.customer.birthday = date(1990, TODAY.month, TODAY.day)
    card.last_activity_at = NOW - timedelta(days=3000)
    _consent(card)
    dbmod.commit()
    assert _birthday().cards == 0
    assert send_reengagement_emails(commit=dbmod.commit, now=NOW).cards == 0


def test_cli_dry_run_changes_nothing_and_a_run_sends(
    runner: Any, make_loyalty_card: Callable[..., LoyaltyCard], session: Any
) -> None:
    card = make_loyalty_card("en")
    card.program.reengagement_days = 30
    card.last_activity_at = datetime.now(UTC) - timedelta(days=31)
    _consent(card)
    dbmod.commit()

    dry = runner.invoke(args=["loyalty", "send-reengagement-emails", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "1 cards would get the email" in dry.output
    session.expire_all()
    assert card.reengagement_sent_for is None

    real = runner.invoke(args=["loyalty", "send-reengagement-emails"])
    assert real.exit_code == 0, real.output
    assert "Queued 1 emails to 1 cards" in real.output
    birthday = runner.invoke(args=["loyalty", "send-birthday-emails", "--dry-run"])
    assert birthday.exit_code == 0, birthday.output

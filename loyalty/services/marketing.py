"""The marketing jobs: birthday wishes (with the optional bonus) and "we miss you".

Marketing email goes only to customers whose marketing consent is granted now
(``Customer.marketing_consent``, kept equal to the latest ``marketing_email`` consent row);
the five lifecycle emails are service messages and do not look at it.

Both jobs page through the cards in keyset chunks (``id > :last ORDER BY id LIMIT n``), a
few statements per chunk: one select of the chunk's due cards, one conditional ``UPDATE …
RETURNING`` that claims them, one load of the claimed cards. The claim is what makes a
rerun, or a second run in parallel, send nothing twice: it sets ``last_birthday_year`` (at
most one birthday email a year) or ``reengagement_sent_for`` (the activity time the "we
miss you" email was sent for: one per period of inactivity, a new activity opens the next),
and on PostgreSQL a concurrent claim of the same card waits for the first one's commit and
then no longer matches. The birthday bonus goes through the ledger with the idempotency key
``birthday-bonus-<year>``, so even a card claimed twice is credited once. The emails'
rows are queued in the chunk's transaction and their sends enqueued after its commit.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, extract, or_, select, update
from sqlalchemy.orm import selectinload

from loyalty.models import LoyaltyCard, LoyaltyProgram
from loyalty.notifications import loyalty_notifications
from loyalty.services.ledger import credit_birthday_bonus
from platform_core.customers.models import Customer
from platform_core.extensions import db
from platform_core.models_base import utcnow

#: Birthdays are the customer's day in Luxembourg.
LUXEMBOURG = ZoneInfo("Europe/Luxembourg")
#: Cards claimed and emailed per transaction.
CHUNK_SIZE = 500

Progress = Callable[[int], None]


@dataclass
class MarketingReport:
    """What a run did (or, for a dry run, would do)."""

    cards: int = 0
    emails: int = 0
    points: int = 0
    chunks: int = 0


def luxembourg_today(now: datetime | None = None) -> date:
    """Today's date in Europe/Luxembourg."""
    return (now or utcnow()).astimezone(LUXEMBOURG).date()


def birthday_days(today: date) -> tuple[int, ...]:
    """The birthdays (days of ``today``'s month) celebrated ``today``: 29 February is
    celebrated on the 28th in years without one."""
    if today.month == 2 and today.day == 28 and not calendar.isleap(today.year):
        return (28, 29)
    return (today.day,)


def _not_claimed_this_year(year: int) -> Any:
    return or_(LoyaltyCard.last_birthday_year.is_(None), LoyaltyCard.last_birthday_year < year)


def _birthday_cards(today: date, merchant_id: int | None) -> Select[Any]:
    query = (
        select(LoyaltyCard.id)
        .join(Customer, Customer.id == LoyaltyCard.customer_id)
        .join(LoyaltyProgram, LoyaltyProgram.id == LoyaltyCard.program_id)
        .where(
            LoyaltyCard.is_active.is_(True),
            LoyaltyProgram.is_active.is_(True),
            LoyaltyProgram.birthday_emails_enabled.is_(True),
            Customer.marketing_consent.is_(True),
            Customer.birthday.is_not(None),
            extract("month", Customer.birthday) == today.month,
            extract("day", Customer.birthday).in_(birthday_days(today)),
            _not_claimed_this_year(today.year),
        )
    )
    if merchant_id is not None:
        query = query.where(LoyaltyCard.merchant_id == merchant_id)
    return query


def _load(card_ids: Sequence[int]) -> list[LoyaltyCard]:
    return list(
        db.session.scalars(
            select(LoyaltyCard)
            .where(LoyaltyCard.id.in_(list(card_ids)))
            # selectin, not joined: the ledger refreshes a card FOR UPDATE with its load
            # options, and PostgreSQL refuses FOR UPDATE on an outer join's nullable side.
            .options(
                selectinload(LoyaltyCard.customer),
                selectinload(LoyaltyCard.program),
                selectinload(LoyaltyCard.merchant),
                selectinload(LoyaltyCard.enrolled_at_store),
            )
            .order_by(LoyaltyCard.id)
            # The claim's UPDATE bypassed the session: read the cards as they are now.
            .execution_options(populate_existing=True)
        )
    )


def _chunks(query: Select[Any], chunk_size: int) -> Any:
    """Yield the ids of each keyset chunk of ``query``'s cards."""
    last = 0
    while True:
        ids = list(
            db.session.scalars(
                query.where(LoyaltyCard.id > last).order_by(LoyaltyCard.id).limit(chunk_size)
            )
        )
        if not ids:
            return
        last = ids[-1]
        yield ids


def send_birthday_emails(
    *,
    commit: Callable[[], None],
    today: date | None = None,
    chunk_size: int | None = None,
    merchant_id: int | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> MarketingReport:
    """Wish a happy birthday to today's consenting customers, once a year, with the bonus.

    :param commit: called after each chunk (the job commits there).
    :param today: the day in Luxembourg (default: today).
    :param dry_run: count the cards that would be wished; change nothing.
    """
    today = today or luxembourg_today()
    report = MarketingReport()
    query = _birthday_cards(today, merchant_id)
    for ids in _chunks(query, chunk_size or CHUNK_SIZE):
        report.chunks += 1
        if dry_run:
            report.cards += len(ids)
            continue
        claimed = list(
            db.session.scalars(
                update(LoyaltyCard)
                .where(LoyaltyCard.id.in_(ids), _not_claimed_this_year(today.year))
                .values(last_birthday_year=today.year)
                .returning(LoyaltyCard.id),
                execution_options={"synchronize_session": False},
            )
        )
        with loyalty_notifications.batch():
            for card in _load(claimed):
                program = card.program
                bonus = program.birthday_bonus_points if program.uses_points else 0
                if bonus > 0:
                    credit_birthday_bonus(card, bonus, year=today.year)
                    report.points += bonus
                loyalty_notifications.birthday(card.id, bonus)
                report.emails += 1
        report.cards += len(claimed)
        commit()
        if progress is not None:
            progress(len(ids))
    return report


def _reengagement_programs(merchant_id: int | None) -> list[tuple[int, int]]:
    query = select(LoyaltyProgram.id, LoyaltyProgram.reengagement_days).where(
        LoyaltyProgram.is_active.is_(True), LoyaltyProgram.reengagement_days > 0
    )
    if merchant_id is not None:
        query = query.where(LoyaltyProgram.merchant_id == merchant_id)
    return [(row.id, row.reengagement_days) for row in db.session.execute(query)]


def _not_sent_for_this_activity() -> Any:
    return or_(
        LoyaltyCard.reengagement_sent_for.is_(None),
        LoyaltyCard.reengagement_sent_for != LoyaltyCard.last_activity_at,
    )


def send_reengagement_emails(
    *,
    commit: Callable[[], None],
    now: datetime | None = None,
    chunk_size: int | None = None,
    merchant_id: int | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> MarketingReport:
    """Send "we miss you" to consenting customers of cards inactive for the program's
    ``reengagement_days``, once per period of inactivity.

    :param commit: called after each chunk.
    :param dry_run: count the cards that would get it; change nothing.
    """
    now = now or utcnow()
    report = MarketingReport()
    for program_id, days in _reengagement_programs(merchant_id):
        cutoff = now - timedelta(days=days)
        due = (
            LoyaltyCard.program_id == program_id,
            LoyaltyCard.is_active.is_(True),
            LoyaltyCard.last_activity_at < cutoff,
            _not_sent_for_this_activity(),
        )
        query = (
            select(LoyaltyCard.id)
            .join(Customer, Customer.id == LoyaltyCard.customer_id)
            .where(*due, Customer.marketing_consent.is_(True))
        )
        for ids in _chunks(query, chunk_size or CHUNK_SIZE):
            report.chunks += 1
            if dry_run:
                report.cards += len(ids)
                continue
            claimed = list(
                db.session.scalars(
                    update(LoyaltyCard)
                    .where(LoyaltyCard.id.in_(ids), *due)
                    .values(reengagement_sent_for=LoyaltyCard.last_activity_at)
                    .returning(LoyaltyCard.id),
                    execution_options={"synchronize_session": False},
                )
            )
            with loyalty_notifications.batch():
                for card in _load(claimed):
                    last_visit = card.last_activity_at
                    if last_visit.tzinfo is None:
                        last_visit = last_visit.replace(tzinfo=ZoneInfo("UTC"))
                    loyalty_notifications.we_miss_you(
                        card.id, last_visit.astimezone(LUXEMBOURG).date()
                    )
                    report.emails += 1
            report.cards += len(claimed)
            commit()
            if progress is not None:
                progress(len(ids))
    return report

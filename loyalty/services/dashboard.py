"""The console dashboard's figures, each from one or a few aggregate queries, scoped to the
viewer. Closed days come from the daily totals of :mod:`loyalty.services.ledger_rollup`,
so no figure reads more than a day of ledger rows or all the cards.

Dates are bucketed by local day (Europe/Luxembourg, or the configured zone) in SQL and
folded into weeks here, so a day starts at local midnight whatever the season. SQLite has
no time zone database: there the buckets are UTC hours, folded into local days here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import false, func, select

from loyalty.models import (
    LedgerDailyTotal,
    LoyaltyCard,
    LoyaltyProgram,
    LoyaltyTransaction,
    ProgramKind,
)
from loyalty.services.expiry import expiring_by_program
from loyalty.services.ledger_rollup import (
    bucket_day,
    day_bucket,
    ledger_sums,
    live_since,
    local_midnight_utc,
)
from messaging.models import EmailLog, EmailStatus
from platform_core.extensions import db
from platform_core.models_base import utcnow
from platform_core.scoping import scope_clause
from platform_core.task_runs.models import TaskRun, TaskRunStatus
from platform_core.tenancy.models import Store

#: Days covered by the enrollment chart (the shorter view is its last 30 days).
ENROLLMENT_DAYS = 90
#: Weeks covered by the points chart.
POINTS_WEEKS = 12
#: Horizon of "points expiring soon".
EXPIRING_DAYS = 30
#: Window of the email figures.
EMAIL_DAYS = 7


@dataclass
class EnrollmentSeries:
    #: Local days, oldest first, ``ENROLLMENT_DAYS`` of them.
    days: list[date]
    #: Store name → enrollments per day (aligned with ``days``).
    by_store: dict[str, list[int]]

    def last(self, n: int) -> EnrollmentSeries:
        return EnrollmentSeries(
            days=self.days[-n:], by_store={k: v[-n:] for k, v in self.by_store.items()}
        )

    @property
    def total(self) -> int:
        return sum(sum(v) for v in self.by_store.values())


@dataclass
class PointsSeries:
    #: Mondays of the local weeks, oldest first.
    weeks: list[date]
    issued: list[int]
    redeemed: list[int]
    expired: list[int]


@dataclass
class ProgramLiability:
    program: str
    outstanding_points: int
    #: Euro value of one point, or ``None`` when the program does not say.
    point_value: Decimal | None
    expiring_points: int
    expiring_cards: int

    @property
    def value(self) -> Decimal | None:
        if self.point_value is None:
            return None
        return (self.point_value * self.outstanding_points).quantize(Decimal("0.01"))


@dataclass
class CardFigures:
    active_cards: int = 0
    #: Every card, deactivated ones included.
    total_cards: int = 0
    programs: list[ProgramLiability] = field(default_factory=list)

    @property
    def outstanding_points(self) -> int:
        return sum(p.outstanding_points for p in self.programs)

    @property
    def liability(self) -> Decimal | None:
        values = [p.value for p in self.programs if p.value is not None]
        return sum(values, Decimal("0.00")) if values else None

    @property
    def expiring_points(self) -> int:
        return sum(p.expiring_points for p in self.programs)

    @property
    def expiring_cards(self) -> int:
        return sum(p.expiring_cards for p in self.programs)


@dataclass
class EmailFigures:
    sent: int = 0
    failed: int = 0
    suppressed: int = 0


@dataclass
class JobRun:
    task_name: str
    status: TaskRunStatus
    started_at: datetime
    finished_at: datetime | None

    @property
    def status_label(self) -> str:
        return self.status.label


def _scoped(stmt: Any, model: type, user: Any) -> Any:
    clause = scope_clause(model, user)
    return stmt.where(clause) if clause is not None else stmt


def _local_today(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def _merchant_scoped(stmt: Any, column: Any, user: Any) -> Any:
    """Limit a daily-totals query to the merchant's rows, as the cards are (all of the
    merchant's stores, for store staff too: a card belongs to the merchant)."""
    clause = scope_clause(LoyaltyCard, user)
    if clause is None:
        return stmt
    if user.merchant_id is None:
        return stmt.where(false())
    return stmt.where(column == user.merchant_id)


def enrollments(user: Any, tz: ZoneInfo, *, now: datetime | None = None) -> EnrollmentSeries:
    """Cards enrolled per local day over the last ``ENROLLMENT_DAYS`` days, by store.

    Closed days from the daily totals, the cards enrolled since from the cards themselves.
    """
    now = now or utcnow()
    today = _local_today(now, tz)
    first = today - timedelta(days=ENROLLMENT_DAYS - 1)
    counts: list[tuple[int | None, date, int]] = []
    start = local_midnight_utc(first, tz)
    since = live_since(tz)
    if since is not None and since > start:
        daily = LedgerDailyTotal
        closed = (
            select(daily.store_id, daily.day, func.sum(daily.enrolled))
            .where(
                daily.day >= first,
                daily.day < since.astimezone(tz).date(),
                daily.enrolled != 0,
            )
            .group_by(daily.store_id, daily.day)
        )
        closed = _merchant_scoped(closed, daily.merchant_id, user)
        counts += [(store, day, int(n)) for store, day, n in db.session.execute(closed)]
        start = since
    bucket = day_bucket(LoyaltyCard.created_at, tz).label("bucket")
    live = (
        select(LoyaltyCard.enrolled_at_store_id, bucket, func.count())
        .where(LoyaltyCard.created_at >= start)
        .group_by(LoyaltyCard.enrolled_at_store_id, bucket)
    )
    for store_id, hour, n in db.session.execute(_scoped(live, LoyaltyCard, user)):
        counts.append((store_id, bucket_day(hour, tz), int(n)))
    store_ids = {store_id for store_id, _, _ in counts if store_id is not None}
    names = dict(
        db.session.execute(select(Store.id, Store.name).where(Store.id.in_(store_ids))).all()
    )
    days = [first + timedelta(days=i) for i in range(ENROLLMENT_DAYS)]
    index = {day: i for i, day in enumerate(days)}
    by_store: dict[str, list[int]] = defaultdict(lambda: [0] * ENROLLMENT_DAYS)
    for store_id, day, n in counts:
        if day in index and n:
            label = names.get(store_id, "—") if store_id is not None else "—"
            by_store[label][index[day]] += n
    return EnrollmentSeries(days=days, by_store=dict(sorted(by_store.items())))


def points_per_week(user: Any, tz: ZoneInfo, *, now: datetime | None = None) -> PointsSeries:
    """Points issued, redeemed and expired per local week (Monday first).

    Closed days come from the daily totals (:mod:`loyalty.services.ledger_rollup`), a few
    hundred rows; the ledger itself is read only from the end of the last rolled-up day.
    """
    now = now or utcnow()
    today = _local_today(now, tz)
    this_monday = today - timedelta(days=today.weekday())
    weeks = [this_monday - timedelta(weeks=POINTS_WEEKS - 1 - i) for i in range(POINTS_WEEKS)]
    series = {week: [0, 0, 0] for week in weeks}

    def add(day: date, figures: Any) -> None:
        week = day - timedelta(days=day.weekday())
        if week in series:
            for i, value in enumerate(figures):
                series[week][i] += int(value or 0)

    start = local_midnight_utc(weeks[0], tz)
    since = live_since(tz)
    if since is not None and since > start:
        daily = LedgerDailyTotal
        closed = (
            select(
                daily.day, func.sum(daily.issued), func.sum(daily.redeemed), func.sum(daily.expired)
            )
            .where(daily.day >= weeks[0], daily.day < since.astimezone(tz).date())
            .group_by(daily.day)
        )
        for day, *figures in db.session.execute(_scoped(closed, daily, user)).all():
            add(day, figures)
        start = since
    tx = LoyaltyTransaction
    bucket = day_bucket(tx.created_at, tz).label("bucket")
    issued, redeemed, expired, _net = ledger_sums()
    live = (
        select(bucket, issued, redeemed, expired)
        .where(tx.created_at >= start, tx.points_delta != 0)
        .group_by(bucket)
    )
    for hour, *figures in db.session.execute(_scoped(live, tx, user)).all():
        add(bucket_day(hour, tz), figures)
    return PointsSeries(
        weeks=weeks,
        issued=[series[w][0] for w in weeks],
        redeemed=[series[w][1] for w in weeks],
        expired=[series[w][2] for w in weeks],
    )


def card_figures(
    user: Any, tz: ZoneInfo | None = None, *, now: datetime | None = None
) -> CardFigures:
    """Active cards, outstanding points (and their euro value), and points expiring soon.

    Per program, without reading a million cards: the cards enrolled and the points
    credited or spent up to the last closed day come from the daily totals, the rest from
    the cards and ledger rows written since; deactivated cards and the cards whose points
    expire soon are each a small range of a partial index. Before the first rollup, one
    pass over the cards gives the same figures.
    """
    now = now or utcnow()
    tz = tz or ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    programs = db.session.execute(
        _scoped(
            select(
                LoyaltyProgram.id,
                LoyaltyProgram.name,
                LoyaltyProgram.point_value,
                LoyaltyProgram.points_expiry_days,
                LoyaltyProgram.kind,
            ),
            LoyaltyProgram,
            user,
        )
    ).all()
    if not programs:
        return CardFigures()
    # The programs are the viewer's (scoped above) and a card belongs to its program's
    # merchant: filtering on the program ids is the tenancy filter of every query below.
    ids = [p[0] for p in programs]
    cards = _cards_and_points(ids, tz)
    inactive = dict(
        db.session.execute(
            select(LoyaltyCard.program_id, func.count())
            .where(LoyaltyCard.program_id.in_(ids), ~LoyaltyCard.is_active)
            .group_by(LoyaltyCard.program_id)
        ).all()
    )
    expiring = expiring_by_program(
        {pid: days for pid, _, _, days, kind in programs if days and kind != ProgramKind.STAMPS},
        EXPIRING_DAYS,
        now,
    )
    result = CardFigures()
    for program_id, name, point_value, _, kind in programs:
        total, outstanding = cards.get(program_id, (0, 0))
        result.total_cards += total
        result.active_cards += max(0, total - int(inactive.get(program_id, 0)))
        if kind == ProgramKind.STAMPS:
            continue  # stamps carry no points, hence no liability in euros
        expiring_points, expiring_cards = expiring.get(program_id, (0, 0))
        result.programs.append(
            ProgramLiability(
                program=name,
                outstanding_points=outstanding,
                point_value=point_value,
                expiring_points=expiring_points,
                expiring_cards=expiring_cards,
            )
        )
    return result


def _cards_and_points(ids: list[int], tz: ZoneInfo) -> dict[int, tuple[int, int]]:
    """Program id → (cards, outstanding points)."""
    card = LoyaltyCard
    since = live_since(tz)
    if since is None:
        stmt = (
            select(card.program_id, func.count(), func.sum(card.points_balance))
            .where(card.program_id.in_(ids))
            .group_by(card.program_id)
        )
        return {pid: (int(n), int(points or 0)) for pid, n, points in db.session.execute(stmt)}
    figures: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    daily = LedgerDailyTotal
    closed = (
        select(daily.program_id, func.sum(daily.enrolled), func.sum(daily.net))
        .where(daily.program_id.in_(ids), daily.day < since.astimezone(tz).date())
        .group_by(daily.program_id)
    )
    for pid, n, net in db.session.execute(closed):
        figures[pid][0] += int(n or 0)
        figures[pid][1] += int(net or 0)
    enrolled = (
        select(card.program_id, func.count())
        .where(card.program_id.in_(ids), card.created_at >= since)
        .group_by(card.program_id)
    )
    for pid, n in db.session.execute(enrolled):
        figures[pid][0] += int(n)
    tx = LoyaltyTransaction
    moved = (
        select(card.program_id, func.sum(tx.points_delta))
        .join(card, card.id == tx.card_id)
        .where(card.program_id.in_(ids), tx.created_at >= since, tx.points_delta != 0)
        .group_by(card.program_id)
    )
    for pid, net in db.session.execute(moved):
        figures[pid][1] += int(net or 0)
    return {pid: (n, points) for pid, (n, points) in figures.items()}


def email_figures(user: Any, *, now: datetime | None = None) -> EmailFigures:
    """Emails sent, failed and suppressed over the last ``EMAIL_DAYS`` days."""
    now = now or utcnow()
    stmt = (
        select(EmailLog.status, func.count())
        .where(EmailLog.created_at >= now - timedelta(days=EMAIL_DAYS))
        .group_by(EmailLog.status)
    )
    counts = {
        str(status): int(n) for status, n in db.session.execute(_scoped(stmt, EmailLog, user))
    }
    return EmailFigures(
        sent=counts.get(EmailStatus.SENT.value, 0),
        failed=counts.get(EmailStatus.FAILED.value, 0),
        suppressed=counts.get("suppressed", 0),
    )


def last_job_runs(user: Any) -> list[JobRun]:
    """The latest run of each periodic job, for the users who may see task runs."""
    if scope_clause(TaskRun, user) is not None:
        return []
    latest = (
        select(TaskRun.task_name, func.max(TaskRun.id).label("id"))
        .group_by(TaskRun.task_name)
        .subquery()
    )
    rows = db.session.execute(
        select(TaskRun.task_name, TaskRun.status, TaskRun.started_at, TaskRun.finished_at)
        .join(latest, latest.c.id == TaskRun.id)
        .order_by(TaskRun.task_name)
    ).all()
    return [
        JobRun(name, TaskRunStatus(status), started, finished)
        for name, status, started, finished in rows
    ]

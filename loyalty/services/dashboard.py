"""The console dashboard's figures, each from one aggregate query, scoped to the viewer.

Dates are bucketed by local day (Europe/Luxembourg, or the configured zone) in SQL and
folded into weeks here, so a day starts at local midnight whatever the season. SQLite has
no time zone database: there the buckets are UTC hours, folded into local days here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement

from loyalty.models import (
    LoyaltyCard,
    LoyaltyProgram,
    LoyaltyTransaction,
    ProgramKind,
    TransactionType,
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


def _day_bucket(column: Any, tz: ZoneInfo) -> ColumnElement[Any]:
    """The local day of ``column`` as text: ``YYYY-MM-DD`` on PostgreSQL, which knows time
    zones; on SQLite the UTC hour ``YYYY-MM-DD HH``, folded into a local day by
    :func:`_local_day` (exact, since Luxembourg's offsets are whole hours)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone(tz.key, column), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d %H", column)


def _local_day(bucket: str, tz: ZoneInfo) -> date:
    if len(bucket) == 10:
        return date.fromisoformat(bucket)
    hour = datetime.fromisoformat(bucket + ":00").replace(tzinfo=UTC)
    return hour.astimezone(tz).date()


def _local_today(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def _local_midnight_utc(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


def enrollments(user: Any, tz: ZoneInfo, *, now: datetime | None = None) -> EnrollmentSeries:
    """Cards enrolled per local day over the last ``ENROLLMENT_DAYS`` days, by store."""
    now = now or utcnow()
    today = _local_today(now, tz)
    first = today - timedelta(days=ENROLLMENT_DAYS - 1)
    bucket = _day_bucket(LoyaltyCard.created_at, tz).label("bucket")
    stmt = (
        select(LoyaltyCard.enrolled_at_store_id, bucket, func.count())
        .where(LoyaltyCard.created_at >= _local_midnight_utc(first, tz))
        .group_by(LoyaltyCard.enrolled_at_store_id, bucket)
    )
    rows = db.session.execute(_scoped(stmt, LoyaltyCard, user)).all()
    store_ids = {store_id for store_id, _, _ in rows if store_id is not None}
    names = dict(
        db.session.execute(select(Store.id, Store.name).where(Store.id.in_(store_ids))).all()
    )
    days = [first + timedelta(days=i) for i in range(ENROLLMENT_DAYS)]
    index = {day: i for i, day in enumerate(days)}
    by_store: dict[str, list[int]] = defaultdict(lambda: [0] * ENROLLMENT_DAYS)
    for store_id, hour, count in rows:
        day = _local_day(hour, tz)
        if day in index:
            label = names.get(store_id, "—") if store_id is not None else "—"
            by_store[label][index[day]] += int(count)
    return EnrollmentSeries(days=days, by_store=dict(sorted(by_store.items())))


def points_per_week(user: Any, tz: ZoneInfo, *, now: datetime | None = None) -> PointsSeries:
    """Points issued, redeemed and expired per local week (Monday first)."""
    now = now or utcnow()
    today = _local_today(now, tz)
    this_monday = today - timedelta(days=today.weekday())
    weeks = [this_monday - timedelta(weeks=POINTS_WEEKS - 1 - i) for i in range(POINTS_WEEKS)]
    tx = LoyaltyTransaction
    bucket = _day_bucket(tx.created_at, tz).label("bucket")
    issued = func.sum(
        case(
            (and_(tx.type != TransactionType.VOID, tx.points_delta > 0), tx.points_delta),
            else_=0,
        )
    )
    redeemed = func.sum(case((tx.type == TransactionType.REDEEM, -tx.points_delta), else_=0))
    expired = func.sum(case((tx.type == TransactionType.EXPIRY, -tx.points_delta), else_=0))
    stmt = (
        select(bucket, issued, redeemed, expired)
        .where(tx.created_at >= _local_midnight_utc(weeks[0], tz), tx.points_delta != 0)
        .group_by(bucket)
    )
    series = {week: [0, 0, 0] for week in weeks}
    for hour, *figures in db.session.execute(_scoped(stmt, tx, user)).all():
        day = _local_day(hour, tz)
        week = day - timedelta(days=day.weekday())
        if week in series:
            for i, value in enumerate(figures):
                series[week][i] += int(value or 0)
    return PointsSeries(
        weeks=weeks,
        issued=[series[w][0] for w in weeks],
        redeemed=[series[w][1] for w in weeks],
        expired=[series[w][2] for w in weeks],
    )


def card_figures(user: Any, *, now: datetime | None = None) -> CardFigures:
    """Active cards, outstanding points (and their euro value), and points expiring soon.

    One pass over the cards, grouped by program. A card's points expire
    ``points_expiry_days`` after its last activity, so "expiring within 30 days" is a
    per-program cutoff on ``last_activity_at``; the programs are few, their cutoffs are
    computed first and joined in as a CASE.
    """
    now = now or utcnow()
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
    horizon = now + timedelta(days=EXPIRING_DAYS)
    soon_conditions = [
        and_(
            LoyaltyCard.program_id == program_id,
            LoyaltyCard.last_activity_at < horizon - timedelta(days=days),
        )
        for program_id, _, _, days, _ in programs
        if days
    ]
    soon: ColumnElement[bool] = (
        and_(LoyaltyCard.points_balance > 0, or_(*soon_conditions))
        if soon_conditions
        else literal(False)
    )
    card = LoyaltyCard
    stmt = (
        select(
            card.program_id,
            func.sum(case((card.is_active, 1), else_=0)),
            func.sum(card.points_balance),
            func.sum(case((soon, card.points_balance), else_=0)),
            func.sum(case((soon, 1), else_=0)),
        )
        .where(card.program_id.in_([p[0] for p in programs]))
        .group_by(card.program_id)
    )
    figures = {row[0]: row[1:] for row in db.session.execute(_scoped(stmt, card, user)).all()}
    result = CardFigures()
    for program_id, name, point_value, _, kind in programs:
        active, outstanding, expiring_points, expiring_cards = figures.get(program_id, (0, 0, 0, 0))
        result.active_cards += int(active or 0)
        if kind == ProgramKind.STAMPS:
            continue  # stamps carry no points, hence no liability in euros
        result.programs.append(
            ProgramLiability(
                program=name,
                outstanding_points=int(outstanding or 0),
                point_value=point_value,
                expiring_points=int(expiring_points or 0),
                expiring_cards=int(expiring_cards or 0),
            )
        )
    return result


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

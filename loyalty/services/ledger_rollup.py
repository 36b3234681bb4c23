"""Daily totals of the ledger, for the console dashboard.

The ledger is append-only and every row is stamped when it is written, so once a local day
is over its rows never change. :func:`refresh_ledger_rollup` sums each closed day once per
merchant, program and store into :class:`~loyalty.models.LedgerDailyTotal`; the dashboard
reads those rows for the closed days and the ledger itself only for the rows written since.
The figures are therefore exact whether the nightly refresh ran or not: a missed night only
makes the live part, and the page, slower.

A day counts as closed ``GRACE`` after its local midnight, so a transaction stamped just
before midnight and committed just after is never missed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import (
    Connection,
    Select,
    and_,
    case,
    delete,
    event,
    func,
    insert,
    select,
    text,
    update,
)

from loyalty.models import (
    LedgerDailyTotal,
    LedgerRollupState,
    LoyaltyCard,
    LoyaltyTransaction,
    TransactionType,
)
from platform_core.customers.models import Customer
from platform_core.extensions import db
from platform_core.models_base import utcnow

#: The one rollup this table tracks.
ROLLUP = "ledger_daily"
#: How long after local midnight a day is taken as closed.
GRACE = timedelta(hours=1)
#: Arbitrary constant of the advisory lock that keeps two refreshes from summing a day twice.
_LOCK_KEY = 7_391_004


#: The figures of a daily total, in the order the refresh sums them.
_FIGURES = ("issued", "redeemed", "expired", "net", "enrolled")
#: (local day, merchant id, program id, store id) of a daily total.
_Key = tuple[date, int, int, int | None]


@dataclass(frozen=True)
class RollupReport:
    #: The closed days summed by this refresh (none when it was up to date).
    first_day: date | None
    last_day: date | None
    rows: int


def local_midnight_utc(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which local ``day`` starts."""
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


def last_closed_day(tz: ZoneInfo, now: datetime | None = None) -> date:
    """The latest local day that is over (with ``GRACE``) at ``now``."""
    now = now or utcnow()
    return (now - GRACE).astimezone(tz).date() - timedelta(days=1)


def rolled_up_through() -> date | None:
    """The last local day the daily totals cover, or ``None`` before the first refresh."""
    return db.session.scalar(
        select(LedgerRollupState.through_day).where(LedgerRollupState.name == ROLLUP)
    )


def live_since(tz: ZoneInfo) -> datetime | None:
    """Where the dashboard's live ledger reading starts: after the last rolled-up day."""
    through = rolled_up_through()
    return None if through is None else local_midnight_utc(through + timedelta(days=1), tz)


def day_bucket(column: Any, tz: ZoneInfo) -> Any:
    """The local day of ``column`` as text: ``YYYY-MM-DD`` on PostgreSQL, which knows time
    zones; on SQLite the UTC hour ``YYYY-MM-DD HH``, folded into a local day by
    :func:`bucket_day` (exact, since Luxembourg's offsets are whole hours)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone(tz.key, column), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d %H", column)


def bucket_day(bucket: str, tz: ZoneInfo) -> date:
    if len(bucket) == 10:
        return date.fromisoformat(bucket)
    hour = datetime.fromisoformat(bucket + ":00").replace(tzinfo=UTC)
    return hour.astimezone(tz).date()


def ledger_sums() -> tuple[Any, Any, Any, Any]:
    """Issued, redeemed, expired and net points of a group of ledger rows."""
    tx = LoyaltyTransaction
    issued = func.sum(
        case(
            (and_(tx.type != TransactionType.VOID, tx.points_delta > 0), tx.points_delta),
            else_=0,
        )
    )
    redeemed = func.sum(case((tx.type == TransactionType.REDEEM, -tx.points_delta), else_=0))
    expired = func.sum(case((tx.type == TransactionType.EXPIRY, -tx.points_delta), else_=0))
    return issued, redeemed, expired, func.sum(tx.points_delta)


def _lock(execute: Callable[..., Any] | None = None) -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        (execute or db.session.execute)(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY}
        )


def refresh_ledger_rollup(tz: ZoneInfo, *, now: datetime | None = None) -> RollupReport:
    """Sum every closed local day not summed yet; the caller commits.

    One grouped query over the new days' ledger rows (by index on ``created_at``) and one
    multi-row insert. Two refreshes at once wait for each other; the second finds nothing
    left to do.
    """
    _lock()
    through = db.session.scalar(
        select(LedgerRollupState.through_day)
        .where(LedgerRollupState.name == ROLLUP)
        .with_for_update()
    )
    last = last_closed_day(tz, now)
    if through is not None and through >= last:
        return RollupReport(None, None, 0)
    tx = LoyaltyTransaction
    if through is None:
        stamps = [
            db.session.scalar(select(func.min(tx.created_at))),
            db.session.scalar(select(func.min(LoyaltyCard.created_at))),
        ]
        known = [s if s.tzinfo else s.replace(tzinfo=UTC) for s in stamps if s is not None]
        if not known:
            _set_through(None, last)
            return RollupReport(None, last, 0)
        first = min(known).astimezone(tz).date()
    else:
        first = through + timedelta(days=1)
    start = local_midnight_utc(first, tz)
    end = local_midnight_utc(last + timedelta(days=1), tz)
    bucket = day_bucket(tx.created_at, tz).label("bucket")
    stmt = (
        select(bucket, tx.merchant_id, LoyaltyCard.program_id, tx.store_id, *ledger_sums())
        .join(LoyaltyCard, LoyaltyCard.id == tx.card_id)
        .where(tx.created_at >= start, tx.created_at < end, tx.points_delta != 0)
        .group_by(bucket, tx.merchant_id, LoyaltyCard.program_id, tx.store_id)
    )
    totals: dict[_Key, list[int]] = defaultdict(lambda: [0] * len(_FIGURES))
    for hour, merchant_id, program_id, store_id, *sums in db.session.execute(stmt):
        key = (bucket_day(hour, tz), merchant_id, program_id, store_id)
        for i, value in enumerate(sums):
            totals[key][i] += int(value or 0)
    for hour, merchant_id, program_id, store_id, count in db.session.execute(
        _enrolled_query(tz, start, end)
    ):
        totals[(bucket_day(hour, tz), merchant_id, program_id, store_id)][4] += int(count)
    rows = [
        {
            "day": day,
            "merchant_id": merchant_id,
            "program_id": program_id,
            "store_id": store_id,
            **dict(zip(_FIGURES, figures, strict=True)),
        }
        for (day, merchant_id, program_id, store_id), figures in sorted(
            totals.items(), key=lambda item: (item[0][0], item[0][1], item[0][2], item[0][3] or 0)
        )
    ]
    # A day is summed whole or not at all: rows of a day the state does not cover yet are
    # leftovers of nothing (the state and the totals commit together), cleared for safety.
    db.session.execute(delete(LedgerDailyTotal).where(LedgerDailyTotal.day >= first))
    if rows:
        db.session.execute(insert(LedgerDailyTotal), rows)
    _set_through(through, last)
    return RollupReport(first, last, len(rows))


def _enrolled_query(
    tz: ZoneInfo, start: datetime, end: datetime, customer_id: int | None = None
) -> Select[Any]:
    card = LoyaltyCard
    bucket = day_bucket(card.created_at, tz).label("bucket")
    stmt = select(
        bucket, card.merchant_id, card.program_id, card.enrolled_at_store_id, func.count()
    ).where(card.created_at >= start, card.created_at < end)
    if customer_id is not None:
        stmt = stmt.where(card.customer_id == customer_id)
    return stmt.group_by(bucket, card.merchant_id, card.program_id, card.enrolled_at_store_id)


def forget_customer(customer_id: int, tz: ZoneInfo, connection: Connection | None = None) -> int:
    """Take a customer about to be deleted out of the daily totals.

    Deleting a customer deletes their cards and ledger rows with them (the database
    cascades), which the closed days' totals would otherwise still count: their cards
    among the enrolled, their balance among the outstanding points. What was issued,
    redeemed and expired stays in the weekly history: it happened. Runs for every deleted
    customer (:func:`track_customer_deletions`), on the flush's ``connection``.
    Returns the rows changed.
    """
    execute = (connection or db.session).execute
    _lock(execute)
    through = execute(
        select(LedgerRollupState.through_day).where(LedgerRollupState.name == ROLLUP)
    ).scalar()
    if through is None:
        return 0
    end = local_midnight_utc(through + timedelta(days=1), tz)
    tx = LoyaltyTransaction
    bucket = day_bucket(tx.created_at, tz).label("bucket")
    ledger = (
        select(
            bucket, tx.merchant_id, LoyaltyCard.program_id, tx.store_id, func.sum(tx.points_delta)
        )
        .join(LoyaltyCard, LoyaltyCard.id == tx.card_id)
        .where(LoyaltyCard.customer_id == customer_id, tx.created_at < end, tx.points_delta != 0)
        .group_by(bucket, tx.merchant_id, LoyaltyCard.program_id, tx.store_id)
    )
    changes: dict[_Key, list[int]] = defaultdict(lambda: [0, 0])
    for hour, merchant_id, program_id, store_id, net in execute(ledger):
        changes[(bucket_day(hour, tz), merchant_id, program_id, store_id)][0] += int(net or 0)
    oldest = datetime(1970, 1, 1, tzinfo=UTC)
    for hour, merchant_id, program_id, store_id, count in execute(
        _enrolled_query(tz, oldest, end, customer_id)
    ):
        changes[(bucket_day(hour, tz), merchant_id, program_id, store_id)][1] += int(count)
    daily = LedgerDailyTotal
    for (day, merchant_id, program_id, store_id), (net, enrolled) in changes.items():
        same_store = daily.store_id.is_(None) if store_id is None else daily.store_id == store_id
        execute(
            update(daily)
            .where(
                daily.day == day,
                daily.merchant_id == merchant_id,
                daily.program_id == program_id,
                same_store,
            )
            .values(net=daily.net - net, enrolled=daily.enrolled - enrolled)
        )
    return len(changes)


def _forget_deleted(_mapper: Any, connection: Connection, customer: Customer) -> None:
    forget_customer(customer.id, ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]), connection)


def track_customer_deletions() -> None:
    """Keep the daily totals right whatever deletes a customer through the ORM (the
    console's delete and bulk delete, any service): called once by the app factory."""
    if not event.contains(Customer, "before_delete", _forget_deleted):
        event.listen(Customer, "before_delete", _forget_deleted)


def _set_through(previous: date | None, last: date) -> None:
    if previous is None:
        db.session.add(LedgerRollupState(name=ROLLUP, through_day=last))
        db.session.flush()
    else:
        db.session.execute(
            update(LedgerRollupState)
            .where(LedgerRollupState.name == ROLLUP)
            .values(through_day=last)
        )

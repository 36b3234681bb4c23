"""Points expiry and the warnings before it, a program at a time, in keyset chunks.

Each chunk is one short transaction of a few set-based statements:

1. ``SELECT ... WHERE program_id = :p AND <due> AND id > :last_id ORDER BY id LIMIT :n
   FOR UPDATE SKIP LOCKED``, served by the partial index of the cards that still have points
   (``ix_loyalty_cards_program_with_points``): the lookup reads from where the last chunk
   stopped, never from the top again, and a card a terminal holds right now is skipped, not
   waited for;
2. one ``UPDATE ... RETURNING`` for the cards (balances and totals, or the warning time, and
   the wallet mark);
3. one multi-row ``INSERT`` of the ledger rows (expiry only);
4. one multi-row ``INSERT`` of the email log rows with their raw facts
   (:mod:`loyalty.expiry_notifications`).

The caller's ``commit`` then releases the locks. The emails' variables and links, and the
wallet syncs, are handled after that commit by tasks. A program whose chunk came back short
is finished and not queried again. A last pass per program takes the cards that ``SKIP
LOCKED`` passed over, waiting for their locks at most :data:`LAST_PASS_LOCK_TIMEOUT_MS`.
A program that fails (a broken setting, a database error) is rolled back to its last
committed chunk and reported; the other programs are still processed.

SQLite has no row locks: SQLAlchemy leaves ``FOR UPDATE`` out there and the same statements
run (development only; SQLite serialises writers).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, cast

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    DateTime,
    Integer,
    Row,
    Table,
    and_,
    any_,
    bindparam,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import OperationalError

from loyalty.expiry_notifications import (
    EXPIRED,
    EXPIRING,
    PENDING_KEY,
    UNPREPARED_HOLD,
    prepare_after_commit,
    queue_chunk_emails,
)
from loyalty.models import (
    LoyaltyCard,
    LoyaltyProgram,
    LoyaltyTransaction,
    TransactionType,
    WalletSyncStatus,
)
from loyalty.webhooks.events import emit_many, subscribed_endpoints
from platform_core import db as dbmod
from platform_core.extensions import db
from platform_core.models_base import utcnow
from platform_core.tenancy.models import Merchant

log = logging.getLogger(__name__)

POINTS_EXPIRED = "points.expired"
POINTS_EXPIRING = "points.expiring"

#: Cards locked and processed per transaction (``EXPIRY_CHUNK_SIZE`` overrides it).
EXPIRY_CHUNK_SIZE = 500
#: How long the last pass waits for a card another transaction holds, before leaving it to
#: the next run.
LAST_PASS_LOCK_TIMEOUT_MS = 5000

_cards = cast(Table, LoyaltyCard.__table__)
_ledger = cast(Table, LoyaltyTransaction.__table__)

Progress = Callable[[int], None]


@dataclass(frozen=True)
class ProgramFailure:
    """A program the run could not finish; its committed chunks stay done."""

    program_id: int
    program_name: str
    merchant_id: int
    error: str

    def __str__(self) -> str:
        return (
            f"program #{self.program_id} {self.program_name!r} "
            f"(merchant #{self.merchant_id}): {self.error}"
        )


@dataclass
class ExpiryReport:
    """What a run did."""

    chunks: int = 0
    cards: int = 0
    points: int = 0
    #: (card id, points) per processed card, in processing order.
    processed: list[tuple[int, int]] = field(default_factory=list)
    #: Seconds each chunk's locking lookup took, in order.
    lookup_seconds: list[float] = field(default_factory=list)
    #: Seconds each last-pass lookup took (one or more per program, rescanning what is left).
    last_pass_seconds: list[float] = field(default_factory=list)
    failures: list[ProgramFailure] = field(default_factory=list)
    #: Due cards still held by another transaction after the last pass's wait.
    left_locked: int = 0

    def add_chunk(self, rows: list[tuple[int, int]]) -> None:
        self.chunks += 1
        self.cards += len(rows)
        self.points += sum(points for _, points in rows)
        self.processed.extend(rows)


@dataclass(frozen=True)
class _Program:
    id: int
    name: str
    merchant_id: int
    expiry_days: int
    warning_days: int


class _Job(Protocol):
    def conditions(self, program: _Program, now: datetime) -> list[ColumnElement[bool]]: ...

    def apply(
        self, rows: list[Row[Any]], program: _Program, now: datetime
    ) -> list[tuple[int, int]]: ...


def _now(now: datetime | None) -> datetime:
    now = now or utcnow()
    return now if now.tzinfo else now.replace(tzinfo=UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def chunk_size_setting() -> int:
    return int(current_app.config.get("EXPIRY_CHUNK_SIZE", EXPIRY_CHUNK_SIZE))


def _programs(merchant_id: int | None) -> list[_Program]:
    # Cards keep their program even after it is deactivated; their points still expire.
    stmt = (
        select(
            LoyaltyProgram.id,
            LoyaltyProgram.name,
            LoyaltyProgram.merchant_id,
            LoyaltyProgram.points_expiry_days,
            LoyaltyProgram.expiry_warning_days,
        )
        .where(LoyaltyProgram.points_expiry_days.is_not(None))
        .order_by(LoyaltyProgram.id)
    )
    if merchant_id is not None:
        stmt = stmt.where(LoyaltyProgram.merchant_id == merchant_id)
    # points_expiry_days IS NOT NULL is part of the query.
    return [
        _Program(pid, name, merchant_id, days or 0, warning)
        for pid, name, merchant_id, days, warning in db.session.execute(stmt)
    ]


def id_in(column: ColumnElement[int], ids: list[int]) -> ColumnElement[bool]:
    """``column = ANY(:ids)`` on PostgreSQL (one array parameter), ``IN (...)`` elsewhere."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("ids", ids, type_=ARRAY(Integer)))
    return column.in_(ids)


def _wallet_enabled() -> bool:
    from loyalty.wallet.google import wallet_enabled

    return wallet_enabled()


def _enqueue_wallet_syncs(card_ids: list[int]) -> None:
    from loyalty.wallet.tasks import sync_wallet_card_task

    for card_id in card_ids:
        sync_wallet_card_task(card_id)


def _card_values(now: datetime, *, wallet: bool, **values: Any) -> dict[str, Any]:
    values["updated_at"] = now
    if wallet and _wallet_enabled():
        # What mark_for_sync does per card; the retry job picks the card up if the task
        # queued after the commit is lost.
        values["wallet_sync_status"] = WalletSyncStatus.PENDING
    return values


def _after_commit_wallet(card_ids: list[int]) -> None:
    if card_ids and _wallet_enabled():
        dbmod.after_commit(_enqueue_wallet_syncs, card_ids)


#: PostgreSQL: the rest of an expiry chunk in one statement, on the cards already locked
#: (``:ids``): the ledger rows, the cards' balances and totals (and wallet marks), and the
#: email log rows with their raw facts (see :mod:`loyalty.expiry_notifications`), each
#: written once for the whole chunk from data-modifying CTEs, in one round trip. The
#: portable path below does the same in separate statements (SQLite).
_EXPIRE_CHUNK_PG = text(
    """
WITH locked (id, points) AS (
    SELECT * FROM unnest(CAST(:ids AS integer[]), CAST(:points AS integer[]))
), cards AS (
    -- By primary key (ANY): the rows are few and already locked by this transaction.
    UPDATE loyalty_cards
    SET total_points_expired = total_points_expired + points_balance,
        points_balance = 0,
        updated_at = CAST(:now AS timestamptz),
        wallet_sync_status = CASE WHEN CAST(:wallet AS boolean) THEN CAST(:pending AS varchar)
                                  ELSE wallet_sync_status END
    WHERE id = ANY(CAST(:ids AS integer[]))
    RETURNING id, merchant_id, customer_id, enrolled_at_store_id
), chunk AS (
    SELECT cards.*, locked.points FROM cards JOIN locked USING (id)
), ledger AS (
    INSERT INTO loyalty_transactions (merchant_id, card_id, type, points_delta, stamps_delta,
                                      points_balance_after, note, created_at)
    SELECT merchant_id, id, CAST(:expiry AS varchar), -points, 0, 0, '',
           CAST(:now AS timestamptz)
    FROM chunk ORDER BY id
    RETURNING id, card_id
), emails AS (
    INSERT INTO email_logs (merchant_id, store_id, recipient, code, locale, status,
                            context_json, attempts, unknown_attempts, lease_expires_at,
                            created_at, updated_at)
    SELECT k.merchant_id, k.enrolled_at_store_id, cu.email, CAST(:code AS varchar),
           CASE WHEN cu.preferred_locale IN ('en', 'fr', 'de', 'lb') THEN cu.preferred_locale
                WHEN s.default_locale IN ('en', 'fr', 'de', 'lb') THEN s.default_locale
                WHEN m.default_locale IN ('en', 'fr', 'de', 'lb') THEN m.default_locale
                ELSE 'en' END,
           CAST(:queued AS varchar),
           json_build_object(CAST(:pending_key AS text),
                             json_build_object('card_id', k.id, 'points', k.points))::text,
           0, 0, CAST(:hold_until AS timestamptz),
           CAST(:now AS timestamptz), CAST(:now AS timestamptz)
    FROM chunk k
    JOIN customers cu ON cu.id = k.customer_id
    JOIN merchants m ON m.id = k.merchant_id
    LEFT JOIN stores s ON s.id = k.enrolled_at_store_id
    ORDER BY k.id
    RETURNING id
)
SELECT (SELECT array_agg(id ORDER BY id) FROM cards) AS card_ids,
       (SELECT array_agg(id ORDER BY id) FROM emails) AS email_ids,
       (SELECT array_agg(id ORDER BY card_id) FROM ledger) AS ledger_ids,
       -- The merchant's enabled endpoints subscribed to points.expired (usually none).
       (SELECT array_agg(id ORDER BY id) FROM webhook_endpoints
        WHERE merchant_id = CAST(:merchant_id AS integer) AND is_active
          AND CAST(:event AS text) = ANY(regexp_split_to_array(events, '[[:space:]]+'))
       ) AS endpoint_ids
"""
)


class _Expiry:
    """Zero the balance of cards inactive for their program's expiry period."""

    def conditions(self, program: _Program, now: datetime) -> list[ColumnElement[bool]]:
        cutoff = now - timedelta(days=program.expiry_days)
        return [
            _cards.c.program_id == program.id,
            _cards.c.points_balance > 0,
            _cards.c.last_activity_at <= cutoff,
        ]

    def apply(
        self, rows: list[Row[Any]], program: _Program, now: datetime
    ) -> list[tuple[int, int]]:
        # The balances were read under the row lock: they are the ones we zero. The ledger
        # rows go in first, straight from the locked cards, so they carry those balances.
        done = [(row.id, row.points_balance) for row in rows if row.points_balance > 0]
        if not done:
            return []
        ids = [card_id for card_id, _ in done]
        if db.session.get_bind().dialect.name == "postgresql":
            return self._apply_postgresql(done, ids, program, now)
        ledger = db.session.execute(
            insert(_ledger)
            .from_select(
                [
                    "merchant_id",
                    "card_id",
                    "type",
                    "points_delta",
                    "stamps_delta",
                    "points_balance_after",
                    "note",
                    "created_at",
                ],
                select(
                    _cards.c.merchant_id,
                    _cards.c.id,
                    literal(TransactionType.EXPIRY.value),
                    -_cards.c.points_balance,
                    literal(0),
                    literal(0),
                    literal(""),
                    literal(now, DateTime(timezone=True)),
                )
                .where(id_in(_cards.c.id, ids))
                .order_by(_cards.c.id),
            )
            .returning(_ledger.c.id, _ledger.c.card_id)
        ).all()
        updated = db.session.scalars(
            update(_cards)
            .where(id_in(_cards.c.id, ids))
            .values(
                _card_values(
                    now,
                    wallet=True,
                    total_points_expired=_cards.c.total_points_expired + _cards.c.points_balance,
                    points_balance=0,
                )
            )
            .returning(_cards.c.id)
        ).all()
        if len(updated) != len(ids):  # pragma: no cover - the rows are locked
            raise RuntimeError(f"expiry of {len(ids)} locked cards updated {len(updated)}")
        prepare_after_commit(
            queue_chunk_emails(EXPIRED, {card_id: {"points": points} for card_id, points in done})
        )
        _after_commit_wallet(ids)
        endpoints = subscribed_endpoints(program.merchant_id, POINTS_EXPIRED)
        if endpoints:
            transactions = {card_id: row_id for row_id, card_id in ledger}
            _emit_expired(program, done, [transactions[card_id] for card_id in ids], endpoints)
        return done

    def _apply_postgresql(
        self, done: list[tuple[int, int]], ids: list[int], program: _Program, now: datetime
    ) -> list[tuple[int, int]]:
        from messaging.models import EmailStatus

        card_ids, email_ids, ledger_ids, endpoints = db.session.execute(
            _EXPIRE_CHUNK_PG,
            {
                "ids": ids,
                "points": [points for _, points in done],
                "now": now,
                "expiry": TransactionType.EXPIRY.value,
                "wallet": _wallet_enabled(),
                "pending": WalletSyncStatus.PENDING.value,
                "code": EXPIRED,
                "queued": EmailStatus.QUEUED.value,
                "pending_key": PENDING_KEY,
                "hold_until": now + UNPREPARED_HOLD,
                "merchant_id": program.merchant_id,
                "event": POINTS_EXPIRED,
            },
        ).one()
        if len(card_ids or []) != len(ids):  # pragma: no cover - the rows are locked
            raise RuntimeError(f"expiry of {len(ids)} locked cards updated {len(card_ids)}")
        prepare_after_commit(email_ids or [])
        _after_commit_wallet(ids)
        if endpoints:
            # ids are sorted, ledger_ids come ordered by card id: they pair up.
            _emit_expired(program, done, list(ledger_ids), list(endpoints))
        return done


def _card_summaries(ids: list[int]) -> dict[int, dict[str, Any]]:
    """The ``card`` object of the webhook events of these cards, as they are now."""
    rows = db.session.execute(
        select(
            _cards.c.id,
            _cards.c.card_number,
            _cards.c.points_balance,
            _cards.c.stamp_count,
            _cards.c.stamp_rewards_earned,
            _cards.c.stamp_rewards_redeemed,
        ).where(id_in(_cards.c.id, ids))
    )
    return {
        row.id: {
            "number": row.card_number,
            "points_balance": row.points_balance,
            "stamp_count": row.stamp_count,
            "rewards_available": row.stamp_rewards_earned - row.stamp_rewards_redeemed,
        }
        for row in rows
    }


def _emit_expired(
    program: _Program, done: list[tuple[int, int]], ledger_ids: list[int], endpoints: list[int]
) -> None:
    """``points.expired`` for each card of the chunk, in the chunk's transaction."""
    summaries = _card_summaries([card_id for card_id, _ in done])
    emit_many(
        program.merchant_id,
        POINTS_EXPIRED,
        [
            (
                card_id,
                {"card": summaries[card_id], "points": points, "transaction_id": transaction_id},
            )
            for (card_id, points), transaction_id in zip(done, ledger_ids, strict=True)
        ],
        endpoint_ids=endpoints,
    )


class _Warning:
    """Mark the cards whose points expire within the warning period, not warned since their
    last activity, and queue their "points expiring" emails."""

    def conditions(self, program: _Program, now: datetime) -> list[ColumnElement[bool]]:
        expired_cutoff = now - timedelta(days=program.expiry_days)
        warn_cutoff = now - timedelta(days=program.expiry_days - program.warning_days)
        return [
            _cards.c.program_id == program.id,
            _cards.c.points_balance > 0,
            _cards.c.last_activity_at <= warn_cutoff,
            # Already due: the expiry job handles them, a warning is too late.
            _cards.c.last_activity_at > expired_cutoff,
            or_(
                _cards.c.last_expiration_warning_at.is_(None),
                _cards.c.last_expiration_warning_at < _cards.c.last_activity_at,
            ),
        ]

    def apply(
        self, rows: list[Row[Any]], program: _Program, now: datetime
    ) -> list[tuple[int, int]]:
        by_id = {row.id: row for row in rows}
        updated = db.session.scalars(
            update(_cards)
            .where(id_in(_cards.c.id, list(by_id)))
            .values(_card_values(now, wallet=False, last_expiration_warning_at=now))
            .returning(_cards.c.id)
        ).all()
        done = sorted(updated)
        facts = {
            card_id: {
                "points": by_id[card_id].points_balance,
                "expiry_date": (
                    _aware(by_id[card_id].last_activity_at) + timedelta(days=program.expiry_days)
                )
                .date()
                .isoformat(),
            }
            for card_id in done
        }
        prepare_after_commit(queue_chunk_emails(EXPIRING, facts))
        endpoints = subscribed_endpoints(program.merchant_id, POINTS_EXPIRING)
        if endpoints and done:
            summaries = _card_summaries(done)
            emit_many(
                program.merchant_id,
                POINTS_EXPIRING,
                [
                    (
                        card_id,
                        {
                            "card": summaries[card_id],
                            "points": facts[card_id]["points"],
                            "expires_on": facts[card_id]["expiry_date"],
                        },
                    )
                    for card_id in done
                ],
                endpoint_ids=endpoints,
            )
        return [(card_id, by_id[card_id].points_balance) for card_id in done]


_EXPIRY = _Expiry()
_WARNING = _Warning()


def _lock_chunk(
    conditions: list[ColumnElement[bool]],
    after_id: int,
    limit: int,
    report: ExpiryReport,
    *,
    wait: bool = False,
) -> list[Row[Any]]:
    stmt = (
        select(
            _cards.c.id,
            _cards.c.merchant_id,
            _cards.c.points_balance,
            _cards.c.last_activity_at,
        )
        .where(*conditions, _cards.c.id > after_id)
        .order_by(_cards.c.id)
        .limit(limit)
        .with_for_update(skip_locked=not wait)
    )
    if wait and db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text(f"SET LOCAL lock_timeout = '{LAST_PASS_LOCK_TIMEOUT_MS}ms'"))
    started = time.perf_counter()
    rows: list[Row[Any]] = list(db.session.execute(stmt))
    timings = report.last_pass_seconds if wait else report.lookup_seconds
    timings.append(time.perf_counter() - started)
    return rows


def _process(
    job: _Job,
    rows: list[Row[Any]],
    program: _Program,
    now: datetime,
    report: ExpiryReport,
    commit: Callable[[], None] | None,
    progress: Progress | None,
) -> None:
    done = job.apply(rows, program, now)
    report.add_chunk(done)
    if commit is not None:
        commit()
    else:
        # Core statements bypass the identity map: reload what the caller may hold.
        db.session.expire_all()
    if progress is not None:
        progress(len(done))


def _run_program(
    job: _Job,
    program: _Program,
    now: datetime,
    size: int,
    report: ExpiryReport,
    commit: Callable[[], None] | None,
    progress: Progress | None,
) -> None:
    conditions = job.conditions(program, now)
    after_id = 0
    while True:
        rows = _lock_chunk(conditions, after_id, size, report)
        if rows:
            _process(job, rows, program, now, report, commit, progress)
        if len(rows) < size:
            break
        after_id = rows[-1].id
    # Last pass: the cards SKIP LOCKED passed over are still due (a terminal that held one
    # usually made it active again, and then it is no longer due). Processed cards left the
    # partial index, so this rescan reads only what is left.
    while True:
        try:
            rows = _lock_chunk(conditions, 0, size, report, wait=True)
        except OperationalError:
            if commit is None:
                raise
            dbmod.rollback()
            left = db.session.scalar(select(func.count()).select_from(_cards).where(*conditions))
            report.left_locked += left or 0
            log.warning(
                "program %s: %s due card(s) still locked by another transaction; the next "
                "run takes them",
                program.id,
                left,
            )
            return
        if rows:
            _process(job, rows, program, now, report, commit, progress)
        if len(rows) < size:
            if commit is not None:
                commit()  # ends the transaction of an empty lookup (and its lock_timeout)
            return


def _run(
    job: _Job,
    now: datetime | None,
    chunk_size: int | None,
    commit: Callable[[], None] | None,
    merchant_id: int | None,
    progress: Progress | None,
) -> ExpiryReport:
    now = _now(now)
    size = chunk_size or chunk_size_setting()
    report = ExpiryReport()
    for program in _programs(merchant_id):
        try:
            _run_program(job, program, now, size, report, commit, progress)
        except Exception as exc:
            if commit is None:
                raise
            dbmod.rollback()
            log.exception("program %s failed; the other programs go on", program.id)
            report.failures.append(
                ProgramFailure(program.id, program.name, program.merchant_id, repr(exc))
            )
    return report


def expire_inactive_points(
    now: datetime | None = None,
    chunk_size: int | None = None,
    commit: Callable[[], None] | None = None,
    *,
    merchant_id: int | None = None,
    progress: Progress | None = None,
) -> ExpiryReport:
    """Expire every card's points that are due, program after program, chunk after chunk.

    Each card gets an EXPIRY ledger row, a wallet mark and a "points expired" email.

    :param now: the reference time (default: now).
    :param chunk_size: cards per chunk (default ``EXPIRY_CHUNK_SIZE``, 500).
    :param commit: called after each chunk; the job passes ``platform_core.db.commit`` so
        each chunk is its own transaction, and a failing program is then rolled back to its
        last chunk and reported in :attr:`ExpiryReport.failures`. Without it everything
        stays in the caller's transaction and a failure raises.
    :param merchant_id: only this merchant's programs.
    :param progress: called with the number of cards after each chunk's commit.
    """
    return _run(_EXPIRY, now, chunk_size, commit, merchant_id, progress)


def send_expiry_warnings(
    now: datetime | None = None,
    chunk_size: int | None = None,
    commit: Callable[[], None] | None = None,
    *,
    merchant_id: int | None = None,
    progress: Progress | None = None,
) -> ExpiryReport:
    """Warn every card whose points expire soon (see :func:`expire_inactive_points` for
    the parameters); each card is warned once per period of inactivity."""
    return _run(_WARNING, now, chunk_size, commit, merchant_id, progress)


# -- what a run would do --------------------------------------------------------------


@dataclass
class MerchantFigures:
    """Cards and points a run would touch for one merchant."""

    merchant_id: int
    merchant_name: str
    merchant_slug: str
    cards: int = 0
    points: int = 0
    #: Programs whose settings cannot be evaluated (the run would report them as failed).
    errors: list[str] = field(default_factory=list)


def _preview(job: _Job, now: datetime | None, merchant_id: int | None) -> list[MerchantFigures]:
    now = _now(now)
    merchants = {
        m.id: MerchantFigures(m.id, m.name, m.slug)
        for m in db.session.scalars(select(Merchant).order_by(Merchant.name))
        if merchant_id is None or m.id == merchant_id
    }
    for program in _programs(merchant_id):
        figures = merchants[program.merchant_id]
        try:
            conditions = job.conditions(program, now)
        except (OverflowError, ValueError) as exc:
            figures.errors.append(f"program #{program.id} {program.name!r}: {exc!r}")
            continue
        cards, points = db.session.execute(
            select(func.count(), func.coalesce(func.sum(_cards.c.points_balance), 0)).where(
                *conditions
            )
        ).one()
        figures.cards += cards
        figures.points += points
    return [f for f in merchants.values() if f.cards or f.errors]


def preview_expiry(
    now: datetime | None = None, merchant_id: int | None = None
) -> list[MerchantFigures]:
    """Per merchant, the cards and points :func:`expire_inactive_points` would expire now;
    changes nothing. Merchants with nothing due are left out."""
    return _preview(_EXPIRY, now, merchant_id)


def preview_warnings(
    now: datetime | None = None, merchant_id: int | None = None
) -> list[MerchantFigures]:
    """Per merchant, the cards (and their points) :func:`send_expiry_warnings` would warn."""
    return _preview(_WARNING, now, merchant_id)


@dataclass(frozen=True)
class ExpiringSoon:
    """Points that expire within a period unless their cards see activity."""

    days: int
    cards: int
    points: int


def expiring_by_program(
    expiry_days: dict[int, int], days: int = 30, now: datetime | None = None
) -> dict[int, tuple[int, int]]:
    """Per program, the points that expire in the next ``days`` days and on how many cards,
    in one aggregate query (already due points, expired by the next run, count).

    A card's points expire ``expiry_days`` after its last activity: per program a cutoff on
    ``last_activity_at``, a range of ``ix_loyalty_cards_program_expiring``.

    :param expiry_days: program id → its ``points_expiry_days``.
    :returns: program id → (points, cards), for the programs that have any.
    """
    now = _now(now)
    ranges = []
    for program_id, expiry in expiry_days.items():
        try:
            cutoff = now + timedelta(days=days) - timedelta(days=expiry)
        except OverflowError:
            continue  # an expiry thousands of years away is not "soon"
        ranges.append(and_(_cards.c.program_id == program_id, _cards.c.last_activity_at <= cutoff))
    if not ranges:
        return {}
    stmt = (
        select(_cards.c.program_id, func.sum(_cards.c.points_balance), func.count())
        .where(_cards.c.points_balance > 0, or_(*ranges))
        .group_by(_cards.c.program_id)
    )
    return {pid: (int(points or 0), int(cards)) for pid, points, cards in db.session.execute(stmt)}


def expiring_soon(merchant_id: int, days: int = 30, now: datetime | None = None) -> ExpiringSoon:
    """The points of ``merchant_id`` that expire in the next ``days`` days, and on how many
    cards (see :func:`expiring_by_program`).

    :param merchant_id: the merchant.
    :param days: the period, from now.
    :param now: the reference time (default: now).
    """
    figures = expiring_by_program(
        {program.id: program.expiry_days for program in _programs(merchant_id)}, days, now
    ).values()
    return ExpiringSoon(
        days, sum(cards for _, cards in figures), sum(points for points, _ in figures)
    )

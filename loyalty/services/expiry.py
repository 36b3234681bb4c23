"""Points expiry and the warnings that come before it, processed in chunks.

A chunk locks up to ``limit`` cards with ``FOR UPDATE SKIP LOCKED`` (so several workers, or
a worker and the store terminals, never wait on or process the same card), changes them and
returns. The caller commits after each chunk, which releases the locks before the next one;
the emails are queued inside the chunk's transaction and sent only after its commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, or_, select

from loyalty.models import LoyaltyCard, LoyaltyProgram, TransactionType
from loyalty.notifications import loyalty_notifications
from loyalty.services.ledger import add_ledger_row
from loyalty.wallet.service import mark_for_sync
from platform_core.extensions import db
from platform_core.models_base import utcnow

#: Cards locked and processed per transaction.
EXPIRY_CHUNK_SIZE = 500


@dataclass
class ExpiryReport:
    """What a run did: one entry per chunk, and the totals."""

    chunks: int = 0
    cards: int = 0
    points: int = 0
    #: (card id, points) per processed card, in processing order.
    processed: list[tuple[int, int]] = field(default_factory=list)

    def add_chunk(self, rows: list[tuple[int, int]]) -> None:
        self.chunks += 1
        self.cards += len(rows)
        self.points += sum(points for _, points in rows)
        self.processed.extend(rows)


def _now(now: datetime | None) -> datetime:
    now = now or utcnow()
    return now if now.tzinfo else now.replace(tzinfo=UTC)


def _expiring_programs() -> list[LoyaltyProgram]:
    # Cards keep their program even after it is deactivated; their points still expire.
    return list(
        db.session.scalars(
            select(LoyaltyProgram)
            .where(LoyaltyProgram.points_expiry_days.is_not(None))
            .order_by(LoyaltyProgram.id)
        )
    )


def _lock_chunk(where: list[ColumnElement[bool]], limit: int) -> list[LoyaltyCard]:
    stmt = (
        select(LoyaltyCard)
        .where(*where)
        .order_by(LoyaltyCard.id)
        .limit(limit)
        # populate_existing: the values we change must be the ones read under the lock.
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return list(db.session.scalars(stmt))


def expire_points_chunk(
    now: datetime | None = None, limit: int = EXPIRY_CHUNK_SIZE
) -> list[tuple[int, int]]:
    """Expire the points of up to ``limit`` cards inactive for their program's expiry period.

    Each card gets an EXPIRY ledger row and a queued "points expired" email. Does not
    commit: the caller commits after each chunk.

    :param now: the reference time (default: now).
    :param limit: at most this many cards.
    :returns: ``(card_id, expired_points)`` for each card processed; empty when done.
    """
    now = _now(now)
    done: list[tuple[int, int]] = []
    for program in _expiring_programs():
        if len(done) >= limit:
            break
        cutoff = now - timedelta(days=program.points_expiry_days or 0)
        cards = _lock_chunk(
            [
                LoyaltyCard.program_id == program.id,
                LoyaltyCard.points_balance > 0,
                LoyaltyCard.last_activity_at <= cutoff,
            ],
            limit - len(done),
        )
        for card in cards:
            points = card.expire_points()
            if points <= 0:
                continue
            add_ledger_row(card, TransactionType.EXPIRY, points_delta=-points, now=now)
            mark_for_sync(card)
            loyalty_notifications.points_expired(card.id, points)
            done.append((card.id, points))
    db.session.flush()
    return done


def warn_expiring_chunk(
    now: datetime | None = None, limit: int = EXPIRY_CHUNK_SIZE
) -> list[tuple[int, int]]:
    """Queue "points expiring" emails for up to ``limit`` cards whose points expire within
    their program's warning period and that were not warned since their last activity.

    :param now: the reference time (default: now).
    :param limit: at most this many cards.
    :returns: ``(card_id, points)`` for each card warned; empty when done.
    """
    now = _now(now)
    done: list[tuple[int, int]] = []
    for program in _expiring_programs():
        if len(done) >= limit:
            break
        days = program.points_expiry_days or 0
        expired_cutoff = now - timedelta(days=days)
        warn_cutoff = now - timedelta(days=days - program.expiry_warning_days)
        cards = _lock_chunk(
            [
                LoyaltyCard.program_id == program.id,
                LoyaltyCard.points_balance > 0,
                LoyaltyCard.last_activity_at <= warn_cutoff,
                # Already expired: the expiry job handles them, a warning is too late.
                LoyaltyCard.last_activity_at > expired_cutoff,
                or_(
                    LoyaltyCard.last_expiration_warning_at.is_(None),
                    LoyaltyCard.last_expiration_warning_at < LoyaltyCard.last_activity_at,
                ),
            ],
            limit - len(done),
        )
        for card in cards:
            card.last_expiration_warning_at = now
            expires_on: date = (card.points_expire_at() or now).date()
            loyalty_notifications.points_expiring(card.id, card.points_balance, expires_on)
            done.append((card.id, card.points_balance))
    db.session.flush()
    return done


def _run_chunks(
    chunk: Callable[[datetime, int], list[tuple[int, int]]],
    now: datetime | None,
    chunk_size: int | None,
    commit: Callable[[], None] | None,
) -> ExpiryReport:
    now = _now(now)
    size = chunk_size or EXPIRY_CHUNK_SIZE
    report = ExpiryReport()
    while True:
        rows = chunk(now, size)
        if not rows:
            break
        report.add_chunk(rows)
        if commit is not None:
            commit()
        if len(rows) < size:
            break
    return report


def expire_inactive_points(
    now: datetime | None = None,
    chunk_size: int | None = None,
    commit: Callable[[], None] | None = None,
) -> ExpiryReport:
    """Expire every card's points that are due, chunk after chunk.

    :param now: the reference time (default: now).
    :param chunk_size: cards per chunk (default :data:`EXPIRY_CHUNK_SIZE`).
    :param commit: called after each chunk; the job passes ``platform_core.db.commit`` so
        each chunk is its own transaction. Without it everything stays in the caller's
        transaction.
    """
    return _run_chunks(expire_points_chunk, now, chunk_size, commit)


def send_expiry_warnings(
    now: datetime | None = None,
    chunk_size: int | None = None,
    commit: Callable[[], None] | None = None,
) -> ExpiryReport:
    """Warn every card whose points expire soon, chunk after chunk (see
    :func:`expire_inactive_points` for the parameters)."""
    return _run_chunks(warn_expiring_chunk, now, chunk_size, commit)

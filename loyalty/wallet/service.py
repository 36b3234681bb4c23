"""Wallet sync: push a card to Google Wallet with retries, record the outcome on the card.

Four attempts, waiting ``WALLET_RETRY_DELAYS`` (1 s, 4 s, 16 s) between them; only retryable
errors (timeouts, connection errors, 429, 5xx) are tried again. A permanent error (other 4xx,
409 included) fails the sync at once: repeating the same request gets the same answer.

The waits use ``time.sleep`` in the Huey consumer's worker thread. That is deliberate: the
thread only runs tasks, so blocking it for at most 21 s delays the queue but never a web
request, and it keeps the attempts of one sync together instead of scattering them over
scheduled Huey retries. The periodic job (every 15 minutes) is the long-range retry.

Like every service these functions flush and never commit; the tasks commit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select

from loyalty.models import LoyaltyCard, WalletSyncStatus
from loyalty.wallet.errors import WalletPermanentError, WalletRetryableError
from loyalty.wallet.google import WalletClient, wallet_enabled
from loyalty.wallet.payloads import object_id_for
from platform_core import db as dbmod
from platform_core.extensions import db
from platform_core.models_base import utcnow

log = logging.getLogger(__name__)

Sleep = Callable[[float], None]

#: Cards the periodic retry job locks and syncs per transaction.
DEFAULT_RETRY_CHUNK_SIZE = 500
#: Longest error text kept on the card (the column is TEXT; staff read the start).
_MAX_ERROR_LENGTH = 1000


@dataclass
class SyncResult:
    """What one :func:`sync_card` call did."""

    card_id: int
    status: WalletSyncStatus | None
    attempts: int = 0
    error: str | None = None
    #: Seconds waited between attempts, in order.
    delays: list[float] = field(default_factory=list)


def retry_delays() -> tuple[float, ...]:
    return tuple(current_app.config.get("WALLET_RETRY_DELAYS", (1, 4, 16)))


def _record(card: LoyaltyCard, status: WalletSyncStatus, error: str | None) -> None:
    card.wallet_sync_status = status
    card.wallet_sync_error = error[:_MAX_ERROR_LENGTH] if error else None
    if status is WalletSyncStatus.SYNCED:
        card.wallet_synced_at = utcnow()
        card.wallet_object_id = object_id_for(card)
    db.session.flush()


def _push(card: LoyaltyCard) -> None:
    with WalletClient() as client:
        client.ensure_class(card.program)
        client.upsert_object(card)


def sync_card(
    card_id: int, *, sleep: Sleep = time.sleep, delays: Sequence[float] | None = None
) -> SyncResult:
    """Push card ``card_id`` to Google Wallet and record ``synced`` or ``failed`` on it.

    Does nothing (status ``None``) when Wallet is not configured or the card is gone.

    :param card_id: the card to sync.
    :param sleep: how to wait between attempts; tests pass a recorder.
    :param delays: waits between attempts; by default ``WALLET_RETRY_DELAYS``.
    """
    result = SyncResult(card_id=card_id, status=None)
    if not wallet_enabled():
        return result
    card = db.session.get(LoyaltyCard, card_id)
    if card is None:
        return result
    delays = tuple(retry_delays() if delays is None else delays)
    max_attempts = len(delays) + 1
    while True:
        result.attempts += 1
        try:
            _push(card)
        except WalletRetryableError as exc:
            result.error = str(exc)
            if result.attempts >= max_attempts:
                break
            delay = delays[result.attempts - 1]
            log.info(
                "wallet sync of card %s: attempt %s failed (%s); next in %s s",
                card_id,
                result.attempts,
                exc,
                delay,
            )
            result.delays.append(delay)
            sleep(delay)
            continue
        except WalletPermanentError as exc:
            result.error = str(exc)
            break
        result.status = WalletSyncStatus.SYNCED
        result.error = None
        _record(card, WalletSyncStatus.SYNCED, None)
        return result
    result.status = WalletSyncStatus.FAILED
    log.warning(
        "wallet sync of card %s failed after %s attempt(s): %s",
        card_id,
        result.attempts,
        result.error,
    )
    _record(card, WalletSyncStatus.FAILED, result.error)
    return result


def mark_for_sync(card: LoyaltyCard) -> None:
    """Flag ``card`` for a Wallet sync and queue it to run after the current commit.

    Call it after anything that changes what the pass shows (balance, stamps, name, state).
    Does nothing when Wallet is not configured. If the queued task is lost, the periodic job
    picks the card up because it stays ``pending``.

    :param card: a card in the current session (flushed, so it has an id).
    """
    if not wallet_enabled():
        return
    from loyalty.wallet.tasks import sync_wallet_card_task

    card.wallet_sync_status = WalletSyncStatus.PENDING
    db.session.flush()
    dbmod.after_commit_once(sync_wallet_card_task, card.id)


@dataclass
class RetryReport:
    """What one run of the periodic retry job did."""

    synced: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def _next_chunk(after_id: int, size: int) -> list[LoyaltyCard]:
    # SKIP LOCKED: a second run (or a card being updated right now) is skipped, not waited
    # for. SQLite has no row locks; SQLAlchemy leaves the clause out there.
    stmt = (
        select(LoyaltyCard)
        .where(
            LoyaltyCard.wallet_sync_status.in_([WalletSyncStatus.PENDING, WalletSyncStatus.FAILED]),
            LoyaltyCard.id > after_id,
        )
        .order_by(LoyaltyCard.id)
        .limit(size)
        .with_for_update(skip_locked=True, of=LoyaltyCard)
    )
    return list(db.session.scalars(stmt))


def retry_pending_syncs(
    *,
    chunk_size: int | None = None,
    sleep: Sleep = time.sleep,
    commit: Callable[[], None] = dbmod.commit,
) -> RetryReport:
    """Sync every ``pending`` or ``failed`` card, picked a chunk at a time.

    A chunk is claimed with ``FOR UPDATE SKIP LOCKED`` (cards being changed right now are
    skipped, not waited for) and the claim is committed at once: a sync may wait up to 21 s
    between attempts, and no cashier may wait on a row lock for that long. Each card's
    outcome is then committed on its own. One card's failure, even an unexpected exception,
    is recorded on that card and does not stop the others. This is the one service that
    commits: it is the body of a batch job.

    :param chunk_size: cards per claim; by default ``WALLET_RETRY_CHUNK_SIZE`` (500).
    :param sleep: how to wait between attempts of one card.
    :param commit: the commit point, after each claim and after each card.
    """
    report = RetryReport()
    if not wallet_enabled():
        return report
    size = chunk_size or int(
        current_app.config.get("WALLET_RETRY_CHUNK_SIZE", DEFAULT_RETRY_CHUNK_SIZE)
    )
    after_id = 0
    while chunk := _next_chunk(after_id, size):
        card_ids = [card.id for card in chunk]
        after_id = card_ids[-1]
        commit()  # releases the chunk's row locks before any call to Google
        for card_id in card_ids:
            _retry_one(card_id, sleep, report)
            commit()
    if report.failed:
        log.warning(
            "wallet retry run: %s card(s) synced, %s failed: ids %s",
            len(report.synced),
            len(report.failed),
            report.failed,
        )
    return report


def _retry_one(card_id: int, sleep: Sleep, report: RetryReport) -> None:
    try:
        with db.session.begin_nested():
            result = sync_card(card_id, sleep=sleep)
    except Exception as exc:  # one broken card must not stop the batch
        log.exception("wallet sync of card %s crashed", card_id)
        card = db.session.get(LoyaltyCard, card_id)
        if card is not None:
            _record(card, WalletSyncStatus.FAILED, f"unexpected error: {exc}")
        report.failed.append(card_id)
        return
    (report.synced if result.status is WalletSyncStatus.SYNCED else report.failed).append(card_id)

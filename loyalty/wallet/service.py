"""Wallet sync: push a card to Google Wallet with retries, record the outcome on the card.

Four attempts, waiting ``WALLET_RETRY_DELAYS`` (1 s, 4 s, 16 s) between them; only retryable
errors (timeouts, connection errors, 429, 5xx, a 403 for a quota or rate limit) are tried
again. When Google sends ``Retry-After``, that wait is used instead, capped at
:data:`MAX_RETRY_AFTER` (60 s). Outcomes:

- ``synced``;
- ``failed``: the attempts ran out, or our own setup is wrong (no logo, refused key); the
  15-minute job tries the card again;
- ``rejected``: Google refused the card itself (see :class:`WalletRejectedError`). The job
  skips it until the card changes (:func:`mark_for_sync`), its program changes
  (:func:`mark_program_for_sync`), the Wallet configuration changes (the fingerprint stored
  with the rejection differs) or staff retry it (:func:`retry_cards`).

The waits use ``time.sleep`` in the Huey consumer's worker thread. That is deliberate: the
thread only runs tasks, so blocking it for at most three minutes delays that one worker but
never a web request nor the other cards, which the retry job hands out as one task each.
Tests inject their own sleep (``sleep=`` or ``app.extensions["wallet.sleep"]``).

Like every service these functions flush and never commit; the tasks commit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, and_, func, or_, select, update

from loyalty.models import LoyaltyCard, WalletSyncStatus
from loyalty.wallet.credentials import config_fingerprint
from loyalty.wallet.errors import WalletPermanentError, WalletRejectedError, WalletRetryableError

# wallet_enabled is re-exported: views, tasks and the CLI ask the service whether Wallet is on.
from loyalty.wallet.google import WalletClient
from loyalty.wallet.google import wallet_enabled as wallet_enabled
from loyalty.wallet.payloads import loyalty_class_body, loyalty_object_body, object_id_for
from platform_core import db as dbmod
from platform_core.extensions import db
from platform_core.models_base import utcnow

log = logging.getLogger(__name__)

Sleep = Callable[[float], None]

#: Cards the periodic retry job locks and syncs per transaction.
DEFAULT_RETRY_CHUNK_SIZE = 500
#: Longest error text kept on the card (the column is TEXT; staff read the start).
_MAX_ERROR_LENGTH = 1000
#: Longest wait we accept from a ``Retry-After`` header, in seconds.
MAX_RETRY_AFTER = 60.0


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


def _default_sleep() -> Sleep:
    return current_app.extensions.get("wallet.sleep") or time.sleep


def _record(card: LoyaltyCard, status: WalletSyncStatus, error: str | None) -> None:
    card.wallet_sync_status = status
    card.wallet_sync_error = error[:_MAX_ERROR_LENGTH] if error else None
    card.wallet_rejected_config = (
        config_fingerprint() if status is WalletSyncStatus.REJECTED else None
    )
    if status is WalletSyncStatus.SYNCED:
        card.wallet_synced_at = utcnow()
        card.wallet_object_id = object_id_for(card)
    db.session.flush()


def _push(class_body: dict[str, Any], object_body: dict[str, Any]) -> None:
    with WalletClient() as client:
        client.put_class(class_body)
        client.put_object(object_body)


def sync_card(
    card_id: int,
    *,
    sleep: Sleep | None = None,
    delays: Sequence[float] | None = None,
    release: Callable[[], None] | None = None,
) -> SyncResult:
    """Push card ``card_id`` to Google Wallet; record ``synced``, ``failed`` or ``rejected``.

    Does nothing (status ``None``) when Wallet is not configured or the card is gone.

    The request bodies are built from the card first; then ``release`` (the task's commit
    point) ends the transaction, so none stays open during the calls to Google and the
    waits between them (minutes at worst). On SQLite, where every transaction takes the
    write lock up front, an open one would stop every other card's sync.

    :param card_id: the card to sync.
    :param sleep: how to wait between attempts; tests pass a recorder.
    :param delays: waits between attempts; by default ``WALLET_RETRY_DELAYS``.
    :param release: called once the bodies are built, before the first call to Google.
    """
    result = SyncResult(card_id=card_id, status=None)
    if not wallet_enabled():
        return result
    card = db.session.get(LoyaltyCard, card_id)
    if card is None:
        return result
    sleep = sleep or _default_sleep()
    delays = tuple(retry_delays() if delays is None else delays)
    max_attempts = len(delays) + 1
    try:
        bodies = (loyalty_class_body(card.program), loyalty_object_body(card))
    except WalletPermanentError as exc:  # our setup (no logo): nothing to send
        result.attempts = 1
        result.error = str(exc)
        result.status = WalletSyncStatus.FAILED
        log.warning("wallet sync of card %s cannot start: %s", card_id, exc)
        _record(card, WalletSyncStatus.FAILED, result.error)
        return result
    if release is not None:
        release()
    while True:
        result.attempts += 1
        try:
            _push(*bodies)
        except WalletRetryableError as exc:
            result.error = str(exc)
            if result.attempts >= max_attempts:
                break
            delay = delays[result.attempts - 1]
            if exc.retry_after is not None:
                delay = min(exc.retry_after, MAX_RETRY_AFTER)
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
        except WalletRejectedError as exc:
            result.error = str(exc)
            result.status = WalletSyncStatus.REJECTED
            log.warning("wallet sync of card %s rejected by Google: %s", card_id, exc)
            _record(card, WalletSyncStatus.REJECTED, result.error)
            return result
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


def record_crash(card_id: int, exc: BaseException) -> None:
    """An unexpected exception in a card's sync: the card shows ``failed`` with it, so the
    retry job tries again and staff see why."""
    card = db.session.get(LoyaltyCard, card_id)
    if card is not None:
        _record(card, WalletSyncStatus.FAILED, f"unexpected error: {exc}")


def mark_program_for_sync(program_id: int) -> int:
    """After a change to a program: its rejected cards wait for a sync again (the job picks
    them up). One statement, however many cards. Returns how many cards it reset."""
    if not wallet_enabled():
        return 0
    result = cast(
        CursorResult[Any],
        db.session.execute(
            update(LoyaltyCard)
            .where(
                LoyaltyCard.program_id == program_id,
                LoyaltyCard.wallet_sync_status == WalletSyncStatus.REJECTED,
            )
            .values(wallet_sync_status=WalletSyncStatus.PENDING, wallet_rejected_config=None)
            .execution_options(synchronize_session="fetch")
        ),
    )
    return result.rowcount or 0


def retry_cards(statuses: Sequence[WalletSyncStatus], merchant_id: int | None = None) -> int:
    """Staff's "retry": every card in ``statuses`` (failed, rejected) waits for a sync again,
    and the retry job is queued after the commit to hand them out. Returns the count.

    :param statuses: which cards; only ``failed`` and ``rejected`` are accepted.
    :param merchant_id: only this merchant's cards (``None``: all).
    """
    wanted = [s for s in statuses if s in (WalletSyncStatus.FAILED, WalletSyncStatus.REJECTED)]
    if not wanted or not wallet_enabled():
        return 0
    stmt = (
        update(LoyaltyCard)
        .where(LoyaltyCard.wallet_sync_status.in_(wanted))
        .values(wallet_sync_status=WalletSyncStatus.PENDING, wallet_rejected_config=None)
        .execution_options(synchronize_session="fetch")
    )
    if merchant_id is not None:
        stmt = stmt.where(LoyaltyCard.merchant_id == merchant_id)
    count = cast(CursorResult[Any], db.session.execute(stmt)).rowcount or 0
    if count:
        from loyalty.wallet.tasks import retry_wallet_syncs_task

        dbmod.after_commit_once(retry_wallet_syncs_task)
    return count


def sync_status_counts() -> dict[WalletSyncStatus, int]:
    """How many cards are in each sync status (every status present, zeros included)."""
    rows = db.session.execute(
        select(LoyaltyCard.wallet_sync_status, func.count()).group_by(
            LoyaltyCard.wallet_sync_status
        )
    ).all()
    counts = dict.fromkeys(WalletSyncStatus, 0)
    for status, count in rows:
        counts[WalletSyncStatus(status)] = count
    return counts


@dataclass
class RetryReport:
    """What one run of the periodic retry job did: which cards it handed out."""

    queued: list[int] = field(default_factory=list)
    #: The queued cards that were ``failed`` (logged, so a card failing run after run shows).
    failed: list[int] = field(default_factory=list)
    #: Rejected cards queued again because the Wallet configuration changed.
    unrejected: list[int] = field(default_factory=list)
    chunks: int = 0


def _waiting(fingerprint: str) -> Any:
    return or_(
        LoyaltyCard.wallet_sync_status.in_([WalletSyncStatus.PENDING, WalletSyncStatus.FAILED]),
        and_(
            LoyaltyCard.wallet_sync_status == WalletSyncStatus.REJECTED,
            or_(
                LoyaltyCard.wallet_rejected_config.is_(None),
                LoyaltyCard.wallet_rejected_config != fingerprint,
            ),
        ),
    )


def _next_chunk(after_id: int, size: int, fingerprint: str) -> list[tuple[int, WalletSyncStatus]]:
    # SKIP LOCKED: a second run (or a card being updated right now) is skipped, not waited
    # for. SQLite has no row locks; SQLAlchemy leaves the clause out there.
    stmt = (
        select(LoyaltyCard.id, LoyaltyCard.wallet_sync_status)
        .where(_waiting(fingerprint), LoyaltyCard.id > after_id)
        .order_by(LoyaltyCard.id)
        .limit(size)
        .with_for_update(skip_locked=True, of=LoyaltyCard)
    )
    return [(row[0], WalletSyncStatus(row[1])) for row in db.session.execute(stmt)]


def retry_pending_syncs(
    *,
    chunk_size: int | None = None,
    commit: Callable[[], None] = dbmod.commit,
    on_chunk: Callable[[], None] | None = None,
    enqueue: Callable[[int], Any] | None = None,
) -> RetryReport:
    """Hand every card waiting for a sync to its own ``sync_wallet_card_task``.

    Waiting means ``pending``, ``failed``, or ``rejected`` under another Wallet
    configuration than the current one. Cards are claimed a chunk at a time with
    ``FOR UPDATE SKIP LOCKED`` (cards being changed right now are skipped, not waited for);
    rejected cards become ``pending``; each card's task is queued after the chunk's commit.
    No call to Google happens here: the consumer's workers sync the cards side by side, so
    one card that hangs or backs off for a minute holds only its own worker. This is the one
    service that commits: it is the body of a batch job.

    :param chunk_size: cards per claim; by default ``WALLET_RETRY_CHUNK_SIZE`` (500).
    :param commit: the commit point, after each chunk.
    :param on_chunk: called before each chunk's commit (the job's heartbeat).
    :param enqueue: queues one card's sync; by default ``sync_wallet_card_task``.
    """
    report = RetryReport()
    if not wallet_enabled():
        return report
    if enqueue is None:
        from loyalty.wallet.tasks import sync_wallet_card_task

        enqueue = sync_wallet_card_task
    size = chunk_size or int(
        current_app.config.get("WALLET_RETRY_CHUNK_SIZE", DEFAULT_RETRY_CHUNK_SIZE)
    )
    fingerprint = config_fingerprint()
    after_id = 0
    while chunk := _next_chunk(after_id, size, fingerprint):
        after_id = chunk[-1][0]
        rejected = [card_id for card_id, status in chunk if status is WalletSyncStatus.REJECTED]
        if rejected:
            db.session.execute(
                update(LoyaltyCard)
                .where(LoyaltyCard.id.in_(rejected))
                .values(wallet_sync_status=WalletSyncStatus.PENDING, wallet_rejected_config=None)
                .execution_options(synchronize_session=False)
            )
        report.chunks += 1
        report.unrejected += rejected
        report.failed += [card_id for card_id, status in chunk if status is WalletSyncStatus.FAILED]
        for card_id, _status in chunk:
            report.queued.append(card_id)
            dbmod.after_commit(enqueue, card_id)
        if on_chunk is not None:
            on_chunk()
        commit()  # releases the chunk's row locks, then queues its tasks
    commit()  # ends the last (empty) claim's transaction
    if report.failed:
        log.warning(
            "wallet retry run: %s card(s) queued, %s of them failed before: ids %s",
            len(report.queued),
            len(report.failed),
            report.failed,
        )
    return report

"""One slow card never holds the others back: the retry job hands each card to its own task,
and a real Huey consumer with several worker threads syncs them side by side.

No rolled-back transaction here: the consumer's workers have their own sessions, so the
cards are committed for real and deleted afterwards (with their merchant). It runs on
SQLite too, where every transaction takes the write lock: a sync that kept its transaction
open while it waits for Google would hold every other card back there.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, select

from loyalty.models import LoyaltyCard, LoyaltyProgram, ProgramKind, WalletSyncStatus
from loyalty.wallet import service
from platform_core import db as dbmod
from platform_core import task_context
from platform_core.customers.models import Customer
from platform_core.extensions import db
from platform_core.huey import huey
from platform_core.task_runs.models import TaskRun
from platform_core.tenancy.models import Merchant
from tests.wallet_double import fixtures
from tests.wallet_double.fixtures import ISSUER_ID

wallet = fixtures.wallet
wallet_double = fixtures.wallet_double
wallet_key = fixtures.wallet_key
wallet_settings = fixtures.wallet_settings

CARDS = 6
TIMEOUT = 1.5


@pytest.fixture
def committed_cards(app: Flask) -> Iterator[list[int]]:
    with app.app_context():
        merchant = Merchant(
            name="Parallel S.à r.l.", slug="wallet-parallel", contact_email="p@example.lu"
        )
        program = LoyaltyProgram(
            merchant=merchant,
            kind=ProgramKind.POINTS,
            name="Parallel Club",
            logo_url="https://cdn.example.lu/logo.png",
        )
        cards = []
        for n in range(CARDS):
            customer = Customer(
                merchant=merchant, email=f"p{n}@example.lu", first_name="Par", last_name=f"Allel{n}"
            )
            cards.append(
                LoyaltyCard(
                    merchant=merchant,
                    customer=customer,
                    program=program,
                    card_number=f"99770000{n:04d}",
                    points_balance=10 * n,
                    wallet_sync_status=WalletSyncStatus.PENDING,
                )
            )
        db.session.add_all([merchant, program, *cards])
        dbmod.commit()
        ids = [card.id for card in cards]
        merchant_id = merchant.id
    try:
        yield ids
    finally:
        with app.app_context():
            db.session.execute(delete(LoyaltyCard).where(LoyaltyCard.merchant_id == merchant_id))
            db.session.execute(delete(Customer).where(Customer.merchant_id == merchant_id))
            db.session.execute(
                delete(LoyaltyProgram).where(LoyaltyProgram.merchant_id == merchant_id)
            )
            db.session.execute(delete(TaskRun))
            db.session.execute(delete(Merchant).where(Merchant.id == merchant_id))
            dbmod.commit()


@pytest.fixture
def queued_huey(app: Flask) -> Iterator[Any]:
    """Huey queueing for real (memory storage), consumers using the test app."""
    saved_app, saved_immediate = task_context._app, huey.immediate
    task_context._app = app
    huey.immediate = False
    huey.flush()
    handlers = {
        sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    }
    yield huey
    for sig, handler in handlers.items():
        signal.signal(sig, handler)
    huey.flush()
    huey.immediate = saved_immediate
    task_context._app = saved_app


def _statuses(app: Flask, ids: list[int]) -> dict[int, WalletSyncStatus]:
    with app.app_context():
        rows = db.session.execute(
            select(LoyaltyCard.id, LoyaltyCard.wallet_sync_status).where(LoyaltyCard.id.in_(ids))
        ).all()
        return {card_id: WalletSyncStatus(status) for card_id, status in rows}


def test_a_hanging_card_does_not_hold_the_others_back(
    app, wallet, wallet_settings, committed_cards, queued_huey
):
    wallet_settings["GOOGLE_WALLET_TIMEOUT"] = TIMEOUT
    slow_id = committed_cards[0]
    slow_object = f"{ISSUER_ID}.loyalty-card-997700000000"
    # Every attempt on the slow card hangs until the client gives up.
    wallet.hang_next(10, operation="loyaltyObject.get", resource_id=slow_object)

    with app.app_context():
        started = time.monotonic()
        report = service.retry_pending_syncs(chunk_size=4)
        job_seconds = time.monotonic() - started
    # The job only hands out work: one task per card, no call to Google, no waiting.
    assert sorted(report.queued) == sorted(committed_cards)
    assert queued_huey.pending_count() == CARDS
    assert wallet.calls() == []
    assert job_seconds < 1

    consumer = queued_huey.create_consumer(
        workers=3,
        worker_type="thread",
        periodic=False,
        check_worker_health=False,
        initial_delay=0.02,
        max_delay=0.1,
    )
    consumer.start()
    try:
        started = time.monotonic()
        others = set(committed_cards) - {slow_id}
        while time.monotonic() - started < 20:
            statuses = _statuses(app, committed_cards)
            if all(statuses[i] is WalletSyncStatus.SYNCED for i in others):
                break
            time.sleep(0.05)
        others_done = time.monotonic() - started
        slow_meanwhile = _statuses(app, [slow_id])[slow_id]
        while time.monotonic() - started < 30:
            if _statuses(app, [slow_id])[slow_id] is not WalletSyncStatus.PENDING:
                break
            time.sleep(0.1)
        slow_done = time.monotonic() - started
    finally:
        consumer.stop(graceful=True)

    statuses = _statuses(app, committed_cards)
    # The five other cards were synced before the slow card's first attempt timed out...
    assert all(statuses[i] is WalletSyncStatus.SYNCED for i in others), statuses
    assert others_done < TIMEOUT, f"others took {others_done:.2f} s"
    assert slow_meanwhile is WalletSyncStatus.PENDING
    # ...and the slow card still got its four attempts, then ended failed: nothing is lost.
    assert statuses[slow_id] is WalletSyncStatus.FAILED
    assert slow_done >= 4 * TIMEOUT
    slow_calls = [c for c in wallet.calls("loyaltyObject.get") if c.resource_id == slow_object]
    assert len(slow_calls) == 4
    for card_id in others:
        assert (
            len(
                [
                    c
                    for c in wallet.calls("loyaltyObject.get")
                    if c.resource_id.endswith(f"{committed_cards.index(card_id):04d}")
                ]
            )
            == 1
        )
    assert len(wallet.objects) == CARDS - 1
    assert queued_huey.pending_count() == 0

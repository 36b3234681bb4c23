"""The periodic retry job: every pending/failed card, in chunks, one failure never blocks."""

from __future__ import annotations

import logging

from loyalty.models import WalletSyncStatus
from loyalty.wallet import service
from loyalty.wallet.tasks import retry_wallet_syncs_task
from platform_core import db as dbmod
from tests.wallet_double import fixtures
from tests.wallet_double.fixtures import ISSUER_ID, SleepRecorder

wallet = fixtures.wallet
wallet_double = fixtures.wallet_double
wallet_key = fixtures.wallet_key
wallet_settings = fixtures.wallet_settings
create_wallet_card = fixtures.create_wallet_card
create_wallet_program = fixtures.create_wallet_program


def _cards(create_wallet_card, create_wallet_program):
    program = create_wallet_program()
    make = lambda status: create_wallet_card(program=program, wallet_sync_status=status)  # noqa: E731
    return {
        "pending": [make(WalletSyncStatus.PENDING) for _ in range(3)],
        "failed": make(WalletSyncStatus.FAILED),
        "broken": make(WalletSyncStatus.PENDING),
        "synced": make(WalletSyncStatus.SYNCED),
        "never": make(WalletSyncStatus.NOT_SYNCED),
    }


def test_one_card_keeps_failing_the_others_sync(
    wallet, session, create_wallet_card, create_wallet_program, caplog
):
    cards = _cards(create_wallet_card, create_wallet_program)
    broken = cards["broken"]
    broken_object = f"{ISSUER_ID}.loyalty-card-{broken.card_number}"
    wallet.fail_next(100, status=503, resource_id=broken_object, message="Backend error")
    commits = []
    sleep = SleepRecorder()

    with caplog.at_level(logging.WARNING, logger="loyalty.wallet.service"):
        report = service.retry_pending_syncs(
            chunk_size=2, sleep=sleep, commit=lambda: (commits.append(1), dbmod.commit())
        )

    # Only this test's cards are asserted on: the table may hold other tests' cards.
    expected_ok = {c.id for c in cards["pending"]} | {cards["failed"].id}
    assert expected_ok <= set(report.synced)
    assert broken.id in report.failed
    assert expected_ok.isdisjoint(report.failed)
    # At least five cards to retry in chunks of two: a transaction per chunk.
    assert len(commits) >= 3
    # The broken card got its four attempts, the back-off between them, and no more.
    assert len(wallet.calls("loyaltyObject.get")) - len(report.synced) == 4
    assert sleep.delays == [0, 0, 0]
    for card in cards["pending"] + [cards["failed"]]:
        session.refresh(card)
        assert card.wallet_sync_status is WalletSyncStatus.SYNCED
        assert card.wallet_object_id in wallet.objects
    session.refresh(broken)
    assert broken.wallet_sync_status is WalletSyncStatus.FAILED
    assert broken.wallet_sync_error == "Google Wallet answered HTTP 503: Backend error"
    # Cards that are not waiting for a sync are left alone.
    for key in ("synced", "never"):
        assert f"{ISSUER_ID}.loyalty-card-{cards[key].card_number}" not in wallet.objects
    assert f"ids [{broken.id}" in caplog.text or f" {broken.id}]" in caplog.text


def test_periodic_task_retries_waiting_cards(wallet, session, create_wallet_card):
    card = create_wallet_card(
        wallet_sync_status=WalletSyncStatus.FAILED,
        wallet_sync_error="Google Wallet answered HTTP 503: down",
    )

    retry_wallet_syncs_task.call_local()

    session.refresh(card)
    assert card.wallet_sync_status is WalletSyncStatus.SYNCED
    assert card.wallet_sync_error is None


def test_consumer_runs_the_retry_every_15_minutes():
    from datetime import datetime

    from platform_core.worker import huey

    def due(minute: int) -> set[str]:
        return {task.name for task in huey.read_periodic(datetime(2025, 1, 6, 10, minute))}

    assert "retry_wallet_syncs_task" in due(15)
    assert "retry_wallet_syncs_task" in due(45)
    assert "retry_wallet_syncs_task" not in due(20)

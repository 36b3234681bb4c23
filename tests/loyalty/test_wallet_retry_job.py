"""The periodic retry job: every pending/failed card, in chunks, one failure never blocks."""

from __future__ import annotations

import logging

from loyalty.models import WalletSyncStatus
from loyalty.wallet import service
from loyalty.wallet.tasks import retry_wallet_syncs_task
from platform_core import db as dbmod
from tests.wallet_double import fixtures
from tests.wallet_double.fixtures import ISSUER_ID

wallet = fixtures.wallet
wallet_double = fixtures.wallet_double
wallet_key = fixtures.wallet_key
wallet_settings = fixtures.wallet_settings
create_wallet_card = fixtures.create_wallet_card
create_wallet_program = fixtures.create_wallet_program
wallet_sleep = fixtures.wallet_sleep


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


def test_job_queues_one_task_per_waiting_card_in_chunks(
    wallet, session, create_wallet_card, create_wallet_program, caplog
):
    cards = _cards(create_wallet_card, create_wallet_program)
    queued: list[int] = []
    commits = []

    with caplog.at_level(logging.WARNING, logger="loyalty.wallet.service"):
        report = service.retry_pending_syncs(
            chunk_size=2,
            commit=lambda: (commits.append(list(queued)), dbmod.commit()),
            enqueue=queued.append,
        )

    waiting = {c.id for c in cards["pending"]} | {cards["failed"].id, cards["broken"].id}
    # Only this test's cards are asserted on: the table may hold other tests' cards.
    assert waiting <= set(report.queued)
    assert sorted(queued) == sorted(report.queued)
    assert len(queued) == len(set(queued))  # one task per card
    assert cards["synced"].id not in queued
    assert cards["never"].id not in queued
    # The job itself calls no Google API: the tasks do, each on its own.
    assert wallet.calls() == []
    # A transaction per chunk of two, and a chunk's tasks are queued after its commit.
    assert len(commits) >= 3
    assert commits[0] == []
    assert cards["failed"].id in report.failed
    assert f"ids [{cards['failed'].id}" in caplog.text or f" {cards['failed'].id}]" in caplog.text


def test_one_card_keeps_failing_the_others_sync(
    wallet, wallet_sleep, session, create_wallet_card, create_wallet_program, caplog
):
    cards = _cards(create_wallet_card, create_wallet_program)
    broken = cards["broken"]
    broken_object = f"{ISSUER_ID}.loyalty-card-{broken.card_number}"
    wallet.fail_next(100, status=503, resource_id=broken_object, message="Backend error")

    # The tasks run inline (immediate mode), in this test's transaction.
    with caplog.at_level(logging.WARNING, logger="loyalty.wallet.service"):
        service.retry_pending_syncs(chunk_size=2)

    for card in cards["pending"] + [cards["failed"]]:
        session.refresh(card)
        assert card.wallet_sync_status is WalletSyncStatus.SYNCED
        assert card.wallet_object_id in wallet.objects
    session.refresh(broken)
    assert broken.wallet_sync_status is WalletSyncStatus.FAILED
    assert broken.wallet_sync_error == "Google Wallet answered HTTP 503: Backend error"
    # The broken card got its four attempts and the back-off between them, and no more.
    assert len([c for c in wallet.calls() if c.resource_id == broken_object]) == 4
    assert wallet_sleep.delays == [0, 0, 0]
    # Cards that are not waiting for a sync are left alone.
    for key in ("synced", "never"):
        assert f"{ISSUER_ID}.loyalty-card-{cards[key].card_number}" not in wallet.objects
    assert f"wallet sync of card {broken.id} failed after 4 attempt(s)" in caplog.text


def _rejected(create_wallet_card, **kwargs):
    from loyalty.wallet.credentials import config_fingerprint

    return create_wallet_card(
        wallet_sync_status=WalletSyncStatus.REJECTED,
        wallet_sync_error="Google Wallet answered HTTP 400: Invalid barcode",
        wallet_rejected_config=config_fingerprint(),
        **kwargs,
    )


def test_job_skips_rejected_cards_run_after_run(wallet, session, create_wallet_card):
    card = _rejected(create_wallet_card)

    for _ in range(3):
        report = service.retry_pending_syncs(enqueue=lambda card_id: None)
        assert card.id not in report.queued

    assert wallet.calls() == []
    session.refresh(card)
    assert card.wallet_sync_status is WalletSyncStatus.REJECTED
    assert card.wallet_sync_error == "Google Wallet answered HTTP 400: Invalid barcode"


def test_a_card_change_puts_a_rejected_card_back_in_line(wallet, session, create_wallet_card):
    card = _rejected(create_wallet_card)
    card.points_balance += 10

    service.mark_for_sync(card)  # what every ledger operation calls
    dbmod.commit()

    session.refresh(card)
    assert card.wallet_sync_status is WalletSyncStatus.SYNCED
    assert card.wallet_rejected_config is None
    assert len(wallet.calls("loyaltyObject.insert")) == 1


def test_a_program_change_puts_its_rejected_cards_back_in_line(
    wallet, session, create_wallet_card, create_wallet_program
):
    program = create_wallet_program()
    mine = _rejected(create_wallet_card, program=program)
    other = _rejected(create_wallet_card)

    assert service.mark_program_for_sync(program.id) == 1
    report = service.retry_pending_syncs()

    assert mine.id in report.queued
    assert other.id not in report.queued
    session.refresh(mine)
    session.refresh(other)
    assert mine.wallet_sync_status is WalletSyncStatus.SYNCED
    assert other.wallet_sync_status is WalletSyncStatus.REJECTED


def test_a_wallet_configuration_change_retries_rejected_cards(
    wallet, wallet_settings, session, create_wallet_card
):
    card = _rejected(create_wallet_card)
    assert card.id not in service.retry_pending_syncs(enqueue=lambda card_id: None).queued

    # The operator fixes the setup (here: the API moves; a new key file counts the same).
    wallet_settings["GOOGLE_WALLET_API_BASE"] = wallet.api_base + "/"
    report = service.retry_pending_syncs()

    assert card.id in report.queued
    assert card.id in report.unrejected
    session.refresh(card)
    assert card.wallet_sync_status is WalletSyncStatus.SYNCED


def test_staff_retry_puts_failed_and_rejected_cards_back_in_line(
    wallet, session, create_wallet_card
):
    rejected = _rejected(create_wallet_card)
    failed = create_wallet_card(wallet_sync_status=WalletSyncStatus.FAILED)
    synced = create_wallet_card(wallet_sync_status=WalletSyncStatus.SYNCED)

    assert service.retry_cards([WalletSyncStatus.REJECTED]) >= 1
    dbmod.commit()  # queues the retry job, which queues the card syncs (inline in tests)

    for card in (rejected, failed, synced):
        session.refresh(card)
    assert rejected.wallet_sync_status is WalletSyncStatus.SYNCED
    assert failed.wallet_sync_status is WalletSyncStatus.SYNCED  # it was waiting anyway
    assert synced.wallet_sync_status is WalletSyncStatus.SYNCED
    assert f"{ISSUER_ID}.loyalty-card-{synced.card_number}" not in wallet.objects
    # "retry" never touches cards that are fine.
    assert service.retry_cards([WalletSyncStatus.SYNCED, WalletSyncStatus.PENDING]) == 0


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


def test_editing_the_program_in_the_console_puts_its_rejected_cards_back_in_line(
    wallet, client, login_as, platform_admin, session, create_wallet_card, create_wallet_program
):
    program = create_wallet_program(logo_url="https://cdn.example.lu/broken.png")
    card = _rejected(create_wallet_card, program=program)
    login_as(platform_admin)

    response = client.post(
        f"/admin/loyaltyprogram/edit/?id={program.id}",
        data={
            "merchant": str(program.merchant_id),
            "name": program.name,
            "kind": "points",
            "points_per_euro": "1",
            "welcome_bonus_points": "0",
            "stamps_target": "",
            "points_expiry_days": "",
            "expiry_warning_days": "14",
            "logo_url": "https://cdn.example.lu/fixed.png",
            "brand_color": "#1f5f8b",
            "text_en_terms_url": "https://kirchberg.example/terms",
            "is_active": "y",
        },
    )

    assert response.status_code == 302, response.text
    session.refresh(card)
    assert card.wallet_sync_status is WalletSyncStatus.PENDING
    report = service.retry_pending_syncs()
    assert card.id in report.queued
    session.refresh(card)
    assert card.wallet_sync_status is WalletSyncStatus.SYNCED
    [sent] = wallet.calls("loyaltyClass.insert")
    assert sent.body["programLogo"]["sourceUri"]["uri"] == "https://cdn.example.lu/fixed.png"

"""Card sync: 4 attempts with 1 s/4 s/16 s back-off, outcome recorded on the card."""

from __future__ import annotations

from loyalty.models import WalletSyncStatus
from loyalty.wallet import service
from loyalty.wallet.tasks import sync_wallet_card_task
from platform_core import db as dbmod
from tests.wallet_double import fixtures
from tests.wallet_double.fixtures import ISSUER_ID, SleepRecorder

wallet = fixtures.wallet
wallet_double = fixtures.wallet_double
wallet_key = fixtures.wallet_key
wallet_settings = fixtures.wallet_settings
create_wallet_card = fixtures.create_wallet_card

PRODUCTION_DELAYS = (1, 4, 16)


def _sync(card_id: int, sleep: SleepRecorder) -> service.SyncResult:
    result = service.sync_card(card_id, sleep=sleep, delays=PRODUCTION_DELAYS)
    dbmod.commit()
    return result


def test_two_503_then_success_syncs_on_the_third_attempt(wallet, session, create_wallet_card):
    card = create_wallet_card(points_balance=300)
    wallet.fail_next(2, status=503)
    sleep = SleepRecorder()

    result = _sync(card.id, sleep)

    assert result.attempts == 3
    assert sleep.delays == [1, 4]
    session.refresh(card)
    assert card.wallet_sync_status is WalletSyncStatus.SYNCED
    assert card.wallet_sync_error is None
    assert card.wallet_synced_at is not None
    assert card.wallet_object_id == f"{ISSUER_ID}.loyalty-card-{card.card_number}"
    assert wallet.objects[card.wallet_object_id]["loyaltyPoints"]["balance"] == {"int": 300}


def test_four_503_fail_the_sync_with_the_error_recorded(wallet, session, create_wallet_card):
    card = create_wallet_card()
    wallet.fail_next(4, status=503, message="Backend unavailable")
    sleep = SleepRecorder()

    result = _sync(card.id, sleep)

    assert result.attempts == 4
    assert sleep.delays == [1, 4, 16]
    assert len(wallet.calls("loyaltyClass.insert")) == 4
    session.refresh(card)
    assert card.wallet_sync_status is WalletSyncStatus.FAILED
    assert card.wallet_sync_error == "Google Wallet answered HTTP 503: Backend unavailable"
    assert card.wallet_synced_at is None
    assert wallet.objects == {}


def test_400_is_rejected_after_one_attempt(wallet, session, create_wallet_card):
    card = create_wallet_card()
    wallet.fail_next(1, status=400, operation="loyaltyObject.insert", message="Invalid barcode")
    sleep = SleepRecorder()

    result = _sync(card.id, sleep)

    assert result.attempts == 1
    assert sleep.delays == []
    assert len(wallet.calls("loyaltyObject.insert")) == 1
    session.refresh(card)
    assert card.wallet_sync_status is WalletSyncStatus.REJECTED
    assert card.wallet_sync_error == "Google Wallet answered HTTP 400: Invalid barcode"


def test_409_is_not_retried(wallet, session, create_wallet_card):
    card = create_wallet_card()
    wallet.fail_next(1, status=409, operation="loyaltyObject.insert", message="Conflict")
    sleep = SleepRecorder()

    result = _sync(card.id, sleep)

    assert result.attempts == 1
    assert sleep.delays == []
    session.refresh(card)
    # The read after the 409 finds no object to patch: the conflict stays, Google rejects.
    assert card.wallet_sync_status is WalletSyncStatus.REJECTED
    assert "HTTP 409" in card.wallet_sync_error


def test_timeouts_are_retried_then_succeed(wallet, wallet_settings, session, create_wallet_card):
    wallet_settings["GOOGLE_WALLET_TIMEOUT"] = 0.3
    card = create_wallet_card()
    wallet.hang_next(1, operation="loyaltyObject.get")
    sleep = SleepRecorder()

    result = _sync(card.id, sleep)

    assert result.attempts == 2
    assert sleep.delays == [1]
    session.refresh(card)
    assert card.wallet_sync_status is WalletSyncStatus.SYNCED


def test_program_without_logo_fails_with_a_clear_reason(wallet, session, create_wallet_card):
    card = create_wallet_card(program__logo_url="")

    result = _sync(card.id, SleepRecorder())

    assert result.attempts == 1
    session.refresh(card)
    assert card.wallet_sync_status is WalletSyncStatus.FAILED
    assert "requires a program logo" in card.wallet_sync_error
    assert wallet.calls() == []


def test_mark_for_sync_runs_the_task_after_commit(wallet, session, create_wallet_card):
    card = create_wallet_card(points_balance=5)
    card.points_balance = 80

    service.mark_for_sync(card)

    # Nothing is sent before the commit, and the card waits as "pending".
    assert card.wallet_sync_status is WalletSyncStatus.PENDING
    assert wallet.calls() == []
    dbmod.commit()  # Huey runs immediately in tests: the task syncs the card.
    session.refresh(card)
    assert card.wallet_sync_status is WalletSyncStatus.SYNCED
    assert wallet.objects[card.wallet_object_id]["loyaltyPoints"]["balance"] == {"int": 80}


def test_mark_for_sync_then_rollback_sends_nothing(wallet, session, create_wallet_card):
    card = create_wallet_card()
    card_id = card.id
    dbmod.commit()
    card = session.get(type(card), card_id)

    service.mark_for_sync(card)
    dbmod.rollback()

    assert dbmod.pending_after_commit() == []
    assert wallet.calls() == []


def test_task_uses_the_configured_delays(wallet, session, create_wallet_card):
    # TestConfig sets WALLET_RETRY_DELAYS to zeros: the task retries without waiting.
    card = create_wallet_card()
    wallet.fail_next(3, status=503)

    sync_wallet_card_task(card.id)

    session.refresh(card)
    assert card.wallet_sync_status is WalletSyncStatus.SYNCED
    assert len(wallet.calls("loyaltyClass.insert")) == 4

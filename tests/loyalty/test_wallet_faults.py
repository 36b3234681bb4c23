"""Wallet sync against the double's injected faults: what is retried, how long it waits
(on the injected sleep), what ends ``rejected``, and that every card ends in a known state.

Every test asserts the card's final status, the API calls the double received, and the
delays between attempts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from loyalty.models import WalletSyncStatus
from loyalty.wallet import service
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


def _object_id(card) -> str:
    return f"{ISSUER_ID}.loyalty-card-{card.card_number}"


def _ops(wallet) -> list[tuple[str, int]]:
    return [(c.operation, c.status) for c in wallet.calls()]


def test_503_twice_then_synced(wallet, session, create_wallet_card):
    card = create_wallet_card(points_balance=30)
    wallet.fail_next(2, status=503, operation="loyaltyObject.get")
    sleep = SleepRecorder()

    result = _sync(card.id, sleep)

    assert result.attempts == 3
    assert sleep.delays == [1, 4]
    assert [c.status for c in wallet.calls("loyaltyObject.get")] == [503, 503, 404]
    assert len(wallet.calls("loyaltyObject.insert")) == 1
    session.refresh(card)
    assert card.wallet_sync_status is WalletSyncStatus.SYNCED
    assert wallet.objects[_object_id(card)]["loyaltyPoints"]["balance"] == {"int": 30}


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [("7", [7.0, 7.0]), ("600", [60.0, 60.0]), ("0", [0.0, 0.0]), (None, [1, 4])],
    ids=["honoured", "capped-at-60", "zero", "absent-keeps-backoff"],
)
def test_429_waits_what_retry_after_says_capped_at_60_s(
    wallet, session, create_wallet_card, retry_after, expected
):
    card = create_wallet_card()
    wallet.rate_limit_next(2, retry_after, operation="loyaltyObject.get")
    sleep = SleepRecorder()

    result = _sync(card.id, sleep)

    assert result.attempts == 3
    assert sleep.delays == expected
    assert [c.status for c in wallet.calls("loyaltyObject.get")] == [429, 429, 404]
    session.refresh(card)
    assert card.wallet_sync_status is WalletSyncStatus.SYNCED


def test_retry_after_as_an_http_date(wallet, session, create_wallet_card):
    card = create_wallet_card()
    when = datetime.now(UTC) + timedelta(seconds=30)
    wallet.rate_limit_next(1, format_datetime(when, usegmt=True), operation="loyaltyObject.get")
    sleep = SleepRecorder()

    _sync(card.id, sleep)

    [delay] = sleep.delays
    assert 25 <= delay <= 30
    session.refresh(card)
    assert card.wallet_sync_status is WalletSyncStatus.SYNCED


def test_429_four_times_fails_with_every_attempt_spaced(wallet, session, create_wallet_card):
    card = create_wallet_card()
    wallet.rate_limit_next(10, "5", operation="loyaltyClass.insert")
    sleep = SleepRecorder()

    result = _sync(card.id, sleep)

    assert result.attempts == 4
    assert sleep.delays == [5, 5, 5]
    assert len(wallet.calls("loyaltyClass.insert")) == 4
    assert wallet.calls("loyaltyObject.get") == []
    session.refresh(card)
    assert card.wallet_sync_status is WalletSyncStatus.FAILED
    assert "HTTP 429" in card.wallet_sync_error


@pytest.mark.parametrize("reason", ["quotaExceeded", "rateLimitExceeded", "userRateLimitExceeded"])
def test_403_for_a_quota_is_retried_like_a_429(wallet, session, create_wallet_card, reason):
    card = create_wallet_card()
    wallet.quota_exceeded_next(2, reason, operation="loyaltyObject.get")
    sleep = SleepRecorder()

    result = _sync(card.id, sleep)

    assert result.attempts == 3
    assert sleep.delays == [1, 4]
    assert [c.status for c in wallet.calls("loyaltyObject.get")] == [403, 403, 404]
    session.refresh(card)
    assert card.wallet_sync_status is WalletSyncStatus.SYNCED
    assert card.wallet_sync_error is None


def test_403_quota_exceeded_every_time_fails_not_rejected(wallet, session, create_wallet_card):
    card = create_wallet_card()
    wallet.quota_exceeded_next(10, operation="loyaltyObject.get")
    sleep = SleepRecorder()

    result = _sync(card.id, sleep)

    assert result.attempts == 4
    assert sleep.delays == [1, 4, 16]
    session.refresh(card)
    # Quota is temporary: the 15-minute job must try again, so "failed", never "rejected".
    assert card.wallet_sync_status is WalletSyncStatus.FAILED
    assert "quotaExceeded" in card.wallet_sync_error


@pytest.mark.parametrize(
    ("status", "reasons"),
    [(403, ("forbidden",)), (403, ()), (400, ()), (401, ())],
    ids=["403-forbidden", "403-no-reason", "400", "401"],
)
def test_refusals_reject_the_card_at_once(wallet, session, create_wallet_card, status, reasons):
    card = create_wallet_card()
    wallet.fail_next(10, status, operation="loyaltyObject.get", message="Refused", reasons=reasons)
    sleep = SleepRecorder()

    result = _sync(card.id, sleep)

    assert result.attempts == 1
    assert result.status is WalletSyncStatus.REJECTED
    assert sleep.delays == []
    # On a 401 google-auth refreshes the token and asks again (twice at most); no more.
    assert len(wallet.calls("loyaltyObject.get")) == (3 if status == 401 else 1)
    assert wallet.calls("loyaltyObject.insert") == []
    session.refresh(card)
    assert card.wallet_sync_status is WalletSyncStatus.REJECTED
    assert card.wallet_sync_error.startswith(f"Google Wallet answered HTTP {status}: Refused")
    assert card.wallet_rejected_config  # the configuration it was rejected under


def test_404_on_update_rejects(wallet, session, create_wallet_card):
    card = create_wallet_card()
    wallet.objects[_object_id(card)] = {"id": _object_id(card)}
    wallet.fail_next(5, 404, operation="loyaltyObject.patch", message="gone")
    sleep = SleepRecorder()

    result = _sync(card.id, sleep)

    assert result.attempts == 1
    assert sleep.delays == []
    assert [op for op, _ in _ops(wallet)] == [
        "loyaltyClass.insert",
        "loyaltyObject.get",
        "loyaltyObject.patch",
    ]
    session.refresh(card)
    assert card.wallet_sync_status is WalletSyncStatus.REJECTED


def test_409_resolved_by_a_read_and_a_patch_syncs(wallet, session, create_wallet_card):
    card = create_wallet_card(points_balance=77)
    wallet.objects[_object_id(card)] = {"id": _object_id(card)}
    wallet.fail_next(1, 409, operation="loyaltyObject.patch", message="Concurrent change")
    sleep = SleepRecorder()

    result = _sync(card.id, sleep)

    assert result.attempts == 1
    assert sleep.delays == []
    assert _ops(wallet)[1:] == [
        ("loyaltyObject.get", 200),
        ("loyaltyObject.patch", 409),
        ("loyaltyObject.get", 200),
        ("loyaltyObject.patch", 200),
    ]
    session.refresh(card)
    assert card.wallet_sync_status is WalletSyncStatus.SYNCED
    assert wallet.objects[_object_id(card)]["loyaltyPoints"]["balance"] == {"int": 77}


def test_409_that_a_read_and_a_patch_cannot_resolve_rejects(wallet, session, create_wallet_card):
    card = create_wallet_card()
    wallet.objects[_object_id(card)] = {"id": _object_id(card)}
    wallet.fail_next(2, 409, operation="loyaltyObject.patch", message="Conflict")
    sleep = SleepRecorder()

    result = _sync(card.id, sleep)

    assert result.attempts == 1
    assert sleep.delays == []
    assert _ops(wallet)[1:] == [
        ("loyaltyObject.get", 200),
        ("loyaltyObject.patch", 409),
        ("loyaltyObject.get", 200),
        ("loyaltyObject.patch", 409),
    ]
    session.refresh(card)
    assert card.wallet_sync_status is WalletSyncStatus.REJECTED
    assert "HTTP 409: Conflict" in card.wallet_sync_error
    assert "after a read and a patch" in card.wallet_sync_error


def test_hanging_google_is_retried_after_the_timeout(
    wallet, wallet_settings, session, create_wallet_card
):
    wallet_settings["GOOGLE_WALLET_TIMEOUT"] = 0.3
    card = create_wallet_card()
    wallet.hang_next(2, operation="loyaltyObject.get")
    sleep = SleepRecorder()

    result = _sync(card.id, sleep)

    assert result.attempts == 3
    assert sleep.delays == [1, 4]
    assert len(wallet.calls("loyaltyObject.get")) == 3
    session.refresh(card)
    assert card.wallet_sync_status is WalletSyncStatus.SYNCED


def test_mixed_faults_on_many_cards_lose_nothing(wallet, session, create_wallet_card):
    """Five cards, each with its own fault; each ends where the rules say, none is lost."""
    program = create_wallet_card().program
    cards = {
        name: create_wallet_card(program=program)
        for name in ("ok", "503", "429", "quota", "forbidden")
    }
    oid = {name: _object_id(card) for name, card in cards.items()}
    wallet.fail_next(2, 503, operation="loyaltyObject.get", resource_id=oid["503"])
    wallet.rate_limit_next(1, "9", operation="loyaltyObject.get", resource_id=oid["429"])
    wallet.quota_exceeded_next(9, operation="loyaltyObject.get", resource_id=oid["quota"])
    wallet.quota_exceeded_next(9, "forbidden", "loyaltyObject.get", oid["forbidden"])
    delays = {}

    for name, card in cards.items():
        sleep = SleepRecorder()
        _sync(card.id, sleep)
        delays[name] = sleep.delays

    assert delays == {
        "ok": [],
        "503": [1, 4],
        "429": [9],
        "quota": [1, 4, 16],
        "forbidden": [],
    }
    gets = {
        name: len([c for c in wallet.calls("loyaltyObject.get") if c.resource_id == o])
        for name, o in oid.items()
    }
    assert gets == {"ok": 1, "503": 3, "429": 2, "quota": 4, "forbidden": 1}
    final = {}
    for name, card in cards.items():
        session.refresh(card)
        final[name] = card.wallet_sync_status
    assert final == {
        "ok": WalletSyncStatus.SYNCED,
        "503": WalletSyncStatus.SYNCED,
        "429": WalletSyncStatus.SYNCED,
        "quota": WalletSyncStatus.FAILED,
        "forbidden": WalletSyncStatus.REJECTED,
    }
    assert set(wallet.objects) == {oid["ok"], oid["503"], oid["429"]}

"""Loyalty changes reach the customer's Google Wallet pass after the commit."""

from __future__ import annotations

from loyalty.models import WalletSyncStatus
from loyalty.services.ledger import earn_points
from platform_core import db as dbmod
from tests.wallet_double import fixtures

wallet = fixtures.wallet
wallet_double = fixtures.wallet_double
wallet_key = fixtures.wallet_key
wallet_settings = fixtures.wallet_settings


def _balances_sent(double) -> list[int]:
    sent = double.calls("loyaltyObject.insert") + double.calls("loyaltyObject.patch")
    return [call.body["loyaltyPoints"]["balance"]["int"] for call in sent if call.body]


def test_enrollment_and_earn_update_the_pass(
    wallet, session, points_program, dummy_store, make_card
):
    points_program.logo_url = "https://cdn.example.lu/kirchberg.png"
    card = make_card(dummy_store)  # enrollment with the 50-point welcome bonus
    dbmod.commit()
    session.refresh(card)
    assert card.wallet_sync_status is WalletSyncStatus.SYNCED
    assert _balances_sent(wallet) == [50]

    earn_points(card, store=dummy_store, points=20)
    dbmod.commit()
    session.refresh(card)
    assert card.wallet_sync_status is WalletSyncStatus.SYNCED
    assert _balances_sent(wallet) == [50, 70]


def test_a_rolled_back_change_syncs_nothing(
    wallet, session, points_program, dummy_store, make_card
):
    points_program.logo_url = "https://cdn.example.lu/kirchberg.png"
    card = make_card(dummy_store)
    dbmod.commit()
    earn_points(card, store=dummy_store, points=20)
    dbmod.rollback()
    assert _balances_sent(wallet) == [50]

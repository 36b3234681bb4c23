"""Staff can push cards to Google Wallet again from the card list (their own cards only)."""

from __future__ import annotations

from loyalty.models import WalletSyncStatus
from platform_core import db as dbmod
from tests.wallet_double import fixtures

wallet = fixtures.wallet
wallet_double = fixtures.wallet_double
wallet_key = fixtures.wallet_key
wallet_settings = fixtures.wallet_settings

URL = "/admin/loyaltycard/action/"


def _failed_card(make_card, store, program):
    program.logo_url = "https://cdn.example.lu/logo.png"
    card = make_card(store)
    dbmod.commit()  # enrollment's own sync runs here
    card.wallet_sync_status = WalletSyncStatus.FAILED
    card.wallet_sync_error = "Google Wallet answered HTTP 503"
    dbmod.commit()
    return card


def test_admin_resyncs_a_failed_card(
    wallet, session, client, login_as, merchant_admin, points_program, dummy_store, make_card
):
    card = _failed_card(make_card, dummy_store, points_program)
    before = len(wallet.calls("loyaltyObject.insert")) + len(wallet.calls("loyaltyObject.patch"))
    login_as(merchant_admin)
    response = client.post(URL, data={"action": "wallet_sync", "rowid": [str(card.id)]})
    assert response.status_code == 302
    session.refresh(card)
    assert card.wallet_sync_status is WalletSyncStatus.SYNCED
    after = len(wallet.calls("loyaltyObject.insert")) + len(wallet.calls("loyaltyObject.patch"))
    assert after == before + 1


def test_another_merchants_card_is_not_touched(
    wallet,
    session,
    client,
    login_as,
    create_merchant,
    create_staff_user,
    points_program,
    dummy_store,
    make_card,
):
    from platform_core.staff.models import StaffRole

    card = _failed_card(make_card, dummy_store, points_program)
    outsider = create_staff_user(role=StaffRole.MERCHANT_ADMIN, merchant=create_merchant())
    login_as(outsider)
    client.post(URL, data={"action": "wallet_sync", "rowid": [str(card.id)]})
    session.refresh(card)
    assert card.wallet_sync_status is WalletSyncStatus.FAILED


def test_store_staff_cannot_run_the_action(
    wallet, session, client, login_as, store_staff, points_program, dummy_store, make_card
):
    card = _failed_card(make_card, dummy_store, points_program)
    login_as(store_staff)
    client.post(URL, data={"action": "wallet_sync", "rowid": [str(card.id)]})
    session.refresh(card)
    assert card.wallet_sync_status is WalletSyncStatus.FAILED

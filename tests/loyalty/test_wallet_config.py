"""Without configuration Wallet stays out of the way; ``wallet-check`` says what is missing."""

from __future__ import annotations

from loyalty.models import WalletSyncStatus
from loyalty.wallet import service
from loyalty.wallet.credentials import validate_config
from loyalty.wallet.google import wallet_enabled, wallet_save_url
from loyalty.wallet.tasks import retry_wallet_syncs_task
from platform_core import db as dbmod
from tests.wallet_double import fixtures
from tests.wallet_double.fixtures import ISSUER_ID

wallet = fixtures.wallet
wallet_off = fixtures.wallet_off
wallet_double = fixtures.wallet_double
wallet_key = fixtures.wallet_key
wallet_settings = fixtures.wallet_settings
create_wallet_card = fixtures.create_wallet_card


def test_not_configured_is_a_no_op(wallet_off, session, create_wallet_card):
    card = create_wallet_card(wallet_sync_status=WalletSyncStatus.NOT_SYNCED)
    waiting = create_wallet_card(wallet_sync_status=WalletSyncStatus.PENDING)

    assert not wallet_enabled()
    assert wallet_save_url(card) is None
    service.mark_for_sync(card)
    assert dbmod.pending_after_commit() == []
    assert service.sync_card(card.id).status is None
    retry_wallet_syncs_task.call_local()

    session.refresh(card)
    session.refresh(waiting)
    assert card.wallet_sync_status is WalletSyncStatus.NOT_SYNCED
    assert waiting.wallet_sync_status is WalletSyncStatus.PENDING


def test_validate_config_lists_what_is_missing(wallet_off, app_ctx):
    assert validate_config() == [
        "The Google Wallet issuer id (GOOGLE_WALLET_ISSUER_ID) is not set.",
        "The service account key file (GOOGLE_WALLET_SERVICE_ACCOUNT_FILE) is not set.",
    ]


def test_validate_config_reports_unreadable_and_unparsable_keys(wallet_settings, app_ctx, tmp_path):
    wallet_settings["GOOGLE_WALLET_ISSUER_ID"] = "issuer-abc"
    wallet_settings["GOOGLE_WALLET_SERVICE_ACCOUNT_FILE"] = str(tmp_path / "missing.json")
    missing = validate_config()
    assert missing[0] == "The Google Wallet issuer id must be digits only, got issuer-abc."
    assert "cannot read the service account key file" in missing[1]

    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"type": "service_account", "client_email": "a@b", '
        '"private_key": "not a key", "token_uri": "x"}'
    )
    wallet_settings["GOOGLE_WALLET_SERVICE_ACCOUNT_FILE"] = str(bad)
    [_, problem] = validate_config()
    assert problem.startswith("The service account key file is unusable: ")


def test_validate_config_is_happy_with_a_working_setup(wallet, app_ctx):
    assert validate_config() == []


def test_wallet_check_command(wallet, runner, wallet_settings):
    ok = runner.invoke(args=["loyalty", "wallet-check"])
    assert ok.exit_code == 0, ok.output
    assert "Google Wallet is configured" in ok.output

    wallet_settings["GOOGLE_WALLET_ISSUER_ID"] = ""
    broken = runner.invoke(args=["loyalty", "wallet-check"])
    assert broken.exit_code == 1
    assert "GOOGLE_WALLET_ISSUER_ID" in broken.output
    assert "not ready (1 problem)" in broken.output


def test_object_ids_keep_only_characters_google_allows(wallet, wallet_key, create_wallet_card):
    card = create_wallet_card(card_number="7710 0000 12")
    token = wallet_save_url(card).rsplit("/", 1)[1]
    [obj] = fixtures.verify_save_jwt(token, wallet_key.cert_pem)["payload"]["loyaltyObjects"]
    assert obj["id"] == f"{ISSUER_ID}.loyalty-card-7710_0000_12"

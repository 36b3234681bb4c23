"""``validate_config``, ``flask loyalty wallet-check`` and the console's Google Wallet page.

Logos are served by a real HTTP server on loopback (200, 302, 404, 500, hanging); Google is
the Wallet double.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import pytest

from loyalty.models import WalletSyncStatus
from loyalty.wallet.checks import run_checks
from loyalty.wallet.credentials import validate_config
from tests.support.logo_server import LogoServer
from tests.wallet_double import fixtures

wallet = fixtures.wallet
wallet_off = fixtures.wallet_off
wallet_double = fixtures.wallet_double
wallet_key = fixtures.wallet_key
wallet_settings = fixtures.wallet_settings
create_wallet_card = fixtures.create_wallet_card
create_wallet_program = fixtures.create_wallet_program

LOGO_TIMEOUT = 0.8


@pytest.fixture
def logos(wallet_settings) -> Iterator[LogoServer]:
    server = LogoServer().start()
    wallet_settings["GOOGLE_WALLET_LOGO_TIMEOUT"] = LOGO_TIMEOUT
    yield server
    server.stop()


def test_every_active_programs_logo_gets_a_head_request(
    wallet, logos, session, create_wallet_program
):
    for name in ("ok", "moved", "missing", "broken", "hang"):
        create_wallet_program(name=f"Club {name}", logo_url=logos.url(f"{name}.png"))
    for n in (2, 3):
        create_wallet_program(name=f"Club hang{n}", logo_url=logos.url("hang.png"))
    create_wallet_program(name="Club nologo", logo_url="")
    create_wallet_program(name="Club retired", logo_url=logos.url("missing.png"), is_active=False)

    started = time.monotonic()
    problems = validate_config()
    elapsed = time.monotonic() - started

    assert problems == [
        f"The logo of program Club broken ({logos.url('broken.png')}) is unreachable: HTTP 500.",
        *(
            f"The logo of program Club {name} ({logos.url('hang.png')}) is unreachable: "
            f"no answer within {LOGO_TIMEOUT:g} s."
            for name in ("hang", "hang2", "hang3")
        ),
        f"The logo of program Club missing ({logos.url('missing.png')}) is unreachable: HTTP 404.",
        "Program Club nologo has no logo URL.",
    ]
    # HEAD only, one per active program with a logo; the inactive program is not checked.
    assert sorted(logos.requests) == sorted(
        ("HEAD", f"/{n}.png") for n in ("ok", "moved", "missing", "broken", "hang", "hang", "hang")
    )
    # The requests run side by side: three hanging logos cost the timeout once, not thrice.
    assert elapsed < 2 * LOGO_TIMEOUT


def test_checks_report_what_passed_too(wallet, logos, session, create_wallet_program, wallet_key):
    create_wallet_program(name="Club ok", logo_url=logos.url("ok.png"))

    checks = run_checks()

    assert [(c.name, c.ok) for c in checks] == [
        ("Issuer id", True),
        ("Service account key", True),
        ("Logo of Club ok", True),
    ]
    assert checks[1].message == f"Loads and signs as {wallet_key.email}."


def test_a_key_without_a_service_account_email_is_reported(
    wallet, wallet_settings, wallet_key, app_ctx, tmp_path
):
    info = json.loads(wallet_key.path.read_text())
    info["client_email"] = "someone@example.lu"
    other = tmp_path / "key.json"
    other.write_text(json.dumps(info))
    wallet_settings["GOOGLE_WALLET_SERVICE_ACCOUNT_FILE"] = str(other)

    assert validate_config() == [
        "The key has no service account email (client_email), got someone@example.lu."
    ]


def test_wallet_check_prints_each_check(wallet, logos, runner, session, create_wallet_program):
    create_wallet_program(name="Club ok", logo_url=logos.url("ok.png"))
    create_wallet_program(name="Club missing", logo_url=logos.url("missing.png"))

    result = runner.invoke(args=["loyalty", "wallet-check"])

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert "[ok  ] Issuer id: 3388000000012345678" in lines
    assert any(line.startswith("[ok  ] Service account key: Loads and signs as") for line in lines)
    assert f"[ok  ] Logo of Club ok: {logos.url('ok.png')}" in lines
    assert any(
        line.startswith("[FAIL] Logo of Club missing: The logo of program Club missing")
        for line in lines
    )
    assert "not ready (1 problem)" in result.output


def test_wallet_check_in_french(wallet, logos, session, create_wallet_program):
    from flask_babel import force_locale

    create_wallet_program(name="Club lent", logo_url=logos.url("hang.png"))
    with force_locale("fr"):
        checks = run_checks()
    assert checks[0].name == "Identifiant d’émetteur"
    assert checks[2].name == "Logo de Club lent"
    assert checks[2].message == (
        f"Le logo du programme Club lent ({logos.url('hang.png')}) est injoignable : "
        f"pas de réponse en {LOGO_TIMEOUT:g} s."
    )


# --- the console page ----------------------------------------------------------------------
def _cards_in_each_status(create_wallet_card, create_wallet_program):
    program = create_wallet_program()
    made = {}
    for status, count in (
        (WalletSyncStatus.SYNCED, 2),
        (WalletSyncStatus.FAILED, 1),
        (WalletSyncStatus.REJECTED, 3),
        (WalletSyncStatus.NOT_SYNCED, 1),
    ):
        made[status] = [
            create_wallet_card(program=program, wallet_sync_status=status) for _ in range(count)
        ]
    return made


def _count(page: str, status: str) -> int:
    match = re.search(rf'data-status="{status}"><td>[^<]*</td><td[^>]*>(\d+)</td>', page)
    assert match, f"no count for {status}"
    return int(match.group(1))


def test_console_page_shows_checks_and_counts_for_platform_admins_only(
    wallet,
    client,
    login_as,
    platform_admin,
    merchant_admin,
    create_wallet_card,
    create_wallet_program,
):
    _cards_in_each_status(create_wallet_card, create_wallet_program)

    login_as(merchant_admin)
    assert client.get("/admin/wallet/").status_code == 403
    assert client.post("/admin/wallet/retry", data={"which": "both"}).status_code == 403

    login_as(platform_admin)
    page = client.get("/admin/wallet/")
    assert page.status_code == 200
    assert "Issuer id" in page.text
    assert "Service account key" in page.text
    assert _count(page.text, "synced") == 2
    assert _count(page.text, "failed") == 1
    assert _count(page.text, "rejected") == 3
    assert _count(page.text, "pending") == 0
    assert 'name="csrf_token"' in page.text


def test_console_retry_needs_the_csrf_token(
    app,
    wallet,
    client,
    login_as,
    platform_admin,
    session,
    create_wallet_card,
    create_wallet_program,
):
    made = _cards_in_each_status(create_wallet_card, create_wallet_program)
    login_as(platform_admin)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = client.post("/admin/wallet/retry", data={"which": "both"})
        assert refused.status_code == 400
        for card in made[WalletSyncStatus.REJECTED]:
            session.refresh(card)
            assert card.wallet_sync_status is WalletSyncStatus.REJECTED

        page = client.get("/admin/wallet/")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
        done = client.post(
            "/admin/wallet/retry",
            data={"which": "rejected", "csrf_token": token},
            follow_redirects=True,
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = False

    assert done.status_code == 200
    assert "3 cards will be synced again." in done.text
    # Immediate mode: the retry job ran and every rejected card is in the wallet now.
    for card in made[WalletSyncStatus.REJECTED]:
        session.refresh(card)
        assert card.wallet_sync_status is WalletSyncStatus.SYNCED
    for card in made[WalletSyncStatus.NOT_SYNCED]:
        session.refresh(card)
        assert card.wallet_sync_status is WalletSyncStatus.NOT_SYNCED


def test_console_retry_with_a_bad_choice_is_a_clear_error(
    wallet, client, login_as, platform_admin, session, create_wallet_card, create_wallet_program
):
    made = _cards_in_each_status(create_wallet_card, create_wallet_program)
    login_as(platform_admin)

    response = client.post("/admin/wallet/retry", data={"which": "synced"})

    assert response.status_code == 400
    assert "Not a valid choice" in response.text
    for card in made[WalletSyncStatus.SYNCED]:
        session.refresh(card)
        assert card.wallet_sync_status is WalletSyncStatus.SYNCED

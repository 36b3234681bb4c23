"""The console's export and erasure actions and the ``flask customers`` commands: who may
use them (tenancy), the confirmation step, CSRF, the Wallet pass expired at Google, and the
retention job and its dry run."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from loyalty.data_rights.erasure import erased_email
from loyalty.data_rights.retention import months_before, purge_inactive_customers
from loyalty.data_rights.tasks import RETENTION_TASK
from loyalty.models import LoyaltyCard, LoyaltyTransaction, ProgramKind, WalletSyncStatus
from loyalty.services.programs import create_program, get_settings
from platform_core import db as dbmod
from platform_core.customers.models import Customer
from platform_core.models_base import utcnow
from platform_core.staff.models import StaffRole
from platform_core.task_runs.models import TaskRun
from tests.wallet_double import fixtures

wallet = fixtures.wallet
wallet_double = fixtures.wallet_double
wallet_key = fixtures.wallet_key
wallet_settings = fixtures.wallet_settings


@pytest.fixture
def shop(session, points_program, dummy_store, make_card) -> LoyaltyCard:
    card = make_card(dummy_store, email="lucienne.brasseur@example.lu", last_name="Brasseur")
    dbmod.commit()
    return card


@pytest.fixture
def other_card(session, create_merchant, create_store, make_card) -> LoyaltyCard:
    other = create_merchant(name="Other", slug="other-merchant")
    store = create_store(merchant=other, name="Elsewhere", slug="elsewhere")
    create_program(other, kind=ProgramKind.POINTS, name="Other club")
    card = make_card(store, email="someone.else@example.lu")
    dbmod.commit()
    return card


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


# --- console -------------------------------------------------------------------------------
def test_merchant_admin_exports_their_customer_as_json_and_as_a_page(
    client, login_as, merchant_admin, shop
):
    login_as(merchant_admin)
    details = client.get(f"/admin/customer/details/?id={shop.customer_id}")
    assert details.status_code == 200
    assert 'data-testid="erase"' in details.text
    download = client.get(f"/admin/customer/data/{shop.customer_id}/export.json")
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    data = json.loads(download.data)
    assert data["customer"]["email"] == "lucienne.brasseur@example.lu"
    assert [c["card_number"] for c in data["tables"]["loyalty_cards"]] == [shop.card_number]
    page = client.get(f"/admin/customer/data/{shop.customer_id}/")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "Data held about lucienne.brasseur@example.lu" in text
    assert "Consent history" in text
    assert "Transactions" in text


def test_merchant_admin_gets_404_for_another_merchant_s_customer(
    client, login_as, merchant_admin, shop, other_card, session
):
    login_as(merchant_admin)
    customer_id = other_card.customer_id
    for url in (
        f"/admin/customer/data/{customer_id}/",
        f"/admin/customer/data/{customer_id}/export.json",
        f"/admin/customer/erase/{customer_id}/",
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(
            f"/admin/customer/erase/{customer_id}/",
            data={"confirm_email": "someone.else@example.lu"},
        ).status_code
        == 404
    )
    assert session.get(Customer, customer_id).erased_at is None


def test_store_staff_may_not_export_or_erase(client, login_as, store_staff, shop, session):
    login_as(store_staff)
    details = client.get(f"/admin/customer/details/?id={shop.customer_id}")
    assert details.status_code == 200
    assert 'data-testid="erase"' not in details.text
    assert 'data-testid="export-json"' not in details.text
    for url in (
        f"/admin/customer/data/{shop.customer_id}/",
        f"/admin/customer/data/{shop.customer_id}/export.json",
        f"/admin/customer/erase/{shop.customer_id}/",
    ):
        assert client.get(url).status_code == 403, url
    refused = client.post(
        f"/admin/customer/erase/{shop.customer_id}/",
        data={"confirm_email": "lucienne.brasseur@example.lu"},
    )
    assert refused.status_code == 403
    assert session.get(Customer, shop.customer_id).erased_at is None


def test_platform_admin_erases_after_typing_the_address_with_the_csrf_token(
    app, client, login_as, platform_admin, shop, session
):
    login_as(platform_admin)
    url = f"/admin/customer/erase/{shop.customer_id}/"
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = client.post(url, data={"confirm_email": "lucienne.brasseur@example.lu"})
        assert refused.status_code == 400  # no CSRF token
        assert session.get(Customer, shop.customer_id).erased_at is None
        page = client.get(url)
        assert "This cannot be undone." in html.unescape(page.text)
        wrong = client.post(
            url, data={"confirm_email": "nope@example.lu", "csrf_token": _csrf(page.text)}
        )
        assert wrong.status_code == 200
        assert "This is not the customer's email address" in html.unescape(wrong.text)
        assert 'value="nope@example.lu"' in wrong.text  # the input is kept
        session.expire_all()
        assert session.get(Customer, shop.customer_id).erased_at is None
        done = client.post(
            url,
            data={
                "confirm_email": " Lucienne.Brasseur@example.lu ",
                "csrf_token": _csrf(page.text),
            },
            follow_redirects=True,
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert done.status_code == 200
    assert "personal data was erased" in html.unescape(done.text)
    session.expire_all()
    customer = session.get(Customer, shop.customer_id)
    assert customer.email == erased_email(customer.id)
    assert not session.get(LoyaltyCard, shop.id).is_active


@pytest.mark.parametrize("locale", ["fr", "de", "lb"])
def test_the_erase_page_is_translated(client, login_as, merchant_admin, shop, session, locale):
    merchant_admin.preferred_locale = locale
    dbmod.commit()
    login_as(merchant_admin)
    page = html.unescape(client.get(f"/admin/customer/erase/{shop.customer_id}/").text)
    assert "This cannot be undone." not in page
    assert "lucienne.brasseur@example.lu" in page


# --- wallet --------------------------------------------------------------------------------
def test_erasure_expires_the_wallet_pass_at_google(
    wallet, session, runner, points_program, dummy_store, make_card
):
    points_program.logo_url = "https://cdn.example.lu/kirchberg.png"
    shop = make_card(dummy_store, email="lucienne.brasseur@example.lu", last_name="Brasseur")
    dbmod.commit()
    session.refresh(shop)
    assert shop.wallet_sync_status is WalletSyncStatus.SYNCED
    before = len(wallet.calls())
    result = runner.invoke(
        args=[
            "customers",
            "erase",
            "lucienne.brasseur@example.lu",
            "--merchant",
            "boulangerie-kirchberg",
            "--yes",
        ]
    )
    assert result.exit_code == 0, result.output
    sent = [c for c in wallet.calls()[before:] if c.body and "state" in c.body]
    assert sent, "no object was sent to Google after the erasure"
    assert sent[-1].body["state"] == "EXPIRED"
    assert "Brasseur" not in json.dumps(sent[-1].body)
    session.refresh(shop)
    assert shop.wallet_sync_status is WalletSyncStatus.SYNCED


# --- CLI -----------------------------------------------------------------------------------
def test_cli_export_json_and_csv(runner, shop):
    out = runner.invoke(
        args=[
            "customers",
            "export",
            "Lucienne.Brasseur@example.lu",
            "--merchant",
            "boulangerie-kirchberg",
        ]
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["customer"]["last_name"] == "Brasseur"
    out = runner.invoke(
        args=[
            "customers",
            "export",
            "lucienne.brasseur@example.lu",
            "--merchant",
            "boulangerie-kirchberg",
            "--format",
            "csv",
        ]
    )
    assert out.exit_code == 0, out.output
    rows = list(csv.reader(io.StringIO(out.output)))
    assert rows[0] == ["section", "row", "field", "value"]
    assert ["customers", "1", "last_name", "Brasseur"] in rows


def test_cli_refuses_another_merchant_s_customer_and_erasure_without_yes(
    runner, session, shop, other_card
):
    out = runner.invoke(
        args=[
            "customers",
            "export",
            "someone.else@example.lu",
            "--merchant",
            "boulangerie-kirchberg",
        ]
    )
    assert out.exit_code != 0
    assert "has no customer with the email someone.else@example.lu" in out.output
    out = runner.invoke(
        args=[
            "customers",
            "erase",
            "someone.else@example.lu",
            "--merchant",
            "boulangerie-kirchberg",
            "--yes",
        ]
    )
    assert out.exit_code != 0
    out = runner.invoke(args=["customers", "export", "x@example.lu", "--merchant", "nope"])
    assert out.exit_code != 0
    assert "no merchant with the slug nope" in out.output
    out = runner.invoke(
        args=[
            "customers",
            "erase",
            "lucienne.brasseur@example.lu",
            "--merchant",
            "boulangerie-kirchberg",
        ]
    )
    assert out.exit_code != 0
    assert "--yes" in out.output
    session.expire_all()
    assert session.get(Customer, shop.customer_id).erased_at is None
    assert session.get(Customer, other_card.customer_id).erased_at is None


def test_cli_erase_keeps_the_ledger_consistent_and_ends_the_card_page(
    app, client, runner, session, shop
):
    from loyalty.card_links import card_page_url

    with app.test_request_context():
        link = card_page_url(session.get(LoyaltyCard, shop.id))
    path = link.split("://", 1)[1].split("/", 1)[1]
    assert client.get(f"/{path}").status_code == 200
    out = runner.invoke(
        args=[
            "customers",
            "erase",
            "lucienne.brasseur@example.lu",
            "--merchant",
            "boulangerie-kirchberg",
            "--yes",
        ]
    )
    assert out.exit_code == 0, out.output
    verify = runner.invoke(args=["loyalty", "verify-ledger"])
    assert verify.exit_code == 0, verify.output
    assert "Ledger consistent" in verify.output
    assert client.get(f"/{path}").status_code == 404


# --- retention -----------------------------------------------------------------------------
def _age(session, card: LoyaltyCard, days: int) -> None:
    moment = utcnow() - timedelta(days=days)
    session.execute(
        update(Customer).where(Customer.id == card.customer_id).values(created_at=moment)
    )
    session.execute(update(LoyaltyCard).where(LoyaltyCard.id == card.id).values(created_at=moment))
    session.execute(
        update(LoyaltyTransaction)
        .where(LoyaltyTransaction.card_id == card.id)
        .values(created_at=moment)
    )


@pytest.fixture
def aged(session, points_program, dummy_store, make_card, other_card) -> dict[str, Any]:
    """At the merchant with a 12-month retention: one customer inactive for 400 days, one
    who enrolled 400 days ago but earned last month, one who joined recently; at another
    merchant without retention, one inactive for 400 days."""
    old = make_card(dummy_store, email="old@example.lu")
    busy = make_card(dummy_store, email="busy@example.lu")
    new = make_card(dummy_store, email="new@example.lu")
    dbmod.commit()
    _age(session, old, 400)
    _age(session, busy, 400)
    session.execute(
        update(LoyaltyTransaction)
        .where(LoyaltyTransaction.card_id == busy.id)
        .values(created_at=utcnow() - timedelta(days=30))
    )
    _age(session, other_card, 400)
    get_settings(dummy_store.merchant_id).retention_inactive_months = 12
    dbmod.commit()
    session.expire_all()
    return {
        "old": old.customer_id,
        "busy": busy.customer_id,
        "new": new.customer_id,
        "other": other_card.customer_id,
    }


def _erased(session, ids: dict[str, int]) -> set[str]:
    session.expire_all()
    return {name for name, cid in ids.items() if session.get(Customer, cid).erased_at is not None}


def test_retention_dry_run_counts_and_changes_nothing(runner, session, aged):
    out = runner.invoke(args=["customers", "purge-inactive", "--dry-run"])
    assert out.exit_code == 0, out.output
    assert (
        "boulangerie-kirchberg: 1 customer inactive for 12 months would be anonymized."
        in out.output
    )
    assert "other-merchant" not in out.output
    assert _erased(session, aged) == set()
    assert session.scalar(select(TaskRun).where(TaskRun.task_name == RETENTION_TASK)) is None


def test_retention_anonymizes_only_inactive_customers_of_merchants_with_the_setting(
    runner, session, aged
):
    out = runner.invoke(args=["customers", "purge-inactive"])
    assert out.exit_code == 0, out.output
    assert "boulangerie-kirchberg: 1 customer inactive for 12 months was anonymized." in out.output
    assert _erased(session, aged) == {"old"}
    run = session.scalar(select(TaskRun).where(TaskRun.task_name == RETENTION_TASK))
    assert run is not None
    assert "customers: 1" in run.summary
    again = purge_inactive_customers(commit=dbmod.commit)
    assert again.customers == 0  # a second run finds nothing left to do


def test_retention_is_off_by_default(session, aged, dummy_store):
    get_settings(dummy_store.merchant_id).retention_inactive_months = None
    dbmod.commit()
    assert purge_inactive_customers(commit=dbmod.commit).merchants == []
    assert _erased(session, aged) == set()


def test_months_before_keeps_the_end_of_month():
    moment = utcnow().replace(year=2026, month=3, day=31)
    assert months_before(moment, 1).date().isoformat() == "2026-02-28"
    assert months_before(moment, 15).date().isoformat() == "2024-12-31"


def test_the_retention_setting_is_range_checked_in_the_console(
    client, login_as, merchant_admin, session, points_program
):
    login_as(merchant_admin)
    settings = get_settings(merchant_admin.merchant_id)
    dbmod.commit()
    page = client.post(
        f"/admin/merchantloyaltysettings/edit/?id={settings.id}",
        data={
            "void_window_days": "30",
            "min_points_to_redeem": "0",
            "retention_inactive_months": "999",
        },
    )
    assert page.status_code == 200
    assert "Enter a value from 1 to 240." in html.unescape(page.text)
    assert merchant_admin.role is StaffRole.MERCHANT_ADMIN

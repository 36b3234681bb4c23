"""The audit log: console changes with old → new values, secrets masked, terminal operations,
logins and failed logins; the read-only view scoped per merchant; append-only storage."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from platform_core.audit.models import AuditLog, AuditLogIsAppendOnly
from platform_core.audit.services import record_audit, redact_audit_values
from platform_core.customers.models import Customer
from platform_core.staff.models import StaffUser
from tests.conftest import is_postgres
from tests.factories import STAFF_PASSWORD
from tests.loyalty.console_world import World, build_world


def _rows(session, **where) -> list[AuditLog]:
    session.expire_all()
    stmt = select(AuditLog).filter_by(**where).order_by(AuditLog.id)
    return list(session.scalars(stmt))


def _customer_form(customer: Customer, **changes: str) -> dict[str, str]:
    data = {
        "merchant": str(customer.merchant_id),
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "email": customer.email,
        "phone": customer.phone or "",
        "birthday": "",
        "preferred_locale": customer.preferred_locale,
    }
    data.update(changes)
    return data


# --- console changes -----------------------------------------------------------------------


def test_console_edit_records_old_and_new_values_in_the_same_transaction(
    client, login_as, merchant_admin, create_customer, session
):
    customer = create_customer(
        merchant=merchant_admin.merchant, first_name="Alice", email="alice@example.lu"
    )
    login_as(merchant_admin)
    response = client.post(
        f"/admin/customer/edit/?id={customer.id}",
        data=_customer_form(customer, first_name="Alicia"),
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert response.status_code == 302, response.text
    (row,) = _rows(session, action="update", model="Customer")
    assert row.object_id == str(customer.id)
    assert row.changes == {"first_name": ["Alice", "Alicia"]}
    assert row.actor_id == merchant_admin.id
    assert row.actor_email == merchant_admin.email
    assert row.actor_role == "merchant_admin"
    assert row.client_address == "192.0.2.7"
    assert row.merchant_id == merchant_admin.merchant_id
    assert session.get(Customer, customer.id).first_name == "Alicia"


def test_console_create_and_delete_are_recorded(
    client, login_as, merchant_admin, create_customer, session
):
    login_as(merchant_admin)
    created = client.post(
        "/admin/customer/new/",
        data={
            "merchant": str(merchant_admin.merchant_id),
            "first_name": "Nina",
            "last_name": "Neu",
            "email": "nina@example.lu",
            "preferred_locale": "lb",
        },
    )
    assert created.status_code == 302, created.text
    nina_id = session.scalars(select(Customer).filter_by(email="nina@example.lu")).one().id
    (create,) = _rows(session, action="create", model="Customer")
    assert create.object_id == str(nina_id)
    assert create.changes["first_name"] == [None, "Nina"]
    assert create.changes["email"] == [None, "nina@example.lu"]

    assert client.post("/admin/customer/delete/", data={"id": str(nina_id)}).status_code == 302
    (gone,) = _rows(session, action="delete", model="Customer")
    assert gone.object_id == str(nina_id)
    assert gone.changes["last_name"] == ["Neu", None]
    assert session.get(Customer, nina_id) is None


def test_a_password_change_is_masked(client, login_as, platform_admin, merchant_admin, session):
    old_hash = merchant_admin.password_hash
    login_as(platform_admin)
    response = client.post(
        f"/admin/staffuser/edit/?id={merchant_admin.id}",
        data={
            "email": merchant_admin.email,
            "full_name": "Renamed Admin",
            "password": "a brand new long password",
            "role": "merchant_admin",
            "merchant": str(merchant_admin.merchant_id),
            "is_active_user": "y",
        },
    )
    assert response.status_code == 302, response.text
    (row,) = _rows(session, action="update", model="StaffUser")
    assert row.changes["password_hash"] == ["***", "***"]
    assert row.changes["session_token"] == ["***", "***"]
    assert row.changes["full_name"][1] == "Renamed Admin"
    stored = json.dumps(row.changes)
    assert old_hash not in stored
    assert session.get(StaffUser, merchant_admin.id).password_hash not in stored
    assert "a brand new long password" not in stored


def test_record_audit_masks_every_secret_named_key(session):
    row = record_audit(
        "update",
        model="Whatever",
        object_id=1,
        changes={
            "void_pin_hash": ["$argon2-old", "$argon2-new"],
            "secret": [None, "whsec_abc"],
            "key_hash": ["aa", "bb"],
            "reset_token": "tok",
            "nested": {"smtp_password": "hunter2", "name": "ok"},
            "name": ["a", "b"],
        },
    )
    assert row.changes == {
        "void_pin_hash": ["***", "***"],
        "secret": [None, "***"],
        "key_hash": ["***", "***"],
        "reset_token": "***",
        "nested": {"smtp_password": "***", "name": "ok"},
        "name": ["a", "b"],
    }
    assert row.actor_id is None  # no one logged in: the command line


# --- logins ------------------------------------------------------------------------------


def test_login_and_failed_login_are_recorded_with_the_client_address(
    client, merchant_admin, session
):
    wrong = client.post(
        "/login",
        data={"email": merchant_admin.email.upper(), "password": "wrong password"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
        # No proxy is trusted (TRUSTED_PROXY_COUNT=0): a forged header changes nothing.
        headers={"X-Forwarded-For": "198.51.100.1"},
    )
    assert wrong.status_code == 401
    (failed,) = _rows(session, action="login_failed")
    assert failed.client_address == "203.0.113.9"
    assert failed.actor_email == merchant_admin.email
    assert failed.actor_id is None
    assert failed.merchant_id == merchant_admin.merchant_id  # its merchant admins see it
    assert failed.object_id == str(merchant_admin.id)

    unknown = client.post(
        "/login",
        data={"email": "nobody@example.lu", "password": "x"},
        environ_base={"REMOTE_ADDR": "203.0.113.10"},
    )
    assert unknown.status_code == 401
    assert [r.actor_email for r in _rows(session, action="login_failed")][-1] == (
        "nobody@example.lu"
    )

    ok = client.post(
        "/login",
        data={"email": merchant_admin.email, "password": STAFF_PASSWORD},
        environ_base={"REMOTE_ADDR": "203.0.113.11"},
    )
    assert ok.status_code == 302
    (login,) = _rows(session, action="login")
    assert login.actor_id == merchant_admin.id
    assert login.client_address == "203.0.113.11"


# --- the terminal ----------------------------------------------------------------------------


@pytest.fixture
def terminal_world(dummy_merchant, dummy_store, create_store, create_merchant, create_staff_user):
    return build_world(
        dummy_merchant,
        dummy_store,
        {"store": create_store, "merchant": create_merchant, "staff": create_staff_user},
    )


def test_terminal_earn_is_recorded(client, login_as, store_staff, session, terminal_world: World):
    w = terminal_world
    login_as(store_staff)
    url = f"/admin/terminal/{w.store.id}/cards/{w.card.id}/"
    key = re.search(
        r'name="idempotency_key" type="hidden" value="([0-9a-f]{32})"', client.get(url).text
    )
    assert key
    done = client.post(
        f"{url}earn/",
        data={
            "amount": "12.50",
            "points": "",
            "note": "",
            "idempotency_key": key.group(1),
            "confirmed": "1",
        },
    )
    assert done.status_code == 302
    (row,) = _rows(session, action="terminal")
    assert row.model == "LoyaltyTransaction"
    assert row.actor_id == store_staff.id
    assert row.actor_role == "store_staff"
    assert row.merchant_id == w.merchant.id
    assert row.changes["operation"] == "earn"
    assert row.changes["card_id"] == w.card.id
    assert row.changes["points_delta"] == 12
    assert row.changes["purchase_amount"] == "12.50"


# --- the view: read-only, scoped -------------------------------------------------------------


@pytest.fixture
def two_merchants_rows(session, merchant_admin, create_merchant):
    other = create_merchant(name="Zeta Foreign Merchant", slug="zeta-merchant")
    own = record_audit(
        "update",
        model="Customer",
        object_id=1,
        merchant_id=merchant_admin.merchant_id,
        changes={"first_name": ["Ann", "Anne"]},
        actor_email="own.actor@example.lu",
    )
    foreign = record_audit(
        "update",
        model="Customer",
        object_id=2,
        merchant_id=other.id,
        changes={"first_name": ["Zeta", "Zora"]},
        actor_email="zeta.actor@example.lu",
    )
    platform = record_audit("login", actor_email="zeta.platform@example.lu")
    return own, foreign, platform


def test_merchant_admin_sees_only_their_merchants_rows(
    client, login_as, merchant_admin, two_merchants_rows
):
    own, foreign, platform = two_merchants_rows
    login_as(merchant_admin)
    page = client.get("/admin/auditlog/")
    assert page.status_code == 200
    assert "own.actor@example.lu" in page.text
    assert "zeta" not in page.text.lower()
    details = client.get(f"/admin/auditlog/details/?id={own.id}")
    assert details.status_code == 200
    assert "<th>first_name</th><td>Ann</td><td>Anne</td>" in details.text
    assert client.get(f"/admin/auditlog/details/?id={foreign.id}").status_code == 404
    assert client.get(f"/admin/auditlog/details/?id={platform.id}").status_code == 404
    export = client.get("/admin/auditlog/export/csv/", buffered=True)
    assert export.status_code == 200
    assert "own.actor@example.lu" in export.text
    assert "zeta" not in export.text.lower()


def test_platform_admin_sees_all_and_nobody_writes(
    client, login_as, platform_admin, two_merchants_rows, session
):
    own, foreign, platform = two_merchants_rows
    login_as(platform_admin)
    page = client.get("/admin/auditlog/")
    for row in (own, foreign, platform):
        assert row.actor_email in page.text
    assert client.get("/admin/auditlog/new/").status_code == 302
    assert client.get(f"/admin/auditlog/edit/?id={own.id}").status_code == 302
    client.post("/admin/auditlog/delete/", data={"id": str(own.id)})
    client.post("/admin/auditlog/action/", data={"action": "delete", "rowid": str(own.id)})
    session.expire_all()
    assert session.get(AuditLog, own.id) is not None


def test_store_staff_cannot_open_the_audit_log(client, login_as, store_staff, two_merchants_rows):
    login_as(store_staff)
    assert client.get("/admin/auditlog/").status_code == 403
    assert client.get("/admin/auditlog/export/csv/").status_code == 403


def test_export_has_iso_timestamps_with_offset_and_the_changes(
    client, login_as, platform_admin, two_merchants_rows
):
    login_as(platform_admin)
    export = client.get("/admin/auditlog/export/csv/", buffered=True)
    # Tests that commit for real (browsers, pg_dump) leave audit rows behind: append-only.
    ours = {"own.actor@example.lu", "zeta.actor@example.lu", "zeta.platform@example.lu"}
    rows = [r for r in csv.DictReader(io.StringIO(export.text)) if r["Staff user"] in ours]
    assert len(rows) == 3
    stamp = rows[0]["Time"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", stamp), stamp
    changes = {json.dumps(json.loads(r["Changes"])) for r in rows if r["Changes"]}
    assert json.dumps({"first_name": ["Ann", "Anne"]}) in changes


def test_filters_by_action_and_actor(client, login_as, platform_admin, two_merchants_rows):
    login_as(platform_admin)
    page = client.get("/admin/auditlog/")
    groups = json.loads(
        re.search(r'id="filter-groups-data" class="d-none">(.*?)</div>', page.text).group(1)
    )
    action_arg = next(f["arg"] for f in groups["Action"] if f["operation"] == "equals")
    only_logins = client.get(f"/admin/auditlog/?flt0_{action_arg}=login")
    assert "zeta.platform@example.lu" in only_logins.text
    assert "own.actor@example.lu" not in only_logins.text


# --- append-only -------------------------------------------------------------------------------


def test_the_app_cannot_change_or_delete_audit_rows(session):
    row = record_audit("login", actor_email="someone@example.lu")
    row.actor_email = "forged@example.lu"
    with pytest.raises(AuditLogIsAppendOnly):
        session.flush()
    session.rollback()
    row = record_audit("login", actor_email="someone@example.lu")
    session.delete(row)
    with pytest.raises(AuditLogIsAppendOnly):
        session.flush()
    session.rollback()


@pytest.mark.postgres
def test_postgres_refuses_update_and_delete_whatever_the_client(session):
    row_id = record_audit("login", actor_email="someone@example.lu").id
    for statement in (
        update(AuditLog).where(AuditLog.id == row_id).values(actor_email="forged@example.lu"),
        delete(AuditLog).where(AuditLog.id == row_id),
        text("UPDATE audit_log SET action = 'update'"),
        text("DELETE FROM audit_log"),
    ):
        savepoint = session.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(statement)
        savepoint.rollback()
    assert session.get(AuditLog, row_id).actor_email == "someone@example.lu"


def test_an_erasure_may_redact_the_values_of_a_rows_entries(session):
    # Ids no real customer has: committed tests leave audit rows of their customers behind.
    record_audit("update", model="Customer", object_id=-42, changes={"email": ["a@x.lu", "b@x.lu"]})
    other = record_audit("update", model="Customer", object_id=-43, changes={"email": ["c", "d"]})
    assert redact_audit_values("Customer", -42) == 1
    session.expire_all()
    (row,) = _rows(session, object_id="-42")
    assert row.changes == {"email": ["***", "***"]}
    assert session.get(AuditLog, other.id).changes == {"email": ["c", "d"]}
    if is_postgres():
        # The permission ended with the redaction.
        savepoint = session.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text("UPDATE audit_log SET action = 'x'"))
        savepoint.rollback()


def test_a_void_pin_change_is_masked(client, login_as, merchant_admin, session, terminal_world):
    from loyalty.services.programs import get_settings

    login_as(merchant_admin)
    settings = get_settings(terminal_world.merchant.id)
    session.commit()
    response = client.post(
        f"/admin/merchantloyaltysettings/edit/?id={settings.id}",
        data={
            "self_enrollment_enabled": "y",
            "voids_allowed": "y",
            "void_window_days": "21",
            "min_points_to_redeem": "0",
            "cross_store_redemption": "y",
            "void_requires_pin": "y",
            "new_pin": "4321",
        },
    )
    assert response.status_code == 302, response.text
    (row,) = _rows(session, action="update", model="MerchantLoyaltySettings")
    assert row.changes["void_pin_hash"] == [None, "***"]
    assert row.changes["void_requires_pin"] == [False, True]
    assert row.changes["void_window_days"][1] == 21
    session.refresh(settings)
    assert settings.void_pin_hash not in json.dumps(row.changes)


def test_api_key_creation_and_revocation_are_recorded_without_the_key(
    client, login_as, merchant_admin, session
):
    login_as(merchant_admin)
    answer = client.post(
        "/admin/api_keys/add/", data={"name": "Web shop", "store_id": "", "scopes": ["enroll"]}
    )
    assert answer.status_code == 200
    key = re.search(r"(lk_[0-9a-f]{8}_[A-Za-z0-9_-]+)", answer.text).group(1)
    (created,) = _rows(session, action="api_key")
    assert created.changes == {"event": "created", "name": "Web shop"}
    assert created.merchant_id == merchant_admin.merchant_id
    revoke = client.post("/admin/api_keys/revoke/", data={"id": created.object_id})
    assert revoke.status_code == 302
    events = [r.changes["event"] for r in _rows(session, action="api_key")]
    assert events == ["created", "revoked"]
    assert key not in json.dumps([r.changes for r in _rows(session)])

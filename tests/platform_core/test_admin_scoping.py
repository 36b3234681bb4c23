"""Merchant scoping of every tenancy admin view (and the email suppression list), data-driven:
adding a view is one CASES line.

Every row, name and host of the foreign merchant contains "Zeta"; nothing of the user's own
merchant does. So "Zeta" must never appear in anything a merchant user is shown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from messaging.models import EmailSuppression
from platform_core.audit.models import AuditLog
from platform_core.customers.models import Customer
from platform_core.staff.models import StaffRole, StaffUser
from platform_core.tenancy.models import Merchant, Store, StoreDomain

FOREIGN = "Zeta"


@dataclass
class World:
    mine: Merchant
    theirs: Merchant
    store_a: Store  # the store_staff user's store
    store_b: Store  # same merchant, not the store_staff user's store
    store_c: Store  # the foreign merchant's store
    rows: dict[str, tuple[Any, Any]]  # endpoint -> (own row, foreign row)


@pytest.fixture
def world(
    create_merchant,
    create_store,
    create_store_domain,
    create_customer,
    create_staff_user,
    dummy_merchant,
    dummy_store,
    session,
) -> World:
    mine, store_a = dummy_merchant, dummy_store
    theirs = create_merchant(name="Zeta Foreign Merchant", slug="zeta-merchant")
    store_b = create_store(merchant=mine, name="Belair", slug="belair")
    store_c = create_store(merchant=theirs, name="Zeta Foreign Store", slug="zeta-store")
    rows = {
        "merchant": (mine, theirs),
        "store": (store_a, store_c),
        "storedomain": (
            create_store_domain(store=store_a, host="alpha.example.lu"),
            create_store_domain(store=store_c, host="zeta.example.lu"),
        ),
        "customer": (
            create_customer(merchant=mine, first_name="Alice", email="alice@example.lu"),
            create_customer(merchant=theirs, first_name="Zeta", email="zeta@example.lu"),
        ),
        "staffuser": (
            create_staff_user(
                role=StaffRole.STORE_STAFF,
                merchant=mine,
                stores=[store_b],
                email="belair.staff@example.lu",
                full_name="Bruno Belair",
            ),
            create_staff_user(
                role=StaffRole.MERCHANT_ADMIN,
                merchant=theirs,
                email="zeta.boss@example.lu",
                full_name="Zeta Boss",
            ),
        ),
        "emailsuppression": (
            EmailSuppression(merchant=mine, address="alice.bounce@example.lu", code=550),
            EmailSuppression(merchant=theirs, address="zeta.bounce@example.lu", code=550),
        ),
        "auditlog": (
            AuditLog(
                action="update",
                model="Customer",
                object_id="1",
                merchant_id=mine.id,
                actor_email="alpha.auditor@example.lu",
            ),
            AuditLog(
                action="update",
                model="Customer",
                object_id="2",
                merchant_id=theirs.id,
                actor_email="zeta.auditor@example.lu",
                changes={"first_name": ["Zeta", "Zora"]},
            ),
        ),
    }
    session.add_all(rows["emailsuppression"])
    session.add_all(rows["auditlog"])
    session.flush()
    return World(mine, theirs, store_a, store_b, store_c, rows)


@dataclass(frozen=True)
class Case:
    endpoint: str
    model: type
    #: Roles that may read / write the view (besides the platform admin).
    readers: frozenset[StaffRole]
    writers: frozenset[StaffRole]
    #: Form data for a new row, pointing its relationship at the given merchant's side.
    new_row: Callable[[World, bool], dict[str, Any]] | None
    #: Finds the row created from ``new_row`` (None when absent).
    created: Callable[[Any], Any] | None
    #: The merchant a row belongs to.
    owner: Callable[[Any], int]
    #: How a row shows in the list and the export.
    shown: Callable[[Any], str] = str


MA, SS = StaffRole.MERCHANT_ADMIN, StaffRole.STORE_STAFF
BOTH = frozenset({MA, SS})


def _by(model: type, **kw: Any) -> Callable[[Any], Any]:
    return lambda session: session.query(model).filter_by(**kw).one_or_none()


CASES = [
    Case(
        "merchant",
        Merchant,
        BOTH,
        frozenset(),
        lambda w, foreign: {
            "name": "Sneaky",
            "slug": "sneaky",
            "contact_email": "a@b.lu",
            "default_locale": "fr",
        },
        _by(Merchant, slug="sneaky"),
        lambda row: row.id,
        lambda row: row.name,
    ),
    Case(
        "store",
        Store,
        BOTH,
        frozenset({MA}),
        lambda w, foreign: {
            "merchant": str((w.theirs if foreign else w.mine).id),
            "name": "New Shop",
            "slug": "new-shop",
            "default_locale": "fr",
        },
        _by(Store, slug="new-shop"),
        lambda row: row.merchant_id,
        lambda row: row.name,
    ),
    Case(
        "storedomain",
        StoreDomain,
        BOTH,
        frozenset({MA}),
        lambda w, foreign: {
            "store": str((w.store_c if foreign else w.store_b).id),
            "host": "new-shop.example.lu",
        },
        _by(StoreDomain, host="new-shop.example.lu"),
        lambda row: row.store.merchant_id,
        lambda row: row.host,
    ),
    Case(
        "customer",
        Customer,
        BOTH,
        BOTH,
        lambda w, foreign: {
            "merchant": str((w.theirs if foreign else w.mine).id),
            "first_name": "Nina",
            "last_name": "Neu",
            "email": "nina@example.lu",
            "preferred_locale": "lb",
        },
        _by(Customer, email="nina@example.lu"),
        lambda row: row.merchant_id,
        lambda row: row.email,
    ),
    Case(
        "staffuser",
        StaffUser,
        frozenset({MA}),
        frozenset({MA}),
        lambda w, foreign: {
            "merchant": str((w.theirs if foreign else w.mine).id),
            "stores": str((w.store_c if foreign else w.store_b).id),
            "role": "store_staff",
            "email": "new.staff@example.lu",
            "password": "a long enough password",
            "is_active_user": "y",
        },
        _by(StaffUser, email="new.staff@example.lu"),
        lambda row: row.merchant_id,
        lambda row: row.email,
    ),
    # Nobody adds or edits a suppression by hand; lifting one (delete) is tested below.
    Case(
        "emailsuppression",
        EmailSuppression,
        BOTH,
        frozenset(),
        lambda w, foreign: {
            "merchant": str((w.theirs if foreign else w.mine).id),
            "address": "planted@example.lu",
        },
        _by(EmailSuppression, address="planted@example.lu"),
        lambda row: row.merchant_id,
        lambda row: row.address,
    ),
    # Read-only for everyone: merchant admins read their merchant's rows, store staff nothing.
    Case(
        "auditlog",
        AuditLog,
        frozenset({MA}),
        frozenset(),
        lambda w, foreign: {
            "merchant_id": str((w.theirs if foreign else w.mine).id),
            "action": "planted",
            "actor_email": "planted@example.lu",
        },
        _by(AuditLog, actor_email="planted@example.lu"),
        lambda row: row.merchant_id,
        lambda row: row.actor_email,
    ),
]
ROLES = ["merchant_admin", "store_staff"]


def _params() -> list[Any]:
    return [
        pytest.param(case, role, id=f"{case.endpoint}-{role}") for case in CASES for role in ROLES
    ]


@pytest.fixture
def as_role(request, login_as):
    def login(role: str) -> Any:
        return login_as(request.getfixturevalue(role))

    return login


def _readable(case: Case, role: str) -> bool:
    return StaffRole(role) in case.readers


def _writable(case: Case, role: str) -> bool:
    return StaffRole(role) in case.writers


@pytest.mark.parametrize(("case", "role"), _params())
def test_list_export_and_filters_hold_only_own_rows(case, role, world, as_role):
    client = as_role(role)
    page = client.get(f"/admin/{case.endpoint}/")
    # The export streams: buffered reads it while the request's context is still there.
    export = client.get(f"/admin/{case.endpoint}/export/csv/", buffered=True)
    if not _readable(case, role):
        assert page.status_code == export.status_code == 403
        return
    assert page.status_code == export.status_code == 200
    own = case.shown(world.rows[case.endpoint][0])
    assert own in page.text
    assert FOREIGN not in page.text
    assert own in export.text
    assert FOREIGN not in export.text
    groups = re.search(r'id="filter-groups-data" class="d-none">(.*?)</div>', page.text)
    if groups:
        options = json.dumps(json.loads(groups.group(1)))
        assert FOREIGN not in options


@pytest.mark.parametrize(("case", "role"), _params())
def test_foreign_row_is_404_in_details_edit_and_delete(case, role, world, as_role, session):
    client = as_role(role)
    foreign = world.rows[case.endpoint][1]
    foreign_id, model = foreign.id, type(foreign)
    details = client.get(f"/admin/{case.endpoint}/details/?id={foreign_id}")
    edit = client.get(f"/admin/{case.endpoint}/edit/?id={foreign_id}")
    if not _readable(case, role):
        assert details.status_code == edit.status_code == 403
    else:
        assert details.status_code == 404
        # A read-only user is sent back to the list before any lookup.
        assert edit.status_code == (404 if _writable(case, role) else 302)
    client.post(f"/admin/{case.endpoint}/edit/?id={foreign_id}", data={"name": "Hijacked"})
    client.post(f"/admin/{case.endpoint}/delete/", data={"id": str(foreign_id)})
    client.post(
        f"/admin/{case.endpoint}/action/", data={"action": "delete", "rowid": str(foreign_id)}
    )
    session.expire_all()
    assert session.get(model, foreign_id) is not None
    assert "Hijacked" not in str(session.get(model, foreign_id))


@pytest.mark.parametrize(("case", "role"), _params())
def test_own_row_details_and_bulk_delete(case, role, world, as_role, session):
    client = as_role(role)
    own = world.rows[case.endpoint][0]
    own_id, model = own.id, type(own)
    details = client.get(f"/admin/{case.endpoint}/details/?id={own_id}")
    if not _readable(case, role):
        assert details.status_code == 403
        return
    assert details.status_code == 200
    if case.endpoint != "customer" or role != "store_staff":
        return
    # Store staff may edit customers but not delete them, alone or in bulk.
    client.post(f"/admin/{case.endpoint}/action/", data={"action": "delete", "rowid": own_id})
    client.post(f"/admin/{case.endpoint}/delete/", data={"id": str(own_id)})
    session.expire_all()
    assert session.get(model, own_id) is not None


@pytest.mark.parametrize(("case", "role"), _params())
def test_create_form_offers_only_own_choices_and_refuses_foreign_ids(
    case, role, world, as_role, session
):
    client = as_role(role)
    form = client.get(f"/admin/{case.endpoint}/new/")
    response = client.post(f"/admin/{case.endpoint}/new/", data=case.new_row(world, True))
    session.expire_all()
    created = case.created(session)
    assert created is None or case.owner(created) == world.mine.id
    if not _writable(case, role):
        assert form.status_code in (302, 403)
        assert created is None
        return
    assert form.status_code == 200
    assert FOREIGN not in form.text
    # Refused with the form shown again ("Not a valid choice", or the service's rule for an
    # optional field whose foreign value reads as empty).
    assert response.status_code == 200
    assert "is-invalid" in response.text
    assert created is None


@pytest.mark.parametrize(("case", "role"), _params())
def test_created_row_belongs_to_the_users_merchant(case, role, world, as_role, session):
    if not _writable(case, role):
        return
    client = as_role(role)
    response = client.post(f"/admin/{case.endpoint}/new/", data=case.new_row(world, False))
    assert response.status_code == 302, response.text
    session.expire_all()
    created = case.created(session)
    assert created is not None
    assert case.owner(created) == world.mine.id


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.endpoint)
def test_platform_admin_sees_every_merchants_rows(case, world, login_as, platform_admin):
    client = login_as(platform_admin)
    page = client.get(f"/admin/{case.endpoint}/")
    own, foreign = world.rows[case.endpoint]
    assert case.shown(own) in page.text
    assert case.shown(foreign) in page.text
    assert client.get(f"/admin/{case.endpoint}/details/?id={foreign.id}").status_code == 200


def test_store_staff_sees_only_their_stores(world, login_as, store_staff):
    client = login_as(store_staff)
    page = client.get("/admin/store/")
    assert "Kirchberg" in page.text
    assert "Belair" not in page.text
    assert client.get(f"/admin/store/details/?id={world.store_b.id}").status_code == 404


def test_every_tenancy_view_is_covered():
    from admin_views.tenancy import VIEWS

    tenancy = {endpoint for _, _, endpoint, _, _ in VIEWS}
    assert tenancy | {"emailsuppression", "auditlog"} == {case.endpoint for case in CASES}


def test_merchant_admin_lifts_own_suppression_only(world, login_as, merchant_admin, session):
    own, foreign = world.rows["emailsuppression"]
    own_id, foreign_id = own.id, foreign.id
    client = login_as(merchant_admin)
    page = client.get("/admin/emailsuppression/")
    assert "alice.bounce@example.lu" in page.text
    for row_id in (foreign_id, own_id):
        client.post("/admin/emailsuppression/delete/", data={"id": str(row_id)})
    session.expire_all()
    assert session.get(EmailSuppression, own_id) is None
    assert session.get(EmailSuppression, foreign_id) is not None


def test_store_staff_cannot_lift_a_suppression(world, login_as, store_staff, session):
    own_id = world.rows["emailsuppression"][0].id
    client = login_as(store_staff)
    assert client.get("/admin/emailsuppression/").status_code == 200
    client.post("/admin/emailsuppression/delete/", data={"id": str(own_id)})
    client.post("/admin/emailsuppression/action/", data={"action": "delete", "rowid": own_id})
    session.expire_all()
    assert session.get(EmailSuppression, own_id) is not None


def test_bulk_delete_removes_own_rows(world, login_as, merchant_admin, session):
    own, foreign = world.rows["customer"]
    own_id, foreign_id = own.id, foreign.id
    client = login_as(merchant_admin)
    response = client.post(
        "/admin/customer/action/",
        data={"action": "delete", "rowid": [str(own_id), str(foreign_id)]},
    )
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Customer, own_id) is None
    assert session.get(Customer, foreign_id) is not None

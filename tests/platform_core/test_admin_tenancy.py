"""Tenancy admin behaviour beyond scoping: staff accounts, host names, customer emails,
read-only merchants, labels and the home page."""

from __future__ import annotations

import pytest

from platform_core.customers.models import Customer
from platform_core.staff.models import StaffRole
from platform_core.staff.services import authenticate, get_staff_user_by_email
from platform_core.tenancy.models import StoreDomain
from tests.factories import STAFF_PASSWORD

NEW_PASSWORD = "another long password"


def _staff_form(**overrides):
    data = {
        "email": "new.person@example.lu",
        "full_name": "New Person",
        "role": "store_staff",
        "password": NEW_PASSWORD,
        "is_active_user": "y",
    }
    data.update(overrides)
    return data


def test_merchant_admin_creates_store_staff_with_hashed_password(
    client, login_as, merchant_admin, dummy_store, session
):
    login_as(merchant_admin)
    form = client.get("/admin/staffuser/new/").text
    assert 'value="platform_admin"' not in form
    response = client.post(
        "/admin/staffuser/new/",
        data=_staff_form(merchant=str(merchant_admin.merchant_id), stores=str(dummy_store.id)),
    )
    assert response.status_code == 302
    user = authenticate("new.person@example.lu", NEW_PASSWORD)
    assert user is not None
    assert user.password_hash.startswith("$argon2")
    assert user.stores == [dummy_store]


def test_merchant_admin_cannot_make_a_platform_admin(client, login_as, merchant_admin, session):
    login_as(merchant_admin)
    response = client.post(
        "/admin/staffuser/new/", data=_staff_form(role="platform_admin", merchant="")
    )
    assert response.status_code == 200
    assert get_staff_user_by_email("new.person@example.lu") is None


def test_store_staff_without_store_gets_the_rule_next_to_the_field(
    client, login_as, platform_admin, dummy_merchant, session
):
    login_as(platform_admin)
    response = client.post(
        "/admin/staffuser/new/", data=_staff_form(merchant=str(dummy_merchant.id))
    )
    assert response.status_code == 200
    assert "Store staff need at least one store." in response.text
    assert 'value="new.person@example.lu"' in response.text, "the form keeps what was typed"


def test_short_password_is_refused_in_the_admin(client, login_as, platform_admin, session):
    login_as(platform_admin)
    response = client.post(
        "/admin/staffuser/new/", data=_staff_form(role="platform_admin", password="short")
    )
    assert "at least 10 characters" in response.text
    assert get_staff_user_by_email("new.person@example.lu") is None


def test_edit_never_shows_the_hash_and_empty_password_keeps_it(
    client, login_as, platform_admin, merchant_admin, session
):
    login_as(platform_admin)
    old_hash = merchant_admin.password_hash
    edit = client.get(f"/admin/staffuser/edit/?id={merchant_admin.id}").text
    details = client.get(f"/admin/staffuser/details/?id={merchant_admin.id}").text
    assert "$argon2" not in edit
    assert "$argon2" not in details
    assert "Leave empty to keep the current password." in edit
    form = {
        "email": merchant_admin.email,
        "full_name": "Renamed",
        "role": "merchant_admin",
        "merchant": str(merchant_admin.merchant_id),
        "password": "",
        "is_active_user": "y",
    }
    assert (
        client.post(f"/admin/staffuser/edit/?id={merchant_admin.id}", data=form).status_code == 302
    )
    session.expire_all()
    assert merchant_admin.full_name == "Renamed"
    assert merchant_admin.password_hash == old_hash
    form["password"] = NEW_PASSWORD
    client.post(f"/admin/staffuser/edit/?id={merchant_admin.id}", data=form)
    session.expire_all()
    assert authenticate(merchant_admin.email, NEW_PASSWORD) is not None
    assert authenticate(merchant_admin.email, STAFF_PASSWORD) is None


def test_staff_list_shows_role_labels_and_names(client, login_as, platform_admin, store_staff):
    login_as(platform_admin)
    page = client.get("/admin/staffuser/").text
    assert "Store staff" in page
    assert "Platform administrator" in page
    assert "Kirchberg" in page  # the store by name, not by id


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (" Shop.Example.LU. ", "shop.example.lu"),
        ("hoffmann-gare.localhost", "hoffmann-gare.localhost"),
        ("café.lu", "xn--caf-dma.lu"),
    ],
)
def test_host_is_normalised(client, login_as, merchant_admin, dummy_store, session, typed, stored):
    login_as(merchant_admin)
    response = client.post(
        "/admin/storedomain/new/", data={"store": str(dummy_store.id), "host": typed}
    )
    assert response.status_code == 302
    assert session.query(StoreDomain).filter_by(host=stored).one().store_id == dummy_store.id


@pytest.mark.parametrize(
    "typed",
    [
        "https://shop.example.lu",
        "shop.example.lu:5000",
        "shop.example.lu/enroll",
        "-bad-.lu",
        "two words.lu",
        "",
    ],
)
def test_bad_hosts_are_refused_next_to_the_field(
    client, login_as, merchant_admin, dummy_store, session, typed
):
    login_as(merchant_admin)
    response = client.post(
        "/admin/storedomain/new/", data={"store": str(dummy_store.id), "host": typed}
    )
    assert response.status_code == 200
    assert "is-invalid" in response.text
    assert session.query(StoreDomain).count() == 0


def test_taken_host_is_refused(
    client, login_as, merchant_admin, dummy_store, create_store_domain, session
):
    create_store_domain(host="taken.example.lu")
    login_as(merchant_admin)
    response = client.post(
        "/admin/storedomain/new/", data={"store": str(dummy_store.id), "host": "TAKEN.example.lu"}
    )
    assert response.status_code == 200
    assert "already points to a store" in response.text


def test_duplicate_customer_email_is_a_clean_error(
    client, login_as, merchant_admin, create_customer, session
):
    create_customer(merchant=merchant_admin.merchant, email="anna@example.lu")
    login_as(merchant_admin)
    response = client.post(
        "/admin/customer/new/",
        data={
            "merchant": str(merchant_admin.merchant_id),
            "first_name": "Anna",
            "last_name": "Bis",
            "email": "Anna@Example.lu",
            "preferred_locale": "fr",
        },
    )
    assert response.status_code == 200
    assert "already has a customer with the email anna@example.lu" in response.text
    assert session.query(Customer).filter_by(last_name="Bis").count() == 0


def test_same_email_at_another_merchant_is_fine(
    client, login_as, merchant_admin, create_customer, session
):
    create_customer(email="anna@example.lu")  # another merchant's customer
    login_as(merchant_admin)
    response = client.post(
        "/admin/customer/new/",
        data={
            "merchant": str(merchant_admin.merchant_id),
            "first_name": "Anna",
            "last_name": "Bis",
            "email": "anna@example.lu",
            "preferred_locale": "lb",
        },
    )
    assert response.status_code == 302
    page = client.get("/admin/customer/").text
    assert "Lëtzebuergesch" in page


def test_merchants_are_read_only_for_merchant_admins(client, login_as, merchant_admin, session):
    login_as(merchant_admin)
    page = client.get("/admin/merchant/").text
    assert "Boulangerie Kirchberg" in page
    assert "/admin/merchant/new/" not in page
    client.post(
        f"/admin/merchant/edit/?id={merchant_admin.merchant_id}",
        data={"name": "Renamed", "slug": "x", "contact_email": "a@b.lu", "default_locale": "en"},
    )
    session.expire_all()
    assert merchant_admin.merchant.name == "Boulangerie Kirchberg"


@pytest.mark.parametrize(
    ("role", "sees", "hidden"),
    [
        ("platform_admin", ["Merchants", "Staff users"], []),
        ("merchant_admin", ["Stores", "Staff users", "Customers"], []),
        ("store_staff", ["Customers"], ["Staff users"]),
    ],
)
def test_home_page_tells_what_the_user_can_do(
    client, login_as, request, dummy_store, role, sees, hidden
):
    user = request.getfixturevalue(role)
    login_as(user)
    page = client.get("/admin/").text
    assert f"You are logged in as {StaffRole(role).label}." in page
    for text in sees:
        assert text in page
    for text in hidden:
        assert f">{text}<" not in page
    if role == "store_staff":
        assert "Kirchberg" in page  # the stores they work in


def test_store_edit_keeps_its_own_slug_and_domain_its_host(
    client, login_as, merchant_admin, dummy_store, create_store_domain, session
):
    domain = create_store_domain(store=dummy_store, host="kirchberg.example.lu")
    login_as(merchant_admin)
    response = client.post(
        f"/admin/store/edit/?id={dummy_store.id}",
        data={
            "merchant": str(dummy_store.merchant_id),
            "name": "Kirchberg Centre",
            "slug": "kirchberg",
            "address": "",
            "default_locale": "lb",
        },
    )
    assert response.status_code == 302
    response = client.post(
        f"/admin/storedomain/edit/?id={domain.id}",
        data={"store": str(dummy_store.id), "host": "kirchberg.example.lu"},
    )
    assert response.status_code == 302
    session.expire_all()
    assert dummy_store.name == "Kirchberg Centre"

"""The cards console: scoped list, search, filters, details, export; balances read-only."""

from __future__ import annotations

import pytest

from loyalty.models import LoyaltyCard
from tests.loyalty.console_world import World, build_world, filter_options

URL = "/admin/loyaltycard/"


@pytest.fixture
def world(dummy_merchant, dummy_store, create_store, create_merchant, create_staff_user):
    return build_world(
        dummy_merchant,
        dummy_store,
        {"store": create_store, "merchant": create_merchant, "staff": create_staff_user},
    )


def test_merchant_admin_lists_only_own_cards(client, login_as, merchant_admin, world: World):
    login_as(merchant_admin)
    page = client.get(URL)
    assert page.status_code == 200
    assert "anna.muller@example.lu" in page.text
    assert "bob.schmit@example.lu" in page.text
    assert "zoe.rouge@example.lu" not in page.text
    # One merchant: no merchant column for merchant users.
    assert "Café Rouge" not in page.text


def test_store_staff_sees_the_merchant_cards_but_not_another_merchant(
    client, login_as, store_staff, world: World
):
    login_as(store_staff)
    page = client.get(URL)
    assert page.status_code == 200
    assert "Anna" in page.text
    assert "Bob" in page.text
    assert "Zoe" not in page.text


def test_platform_admin_sees_every_card_with_its_merchant(
    client, login_as, platform_admin, world: World
):
    login_as(platform_admin)
    page = client.get(URL)
    assert "anna.muller@example.lu" in page.text
    assert "zoe.rouge@example.lu" in page.text
    assert "Café Rouge" in page.text


@pytest.mark.parametrize("who", ["merchant_admin", "store_staff"])
def test_another_merchants_card_is_not_found(client, login_as, request, who, world: World):
    login_as(request.getfixturevalue(who))
    other = world.other_card.id
    assert client.get(f"{URL}details/?id={other}").status_code == 404
    if who == "merchant_admin":
        assert client.get(f"{URL}edit/?id={other}").status_code == 404
        response = client.post(f"{URL}edit/?id={other}", data={"is_active": ""})
        assert response.status_code == 404


def test_search_by_number_email_and_name(client, login_as, merchant_admin, world: World):
    login_as(merchant_admin)
    by_email = client.get(URL, query_string={"search": "bob.schmit"})
    assert "Bob" in by_email.text
    assert "Anna" not in by_email.text
    by_name = client.get(URL, query_string={"search": "muller"})
    assert "Anna" in by_name.text
    assert "Bob" not in by_name.text
    by_number = client.get(URL, query_string={"search": world.card.card_number[:8]})
    assert "Anna" in by_number.text
    # Another merchant's customer is never a search hit.
    assert "Zoe" not in client.get(URL, query_string={"search": "zoe"}).text


def test_filters_offer_only_own_stores(client, login_as, merchant_admin, store_staff, world: World):
    login_as(merchant_admin)
    page = client.get(URL)
    assert filter_options(page.text, "Enrolled at") == ["Belair", "Kirchberg"]
    assert filter_options(page.text, "Merchant") == ["Boulangerie Kirchberg"]
    filtered = client.get(URL, query_string={"flt0_2": str(world.second_store.id)})
    assert "Bob" in filtered.text
    assert "Anna" not in filtered.text
    # A foreign store id as filter value finds nothing of the other merchant.
    foreign = client.get(URL, query_string={"flt0_2": str(world.other_store.id)})
    assert "Zoe" not in foreign.text


def test_store_staff_filter_lists_only_their_stores(client, login_as, store_staff, world: World):
    login_as(store_staff)
    page = client.get(URL)
    assert filter_options(page.text, "Enrolled at") == ["Kirchberg"]


def test_platform_admin_filter_lists_every_store(client, login_as, platform_admin, world: World):
    login_as(platform_admin)
    options = filter_options(client.get(URL).text, "Enrolled at")
    assert {"Belair", "Kirchberg", "Rouge Centre"} <= set(options)


def test_details_show_totals_and_recent_ledger(client, login_as, merchant_admin, world: World):
    login_as(merchant_admin)
    page = client.get(f"{URL}details/?id={world.card.id}")
    assert page.status_code == 200
    assert "Points earned" in page.text
    assert "Recent transactions" in page.text
    assert "+40" in page.text
    assert "€40.00" in page.text


def test_csv_export_is_scoped(client, login_as, merchant_admin, world: World):
    login_as(merchant_admin)
    response = client.get(f"{URL}export/csv/")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "anna.muller@example.lu" in body
    assert "zoe.rouge@example.lu" not in body
    assert "Card number" in body.splitlines()[0]


def test_edit_changes_only_the_active_flag(client, login_as, merchant_admin, session, world: World):
    login_as(merchant_admin)
    response = client.post(
        f"{URL}edit/?id={world.card.id}",
        data={"is_active": "", "points_balance": "999999", "stamp_count": "99"},
    )
    assert response.status_code == 302
    card = session.get(LoyaltyCard, world.card.id)
    session.refresh(card)
    assert card.is_active is False
    assert card.points_balance == 40
    assert card.stamp_count == 0


def test_console_cannot_create_or_delete_cards(
    client, login_as, merchant_admin, session, world: World
):
    login_as(merchant_admin)
    assert client.get(f"{URL}new/").status_code == 302
    client.post(f"{URL}delete/", data={"id": str(world.card.id)})
    assert session.get(LoyaltyCard, world.card.id) is not None


def test_store_staff_cannot_edit_cards(client, login_as, store_staff, session, world: World):
    login_as(store_staff)
    assert client.get(f"{URL}edit/?id={world.card.id}").status_code == 302
    client.post(f"{URL}edit/?id={world.card.id}", data={"is_active": ""})
    card = session.get(LoyaltyCard, world.card.id)
    session.refresh(card)
    assert card.is_active is True

"""The ledger console: read-only, scoped to the merchant (store staff: their stores)."""

from __future__ import annotations

import pytest

from loyalty.models import LoyaltyTransaction
from tests.loyalty.console_world import World, build_world, filter_options

URL = "/admin/loyaltytransaction/"


@pytest.fixture
def world(dummy_merchant, dummy_store, create_store, create_merchant, create_staff_user):
    return build_world(
        dummy_merchant,
        dummy_store,
        {"store": create_store, "merchant": create_merchant, "staff": create_staff_user},
    )


def _number(card) -> str:
    return " ".join(card.card_number[i : i + 4] for i in range(0, 16, 4))


def test_merchant_admin_sees_all_own_stores_rows(client, login_as, merchant_admin, world: World):
    login_as(merchant_admin)
    page = client.get(URL)
    assert page.status_code == 200
    assert _number(world.card) in page.text
    assert _number(world.second_card) in page.text
    assert _number(world.other_card) not in page.text
    assert "€40.00" in page.text
    assert "Points earned" in page.text


def test_store_staff_sees_only_rows_of_their_stores(client, login_as, store_staff, world: World):
    login_as(store_staff)
    page = client.get(URL)
    assert _number(world.card) in page.text
    assert _number(world.second_card) not in page.text
    assert _number(world.other_card) not in page.text
    assert client.get(f"{URL}details/?id={world.earn_there.id}").status_code == 404
    assert client.get(f"{URL}details/?id={world.earn_here.id}").status_code == 200


@pytest.mark.parametrize("who", ["merchant_admin", "store_staff"])
def test_another_merchants_row_is_not_found(client, login_as, request, who, world: World):
    login_as(request.getfixturevalue(who))
    assert client.get(f"{URL}details/?id={world.other_earn.id}").status_code == 404


def test_platform_admin_sees_every_row(client, login_as, platform_admin, world: World):
    login_as(platform_admin)
    page = client.get(URL)
    assert _number(world.card) in page.text
    assert _number(world.other_card) in page.text


def test_ledger_is_read_only(client, login_as, platform_admin, session, world: World):
    login_as(platform_admin)
    row_id = world.earn_here.id
    assert client.get(f"{URL}new/").status_code == 302
    assert client.get(f"{URL}edit/?id={row_id}").status_code == 302
    response = client.post(f"{URL}edit/?id={row_id}", data={"points_delta": "5000"})
    assert response.status_code == 302
    client.post(f"{URL}delete/", data={"id": str(row_id)})
    client.post(f"{URL}action/", data={"action": "delete", "rowid": [str(row_id)]})
    row = session.get(LoyaltyTransaction, row_id)
    session.refresh(row)
    assert row.points_delta == 40
    page = client.get(URL)
    assert f"{URL}edit/" not in page.text
    assert 'value="delete"' not in page.text


def test_type_filter_has_localized_labels_and_filters(
    client, login_as, merchant_admin, world: World
):
    login_as(merchant_admin)
    page = client.get(URL)
    types = filter_options(page.text, "Type")
    assert "Points earned" in types
    assert "Stamp reward redeemed" in types
    assert "earn" not in types  # labels, not raw values
    earn_only = client.get(URL, query_string={"flt0_0": "earn"})
    assert _number(world.card) in earn_only.text
    none = client.get(URL, query_string={"flt0_0": "redeem"})
    assert _number(world.card) not in none.text


def test_store_filter_options_and_results_are_scoped(
    client, login_as, merchant_admin, store_staff, world: World
):
    login_as(merchant_admin)
    page = client.get(URL)
    assert filter_options(page.text, "Store") == ["Belair", "Kirchberg"]
    by_store = client.get(URL, query_string={"flt0_1": str(world.second_store.id)})
    assert _number(world.second_card) in by_store.text
    assert _number(world.card) not in by_store.text
    login_as(store_staff)
    assert filter_options(client.get(URL).text, "Store") == ["Kirchberg"]
    # Another store's id as filter value shows nothing from it.
    other = client.get(URL, query_string={"flt0_1": str(world.second_store.id)})
    assert _number(world.second_card) not in other.text


def test_date_range_filter(client, login_as, merchant_admin, world: World):
    login_as(merchant_admin)
    inside = client.get(URL, query_string={"flt0_2": "2000-01-01 00:00:00 to 2999-12-31 23:59:59"})
    assert _number(world.card) in inside.text
    outside = client.get(URL, query_string={"flt0_2": "2000-01-01 00:00:00 to 2000-12-31 23:59:59"})
    assert _number(world.card) not in outside.text


def test_csv_export_is_scoped_and_readable(client, login_as, store_staff, world: World):
    login_as(store_staff)
    response = client.get(f"{URL}export/csv/")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    header = body.splitlines()[0]
    assert "Card number" in header
    assert "Balance after" in header
    assert _number(world.card) in body
    assert _number(world.second_card) not in body
    assert _number(world.other_card) not in body
    assert "Points earned" in body


def test_amounts_and_dates_follow_the_users_language(
    client, login_as, merchant_admin, world: World
):
    login_as(merchant_admin)
    page = client.get(URL, query_string={"lang": "de"})
    assert "40,00\xa0€" in page.text
    assert "€40.00" not in page.text

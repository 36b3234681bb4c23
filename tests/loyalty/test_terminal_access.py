"""Who may use the store terminal where: stores and cards outside the user's reach are 404."""

from __future__ import annotations

import pytest

from tests.loyalty.console_world import World, build_world

URL = "/admin/terminal/"


@pytest.fixture
def world(dummy_merchant, dummy_store, create_store, create_merchant, create_staff_user):
    return build_world(
        dummy_merchant,
        dummy_store,
        {"store": create_store, "merchant": create_merchant, "staff": create_staff_user},
    )


def test_anonymous_is_sent_to_login(client, world: World):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_store_staff_with_one_store_goes_straight_to_it(
    client, login_as, store_staff, world: World
):
    login_as(store_staff)
    response = client.get(URL)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{URL}{world.store.id}/")


def test_merchant_admin_chooses_among_own_stores(client, login_as, merchant_admin, world: World):
    login_as(merchant_admin)
    page = client.get(URL)
    assert page.status_code == 200
    assert "Kirchberg" in page.text
    assert "Belair" in page.text
    assert "Rouge Centre" not in page.text
    assert client.get(f"{URL}{world.second_store.id}/").status_code == 200


def test_platform_admin_may_use_any_store(client, login_as, platform_admin, world: World):
    login_as(platform_admin)
    page = client.get(URL)
    assert "Rouge Centre" in page.text
    assert "Kirchberg" in page.text
    card_page = client.get(f"{URL}{world.other_store.id}/cards/{world.other_card.id}/")
    assert card_page.status_code == 200


def test_store_staff_using_another_store_gets_404(
    client, login_as, store_staff, session, world: World
):
    login_as(store_staff)
    other_store = world.second_store.id
    assert client.get(f"{URL}{other_store}/").status_code == 404
    assert client.get(f"{URL}{other_store}/cards/{world.card.id}/").status_code == 404
    response = client.post(
        f"{URL}{other_store}/cards/{world.card.id}/earn/",
        data={"points": "10", "idempotency_key": "k1", "confirmed": "1"},
    )
    assert response.status_code == 404
    assert client.get(f"{URL}{other_store}/enroll/").status_code == 404
    assert world.card.points_balance == 40


@pytest.mark.parametrize("who", ["merchant_admin", "store_staff"])
def test_another_merchants_card_or_store_is_404(client, login_as, request, who, world: World):
    login_as(request.getfixturevalue(who))
    here = world.store.id
    assert client.get(f"{URL}{world.other_store.id}/").status_code == 404
    assert client.get(f"{URL}{here}/cards/{world.other_card.id}/").status_code == 404
    response = client.post(
        f"{URL}{here}/cards/{world.other_card.id}/earn/",
        data={"points": "10", "idempotency_key": "k2", "confirmed": "1"},
    )
    assert response.status_code == 404
    void_url = f"{URL}{here}/cards/{world.card.id}/void/{world.other_earn.id}/"
    assert client.get(void_url).status_code == 404
    assert client.get(f"{URL}{here}/cards/999999/").status_code == 404


def test_store_staff_cannot_void_another_stores_row(client, login_as, store_staff, world: World):
    login_as(store_staff)
    # A row of the merchant's other store, reached through a card of this merchant.
    url = f"{URL}{world.store.id}/cards/{world.second_card.id}/void/{world.earn_there.id}/"
    assert client.get(url).status_code == 404


def test_search_finds_only_the_stores_merchant_cards(client, login_as, store_staff, world: World):
    login_as(store_staff)
    page = client.get(f"{URL}{world.store.id}/", query_string={"q": "example.lu"})
    assert page.status_code == 200
    assert "Anna Muller" in page.text
    assert "Bob Schmit" in page.text
    assert "Zoe" not in page.text
    by_name = client.get(f"{URL}{world.store.id}/", query_string={"q": "anna muller"})
    assert "Bob Schmit" not in by_name.text
    assert "Anna Muller" in by_name.text


def test_full_card_number_opens_the_card(client, login_as, store_staff, world: World):
    login_as(store_staff)
    spaced = " ".join(world.card.card_number[i : i + 4] for i in range(0, 16, 4))
    response = client.get(f"{URL}{world.store.id}/", query_string={"q": spaced})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cards/{world.card.id}/")
    missing = client.get(
        f"{URL}{world.store.id}/", query_string={"q": world.other_card.card_number}
    )
    assert "No card matches" in missing.text

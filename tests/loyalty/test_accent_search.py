"""Every search ignores accents and case: the console lists and the terminal.

"ines" finds "Inês", "goncalves" finds "Gonçalves", "muller" finds "Müller", and a name
typed with its accents still finds one stored without. Tenancy holds: another merchant's
customer with the same name is never a hit. ``%`` and ``_`` are plain characters.
"""

from __future__ import annotations

import pytest

from loyalty.models import LoyaltyCard
from loyalty.services.cards import find_cards
from loyalty.services.enrollment import EnrollmentData, enroll_customer
from platform_core.staff.models import StaffRole
from platform_core.tenancy.models import Store
from tests.loyalty.console_world import World, build_world

CUSTOMERS = "/admin/customer/"
CARDS = "/admin/loyaltycard/"
STAFF = "/admin/staffuser/"
MERCHANTS = "/admin/merchant/"
STORES = "/admin/store/"


def _enroll(store: Store, first: str, last: str, email: str) -> LoyaltyCard:
    data = EnrollmentData(
        email=email,
        first_name=first,
        last_name=last,
        locale="en",
        marketing_consent=False,
        accept_terms=True,
    )
    return enroll_customer(store, data, source="console").card


@pytest.fixture
def world(dummy_merchant, dummy_store, create_store, create_merchant, create_staff_user):
    world = build_world(
        dummy_merchant,
        dummy_store,
        {"store": create_store, "merchant": create_merchant, "staff": create_staff_user},
    )
    # Anna Muller (no accent) and Bob Schmit are the world's; these have accents.
    _enroll(world.store, "Inês", "Gonçalves", "ines.g@example.lu")
    _enroll(world.store, "Jürgen", "Müller", "jurgen.m@example.lu")
    _enroll(world.store, "JOSÉ", "François", "jf@example.lu")
    # The same name at the other merchant: never a hit for this merchant's staff.
    _enroll(world.other_store, "Inês", "Gonçalves", "ines.rouge@example.lu")
    return world


def _search(client, url: str, term: str) -> str:
    response = client.get(url, query_string={"search": term})
    assert response.status_code == 200
    return response.text


# --- customers ---------------------------------------------------------------------------
@pytest.mark.parametrize("term", ["ines", "INES", "goncalves", "Gonçalves", "inês gonçalves"])
def test_customer_list_finds_accented_names(client, login_as, merchant_admin, world, term):
    login_as(merchant_admin)
    page = _search(client, CUSTOMERS, term)
    assert "ines.g@example.lu" in page
    assert "anna.muller@example.lu" not in page
    # Tenancy: the other merchant's Inês Gonçalves stays out of a merchant admin's list.
    assert "ines.rouge@example.lu" not in page


def test_customer_search_without_accents_finds_both_spellings(
    client, login_as, merchant_admin, world
):
    login_as(merchant_admin)
    for term in ("muller", "MÜLLER", "Muller"):
        page = _search(client, CUSTOMERS, term)
        assert "anna.muller@example.lu" in page, term  # stored without an accent
        assert "jurgen.m@example.lu" in page, term  # stored with one
        assert "bob.schmit@example.lu" not in page, term


def test_customer_search_words_must_all_match(client, login_as, merchant_admin, world):
    login_as(merchant_admin)
    page = _search(client, CUSTOMERS, "jose francois")
    assert "jf@example.lu" in page
    page = _search(client, CUSTOMERS, "jose muller")
    assert "jf@example.lu" not in page
    assert "jurgen.m@example.lu" not in page


def test_platform_admin_finds_both_merchants_customers(client, login_as, platform_admin, world):
    login_as(platform_admin)
    page = _search(client, CUSTOMERS, "goncalves")
    assert "ines.g@example.lu" in page
    assert "ines.rouge@example.lu" in page


def test_like_wildcards_in_the_term_are_plain_characters(
    client, login_as, merchant_admin, create_customer, world
):
    create_customer(
        merchant=world.merchant, first_name="Bio", last_name="50%", email="a_b@example.lu"
    )
    create_customer(
        merchant=world.merchant, first_name="Bio", last_name="500", email="axb@example.lu"
    )
    login_as(merchant_admin)
    page = _search(client, CUSTOMERS, "a_b")
    assert "a_b@example.lu" in page
    assert "axb@example.lu" not in page
    page = _search(client, CUSTOMERS, "50%")
    assert "a_b@example.lu" in page
    assert "axb@example.lu" not in page
    page = _search(client, CUSTOMERS, "%")
    assert "a_b@example.lu" in page
    assert "anna.muller@example.lu" not in page


def test_prefix_and_exact_searches_ignore_accents(client, login_as, merchant_admin, world):
    login_as(merchant_admin)
    assert "ines.g@example.lu" in _search(client, CUSTOMERS, "^INE")
    assert "ines.g@example.lu" not in _search(client, CUSTOMERS, "^nes")
    assert "ines.g@example.lu" in _search(client, CUSTOMERS, "=goncalves")
    assert "ines.g@example.lu" not in _search(client, CUSTOMERS, "=goncalve")


# --- cards -------------------------------------------------------------------------------
@pytest.mark.parametrize("term", ["ines", "goncalves", "ines goncalves", "INÊS"])
def test_card_list_finds_accented_names(client, login_as, merchant_admin, world, term):
    login_as(merchant_admin)
    page = _search(client, CARDS, term)
    assert "ines.g@example.lu" in page
    assert "anna.muller@example.lu" not in page
    assert "ines.rouge@example.lu" not in page


def test_card_list_search_keeps_accents_free_names_and_numbers(
    client, login_as, store_staff, world
):
    login_as(store_staff)
    page = _search(client, CARDS, "muller")
    assert "anna.muller@example.lu" in page
    assert "jurgen.m@example.lu" in page
    assert "ines.rouge@example.lu" not in _search(client, CARDS, "ines")
    assert "anna.muller@example.lu" in _search(client, CARDS, world.card.card_number[:8])
    assert "jurgen.m@example.lu" not in _search(client, CARDS, "mu_ler")


# --- terminal ----------------------------------------------------------------------------
def test_terminal_finds_accented_names(world: World) -> None:
    def emails(term: str, merchant_id: int = world.merchant.id) -> set[str]:
        return {card.customer.email for card in find_cards(merchant_id, term)}

    assert emails("muller") == {"anna.muller@example.lu", "jurgen.m@example.lu"}
    assert emails("Müller") == {"anna.muller@example.lu", "jurgen.m@example.lu"}
    assert emails("jurgen muller") == {"jurgen.m@example.lu"}
    assert emails("anna muller") == {"anna.muller@example.lu"}
    assert emails("ines") == {"ines.g@example.lu"}
    assert emails("INES GONCALVES") == {"ines.g@example.lu"}
    assert emails("jose") == {"jf@example.lu"}
    assert emails("francois") == {"jf@example.lu"}
    assert emails("mu%er") == set()
    assert emails("mu_ler") == set()
    assert emails("ines", world.other_merchant.id) == {"ines.rouge@example.lu"}
    assert find_cards(world.merchant.id, world.card.card_number[:8]) == [world.card]


def test_terminal_search_page(client, login_as, store_staff, world: World) -> None:
    login_as(store_staff)
    response = client.get(f"/admin/terminal/{world.store.id}/", query_string={"q": "muller"})
    assert response.status_code == 200
    assert "Müller" in response.text
    assert "Gonçalves" not in response.text


# --- other lists holding human text ------------------------------------------------------
def test_staff_merchant_and_store_lists_ignore_accents(
    client, login_as, platform_admin, create_staff_user, world
):
    create_staff_user(
        role=StaffRole.MERCHANT_ADMIN,
        merchant=world.merchant,
        email="francois.weber@merchant.example",
        full_name="François Wéber",
    )
    login_as(platform_admin)
    assert "francois.weber@merchant.example" in _search(client, STAFF, "francois weber")
    merchants = _search(client, MERCHANTS, "cafe")
    assert "cafe-rouge" in merchants
    assert "boulangerie-kirchberg" not in merchants
    assert "rouge-centre" in _search(client, STORES, "ROUGE")

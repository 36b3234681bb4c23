"""The terminal checks the ledger's rules before its confirmation page, says where the
stamps will stand, and its history labels stamp rows and voids for what they are."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from loyalty.errors import LoyaltyError
from loyalty.models import LoyaltyCard, LoyaltyTransaction, TransactionType
from loyalty.services import ledger
from loyalty.services.programs import get_settings
from platform_core.staff.models import StaffRole
from tests.loyalty.console_world import World, build_world

URL = "/admin/terminal/"


@pytest.fixture
def world(dummy_merchant, dummy_store, create_store, create_merchant, create_staff_user):
    return build_world(
        dummy_merchant,
        dummy_store,
        {"store": create_store, "merchant": create_merchant, "staff": create_staff_user},
    )


def _card_url(world: World, card: LoyaltyCard | None = None, store=None) -> str:
    return f"{URL}{(store or world.store).id}/cards/{(card or world.card).id}/"


def _rows(session, card: LoyaltyCard) -> int:
    return session.scalar(
        select(func.count())
        .select_from(LoyaltyTransaction)
        .where(LoyaltyTransaction.card_id == card.id)
    )


def _row_html(page: str, type_: str) -> str:
    match = re.search(rf'<tr data-testid="history-row" data-type="{type_}".*?</tr>', page, re.S)
    assert match, f"a {type_} row in the history"
    return match.group(0)


# -- redeem rules before the confirmation page ----------------------------------------


def test_redeeming_more_than_the_balance_is_refused_before_the_confirmation(
    client, login_as, store_staff, session, world: World
):
    login_as(store_staff)
    before = _rows(session, world.card)
    response = client.post(
        f"{_card_url(world)}redeem/",
        data={"points": "5000", "note": "big gift", "idempotency_key": "a" * 32},
    )
    text = html.unescape(response.text)
    assert response.status_code == 400
    assert "Please confirm" not in text
    assert "Balance afterwards" not in text
    assert "-4,960" not in text
    # Next to the field, and the form keeps what was typed.
    assert re.search(
        r'name="points".*?invalid-feedback[^>]*>Not enough points: the card has 40 points\.<',
        text,
        re.S,
    )
    assert 'value="5000"' in text
    assert 'value="big gift"' in text
    assert _rows(session, world.card) == before


def test_the_refusal_is_localized(client, login_as, store_staff, world: World):
    login_as(store_staff)
    response = client.post(
        f"{_card_url(world)}redeem/?lang=fr",
        data={"points": "5000", "idempotency_key": "b" * 32},
    )
    assert response.status_code == 400
    text = html.unescape(response.text).replace("\xa0", " ")
    assert "Points insuffisants : la carte a 40 points." in text


def test_the_merchants_minimum_is_checked_before_the_confirmation(
    client, login_as, store_staff, session, world: World
):
    get_settings(world.merchant.id).min_points_to_redeem = 30
    session.flush()
    login_as(store_staff)
    response = client.post(
        f"{_card_url(world)}redeem/", data={"points": "20", "idempotency_key": "c" * 32}
    )
    assert response.status_code == 400
    assert "At least 30 points must be redeemed at once." in response.text
    assert "Please confirm" not in response.text
    # Within the rules, the confirmation shows a balance that stays positive.
    ok = client.post(
        f"{_card_url(world)}redeem/", data={"points": "30", "idempotency_key": "c" * 32}
    )
    assert ok.status_code == 200
    assert "Please confirm" in ok.text
    assert re.search(r'data-testid="balance-after">10<', ok.text)


def test_cross_store_redemption_is_checked_before_the_confirmation(
    client, login_as, create_staff_user, session, world: World
):
    get_settings(world.merchant.id).cross_store_redemption = False
    session.flush()
    cashier = create_staff_user(
        role=StaffRole.STORE_STAFF, merchant=world.merchant, stores=[world.second_store]
    )
    login_as(cashier)
    url = _card_url(world, store=world.second_store)
    response = client.post(f"{url}redeem/", data={"points": "10", "idempotency_key": "d" * 32})
    assert response.status_code == 400
    assert "Points can only be redeemed in the store where the customer joined." in (
        html.unescape(response.text)
    )
    assert "Please confirm" not in response.text


def test_a_stamp_reward_that_is_not_ready_is_refused_before_the_confirmation(
    client, login_as, store_staff, world: World
):
    login_as(store_staff)
    response = client.post(f"{_card_url(world)}reward/", data={"idempotency_key": "e" * 32})
    assert response.status_code == 400
    assert "This card has no stamp reward ready to redeem." in response.text
    assert "Please confirm" not in response.text


@pytest.mark.parametrize(
    ("points", "minimum", "code"),
    [
        (41, 0, "insufficient_points"),
        (5000, 0, "insufficient_points"),
        (10, 20, "below_minimum_redeem"),
        (0, 0, "invalid_points"),
    ],
)
def test_check_redemption_refuses_what_redeem_points_refuses(
    world: World, points: int, minimum: int, code: str
):
    get_settings(world.merchant.id).min_points_to_redeem = minimum
    with pytest.raises(LoyaltyError) as checked:
        ledger.check_redemption(world.card, points, store=world.store)
    with pytest.raises(LoyaltyError) as redeemed:
        ledger.redeem_points(world.card, points, store=world.store)
    assert checked.value.code == redeemed.value.code == code


def test_check_redemption_passes_the_whole_balance(world: World):
    ledger.check_redemption(world.card, 40, store=world.store)


def test_a_retried_redemption_of_the_whole_balance_returns_the_first_row(world: World):
    # The balance is checked under the lock, after the key: a retry is no refusal.
    first = ledger.redeem_points(world.card, 40, store=world.store, idempotency_key="k" * 32)
    again = ledger.redeem_points(world.card, 40, store=world.store, idempotency_key="k" * 32)
    assert again.id == first.id
    assert world.card.points_balance == 0


# -- stamps afterwards ------------------------------------------------------------------


def test_the_stamp_confirmation_shows_the_stamps_afterwards(
    client, login_as, store_staff, world: World
):
    ledger.add_stamps(world.card, 3, store=world.store)
    login_as(store_staff)
    review = client.post(
        f"{_card_url(world)}stamps/", data={"count": "4", "idempotency_key": "f" * 32}
    )
    assert review.status_code == 200
    assert re.search(r'data-testid="stamps-after">2 of 5<', review.text)  # 3 + 4 = 5 + 2
    assert re.search(r'data-testid="rewards-earned">\+1 · A free croissant<', review.text)
    small = client.post(
        f"{_card_url(world)}stamps/", data={"count": "1", "idempotency_key": "0" * 32}
    )
    assert re.search(r'data-testid="stamps-after">4 of 5<', small.text)
    assert "rewards-earned" not in small.text


@pytest.mark.parametrize(
    ("now", "add", "after", "rewards"), [(0, 1, 1, 0), (4, 1, 0, 1), (3, 12, 0, 3), (2, 9, 1, 2)]
)
def test_stamps_after_is_what_add_stamps_does(world: World, now, add, after, rewards):
    if now:
        ledger.add_stamps(world.card, now, store=world.store)
    earned = world.card.stamp_rewards_earned
    assert ledger.stamps_after(world.card, add) == (after, rewards)
    ledger.add_stamps(world.card, add, store=world.store)
    assert (world.card.stamp_count, world.card.stamp_rewards_earned - earned) == (after, rewards)


# -- history ----------------------------------------------------------------------------


def test_a_stamp_row_shows_no_points_balance(client, login_as, store_staff, world: World):
    ledger.add_stamps(world.card, 2, store=world.store)
    login_as(store_staff)
    page = client.get(_card_url(world)).text
    stamp_row = _row_html(page, "stamp")
    assert re.search(r'data-testid="balance-after">–<', stamp_row)
    assert "+2" in stamp_row
    earn_row = _row_html(page, "earn")
    assert re.search(r'data-testid="balance-after">40<', earn_row)


def test_a_voided_redemption_is_marked_and_says_points_were_given_back(
    client, login_as, store_staff, world: World
):
    redeemed = ledger.redeem_points(world.card, 15, store=world.store)
    ledger.void_transaction(redeemed, staff_user=store_staff, store=world.store, reason="oops")
    login_as(store_staff)
    page = html.unescape(client.get(_card_url(world)).text)
    redeem_row = _row_html(page, "redeem")
    assert 'data-voided="1"' in redeem_row
    assert "Voided" in redeem_row
    assert "points given back" in redeem_row
    void_row = _row_html(page, "void")
    assert "Cancels: Points redeemed" in void_row
    assert "points given back" in void_row
    # The earn row was not voided: no mark.
    assert "Voided" not in _row_html(page, "earn")


def test_a_voided_earn_says_points_were_taken_back(client, login_as, store_staff, world: World):
    ledger.void_transaction(
        world.earn_here, staff_user=store_staff, store=world.store, reason="wrong card"
    )
    login_as(store_staff)
    page = html.unescape(client.get(_card_url(world)).text)
    earn_row = _row_html(page, "earn")
    assert "Voided" in earn_row
    assert "points taken back" in earn_row
    assert "points given back" not in page


def test_voided_ids_finds_only_voided_rows(world: World, store_staff):
    redeemed = ledger.redeem_points(world.card, 5, store=world.store, now=None)
    ledger.void_transaction(redeemed, staff_user=store_staff, store=world.store, reason="x")
    assert ledger.voided_ids([world.earn_here, redeemed]) == {redeemed.id}
    assert ledger.voided_ids([]) == set()
    assert TransactionType.VOID not in {world.earn_here.type, redeemed.type}
    assert world.card.points_balance == Decimal(40)

"""Store terminal operations: confirm, then record once; errors keep what was typed."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from loyalty.models import LoyaltyCard, LoyaltyTransaction, TransactionType
from loyalty.services.programs import get_settings, set_void_pin
from tests.loyalty.console_world import World, build_world

URL = "/admin/terminal/"


@pytest.fixture
def world(dummy_merchant, dummy_store, create_store, create_merchant, create_staff_user):
    return build_world(
        dummy_merchant,
        dummy_store,
        {"store": create_store, "merchant": create_merchant, "staff": create_staff_user},
    )


def _card_url(world: World) -> str:
    return f"{URL}{world.store.id}/cards/{world.card.id}/"


def _rows(session, card: LoyaltyCard) -> int:
    return session.scalar(
        select(func.count())
        .select_from(LoyaltyTransaction)
        .where(LoyaltyTransaction.card_id == card.id)
    )


def _key(html: str) -> str:
    match = re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]{32})"', html)
    assert match, "the form carries an idempotency key"
    return match.group(1)


def test_card_page_shows_customer_balance_stamps_and_history(
    client, login_as, store_staff, world: World
):
    login_as(store_staff)
    page = client.get(_card_url(world))
    assert page.status_code == 200
    assert "Anna Muller" in page.text
    assert 'data-testid="balance">40<' in page.text
    assert "0 of 5" in page.text
    assert "Points earned" in page.text  # the history row
    assert "€40.00" in page.text


def test_earn_asks_for_confirmation_then_records_and_shows_balance(
    client, login_as, store_staff, session, world: World
):
    login_as(store_staff)
    key = _key(client.get(_card_url(world)).text)
    before = _rows(session, world.card)
    review = client.post(
        f"{_card_url(world)}earn/",
        data={"amount": "12,50", "points": "", "note": "", "idempotency_key": key},
    )
    assert review.status_code == 200
    assert "Please confirm" in review.text
    assert "+12" in review.text  # 12.50 € at one point per euro
    assert "52" in review.text  # the balance afterwards
    assert _rows(session, world.card) == before  # nothing recorded yet
    confirm_data = {
        "amount": "12.50",
        "points": "",
        "note": "",
        "idempotency_key": key,
        "confirmed": "1",
    }
    done = client.post(f"{_card_url(world)}earn/", data=confirm_data, follow_redirects=True)
    assert done.status_code == 200
    assert "New balance: 52 points." in done.text
    assert 'data-testid="balance">52<' in done.text
    row = session.scalars(
        select(LoyaltyTransaction)
        .where(LoyaltyTransaction.card_id == world.card.id)
        .order_by(LoyaltyTransaction.id.desc())
    ).first()
    assert row.staff_user_id == store_staff.id
    assert row.store_id == world.store.id
    assert str(row.purchase_amount) == "12.50"


def test_double_submit_with_the_same_key_records_once(
    client, login_as, store_staff, session, world: World
):
    login_as(store_staff)
    before = _rows(session, world.card)
    data = {"points": "15", "amount": "", "idempotency_key": "a" * 32, "confirmed": "1"}
    first = client.post(f"{_card_url(world)}earn/", data=data)
    second = client.post(f"{_card_url(world)}earn/", data=data)
    assert first.status_code == 302
    assert second.status_code == 302
    assert _rows(session, world.card) == before + 1
    session.refresh(world.card)
    assert world.card.points_balance == 55


def test_earn_needs_exactly_one_of_amount_and_points(client, login_as, store_staff, world: World):
    login_as(store_staff)
    response = client.post(
        f"{_card_url(world)}earn/", data={"amount": "", "points": "", "idempotency_key": "b" * 32}
    )
    assert response.status_code == 400
    assert "Enter either the purchase amount or the number of points." in response.text
    typo = client.post(
        f"{_card_url(world)}earn/",
        data={"amount": "12 euros", "points": "", "idempotency_key": "b" * 32},
    )
    assert "Enter the amount in digits, such as 12.50 or 12,50 (no € sign)." in typo.text
    assert 'value="12 euros"' in typo.text


def test_redeeming_too_much_is_refused_and_keeps_the_input(
    client, login_as, store_staff, session, world: World
):
    login_as(store_staff)
    before = _rows(session, world.card)
    response = client.post(
        f"{_card_url(world)}redeem/",
        data={"points": "9999", "note": "big gift", "idempotency_key": "c" * 32, "confirmed": "1"},
    )
    assert response.status_code == 400
    assert "Not enough points: the card has 40 points." in response.text
    assert 'value="9999"' in response.text
    assert 'value="big gift"' in response.text
    assert _rows(session, world.card) == before


def test_redeem_points(client, login_as, store_staff, world: World):
    login_as(store_staff)
    review = client.post(
        f"{_card_url(world)}redeem/", data={"points": "25", "idempotency_key": "d" * 32}
    )
    assert "-25" in review.text
    done = client.post(
        f"{_card_url(world)}redeem/",
        data={"points": "25", "idempotency_key": "d" * 32, "confirmed": "1"},
        follow_redirects=True,
    )
    assert "New balance: 15 points." in done.text


def test_stamps_then_reward(client, login_as, store_staff, session, world: World):
    login_as(store_staff)
    done = client.post(
        f"{_card_url(world)}stamps/",
        data={"count": "5", "idempotency_key": "e" * 32, "confirmed": "1"},
        follow_redirects=True,
    )
    assert "Stamps added: +5 stamps." in done.text
    assert 'data-testid="reward-ready">' in done.text
    assert "Yes" in done.text
    reward = client.post(
        f"{_card_url(world)}reward/", data={"idempotency_key": "f" * 32}, follow_redirects=True
    )
    assert "A free croissant" in reward.text  # the confirmation names the reward
    client.post(f"{_card_url(world)}reward/", data={"idempotency_key": "f" * 32, "confirmed": "1"})
    session.refresh(world.card)
    assert world.card.stamp_rewards_redeemed == 1
    again = client.post(
        f"{_card_url(world)}reward/", data={"idempotency_key": "0" * 32, "confirmed": "1"}
    )
    assert "This card has no stamp reward ready to redeem." in again.text


def test_void_with_a_wrong_pin_is_refused(client, login_as, store_staff, session, world: World):
    settings = get_settings(world.merchant.id)
    settings.void_requires_pin = True
    set_void_pin(settings, "1234")
    login_as(store_staff)
    url = f"{_card_url(world)}void/{world.earn_here.id}/"
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="pin"' in page.text
    assert "-40" in page.text  # what will be taken back
    wrong = client.post(
        url, data={"pin": "9999", "reason": "wrong card", "idempotency_key": "1" * 32}
    )
    assert wrong.status_code == 400
    assert "The void PIN is incorrect." in wrong.text
    assert 'value="wrong card"' in wrong.text
    session.refresh(world.card)
    assert world.card.points_balance == 40
    right = client.post(
        url,
        data={"pin": "1234", "reason": "wrong card", "idempotency_key": "1" * 32},
        follow_redirects=True,
    )
    assert "New balance: 0 points." in right.text
    void = session.scalar(
        select(LoyaltyTransaction).where(
            LoyaltyTransaction.voided_transaction_id == world.earn_here.id
        )
    )
    assert void.type is TransactionType.VOID
    assert void.note == "wrong card"
    # A voided row offers no second void.
    assert f"void/{world.earn_here.id}/" not in right.text


def test_void_needs_a_reason(client, login_as, store_staff, world: World):
    login_as(store_staff)
    url = f"{_card_url(world)}void/{world.earn_here.id}/"
    response = client.post(url, data={"reason": "", "idempotency_key": "2" * 32})
    assert "Say why the transaction is voided." in response.text


def test_enroll_a_customer_at_the_counter(client, login_as, store_staff, session, world: World):
    login_as(store_staff)
    form = client.get(f"{URL}{world.store.id}/enroll/")
    assert form.status_code == 200
    done = client.post(
        f"{URL}{world.store.id}/enroll/",
        data={
            "first_name": "Lea",
            "last_name": "Hoffmann",
            "email": "Lea.Hoffmann@example.lu",
            "preferred_locale": "lb",
            "accept_terms": "y",
        },
        follow_redirects=True,
    )
    assert done.status_code == 200
    assert "Lea Hoffmann" in done.text
    assert "created" in done.text
    card = session.scalar(
        select(LoyaltyCard)
        .join(LoyaltyCard.customer)
        .where(
            LoyaltyCard.merchant_id == world.merchant.id,
            LoyaltyCard.customer.has(email="lea.hoffmann@example.lu"),
        )
    )
    assert card.enrolled_at_store_id == world.store.id


def test_enroll_errors_stay_next_to_the_fields(client, login_as, store_staff, world: World):
    login_as(store_staff)
    response = client.post(
        f"{URL}{world.store.id}/enroll/",
        data={
            "first_name": "Lea",
            "last_name": "",
            "email": "not-an-email",
            "preferred_locale": "fr",
        },
    )
    assert response.status_code == 400
    assert 'value="Lea"' in response.text
    assert "The customer must accept the terms to join." in response.text


def test_enrolling_a_known_email_opens_the_existing_card(
    client, login_as, store_staff, world: World
):
    login_as(store_staff)
    response = client.post(
        f"{URL}{world.store.id}/enroll/",
        data={
            "first_name": "Anna",
            "last_name": "Muller",
            "email": "anna.muller@example.lu",
            "preferred_locale": "en",
            "accept_terms": "y",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cards/{world.card.id}/")

"""The 4-digit void PIN cannot be guessed: 5 wrong PINs per staff user per 15 minutes."""

from __future__ import annotations

import logging
import time

import pytest
from sqlalchemy import select

from loyalty.models import LoyaltyTransaction
from loyalty.services.programs import get_settings, set_void_pin
from tests.loyalty.console_world import World, build_world

URL = "/admin/terminal/"
RIGHT = "4711"


@pytest.fixture
def world(dummy_merchant, dummy_store, create_store, create_merchant, create_staff_user):
    world = build_world(
        dummy_merchant,
        dummy_store,
        {"store": create_store, "merchant": create_merchant, "staff": create_staff_user},
    )
    settings = get_settings(world.merchant.id)
    settings.void_requires_pin = True
    set_void_pin(settings, RIGHT)
    return world


def _void(client, world: World, pin: str, key: str = "1" * 32):
    url = f"{URL}{world.store.id}/cards/{world.card.id}/void/{world.earn_here.id}/?lang=en"
    return client.post(url, data={"pin": pin, "reason": "wrong card", "idempotency_key": key})


def _voided(session, world: World) -> bool:
    row = session.scalar(
        select(LoyaltyTransaction.id).where(
            LoyaltyTransaction.voided_transaction_id == world.earn_here.id
        )
    )
    return row is not None


def test_five_wrong_pins_lock_the_staff_user_out_even_with_the_right_pin(
    client, login_as, store_staff, create_staff_user, session, world: World, caplog
):
    login_as(store_staff)
    for attempt in range(4):
        wrong = _void(client, world, f"{1000 + attempt}")
        assert wrong.status_code == 400
        assert "The void PIN is incorrect." in wrong.text
    with caplog.at_level(logging.WARNING, logger="loyalty.services.ledger"):
        fifth = _void(client, world, "9999")
    assert "Too many wrong PINs" in fifth.text
    assert any(
        f"void PIN locked for staff user {store_staff.id}" in r.getMessage() for r in caplog.records
    ), "the lock-out is logged"
    # The attacker finally types the right PIN: still refused, nothing voided.
    right = _void(client, world, RIGHT)
    assert right.status_code == 400
    assert "Too many wrong PINs" in right.text
    assert "try again in 15 min" in right.text
    assert not _voided(session, world)
    session.refresh(world.card)
    assert world.card.points_balance == 40

    # Localized refusal.
    fr = client.post(
        f"{URL}{world.store.id}/cards/{world.card.id}/void/{world.earn_here.id}/?lang=fr",
        data={"pin": RIGHT, "reason": "x", "idempotency_key": "2" * 32},
    )
    assert "Trop de codes PIN erronés" in fr.text

    # Another staff user of the same store is not locked out by someone else's guesses.
    colleague = create_staff_user(
        role=store_staff.role, merchant=store_staff.merchant, stores=[world.store]
    )
    login_as(colleague)
    ok = _void(client, world, RIGHT, key="3" * 32)
    assert ok.status_code == 302
    assert _voided(session, world)


def test_the_lock_lifts_after_the_window(
    app, client, login_as, store_staff, session, world: World, monkeypatch
):
    # A window long enough for five slow PIN checks on a busy machine; then wait it out.
    monkeypatch.setitem(app.config, "RATELIMIT_VOID_PIN", "5/8 seconds")
    login_as(store_staff)
    _void(client, world, "2000")
    # The window opened during that first request (its failure is counted before it answers),
    # so it has closed 8 s after this point, however slow the machine was.
    started = time.monotonic()
    for attempt in range(1, 5):
        _void(client, world, f"{2000 + attempt}")
    assert "Too many wrong PINs" in _void(client, world, RIGHT).text
    time.sleep(max(0.0, started + 8.2 - time.monotonic()))
    assert _void(client, world, RIGHT).status_code == 302
    assert _voided(session, world)


def test_a_right_pin_between_wrong_ones_does_not_reset_the_count(
    client, login_as, store_staff, world: World
):
    login_as(store_staff)
    for attempt in range(4):
        _void(client, world, f"{3000 + attempt}")
    # The right PIN works (the row is voided), then one more wrong PIN: that is the fifth.
    assert _void(client, world, RIGHT).status_code == 302
    assert "Too many wrong PINs" in _void(client, world, "3999", key="4" * 32).text

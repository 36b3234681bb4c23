"""The customer's card page behind a signed, expiring link."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale, format_date
from itsdangerous import TimestampSigner

from loyalty.card_links import card_page_token, card_page_url, load_card_from_token
from loyalty.models import TransactionType
from loyalty.services.ledger import add_stamps
from tests.wallet_double import fixtures

wallet_key = fixtures.wallet_key
wallet_settings = fixtures.wallet_settings


@pytest.fixture
def old_token(monkeypatch):
    """Make a token as if it had been issued ``days`` ago (the signer's clock, not ours)."""

    def make(card, days: int) -> str:
        issued = int((datetime.now(UTC) - timedelta(days=days)).timestamp())
        with monkeypatch.context() as m:
            m.setattr(TimestampSigner, "get_timestamp", lambda self: issued)
            return card_page_token(card)

    return make


def grouped(number: str) -> str:
    """A card number as the page prints it, in groups of four."""
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def assert_shows_card(response, card) -> None:
    """The page is this card's page: its number and its balance."""
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert grouped(card.card_number) in html
    assert f'class="points">{card.points_balance}<' in html


def test_card_page_shows_number_qr_balance_history_and_expiry(client, session, card):
    card.customer.preferred_locale = "en"
    session.flush()
    response = client.get(f"/card/{card_page_token(card)}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert " ".join(card.card_number[i : i + 4] for i in range(0, 16, 4)) in html
    assert re.search(r'<svg viewBox="0 0 \d+ \d+" class="qr"><title>', html)
    assert 'class="points">50<' in html
    assert "Welcome bonus" in html  # the ledger row, with its type label
    assert "+50" in html
    expires = card.points_expire_at()
    with force_locale("en"):
        assert f"50 points will expire on {format_date(expires, 'long')}" in html
    assert "Add to Google Wallet" not in html  # wallet not configured
    assert "<script" not in html


def test_card_page_speaks_the_customers_language_unless_asked_otherwise(app, client, session, card):
    card.customer.preferred_locale = "de"
    session.flush()
    token = card_page_token(card)
    assert '<html lang="de">' in client.get(f"/card/{token}").get_data(as_text=True)
    # Even when this browser chose another language on another page before.
    client.get("/enroll/kirchberg?lang=fr")
    assert '<html lang="de">' in client.get(f"/card/{token}").get_data(as_text=True)
    assert '<html lang="lb">' in client.get(f"/card/{token}?lang=lb").get_data(as_text=True)


def test_card_page_dates_and_labels_follow_the_locale(app, client, session, card):
    card.customer.preferred_locale = "fr"
    session.flush()
    html = client.get(f"/card/{card_page_token(card)}").get_data(as_text=True)
    with app.test_request_context(), force_locale("fr"):
        label = str(TransactionType.WELCOME_BONUS.label)
        day = format_date(card.transactions[0].created_at, "medium")
    assert label in html
    assert day in html


def test_stamps_card_shows_progress_and_a_ready_reward(
    client, session, stamps_store, stamps_program, make_card
):
    stamp_card = make_card(stamps_store, locale="en")
    add_stamps(stamp_card, 12, store=stamps_store, staff_user=None)
    session.flush()
    html = client.get(f"/card/{card_page_token(stamp_card)}").get_data(as_text=True)
    assert "2 of 10" in html
    assert len(re.findall(r'<li class="filled">', html)) == 2
    assert "You have 1 reward ready" in html
    assert "A free coffee" in html


def test_a_link_of_89_days_still_opens(client, session, card, old_token):
    assert_shows_card(client.get(f"/card/{old_token(card, 89)}?lang=en"), card)


def test_expired_link_is_410_with_a_localized_explanation(client, session, card, old_token):
    token = old_token(card, 91)
    assert load_card_from_token(token) is None
    response = client.get(f"/card/{token}?lang=en")
    assert response.status_code == 410
    assert "This link has expired" in response.get_data(as_text=True)


def test_tampered_link_is_404(client, session, card, create_customer, make_card, dummy_store):
    token = card_page_token(card)
    payload, rest = token.split(".", 1)
    other = make_card(dummy_store)
    forged = card_page_token(other).split(".", 1)[0] + "." + rest
    for bad in (forged, token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "garbage"):
        response = client.get(f"/card/{bad}?lang=en")
        assert response.status_code == 404
        assert "This link is not valid" in response.get_data(as_text=True)
        assert load_card_from_token(bad) is None
    assert payload  # the genuine token still works, and shows its own card, not the other
    genuine = client.get(f"/card/{token}")
    assert_shows_card(genuine, card)
    assert grouped(other.card_number) not in genuine.get_data(as_text=True)


def test_link_signed_with_another_secret_is_refused(app, client, session, card):
    token = card_page_token(card)
    app.config["SECRET_KEY"] = "another-secret"
    try:
        assert client.get(f"/card/{token}").status_code == 404
    finally:
        app.config["SECRET_KEY"] = "test-secret-key"


def test_card_page_url_outside_a_request_uses_the_public_base_url(app, card):
    # Like an email task in the worker: an app context, no request (a fresh thread has none).
    urls: list[str] = []

    def build() -> None:
        with app.app_context():
            urls.extend([card_page_url(card), card_page_url(card, external=False)])

    app.config["PUBLIC_BASE_URL"] = "https://cards.example.lu/"
    try:
        worker = threading.Thread(target=build)
        worker.start()
        worker.join()
    finally:
        app.config["PUBLIC_BASE_URL"] = "http://127.0.0.1:5000"
    assert urls[0].startswith("https://cards.example.lu/card/")
    assert urls[1].startswith("/card/")
    assert load_card_from_token(urls[0].rsplit("/", 1)[1]).id == card.id


def test_wallet_button_appears_when_wallet_is_configured(
    client, session, card, wallet_settings, wallet_key
):
    wallet_settings.update(
        GOOGLE_WALLET_ISSUER_ID=fixtures.ISSUER_ID,
        GOOGLE_WALLET_SERVICE_ACCOUNT_FILE=str(wallet_key.path),
        GOOGLE_WALLET_SAVE_URL="https://pay.google.com/gp/v/save",
    )
    html = client.get(f"/card/{card_page_token(card)}?lang=en").get_data(as_text=True)
    assert "Add to Google Wallet" in html
    assert 'href="https://pay.google.com/gp/v/save/' in html

"""The "Add to Google Wallet" link: a JWT signed by the service account key."""

from __future__ import annotations

import pytest

from loyalty.models import ProgramKind
from loyalty.wallet.google import wallet_save_url
from tests.wallet_double import fixtures
from tests.wallet_double.fixtures import ISSUER_ID
from tests.wallet_double.schema import validate

wallet = fixtures.wallet
wallet_double = fixtures.wallet_double
wallet_key = fixtures.wallet_key
wallet_settings = fixtures.wallet_settings
create_wallet_card = fixtures.create_wallet_card
create_wallet_program = fixtures.create_wallet_program


def _claims(url: str, wallet_key: fixtures.ServiceAccountKey) -> dict:
    prefix = "https://pay.google.com/gp/v/save/"
    assert url.startswith(prefix)
    return fixtures.verify_save_jwt(url[len(prefix) :], wallet_key.cert_pem)


def test_save_url_is_a_jwt_signed_by_the_service_account(wallet, wallet_key, create_wallet_card):
    card = create_wallet_card(
        points_balance=240, stamp_count=0, customer__first_name="Lena", customer__last_name="Schmit"
    )

    claims = _claims(wallet_save_url(card), wallet_key)

    assert claims["iss"] == wallet_key.email
    assert isinstance(claims["iat"], int)
    assert claims["typ"] == "savetowallet"
    assert claims["origins"] == ["https://store1.example.lu", "https://store2.example.lu"]
    [obj] = claims["payload"]["loyaltyObjects"]
    assert obj["id"] == f"{ISSUER_ID}.loyalty-card-{card.card_number}"
    assert obj["classId"] == f"{ISSUER_ID}.loyalty-program-{card.program.id}"
    assert obj["state"] == "ACTIVE"
    assert obj["accountId"] == card.card_number
    assert obj["accountName"] == "Lena Schmit"
    assert obj["barcode"] == {
        "type": "QR_CODE",
        "value": card.card_number,
        "alternateText": card.card_number,
    }
    assert obj["loyaltyPoints"]["balance"] == {"int": 240}
    # What Google would receive in the JWT is a valid LoyaltyObject.
    assert validate(obj, "LoyaltyObject") == []


def test_save_url_signed_by_another_key_does_not_verify(
    wallet, wallet_key, create_wallet_card, tmp_path
):
    other = fixtures.make_service_account_key(tmp_path)
    url = wallet_save_url(create_wallet_card())
    token = url.rsplit("/", 1)[1]
    with pytest.raises(ValueError, match="signature"):
        fixtures.verify_save_jwt(token, other.cert_pem)


def test_hybrid_card_shows_stamps_as_secondary_points(
    wallet, wallet_key, create_wallet_program, create_wallet_card
):
    program = create_wallet_program(kind=ProgramKind.HYBRID)
    card = create_wallet_card(
        program=program, points_balance=55, stamp_count=7, customer__preferred_locale="en"
    )

    [obj] = _claims(wallet_save_url(card), wallet_key)["payload"]["loyaltyObjects"]

    assert obj["loyaltyPoints"]["balance"] == {"int": 55}
    assert obj["secondaryLoyaltyPoints"]["balance"] == {"int": 7}
    assert obj["loyaltyPoints"]["label"] == "Points"
    assert obj["secondaryLoyaltyPoints"]["label"] == "Stamps"


def test_stamps_only_card_puts_stamps_in_the_main_slot(
    wallet, wallet_key, create_wallet_program, create_wallet_card
):
    program = create_wallet_program(kind=ProgramKind.STAMPS)
    card = create_wallet_card(program=program, stamp_count=4)

    [obj] = _claims(wallet_save_url(card), wallet_key)["payload"]["loyaltyObjects"]

    assert obj["loyaltyPoints"]["balance"] == {"int": 4}
    assert "secondaryLoyaltyPoints" not in obj


def test_key_file_is_read_once_not_per_link(wallet, wallet_key, create_wallet_card):
    first = wallet_save_url(create_wallet_card())
    # The key file disappears: links keep working from the cached key.
    saved = wallet_key.path.read_text()
    wallet_key.path.unlink()
    try:
        second = wallet_save_url(create_wallet_card())
    finally:
        wallet_key.path.write_text(saved)
    assert first is not None
    assert _claims(second, wallet_key)["iss"] == wallet_key.email


# --- skinny links -----------------------------------------------------------------------
def test_synced_card_gets_a_skinny_link_with_ids_only(wallet, wallet_key, create_wallet_card):
    card = create_wallet_card(wallet_object_id=f"{ISSUER_ID}.loyalty-card-771099999999")

    url = wallet_save_url(card)

    [obj] = _claims(url, wallet_key)["payload"]["loyaltyObjects"]
    assert obj == {
        "id": f"{ISSUER_ID}.loyalty-card-771099999999",
        "classId": f"{ISSUER_ID}.loyalty-program-{card.program.id}",
    }
    assert wallet.calls() == []  # no API call to build it
    assert len(url) < 1000


def test_unsynced_card_carries_its_object_while_the_link_stays_short(
    wallet, wallet_key, create_wallet_card
):
    card = create_wallet_card()

    url = wallet_save_url(card)

    assert len(url) < 1800
    [obj] = _claims(url, wallet_key)["payload"]["loyaltyObjects"]
    assert obj["accountId"] == card.card_number
    assert wallet.calls() == []


def test_too_long_a_link_inserts_the_object_first_and_stays_skinny(
    wallet, wallet_key, create_wallet_card
):
    # Non-ASCII names are escaped in the JWT's JSON (\u00cb): six bytes a letter.
    card = create_wallet_card(customer__first_name="Ë" * 100, customer__last_name="ß" * 100)
    object_id = f"{ISSUER_ID}.loyalty-card-{card.card_number}"

    url = wallet_save_url(card)

    assert len(url) < 1800
    [obj] = _claims(url, wallet_key)["payload"]["loyaltyObjects"]
    assert set(obj) == {"id", "classId"}
    assert [c.operation for c in wallet.calls()] == [
        "loyaltyClass.insert",
        "loyaltyObject.get",
        "loyaltyObject.insert",
    ]
    assert wallet.objects[object_id]["accountName"] == f"{'Ë' * 100} {'ß' * 100}"


def test_too_long_a_link_with_google_down_falls_back_to_the_full_object(
    wallet, wallet_key, create_wallet_card
):
    # Non-ASCII names are escaped in the JWT's JSON (\u00cb): six bytes a letter.
    card = create_wallet_card(customer__first_name="Ë" * 100, customer__last_name="ß" * 100)
    wallet.fail_next(5, status=503)

    url = wallet_save_url(card)

    assert len(url) >= 1800
    [obj] = _claims(url, wallet_key)["payload"]["loyaltyObjects"]
    assert obj["accountName"] == f"{'Ë' * 100} {'ß' * 100}"

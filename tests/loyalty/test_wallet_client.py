"""The Wallet Objects API client against the local double (real HTTP, real token grant)."""

from __future__ import annotations

import pytest

from loyalty.wallet.google import WalletClient, WalletPermanentError, WalletRetryableError
from tests.wallet_double import fixtures
from tests.wallet_double.fixtures import ISSUER_ID
from tests.wallet_double.schema import validate

wallet = fixtures.wallet
wallet_double = fixtures.wallet_double
wallet_key = fixtures.wallet_key
wallet_settings = fixtures.wallet_settings
create_wallet_card = fixtures.create_wallet_card


def test_first_sync_creates_class_and_object_accepted_by_the_schema(wallet, create_wallet_card):
    card = create_wallet_card(
        points_balance=42, customer__first_name="Jos", customer__last_name="Hoffmann"
    )

    with WalletClient() as client:
        class_id = client.ensure_class(card.program)
        object_id = client.upsert_object(card)

    assert [c.operation for c in wallet.calls()] == [
        "loyaltyClass.insert",
        "loyaltyObject.get",
        "loyaltyObject.insert",
    ]
    assert all(c.status == 200 for c in wallet.calls() if c.operation.endswith("insert"))
    stored_class = wallet.classes[class_id]
    assert stored_class["programName"] == card.program.name
    assert stored_class["issuerName"] == card.merchant.name
    assert stored_class["hexBackgroundColor"] == "#1f5f8b"
    assert stored_class["programLogo"] == {"sourceUri": {"uri": "https://cdn.example.lu/logo.png"}}
    stored = wallet.objects[object_id]
    assert stored["accountName"] == "Jos Hoffmann"
    assert stored["loyaltyPoints"]["balance"] == {"int": 42}
    assert stored["barcode"]["value"] == card.card_number


def test_api_calls_carry_the_token_granted_for_the_signed_assertion(wallet, create_wallet_card):
    card = create_wallet_card()
    with WalletClient() as client:
        client.ensure_class(card.program)
        client.upsert_object(card)

    # One token request for the whole sync: the credentials keep the token.
    [grant] = wallet.calls("token")
    assert grant.status == 200
    assert grant.body["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]


def test_second_sync_patches_the_object_with_the_new_balance(wallet, session, create_wallet_card):
    card = create_wallet_card(points_balance=10)
    with WalletClient() as client:
        client.ensure_class(card.program)
        client.upsert_object(card)
    card.points_balance = 95

    with WalletClient() as client:
        client.ensure_class(card.program)
        object_id = client.upsert_object(card)

    # The unchanged class is not sent again; the object is read, then patched.
    assert [c.operation for c in wallet.calls()][3:] == ["loyaltyObject.get", "loyaltyObject.patch"]
    assert wallet.objects[object_id]["loyaltyPoints"]["balance"] == {"int": 95}


def test_existing_class_409_on_insert_is_patched(wallet, create_wallet_card):
    card = create_wallet_card()
    class_id = f"{ISSUER_ID}.loyalty-program-{card.program.id}"
    wallet.classes[class_id] = {"id": class_id, "programName": "Old name"}

    with WalletClient() as client:
        client.ensure_class(card.program)

    assert [(c.operation, c.status) for c in wallet.calls()] == [
        ("loyaltyClass.insert", 409),
        ("loyaltyClass.patch", 200),
    ]
    assert wallet.classes[class_id]["programName"] == card.program.name


def test_body_rejected_by_the_schema_is_a_permanent_error(wallet, app_ctx):
    body = {
        "id": f"{ISSUER_ID}.card-1",
        "classId": f"{ISSUER_ID}.program-1",
        "state": "ACTIVE",
        "loyaltyPoints": {"balance": {"int": 2**31}},
    }
    with WalletClient() as client, pytest.raises(WalletPermanentError, match="HTTP 400.*int32"):
        client._request("POST", "loyaltyObject", body)
    assert wallet.objects == {}


def test_double_rejects_unknown_fields_and_wrong_types():
    body = {
        "id": f"{ISSUER_ID}.x",
        "classId": f"{ISSUER_ID}.c",
        "state": "ACTIVE",
        "points": 3,
        "loyaltyPoints": {"balance": {"int": "3"}},
    }
    problems = validate(body, "LoyaltyObject")
    assert "LoyaltyObject.points: unknown field of LoyaltyObject" in problems
    assert "LoyaltyObject.loyaltyPoints.balance.int: expected an integer, got str" in problems


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (503, WalletRetryableError),
        (500, WalletRetryableError),
        (429, WalletRetryableError),
        (400, WalletPermanentError),
        (403, WalletPermanentError),
        (409, WalletPermanentError),
    ],
)
def test_http_errors_are_typed_by_whether_a_retry_can_help(
    wallet, create_wallet_card, status, error
):
    card = create_wallet_card()
    wallet.fail_next(1, status=status, operation="loyaltyObject.get")
    with WalletClient() as client, pytest.raises(error, match=f"HTTP {status}"):
        client.upsert_object(card)


def test_timeout_is_retryable(wallet, wallet_settings, create_wallet_card):
    wallet_settings["GOOGLE_WALLET_TIMEOUT"] = 0.3
    card = create_wallet_card()
    wallet.hang_next(1, operation="loyaltyObject.get")
    with WalletClient() as client, pytest.raises(WalletRetryableError, match="within 0.3 s"):
        client.upsert_object(card)


def test_unreachable_api_is_retryable(wallet, wallet_settings, create_wallet_card):
    card = create_wallet_card()
    wallet_settings["GOOGLE_WALLET_API_BASE"] = "http://127.0.0.1:9/walletobjects/v1"
    with WalletClient() as client, pytest.raises(WalletRetryableError, match="connect"):
        client.upsert_object(card)


def test_refused_token_grant_is_a_permanent_error(
    wallet, wallet_settings, create_wallet_card, tmp_path
):
    # A key the double does not know: its signature does not verify.
    other = fixtures.make_service_account_key(tmp_path)
    wallet_settings["GOOGLE_WALLET_SERVICE_ACCOUNT_FILE"] = str(other.path)
    card = create_wallet_card()
    with WalletClient() as client, pytest.raises(WalletPermanentError, match="token"):
        client.upsert_object(card)
    assert [c.status for c in wallet.calls("token")] == [400]

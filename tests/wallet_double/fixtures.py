"""Fixtures for the Google Wallet tests: key, running double, configured app, cards.

Test modules bind the ones they use to module names (``wallet = fixtures.wallet``), which
registers them with pytest without touching the shared ``conftest.py`` files.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import factory
import pytest
from flask import Flask
from google.auth import crypt, jwt

from loyalty.models import LoyaltyCard, LoyaltyProgram, ProgramKind
from loyalty.wallet import credentials, google
from tests.factories import BaseFactory, CustomerFactory, MerchantFactory
from tests.wallet_double.keys import ServiceAccountKey, make_service_account_key

__all__ = ["ServiceAccountKey", "make_service_account_key"]
from tests.wallet_double.server import WalletDouble

ISSUER_ID = "3388000000012345678"


class WalletProgramFactory(BaseFactory):
    class Meta:
        model = LoyaltyProgram

    merchant = factory.SubFactory(MerchantFactory)
    kind = ProgramKind.POINTS
    name = factory.Sequence(lambda n: f"Café Club {n}")
    logo_url = "https://cdn.example.lu/logo.png"
    brand_color = "#1F5F8B"
    stamps_target = 10


class WalletCardFactory(BaseFactory):
    class Meta:
        model = LoyaltyCard

    program = factory.SubFactory(WalletProgramFactory)
    merchant = factory.SelfAttribute("program.merchant")
    customer = factory.SubFactory(CustomerFactory, merchant=factory.SelfAttribute("..merchant"))
    card_number = factory.Sequence(lambda n: f"7710{n:08d}")
    points_balance = 120
    stamp_count = 3


@pytest.fixture(scope="session")
def wallet_key(tmp_path_factory: pytest.TempPathFactory) -> ServiceAccountKey:
    return make_service_account_key(Path(tmp_path_factory.mktemp("wallet-key")))


@pytest.fixture
def wallet_double(wallet_key: ServiceAccountKey) -> Iterator[WalletDouble]:
    double = WalletDouble(wallet_key.cert_pem, wallet_key.email).start()
    yield double
    double.stop()


_WALLET_SETTINGS = (
    "GOOGLE_WALLET_ISSUER_ID",
    "GOOGLE_WALLET_SERVICE_ACCOUNT_FILE",
    "GOOGLE_WALLET_API_BASE",
    "GOOGLE_WALLET_TOKEN_URI",
    "GOOGLE_WALLET_SAVE_URL",
    "GOOGLE_WALLET_ORIGINS",
    "GOOGLE_WALLET_TIMEOUT",
    "GOOGLE_WALLET_LOGO_TIMEOUT",
)


@pytest.fixture
def wallet_settings(app: Flask) -> Iterator[dict[str, Any]]:
    """The app's Wallet settings, restored (and caches cleared) after the test."""
    saved = {key: app.config.get(key) for key in _WALLET_SETTINGS}
    yield app.config
    for key, value in saved.items():
        if value is None:
            app.config.pop(key, None)
        else:
            app.config[key] = value
    credentials.clear_cache()
    google.forget_sent_classes()


@pytest.fixture
def wallet(
    wallet_settings: dict[str, Any], wallet_double: WalletDouble, wallet_key: ServiceAccountKey
) -> WalletDouble:
    """Google Wallet configured against a running double."""
    wallet_settings.update(
        GOOGLE_WALLET_ISSUER_ID=ISSUER_ID,
        GOOGLE_WALLET_SERVICE_ACCOUNT_FILE=str(wallet_key.path),
        GOOGLE_WALLET_API_BASE=wallet_double.api_base,
        GOOGLE_WALLET_TOKEN_URI=wallet_double.token_uri,
        GOOGLE_WALLET_SAVE_URL="https://pay.google.com/gp/v/save",
        GOOGLE_WALLET_ORIGINS="https://store1.example.lu, https://store2.example.lu",
    )
    return wallet_double


@pytest.fixture
def wallet_off(wallet_settings: dict[str, Any]) -> None:
    """Google Wallet not configured at all."""
    wallet_settings.update(GOOGLE_WALLET_ISSUER_ID="", GOOGLE_WALLET_SERVICE_ACCOUNT_FILE="")


@pytest.fixture
def create_wallet_card(session: Any) -> type[WalletCardFactory]:
    return WalletCardFactory


@pytest.fixture
def create_wallet_program(session: Any) -> type[WalletProgramFactory]:
    return WalletProgramFactory


class SleepRecorder:
    """An injectable ``sleep`` that records the requested delays and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def verify_save_jwt(token: str, cert_pem: str) -> dict[str, Any]:
    """The claims of a "Save to Google Wallet" JWT, after checking its RS256 signature.

    ``google.auth.jwt.decode`` insists on an ``exp`` claim, which Google's save JWT does not
    have; so the signature is checked with google-auth's RSA verifier on the signed part.
    """
    header, claims, signed_section, signature = jwt._unverified_decode(token)
    assert header["alg"] == "RS256"
    if not crypt.RSAVerifier.from_string(cert_pem).verify(signed_section, signature):
        raise ValueError("signature does not match the certificate")
    assert claims["aud"] == "google"
    return claims


@pytest.fixture
def wallet_sleep(app: Flask) -> Iterator[SleepRecorder]:
    """The injected sleep of every sync in the app (tasks included), for the test."""
    recorder = SleepRecorder()
    app.extensions["wallet.sleep"] = recorder
    yield recorder
    app.extensions.pop("wallet.sleep", None)

"""Request bodies for the Wallet Objects API (``walletobjects/v1``): LoyaltyClass per program,
LoyaltyObject per card. Field names and shapes follow Google's discovery document.

Ids are ``<issuerId>.<suffix>``; the suffix may hold letters, digits, ``.``, ``_`` and ``-``.
The object suffix is the card number (unique, printed on the card), so the id is known before
the first sync and the "Add to Google Wallet" link works for a card never synced.
"""

from __future__ import annotations

import re
from typing import Any

from flask import current_app
from flask_babel import force_locale

from loyalty.models import PROGRAM_TEXT_LOCALES, LoyaltyCard, LoyaltyProgram
from loyalty.services.program_texts import fallback_locales, program_texts
from loyalty.wallet.errors import WalletNotConfiguredError, WalletPermanentError
from platform_core.i18n_lazy import _, _l

_UNSAFE_ID_CHARS = re.compile(r"[^A-Za-z0-9._-]")
_HEX_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def issuer_id() -> str:
    value = (current_app.config.get("GOOGLE_WALLET_ISSUER_ID") or "").strip()
    if not value:
        raise WalletNotConfiguredError("GOOGLE_WALLET_ISSUER_ID is not set")
    return value


def _resource_id(suffix: str) -> str:
    return f"{issuer_id()}.{_UNSAFE_ID_CHARS.sub('_', suffix)}"


def class_id_for(program: LoyaltyProgram) -> str:
    return _resource_id(f"loyalty-program-{program.id}")


def object_id_for(card: LoyaltyCard) -> str:
    """The card's Wallet object id: the one stored on the card, else derived from its number."""
    return card.wallet_object_id or _resource_id(f"loyalty-card-{card.card_number}")


def _localized(values: dict[str, str], default: str) -> dict[str, Any]:
    """A ``LocalizedString``: the default language's value, and one ``translatedValues``
    entry per other language that differs from it."""
    return {
        "defaultValue": {"language": default, "value": values[default]},
        "translatedValues": [
            {"language": code, "value": value}
            for code, value in values.items()
            if code != default and value and value != values[default]
        ],
    }


#: The headers of the class's text modules.
_MODULE_HEADERS = {"description": _l("How it works"), "reward": _l("Reward")}


def _headers(module_id: str) -> dict[str, str]:
    """The header of a text module in each program language."""
    labels = {}
    for code in PROGRAM_TEXT_LOCALES:
        with force_locale(code):
            labels[code] = str(_MODULE_HEADERS[module_id])
    return labels


def _text_module(
    module_id: str, header: dict[str, str], body: dict[str, str], default: str
) -> dict[str, Any]:
    return {
        "id": module_id,
        "header": header[default],
        "body": body[default],
        "localizedHeader": _localized(header, default),
        "localizedBody": _localized(body, default),
    }


def loyalty_class_body(program: LoyaltyProgram) -> dict[str, Any]:
    """The LoyaltyClass for ``program``: merchant and program name, logo, brand colour, and
    the program's description and reward as text modules.

    Texts come in the merchant's default language, with ``translatedValues`` for the other
    languages (:func:`program_texts`, so a missing translation shows the fallback).

    :raises WalletPermanentError: the program has no logo; Google requires ``programLogo``.
    """
    if not program.logo_url:
        raise WalletPermanentError(
            f"program {program.name!r} has no logo URL; Google Wallet requires a program logo"
        )
    default = fallback_locales(program, None)[0]
    texts = {code: program_texts(program, code) for code in PROGRAM_TEXT_LOCALES}
    names = {code: text.name for code, text in texts.items()}
    body: dict[str, Any] = {
        "id": class_id_for(program),
        "issuerName": program.merchant.name,
        "programName": names[default],
        "localizedProgramName": _localized(names, default),
        "programLogo": {"sourceUri": {"uri": program.logo_url}},
        # Google wants UNDER_REVIEW on insert and on every update of an approved class.
        "reviewStatus": "UNDER_REVIEW",
        "countryCode": "LU",
    }
    if program.brand_color and _HEX_COLOR.match(program.brand_color):
        body["hexBackgroundColor"] = program.brand_color.lower()
    modules = []
    descriptions = {code: text.description for code, text in texts.items()}
    if descriptions[default]:
        modules.append(_text_module("description", _headers("description"), descriptions, default))
    rewards = {code: text.reward_description for code, text in texts.items()}
    if program.uses_stamps and rewards[default]:
        modules.append(_text_module("reward", _headers("reward"), rewards, default))
    if modules:
        body["textModulesData"] = modules
    return body


def _points(balance: int, label: str) -> dict[str, Any]:
    return {"label": label, "balance": {"int": balance}}


def _state(card: LoyaltyCard) -> str:
    # An erased customer's pass is expired: Google moves it to "Expired passes".
    if card.customer.erased_at is not None:
        return "EXPIRED"
    return "ACTIVE" if card.is_active else "INACTIVE"


def loyalty_object_body(card: LoyaltyCard) -> dict[str, Any]:
    """The LoyaltyObject for ``card``: holder, number as QR code, points and stamps.

    Points go in ``loyaltyPoints``; stamps go in ``secondaryLoyaltyPoints``, except on a
    stamps-only program, where they take the main slot so the pass does not look empty.
    Labels are in the customer's language: the pass is theirs.
    """
    program = card.program
    body: dict[str, Any] = {
        "id": object_id_for(card),
        "classId": class_id_for(program),
        "state": _state(card),
        "accountId": card.card_number,
        "accountName": card.customer.full_name,
        "barcode": {
            "type": "QR_CODE",
            "value": card.card_number,
            "alternateText": card.card_number,
        },
    }
    with force_locale(card.customer.preferred_locale or "en"):
        points_label = _("Points")
        stamps_label = _("Stamps")
    if program.uses_points:
        body["loyaltyPoints"] = _points(card.points_balance, points_label)
        if program.uses_stamps:
            body["secondaryLoyaltyPoints"] = _points(card.stamp_count, stamps_label)
    elif program.uses_stamps:
        body["loyaltyPoints"] = _points(card.stamp_count, stamps_label)
    return body

"""Card numbers (Luhn), card look-up and history."""

from __future__ import annotations

import re
import secrets

from sqlalchemy import or_, select

from loyalty.models import LoyaltyCard, LoyaltyTransaction
from platform_core.customers.models import Customer
from platform_core.extensions import db
from platform_core.search_fold import contains_folded

#: Digits of a card number, check digit included.
CARD_NUMBER_LENGTH = 16
_SEPARATORS = re.compile(r"[\s-]+")


def luhn_check_digit(digits: str) -> str:
    """The Luhn check digit to append to ``digits``."""
    total = 0
    # Walking from the right, every second digit (starting with the rightmost of the payload,
    # which sits next to the check digit) is doubled.
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def normalize_card_number(value: str) -> str:
    """``value`` without spaces and dashes (as printed or typed)."""
    return _SEPARATORS.sub("", value or "")


def is_valid_card_number(value: str) -> bool:
    """Whether ``value`` (spaces allowed) is a well-formed card number with a valid check digit."""
    number = normalize_card_number(value)
    if len(number) != CARD_NUMBER_LENGTH or not number.isdigit():
        return False
    return luhn_check_digit(number[:-1]) == number[-1]


def format_card_number(number: str) -> str:
    """Groups of four digits, as printed on the card."""
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def random_card_number() -> str:
    """Random digits plus a Luhn check digit, not checked against existing cards.

    For callers that insert inside a savepoint and retry on the unique constraint's
    refusal (enrollment): with 9 x 10^14 numbers a clash is that rare.
    """
    # First digit non-zero so spreadsheets and scanners never drop a leading zero.
    payload = str(secrets.randbelow(9) + 1) + "".join(
        str(secrets.randbelow(10)) for _ in range(CARD_NUMBER_LENGTH - 2)
    )
    return payload + luhn_check_digit(payload)


def generate_card_number() -> str:
    """A new card number not used by any card yet (random digits plus a Luhn check digit).

    The unique constraint is the final judge under concurrency.
    """
    while True:
        number = random_card_number()
        exists = db.session.scalar(select(LoyaltyCard.id).where(LoyaltyCard.card_number == number))
        if exists is None:
            return number


def find_cards(merchant_id: int, query: str, *, limit: int = 20) -> list[LoyaltyCard]:
    """Cards of the merchant matching a card number, an email or a name.

    :param merchant_id: only this merchant's cards are searched.
    :param query: a card number (spaces allowed, a prefix is enough), part of an email,
        or part of the customer's name ("anna", "muller", "anna muller").
    :param limit: at most this many cards, most recently active first.
    """
    text = (query or "").strip()
    if not text:
        return []
    stmt = (
        select(LoyaltyCard)
        .join(Customer, Customer.id == LoyaltyCard.customer_id)
        .where(LoyaltyCard.merchant_id == merchant_id)
    )
    number = normalize_card_number(text)
    if number.isdigit():
        stmt = stmt.where(LoyaltyCard.card_number.startswith(number, autoescape=True))
    else:
        # Accents and case ignored on both sides: "muller" finds "Müller".
        full_name = Customer.first_name + " " + Customer.last_name
        stmt = stmt.where(
            or_(
                contains_folded(Customer.email, text),
                contains_folded(Customer.first_name, text),
                contains_folded(Customer.last_name, text),
                contains_folded(full_name, text),
            )
        )
    stmt = stmt.order_by(LoyaltyCard.last_activity_at.desc(), LoyaltyCard.id.desc()).limit(limit)
    return list(db.session.scalars(stmt))


def get_card_by_number(merchant_id: int, number: str) -> LoyaltyCard | None:
    """The merchant's card with this number (spaces allowed), or ``None``."""
    return db.session.scalar(
        select(LoyaltyCard).where(
            LoyaltyCard.merchant_id == merchant_id,
            LoyaltyCard.card_number == normalize_card_number(number),
        )
    )


def get_card_for_customer(merchant_id: int, customer_id: int) -> LoyaltyCard | None:
    """The customer's card at this merchant, or ``None``."""
    return db.session.scalar(
        select(LoyaltyCard).where(
            LoyaltyCard.merchant_id == merchant_id, LoyaltyCard.customer_id == customer_id
        )
    )


def card_history(card: LoyaltyCard, limit: int = 20) -> list[LoyaltyTransaction]:
    """The card's latest ledger rows, newest first."""
    return list(
        db.session.scalars(
            select(LoyaltyTransaction)
            .where(LoyaltyTransaction.card_id == card.id)
            .order_by(LoyaltyTransaction.id.desc())
            .limit(limit)
        )
    )

"""Reading amounts and rates typed by people: one parser for every form and entry point.

Luxembourg types "12,50" as often as "12.50"; both are accepted. Python's ``Decimal()``
alone would also take ``1_000``, Arabic-Indic or full-width digits, ``NaN``, ``sNaN`` and
``Infinity``; none of those is an amount anyone meant, and some break arithmetic later, so
only ASCII digits with at most one decimal separator are read.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from loyalty import bounds, errors
from loyalty.errors import LoyaltyError
from platform_core.i18n_lazy import _l

# [0-9], not \d: \d also matches non-ASCII digits.
_NUMBER = re.compile(r"(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)")
_WHOLE_NUMBER = re.compile(r"-?[0-9]+")
#: Longer than any count we store; keeps int() away from 100,000-digit strings.
_MAX_DIGITS = 18


def parse_whole_number(text: str) -> int:
    """A count as typed (points, days, stamps): ASCII digits only, no ``1_000``.

    :raises LoyaltyError: ``invalid_number``.
    """
    raw = (text or "").strip()
    if not _WHOLE_NUMBER.fullmatch(raw) or len(raw.lstrip("-")) > _MAX_DIGITS:
        raise LoyaltyError(_l("Enter a whole number."), "invalid_number")
    return int(raw)


def parse_decimal(text: str, *, places: int = 2, message: Any = None) -> Decimal:
    """``"12,50"`` or ``"12.50"`` → ``Decimal("12.50")``.

    :param text: what was typed (surrounding spaces are ignored).
    :param places: at most this many digits after the separator.
    :param message: the refusal for text that is not such a number (a lazy string).
    :raises LoyaltyError: ``invalid_number`` (with ``message``) or ``too_many_places``.
    """
    raw = (text or "").strip()
    if not _NUMBER.fullmatch(raw) or len(raw) > _MAX_DIGITS + places + 1:
        raise LoyaltyError(
            message or _l("Enter a number using digits, such as 12.50 or 12,50."),
            "invalid_number",
        )
    number = Decimal(raw.replace(",", "."))
    if -number.as_tuple().exponent > places:  # type: ignore[operator]
        raise LoyaltyError(
            _l("Use at most %(places)d decimal places.", places=places), "too_many_places"
        )
    return number


def parse_amount(text: str) -> Decimal:
    """A purchase amount in euros, as typed: ``"12,50"`` → ``Decimal("12.50")``.

    Currency signs, thousands separators and exponents are refused, not guessed at.

    :raises LoyaltyError: ``invalid_number``, ``too_many_places`` or ``invalid_amount``.
    """
    amount = parse_decimal(
        text,
        places=2,
        message=_l("Enter the amount in digits, such as 12.50 or 12,50 (no € sign)."),
    )
    check_amount(amount)
    return amount.quantize(Decimal("0.01"))


def check_amount(amount: Decimal) -> None:
    """Refuse an amount that is not a finite number of euros within the purchase range.

    :raises LoyaltyError: ``invalid_amount``.
    """
    bound = bounds.PURCHASE_AMOUNT
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise errors.invalid_amount()
    if amount <= 0:
        raise errors.invalid_amount()
    if amount > bound.maximum:
        raise errors.amount_too_large(bound.maximum)

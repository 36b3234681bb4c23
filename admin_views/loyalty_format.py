"""How the loyalty console pages show numbers, money and dates (in the user's locale)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask_babel import format_currency, format_datetime, format_decimal


def number(value: int | Decimal | None) -> str:
    """``12345`` → ``12,345`` (``12.345`` in German)."""
    return format_decimal(value) if value is not None else ""


def signed(value: int | None) -> str:
    """A ledger delta with its sign: ``+50``, ``-20``, ``0``."""
    if not value:
        return "0"
    return ("+" if value > 0 else "") + format_decimal(value)


def euros(value: Decimal | None) -> str:
    return format_currency(value, "EUR") if value is not None else ""


def when(value: datetime | None) -> str:
    """Date and time, short form, in the console's time zone."""
    return format_datetime(value, "short") if value is not None else ""


class Formats:
    """The helpers above, reachable from templates as ``admin_view.fmt``."""

    number = staticmethod(number)
    signed = staticmethod(signed)
    euros = staticmethod(euros)
    when = staticmethod(when)

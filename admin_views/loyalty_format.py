"""How the loyalty console pages show numbers, money and dates (in the user's locale)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from flask_babel import format_currency, format_datetime, format_decimal, to_user_timezone

from platform_core.i18n_lazy import _

#: The one date-and-time style of the console (lists and details alike).
DATETIME_FORMAT = "medium"


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
    """Date and time in the console's one style, in the console's time zone."""
    return format_datetime(value, DATETIME_FORMAT) if value is not None else ""


def iso(value: datetime | None) -> str:
    """ISO 8601 in the console's time zone with its offset, whole seconds
    (``2026-12-02T15:03:24+01:00``): what every CSV export writes."""
    if value is None:
        return ""
    if value.tzinfo is None:  # SQLite hands back naive UTC
        value = value.replace(tzinfo=UTC)
    return to_user_timezone(value).isoformat(timespec="seconds")


def yes_no(value: bool | None) -> str:
    """A boolean in the user's language."""
    if value is None:
        return ""
    return _("Yes") if value else _("No")


class Formats:
    """The helpers above, reachable from templates as ``admin_view.fmt``."""

    number = staticmethod(number)
    signed = staticmethod(signed)
    euros = staticmethod(euros)
    when = staticmethod(when)

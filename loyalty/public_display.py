"""What the public pages show about a program and a card: summaries, QR code, wallet link."""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from typing import Any

import segno
from flask_babel import format_decimal
from markupsafe import Markup

from loyalty.models import LoyaltyCard, LoyaltyProgram
from loyalty.services.cards import format_card_number
from loyalty.services.program_texts import ProgramTexts
from platform_core.i18n_lazy import _, ngettext

log = logging.getLogger(__name__)

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_BRAND_COLOR = "#1f5f8b"


def brand_color(program: LoyaltyProgram | None) -> str:
    """The program's colour, or our default when it is not a plain ``#rrggbb``.

    It lands inside a ``<style>`` element: only a strict hex value may pass.
    """
    value = (program.brand_color if program else "") or ""
    return value if _COLOUR.match(value) else DEFAULT_BRAND_COLOR


def qr_svg(data: str, *, label: str) -> Markup:
    """An inline SVG QR code of ``data`` (no JavaScript, no image request)."""
    qr = segno.make(data, error="m")
    svg = qr.svg_inline(
        scale=1,
        border=4,
        dark="#000",
        light="#fff",
        omitsize=True,
        title=label,
        svgclass="qr",
        lineclass=None,
    )
    return Markup(svg)  # noqa: S704 - segno's own output; the data is our card number


def plural_count(value: Decimal | int) -> int:
    """The whole number gettext picks a plural form by: a fraction (1.5 points) is plural."""
    whole = int(value)
    return whole if whole == value else whole + 2


def earn_summary(program: LoyaltyProgram, texts: ProgramTexts) -> list[str]:
    """One localized sentence per way the program rewards its customers.

    :param texts: the program's texts in the page's language (the reward).
    """
    lines: list[str] = []
    if program.uses_points:
        rate = program.points_per_euro
        lines.append(
            ngettext(
                "Earn %(points)s point for every euro you spend.",
                "Earn %(points)s points for every euro you spend.",
                plural_count(rate),
                points=format_decimal(rate, format="#,##0.##"),
            )
        )
        if program.welcome_bonus_points:
            lines.append(
                ngettext(
                    "Get %(count)s point as a welcome bonus.",
                    "Get %(count)s points as a welcome bonus.",
                    program.welcome_bonus_points,
                    count=format_decimal(program.welcome_bonus_points),
                )
            )
    if program.uses_stamps and program.stamps_target:
        if texts.reward_description:
            lines.append(
                ngettext(
                    "Collect %(count)s stamp and get: %(reward)s.",
                    "Collect %(count)s stamps and get: %(reward)s.",
                    program.stamps_target,
                    count=format_decimal(program.stamps_target),
                    reward=texts.reward_description,
                )
            )
        else:
            lines.append(
                ngettext(
                    "Collect %(count)s stamp to earn a reward.",
                    "Collect %(count)s stamps to earn a reward.",
                    program.stamps_target,
                    count=format_decimal(program.stamps_target),
                )
            )
    if program.uses_points and program.points_expiry_days:
        lines.append(
            ngettext(
                "Points expire after %(count)s day without any activity.",
                "Points expire after %(count)s days without any activity.",
                program.points_expiry_days,
                count=format_decimal(program.points_expiry_days),
            )
        )
    return lines


def wallet_url(card: LoyaltyCard) -> str | None:
    """The "Add to Google Wallet" link, or ``None`` when the wallet is not set up.

    The wallet module is optional: without it (or when it fails) the page simply has no
    button, it never breaks.
    """
    try:
        from loyalty.wallet.google import wallet_save_url
    except ImportError:
        return None
    try:
        return wallet_save_url(card)
    except Exception:
        log.exception("Google Wallet link for card %s failed", card.id)
        return None


def card_view(card: LoyaltyCard) -> dict[str, Any]:
    """Everything the success page and the card page show about ``card``."""
    program = card.program
    target = program.stamps_target if program and program.uses_stamps else None
    return {
        "number": format_card_number(card.card_number),
        "qr": qr_svg(
            card.card_number, label=_("QR code of card %(number)s", number=card.card_number)
        ),
        "points": format_decimal(card.points_balance),
        "stamps": format_decimal(card.stamp_count),
        "stamps_target": target,
        "stamps_target_display": format_decimal(target) if target else "",
        # The ledger keeps stamp_count below the target (a full round becomes a reward).
        "stamps_in_round": min(card.stamp_count, target) if target else 0,
        "rewards_ready": card.rewards_ready(),
        "wallet_url": wallet_url(card),
    }

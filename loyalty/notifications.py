"""Loyalty lifecycle emails: one method per event.

Loyalty services call these *inside* their transaction, passing ids. Each method resolves
customer, card, program, merchant and store into the template's variables (the card page
link and the Google Wallet link included) and hands them to :func:`messaging.queueing.send`,
which records a queued ``EmailLog`` row and sends it after the commit: nothing is sent
unless the loyalty change commits, and no request waits on SMTP. Messaging knows nothing of
loyalty; everything loyalty-specific is computed here.

Variables are formatted here, in the customer's locale (names, numbers, dates), so templates
only place ready-made strings.
"""

from __future__ import annotations

import logging
import re
from contextlib import AbstractContextManager
from datetime import date
from typing import Any

from flask_babel import force_locale, format_date, format_decimal

from loyalty.card_links import card_page_url
from loyalty.models import LoyaltyCard
from loyalty.services.program_texts import program_texts
from loyalty.wallet.google import wallet_save_url
from messaging.models import EmailLog
from messaging.queueing import email_batch, send
from platform_core.extensions import db

log = logging.getLogger(__name__)

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_DEFAULT_COLOR = "#1f5f8b"
_LOCALES = ("en", "fr", "de", "lb")


def _wallet_url(card: LoyaltyCard) -> str:
    """The "Add to Google Wallet" link, or empty when Wallet is not set up or unavailable."""
    try:
        return wallet_save_url(card) or ""
    except Exception:
        # A wallet problem must never stop the email: the card page link is enough.
        log.exception("wallet link for card %s unavailable; email sent without it", card.id)
        return ""


def _format_card_number(number: str) -> str:
    # Groups of four are easier to read out at the counter.
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def _recipient_locale(card: LoyaltyCard) -> str:
    for candidate in (
        card.customer.preferred_locale,
        card.enrolled_at_store.default_locale if card.enrolled_at_store else None,
        card.merchant.default_locale,
    ):
        if candidate in _LOCALES:
            return candidate
    return "en"


class LoyaltyNotificationService:
    """Queues the five loyalty emails; every method returns the queued log row."""

    def batch(self) -> AbstractContextManager[None]:
        """Queue the emails of a ``with`` block with one flush at its end (enrollment sends
        two); their rows get ids, and their tasks are registered, when the block ends."""
        return email_batch()

    def _queue(
        self,
        code: str,
        card_id: int,
        *,
        reward: bool = False,
        marketing: bool = False,
        **extra: int | date | str,
    ) -> EmailLog | None:
        card = db.session.get(LoyaltyCard, card_id)
        if card is None:
            log.warning("%s not queued: card %s does not exist", code, card_id)
            return None
        customer, program, merchant = card.customer, card.program, card.merchant
        if customer.erased_at is not None:
            # Erased: the address is a placeholder that must never be written to.
            return None
        store = card.enrolled_at_store
        locale = _recipient_locale(card)
        # The program's texts in the customer's language (fallbacks: program_texts).
        texts = program_texts(program, locale)
        with force_locale(locale):
            context: dict[str, Any] = {
                "customer_first_name": customer.first_name,
                "customer_name": customer.full_name,
                "merchant_name": merchant.name,
                "store_name": store.name if store is not None else merchant.name,
                "program_name": texts.name,
                "card_number": _format_card_number(card.card_number),
                "points_balance": format_decimal(card.points_balance),
                "stamp_count": format_decimal(card.stamp_count),
                "card_url": card_page_url(card),
                "wallet_url": _wallet_url(card),
                "brand_color": program.brand_color
                if _COLOR.match(program.brand_color or "")
                else _DEFAULT_COLOR,
            }
            if reward:
                context["stamps_reward"] = texts.reward_description
            for name, value in extra.items():
                if isinstance(value, date):
                    context[name] = format_date(value, format="long")
                elif isinstance(value, int):
                    context[name] = format_decimal(value)
                else:
                    context[name] = value
        unsubscribe = None
        if marketing:
            from loyalty.unsubscribe import unsubscribe_url

            # On PUBLIC_BASE_URL, like the card link: it works whatever the store's domains.
            unsubscribe = unsubscribe_url(customer)
            context["unsubscribe_url"] = unsubscribe
        return send(
            code,
            recipient=customer.email,
            locale=locale,
            context=context,
            merchant_id=merchant.id,
            store_id=store.id if store is not None else None,
            list_unsubscribe_url=unsubscribe,
        )

    def enrollment(self, card_id: int) -> EmailLog | None:
        """loyalty_enrollment: the customer joined (also sent to an already enrolled email)."""
        return self._queue("loyalty_enrollment", card_id)

    def welcome_bonus(self, card_id: int, points: int) -> EmailLog | None:
        """loyalty_welcome_bonus: only called when the bonus is above 0."""
        return self._queue("loyalty_welcome_bonus", card_id, points=points)

    def points_expiring(self, card_id: int, points: int, expires_on: date) -> EmailLog | None:
        """loyalty_points_expiring: called by the warning job, ``warning_days`` ahead."""
        return self._queue(
            "loyalty_points_expiring", card_id, points=points, expiry_date=expires_on
        )

    def points_expired(self, card_id: int, points: int) -> EmailLog | None:
        """loyalty_points_expired: called by the expiry job after the points were zeroed."""
        return self._queue("loyalty_points_expired", card_id, points=points)

    def reward_ready(self, card_id: int) -> EmailLog | None:
        """loyalty_reward_ready: the stamps target was reached."""
        card = db.session.get(LoyaltyCard, card_id)
        if card is None:
            return None
        program = card.program
        return self._queue(
            "loyalty_reward_ready", card_id, reward=True, stamps_target=program.stamps_target or 0
        )

    # -- marketing: only for customers whose marketing consent is granted (the jobs check),
    # -- each with a visible unsubscribe link and the List-Unsubscribe headers.

    def birthday(self, card_id: int, bonus_points: int) -> EmailLog | None:
        """loyalty_birthday: birthday wishes; ``bonus_points`` 0 = no bonus (empty)."""
        return self._queue(
            "loyalty_birthday",
            card_id,
            marketing=True,
            bonus_points=bonus_points if bonus_points > 0 else "",
        )

    def we_miss_you(self, card_id: int, last_visit: date) -> EmailLog | None:
        """loyalty_we_miss_you: the card had no activity for the program's N days."""
        return self._queue("loyalty_we_miss_you", card_id, marketing=True, last_visit=last_visit)


#: The instance loyalty services use.
loyalty_notifications = LoyaltyNotificationService()

"""Loyalty emails use the program's texts in the customer's language (its name and reward),
never the English reward in a German email."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import pytest

from loyalty.models import LoyaltyCard, ProgramKind
from loyalty.notifications import loyalty_notifications
from loyalty.services.program_texts import set_program_texts
from platform_core import db as dbmod

pytestmark = pytest.mark.smtp

TEXTS = {
    "en": {"name": "Club Elsa", "reward_description": "A free tart"},
    "de": {"name": "Club Elsa", "reward_description": "Ein Törtchen gratis"},
    "lb": {"name": "Club Ëlsa Lëtzebuerg", "reward_description": "Eng Taart gratis"},
}


def _text(message: EmailMessage) -> str:
    parts = []
    for part in message.walk():
        if part.get_content_maintype() == "text":
            parts.append(part.get_payload(decode=True).decode("utf-8"))
    return "\n".join(parts)


@pytest.mark.usefixtures("seeded_templates")
@pytest.mark.parametrize(
    ("locale", "reward", "name"),
    [
        ("lb", "Eng Taart gratis", "Club Ëlsa Lëtzebuerg"),
        ("de", "Ein Törtchen gratis", "Club Elsa"),
        # French has only a reward (the shop's program): the name falls back to English.
        ("fr", "une tarte offerte", "Club Elsa"),
    ],
)
def test_reward_email_has_the_reward_in_the_customer_language(
    locale: str,
    reward: str,
    name: str,
    smtp_server: Any,
    use_smtp: Callable[[int], None],
    make_loyalty_card: Callable[..., LoyaltyCard],
) -> None:
    use_smtp(smtp_server.port)
    card = make_loyalty_card(locale, kind=ProgramKind.STAMPS)
    set_program_texts(card.program, TEXTS)
    loyalty_notifications.reward_ready(card.id)
    dbmod.commit()
    [received] = smtp_server.handler.received
    body = _text(received.message)
    assert reward in body
    assert name in body
    rewards = {text["reward_description"] for text in TEXTS.values()} | {"une tarte offerte"}
    for other in rewards - {reward}:
        assert other not in body


@pytest.mark.usefixtures("seeded_templates")
def test_enrollment_email_names_the_program_in_luxembourgish(
    smtp_server: Any,
    use_smtp: Callable[[int], None],
    make_loyalty_card: Callable[..., LoyaltyCard],
) -> None:
    use_smtp(smtp_server.port)
    card = make_loyalty_card("lb", kind=ProgramKind.HYBRID)
    set_program_texts(card.program, TEXTS)
    loyalty_notifications.enrollment(card.id)
    dbmod.commit()
    [received] = smtp_server.handler.received
    assert received.message["Subject"] == "Wëllkomm bei Club Ëlsa Lëtzebuerg, Léa!"

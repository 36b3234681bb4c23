"""The five loyalty emails, in each language, as a real SMTP server receives them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import select

from loyalty.models import LoyaltyCard, ProgramKind
from loyalty.notifications import loyalty_notifications
from messaging.models import EmailLog, EmailStatus
from platform_core import db as dbmod

pytestmark = pytest.mark.smtp

EXPIRY = date(2031, 3, 14)

#: What each email's subject reads, with the card's values filled in.
SUBJECTS = {
    ("loyalty_enrollment", "en"): "Welcome to Club Ëlsa, Léa!",
    ("loyalty_enrollment", "fr"): "Bienvenue dans Club Ëlsa, Léa\u00a0!",
    ("loyalty_enrollment", "de"): "Willkommen bei Club Ëlsa, Léa!",
    ("loyalty_enrollment", "lb"): "Wëllkomm bei Club Ëlsa, Léa!",
    ("loyalty_welcome_bonus", "en"): "150 welcome points are waiting for you",
    ("loyalty_welcome_bonus", "fr"): "150 points de bienvenue vous attendent",
    ("loyalty_welcome_bonus", "de"): "150 Willkommenspunkte warten auf Sie",
    ("loyalty_welcome_bonus", "lb"): "150 Wëllkommpunkten waarden op Iech",
    ("loyalty_points_expiring", "en"): "Léa, your 1,250 points expire on March 14, 2031",
    ("loyalty_points_expiring", "fr"): "Léa, vos 1\u202f250 points expirent le 14 mars 2031",
    ("loyalty_points_expiring", "de"): "Léa, Ihre 1.250 Punkte verfallen am 14. März 2031",
    ("loyalty_points_expiring", "lb"): "Léa, Är 1.250 Punkten verfalen den 14. Mäerz 2031",
    ("loyalty_points_expired", "en"): "Your Club Ëlsa points have expired",
    ("loyalty_points_expired", "fr"): "Vos points Club Ëlsa ont expiré",
    ("loyalty_points_expired", "de"): "Ihre Punkte bei Club Ëlsa sind verfallen",
    ("loyalty_points_expired", "lb"): "Är Punkten bei Club Ëlsa sinn verfall",
    ("loyalty_reward_ready", "en"): "Your reward is ready, Léa!",
    ("loyalty_reward_ready", "fr"): "Votre récompense vous attend, Léa\u00a0!",
    ("loyalty_reward_ready", "de"): "Ihre Prämie wartet auf Sie, Léa!",
    ("loyalty_reward_ready", "lb"): "Är Belounung waart op Iech, Léa!",
}

#: A phrase of each language's body, so a message in the wrong language is caught.
BODY_PHRASE = {
    "en": "Open my card",
    "fr": "Voir ma carte",
    "de": "Meine Karte öffnen",
    "lb": "Meng Kaart opmaachen",
}


def _notify(code: str, card: LoyaltyCard) -> None:
    if code == "loyalty_enrollment":
        loyalty_notifications.enrollment(card.id)
    elif code == "loyalty_welcome_bonus":
        loyalty_notifications.welcome_bonus(card.id, 150)
    elif code == "loyalty_points_expiring":
        loyalty_notifications.points_expiring(card.id, card.points_balance, EXPIRY)
    elif code == "loyalty_points_expired":
        loyalty_notifications.points_expired(card.id, 1250)
    else:
        loyalty_notifications.reward_ready(card.id)


def _parts(message: EmailMessage) -> dict[str, str]:
    parts = {}
    for part in message.walk():
        if part.get_content_maintype() == "text":
            assert part.get_content_charset() == "utf-8"
            payload = part.get_payload(decode=True)
            parts[part.get_content_subtype()] = payload.decode("utf-8")  # strict UTF-8
    return parts


@pytest.mark.usefixtures("seeded_templates")
@pytest.mark.parametrize("locale", ["en", "fr", "de", "lb"])
@pytest.mark.parametrize(
    "code",
    [
        "loyalty_enrollment",
        "loyalty_welcome_bonus",
        "loyalty_points_expiring",
        "loyalty_points_expired",
        "loyalty_reward_ready",
    ],
)
def test_loyalty_email_arrives_localized_and_complete(
    code: str,
    locale: str,
    smtp_server: Any,
    use_smtp: Callable[[int], None],
    make_loyalty_card: Callable[..., LoyaltyCard],
    session: Any,
) -> None:
    use_smtp(smtp_server.port)
    card = make_loyalty_card(locale, kind=ProgramKind.HYBRID)
    merchant = card.merchant

    _notify(code, card)
    assert smtp_server.messages == [], "nothing may be sent before the commit"
    dbmod.commit()

    assert len(smtp_server.handler.received) == 1
    received = smtp_server.handler.received[0]
    message = received.message
    assert received.rcpt_tos == [card.customer.email]

    assert message["Subject"] == SUBJECTS[(code, locale)]
    sender = message["From"].addresses[0]
    assert isinstance(sender, Address)
    assert sender.display_name == "Pâtisserie Ëlsa & Fils"
    assert sender.addr_spec == "loyalty@platform.lu"
    assert message["Reply-To"] == "bonjour@elsa.example.lu"
    assert message["Message-ID"].startswith("<")
    assert message["Date"]
    assert message.get_content_type() == "multipart/alternative"

    parts = _parts(message)
    assert set(parts) == {"plain", "html"}
    for body in parts.values():
        assert "{{" not in body
        assert "{%" not in body
        assert "Undefined" not in body
        assert "None" not in body
        assert "/card/" in body, "the card page link is in both parts"
    assert BODY_PHRASE[locale] in parts["html"]
    assert merchant.name.replace("&", "&amp;") in parts["html"]
    assert "#8b1f4f" in parts["html"], "the program's colour is used"
    assert "Google Wallet" not in parts["html"], "no wallet button when wallet is not set up"

    row = session.scalars(select(EmailLog).filter_by(code=code)).one()
    assert row.status == EmailStatus.SENT
    assert row.message_id == message["Message-ID"]
    assert row.subject == SUBJECTS[(code, locale)]
    assert row.attempts == 1
    assert row.sent_at is not None


@pytest.mark.usefixtures("seeded_templates")
def test_one_connection_serves_many_messages(
    smtp_server: Any,
    use_smtp: Callable[[int], None],
    make_loyalty_card: Callable[..., LoyaltyCard],
) -> None:
    use_smtp(smtp_server.port)
    cards = [make_loyalty_card("en") for _ in range(3)]
    for card in cards:
        loyalty_notifications.enrollment(card.id)
    dbmod.commit()

    assert len(smtp_server.messages) == 3
    assert smtp_server.handler.ehlo_count == 1


@pytest.mark.usefixtures("seeded_templates")
def test_a_restarted_server_gets_a_new_connection(
    smtp_server: Any,
    use_smtp: Callable[[int], None],
    make_loyalty_card: Callable[..., LoyaltyCard],
) -> None:
    use_smtp(smtp_server.port)
    loyalty_notifications.enrollment(make_loyalty_card("en").id)
    dbmod.commit()
    smtp_server.restart()  # drops the connection the provider keeps open

    loyalty_notifications.enrollment(make_loyalty_card("de").id)
    dbmod.commit()

    assert [m["Subject"] for m in smtp_server.messages] == [
        "Welcome to Club Ëlsa, Léa!",
        "Willkommen bei Club Ëlsa, Léa!",
    ]
    assert smtp_server.handler.ehlo_count == 2

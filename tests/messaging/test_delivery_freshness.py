"""What the consumer keeps between sends never outlives an edit, and the wire format holds."""

from __future__ import annotations

from collections.abc import Callable
from email import message_from_bytes, policy
from typing import Any

import pytest
from sqlalchemy import select

from loyalty.models import LoyaltyCard
from loyalty.notifications import loyalty_notifications
from messaging.mime import build_mime, message_bytes
from messaging.models import EmailTemplate, StoreEmailTemplate
from messaging.providers import outbox
from platform_core import db as dbmod

pytestmark = pytest.mark.usefixtures("seeded_templates")


def _enroll_and_send(card: LoyaltyCard) -> str:
    loyalty_notifications.enrollment(card.id)
    dbmod.commit()
    return outbox[-1]["Subject"]


def test_an_edited_template_is_used_by_the_very_next_send(
    make_loyalty_card: Callable[..., LoyaltyCard],
    session: Any,
) -> None:
    card = make_loyalty_card("en")
    first = _enroll_and_send(card)
    template = session.scalars(
        select(EmailTemplate).filter_by(code="loyalty_enrollment", locale="en")
    ).one()

    template.subject = "Fresh subject for {{ customer_first_name }}"
    dbmod.commit()

    assert first.startswith("Welcome to")
    assert _enroll_and_send(card) == "Fresh subject for Léa"


def test_a_new_override_and_a_deactivated_template_apply_at_once(
    make_loyalty_card: Callable[..., LoyaltyCard],
    session: Any,
) -> None:
    card = make_loyalty_card("de")
    assert _enroll_and_send(card).startswith("Willkommen")

    override = StoreEmailTemplate(
        merchant_id=card.merchant_id,
        store_id=card.enrolled_at_store_id,
        code="loyalty_enrollment",
        locale="de",
        subject="Nur hier",
        body_html="<p>Nur hier</p>",
        body_text="",
    )
    session.add(override)
    dbmod.commit()
    assert _enroll_and_send(card) == "Nur hier"

    session.delete(override)
    session.scalars(
        select(EmailTemplate).filter_by(code="loyalty_enrollment", locale="de")
    ).one().is_active = False
    dbmod.commit()
    # German is off, the store speaks French: the French platform template.
    assert _enroll_and_send(card).startswith("Bienvenue")


def test_the_message_on_the_wire_is_crlf_7bit_and_names_the_merchant() -> None:
    message = build_mime(
        from_name="Pâtisserie Ëlsa & Fils",
        mail_from="loyalty@platform.lu",
        to="lea@example.lu",
        reply_to="bonjour@elsa.lu",
        subject="Bienvenue dans Club Ëlsa, Léa\u00a0!" + " très long" * 10,
        body_text="Bonjour Léa\n",
        body_html="<p>Bonjour Léa</p>\n",
    )

    data = message_bytes(message)
    parsed = message_from_bytes(data, policy=policy.default)

    assert data.isascii()
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert max(len(line) for line in data.split(b"\r\n")) <= 78
    assert parsed["From"].addresses[0].display_name == "Pâtisserie Ëlsa & Fils"
    assert parsed["Subject"].startswith("Bienvenue dans Club Ëlsa, Léa\u00a0! très long")
    assert parsed["Reply-To"] == "bonjour@elsa.lu"
    assert parsed.get_body(("plain",)).get_content() == "Bonjour Léa\n"
    assert parsed.get_body(("html",)).get_content() == "<p>Bonjour Léa</p>\n"


def test_a_line_break_in_a_header_value_is_refused() -> None:
    with pytest.raises(ValueError, match="line break"):
        build_mime(
            from_name="Ëlsa",
            mail_from="loyalty@platform.lu",
            to="lea@example.lu\r\nBcc: everyone@example.lu",
            reply_to=None,
            subject="Hi",
            body_text="x",
            body_html="<p>x</p>",
        )

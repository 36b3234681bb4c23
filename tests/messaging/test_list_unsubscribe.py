"""Marketing emails carry RFC 8058 one-click unsubscribe headers; service emails do not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from loyalty.models import LoyaltyCard
from messaging.queueing import resend, send
from platform_core import db as dbmod

pytestmark = [pytest.mark.smtp, pytest.mark.usefixtures("seeded_templates")]

URL = "https://loyalty.example.lu/unsubscribe/abc.def"


def _send(card: LoyaltyCard, url: str | None) -> Any:
    return send(
        "loyalty_reward_ready",
        recipient=card.customer.email,
        locale="en",
        context={"customer_first_name": "Léa"},
        merchant_id=card.merchant_id,
        list_unsubscribe_url=url,
    )


def test_a_marketing_email_has_one_click_headers_and_a_resend_keeps_them(
    smtp_server: Any,
    use_smtp: Callable[[int], None],
    make_loyalty_card: Callable[..., LoyaltyCard],
    session: Any,
) -> None:
    use_smtp(smtp_server.port)
    card = make_loyalty_card("en")
    row = _send(card, URL)
    dbmod.commit()
    resend(row.id)
    dbmod.commit()

    assert len(smtp_server.messages) == 2
    for message in smtp_server.messages:
        assert message["List-Unsubscribe"] == f"<{URL}>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_service_email_has_none(
    smtp_server: Any,
    use_smtp: Callable[[int], None],
    make_loyalty_card: Callable[..., LoyaltyCard],
    session: Any,
) -> None:
    use_smtp(smtp_server.port)
    _send(make_loyalty_card("en"), None)
    dbmod.commit()

    (message,) = smtp_server.messages
    assert message["List-Unsubscribe"] is None
    assert message["List-Unsubscribe-Post"] is None


def test_a_line_break_in_the_address_is_refused(
    make_loyalty_card: Callable[..., LoyaltyCard], session: Any
) -> None:
    from messaging.mime import build_mime

    with pytest.raises(ValueError):
        build_mime(
            from_name="Shop",
            mail_from="a@b.lu",
            to="c@d.lu",
            reply_to=None,
            subject="Hi",
            body_text="x",
            body_html="<p>x</p>",
            list_unsubscribe_url=URL + "\r\nBcc: victim@example.com",
        )

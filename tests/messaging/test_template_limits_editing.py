"""Limits where people meet them: refused at save and at preview with the line and a localized
reason, and at send time a failed row that is not retried (the SMTP server receives nothing)."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from loyalty.models import LoyaltyCard
from loyalty.notifications import loyalty_notifications
from messaging.models import EmailLog, EmailStatus, EmailTemplate, StoreEmailTemplate
from platform_core import db as dbmod
from platform_core.huey import huey
from tests.messaging.editor_support import CODE, draft, platform_templates

TOWER = "{{ ((((9**64)**64)**64)**64) > 1 }}"
DOUBLING = "{% set s = customer_first_name %}" + "{% set s = s ~ s %}" * 20 + "{{ s }}"
BODY = "<p>Hallo {{ customer_first_name }}</p>\n{payload}\n<p>Tschüss</p>"  # payload: line 2

#: The line-and-reason text the editor shows, per language, for the power tower.
TOWER_REFUSAL = {
    "en": "Line 2: The result would be a number with more than 300 digits.",
    "fr": "Ligne 2\u00a0: Le résultat serait un nombre de plus de 300 chiffres.",
    "de": "Zeile 2: Das Ergebnis wäre eine Zahl mit mehr als 300 Ziffern.",
    "lb": "Zeil 2: D'Resultat wier eng Zuel mat méi wéi 300 Zifferen.",
}


@pytest.fixture
def templates(session: Any) -> dict[str, EmailTemplate]:
    return platform_templates()


@pytest.mark.parametrize("lang", ["en", "fr", "de", "lb"])
def test_store_editor_refuses_to_save_with_line_and_localized_reason(
    client: Any,
    login_as: Any,
    merchant_admin: Any,
    dummy_store: Any,
    templates: Any,
    session: Any,
    lang: str,
) -> None:
    login_as(merchant_admin)
    body = BODY.format(payload=TOWER)
    page = client.post(
        f"/admin/email-templates/{dummy_store.id}/{CODE}/de/?lang={lang}",
        data=draft(body_html=body),
    )
    assert page.status_code == 200
    assert TOWER_REFUSAL[lang] in html.unescape(page.text)
    assert body in html.unescape(page.text), "what was typed is kept"
    assert session.scalar(select(StoreEmailTemplate.id)) is None


def test_store_editor_preview_answers_the_problem_with_its_line(
    client: Any, login_as: Any, merchant_admin: Any, dummy_store: Any, templates: Any
) -> None:
    login_as(merchant_admin)
    url = f"/admin/email-templates/{dummy_store.id}/{CODE}/de/preview?lang=fr"
    answer = client.post(url, data=draft(body_html=BODY.format(payload=DOUBLING))).get_json()
    assert answer["ok"] is False
    assert answer["problems"] == [
        {
            "field": "body_html",
            "line": 2,
            "message": "Ligne 2\u00a0: Le résultat dépasserait 100\u202f000 caractères"
            " ou éléments.",
        }
    ]


def test_platform_template_admin_refuses_to_save_with_line_and_reason(
    client: Any, login_as: Any, platform_admin: Any, templates: Any, session: Any
) -> None:
    de = templates["de"]
    login_as(platform_admin)
    body = BODY.format(payload="{{ customer_first_name|center(100000000) }}")
    page = client.post(
        f"/admin/platform-templates/edit/?id={de.id}&lang=de",
        data={
            "subject": de.subject,
            "body_html": body,
            "body_text": "",
            "description": de.description,
            "is_active": "y",
        },
    )
    assert page.status_code == 200
    assert "Zeile 2: Das Ergebnis wäre länger als 100.000 Zeichen oder Elemente." in html.unescape(
        page.text
    )
    session.refresh(de)
    assert "center" not in de.body_html


@pytest.mark.smtp
@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (TOWER, "The result would be a number with more than 300 digits."),
        (DOUBLING, "The result would be longer than 100,000 characters or items."),
    ],
)
def test_a_template_that_slipped_in_fails_the_send_once_and_sends_nothing(
    payload: str,
    reason: str,
    smtp_server: Any,
    use_smtp: Callable[[int], None],
    make_loyalty_card: Callable[..., LoyaltyCard],
    session: Any,
) -> None:
    use_smtp(smtp_server.port)
    # Written straight to the database, as a template saved before these limits existed.
    session.add(
        EmailTemplate(
            code=CODE,
            locale="en",
            subject="Hi {{ customer_first_name }}",
            body_html=BODY.format(payload=payload),
            body_text="",
        )
    )
    row = loyalty_notifications.enrollment(make_loyalty_card("en").id)

    dbmod.commit()  # runs the send task inline; nothing may be raised here

    session.refresh(row)
    assert row.status == EmailStatus.FAILED
    assert row.attempts == 1, "a template over the limits is not retried"
    assert row.last_error == f"body_html: Line 2: {reason}"
    assert huey.pending_count() == 0
    assert huey.scheduled_count() == 0, "no retry is scheduled"
    assert smtp_server.messages == []
    assert session.scalars(select(EmailLog)).all() == [row]

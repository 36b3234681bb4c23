"""Merchant templates are untrusted: escapes are refused when saved and when sent."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from loyalty.models import LoyaltyCard
from loyalty.notifications import loyalty_notifications
from messaging.models import EmailLog, EmailStatus, EmailTemplate, StoreEmailTemplate
from messaging.providers import outbox
from messaging.rendering import validate_template
from messaging.tasks import send_email_task
from platform_core import db as dbmod
from platform_core.extensions import db

CODE = "loyalty_enrollment"
GOOD_HTML = "<p>Hello {{ customer_first_name }},</p>\n<p>Welcome to {{ program_name }}.</p>"

ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ config }}",
    "{{ self }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ customer_name.__class__ }}",
    "{{ customer_name|attr('__class__') }}",
    "{{ request.environ }}",
    "{{ lipsum.__globals__['os'] }}",
    "{% include 'admin/index.html' %}",
    "{{ customer_name['__class__'] }}",
]


@pytest.mark.usefixtures("app_ctx")
def test_a_clean_template_passes() -> None:
    assert validate_template(CODE, "Welcome, {{ customer_first_name }}", GOOD_HTML, "") == []


@pytest.mark.usefixtures("app_ctx")
@pytest.mark.parametrize("escape", ESCAPES)
def test_escape_is_refused_with_its_line(escape: str) -> None:
    body = GOOD_HTML + "\n<p>\n" + escape + "\n</p>"  # the escape sits on line 4

    problems = validate_template(CODE, "Welcome", body, "")

    assert problems, f"{escape} must be refused"
    assert {p.field for p in problems} == {"body_html"}
    assert {p.line for p in problems} == {4}
    assert all(p.message for p in problems)


#: What a template could print if it got at Python: none of it may reach a stored row.
_MACHINERY = ("<class", "&lt;class", "TemplateReference", "function", "built-in", "module")

#: Today's sandbox prints ``{{ self }}`` as "<TemplateReference None>" at send time (the
#: validator refuses it when saved; nothing behind it is reachable: its attributes are
#: underscored). The sandbox hardening in messaging/rendering.py makes the send refuse it
#: too; then this marker turns the test red and is to be removed.
_SEND_TIME_GAPS = {"{{ self }}"}


def _send_through_store_override(
    card: LoyaltyCard, payload: str, *, subject: str = "Welcome"
) -> EmailLog:
    """A store override holding ``payload`` (written straight to the table, as one saved
    before validation existed), then a queued email sent through the send task."""
    store = card.enrolled_at_store
    db.session.add(
        StoreEmailTemplate(
            merchant_id=card.merchant_id,
            store_id=store.id,
            code=CODE,
            locale="en",
            subject=subject,
            body_html=GOOD_HTML + "\n<p>\n" + payload + "\n</p>",
            body_text="",
        )
    )
    row = EmailLog(
        merchant_id=card.merchant_id,
        store_id=store.id,
        recipient=card.customer.email,
        code=CODE,
        locale="en",
        context_json=json.dumps(
            {
                "customer_first_name": card.customer.first_name,
                "customer_name": "Léa Hoffmann",
                "program_name": card.program.name,
                "card_number": card.card_number,
            }
        ),
    )
    db.session.add(row)
    db.session.flush()
    dbmod.after_commit(send_email_task, row.id)
    dbmod.commit()  # the task runs inline (immediate mode): the real delivery path
    db.session.refresh(row)
    return row


@pytest.mark.parametrize(
    "escape",
    [
        pytest.param(
            escape,
            marks=pytest.mark.xfail(
                escape in _SEND_TIME_GAPS,
                reason="today's sandbox renders it harmlessly; refused once hardened",
                strict=True,
            ),
        )
        for escape in ESCAPES
    ],
)
def test_escape_is_refused_when_sent(
    escape: str, app: Any, make_loyalty_card: Callable[..., LoyaltyCard], session: Any
) -> None:
    row = _send_through_store_override(make_loyalty_card("en"), escape)

    assert row.status == EmailStatus.FAILED, f"{escape} was rendered and sent"
    assert row.attempts == 1, "a refused template is not retried"
    assert outbox == [], "nothing may be sent"
    stored = " ".join(
        part or "" for part in (row.subject, row.body_html, row.body_text, row.last_error)
    )
    assert app.config["SECRET_KEY"] not in stored
    assert not [m for m in _MACHINERY if m in stored], stored


def test_a_clean_store_override_is_sent(
    make_loyalty_card: Callable[..., LoyaltyCard], session: Any
) -> None:
    # The control for the cases above: the same path with a harmless payload does send.
    row = _send_through_store_override(make_loyalty_card("en"), "{{ program_name|upper }}")

    assert row.status == EmailStatus.SENT, row.last_error
    (message,) = outbox
    assert "CLUB ËLSA" in message.get_body(("html",)).get_content()


@pytest.mark.usefixtures("app_ctx")
def test_problems_name_field_line_and_reason() -> None:
    problems = validate_template(
        CODE,
        "Hi {{ first_name }}",
        "<p>{{ customer_first_name }}</p>\n<p>ok</p>\n<p>{{ program_name | }}</p>",
        "line one\n{{ card_number.__class__ }}",
    )

    by_field = {p.field: p for p in problems}
    assert by_field["subject"].line == 1
    assert "first_name" in by_field["subject"].message
    assert by_field["body_html"].line == 3
    assert by_field["body_html"].message.startswith("Syntax error")
    assert by_field["body_text"].line == 2
    assert "__class__" in by_field["body_text"].message


@pytest.mark.usefixtures("app_ctx")
def test_runaway_expressions_are_refused() -> None:
    problems = validate_template(CODE, "x", "{{ customer_name * 100000000 }}", "")
    assert problems
    assert problems[0].field == "body_html"


def test_template_that_slipped_in_fails_the_send_not_the_caller(
    make_loyalty_card: Callable[..., LoyaltyCard],
    session: Any,
) -> None:
    # Written straight to the database, as a template saved before validation existed.
    session.add(
        EmailTemplate(
            code=CODE,
            locale="en",
            subject="Hi {{ customer_first_name }}",
            body_html="<p>{{ customer_first_name.__class__.__mro__ }}</p>",
            body_text="",
        )
    )
    row = loyalty_notifications.enrollment(make_loyalty_card("en").id)

    dbmod.commit()  # runs the send task inline; nothing may be raised here

    session.refresh(row)
    assert row.status == EmailStatus.FAILED
    assert row.attempts == 1, "a template error is not retried"
    assert "not allowed" in row.last_error
    assert outbox == []


def test_unknown_variable_at_send_time_fails_the_row(
    make_loyalty_card: Callable[..., LoyaltyCard],
    session: Any,
) -> None:
    session.add(
        EmailTemplate(
            code=CODE,
            locale="en",
            subject="Hi",
            body_html="<p>{{ password_hash }}</p>",
            body_text="",
        )
    )
    row = loyalty_notifications.enrollment(make_loyalty_card("en").id)
    dbmod.commit()

    session.refresh(row)
    assert row.status == EmailStatus.FAILED
    assert "password_hash" in row.last_error
    assert outbox == []


def test_html_is_escaped_but_text_is_not(
    make_loyalty_card: Callable[..., LoyaltyCard],
    session: Any,
) -> None:
    session.add(
        EmailTemplate(
            code=CODE,
            locale="en",
            subject="Hi {{ customer_first_name }}",
            body_html="<p>{{ customer_first_name }}</p>",
            body_text="Hi {{ customer_first_name }}",
        )
    )
    card = make_loyalty_card("en", first_name="<b>Tom & Jerry</b>")
    loyalty_notifications.enrollment(card.id)
    dbmod.commit()

    (message,) = outbox
    assert message["Subject"] == "Hi <b>Tom & Jerry</b>"
    html = message.get_body(("html",)).get_content()
    assert "<p>&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;</p>" in html
    assert message.get_body(("plain",)).get_content().strip() == "Hi <b>Tom & Jerry</b>"

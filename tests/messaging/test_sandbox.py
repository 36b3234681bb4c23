"""Merchant templates are untrusted: escapes are refused when saved and when sent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from loyalty.models import LoyaltyCard
from loyalty.notifications import loyalty_notifications
from messaging.models import EmailStatus, EmailTemplate
from messaging.providers import outbox
from messaging.rendering import validate_template
from platform_core import db as dbmod

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

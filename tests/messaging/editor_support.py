"""Data shared by the editor and email log tests (plain helpers: no conftest of ours)."""

from __future__ import annotations

from messaging.models import EmailLog, EmailStatus, EmailTemplate
from platform_core.extensions import db

CODE = "loyalty_enrollment"

PLATFORM_SUBJECT = {
    "en": "Welcome to {{ program_name }}",
    "fr": "Bienvenue dans {{ program_name }}",
    "de": "Willkommen bei {{ program_name }}",
    "lb": "Wëllkomm bei {{ program_name }}",
}


def platform_templates(code: str = CODE) -> dict[str, EmailTemplate]:
    """The platform's template of ``code`` in the four languages."""
    rows = {}
    for locale, subject in PLATFORM_SUBJECT.items():
        row = EmailTemplate(
            code=code,
            locale=locale,
            subject=subject,
            body_html="<p>{{ customer_first_name }}, card {{ card_number }}.</p>",
            body_text="",
            description="Enrollment",
        )
        db.session.add(row)
        rows[locale] = row
    db.session.flush()
    return rows


def email_log(
    store, recipient: str = "anna@example.lu", status: EmailStatus = EmailStatus.SENT, **kwargs
) -> EmailLog:
    """A log row of ``store`` as the send task leaves it."""
    values = {
        "merchant_id": store.merchant_id,
        "store_id": store.id,
        "recipient": recipient,
        "code": CODE,
        "locale": "en",
        "status": status,
        "context_json": '{"customer_first_name": "Anna", "program_name": "Rewards"}',
        "attempts": 1,
        "subject": "Welcome to Rewards",
        "body_html": "<p>Anna, welcome.</p>",
        "body_text": "Anna, welcome.",
    }
    values.update(kwargs)
    row = EmailLog(**values)
    db.session.add(row)
    db.session.flush()
    return row


def draft(
    subject: str = "Hallo {{ customer_first_name }}",
    body_html: str = "<p>Willkommen bei {{ program_name }}</p>",
    body_text: str = "",
    action: str = "save",
) -> dict[str, str]:
    return {"subject": subject, "body_html": body_html, "body_text": body_text, "action": action}

"""``flask seed email-templates``: 8 staff and 28 loyalty templates, idempotent, edit-safe."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from messaging.catalog import CORE_CODES, LOYALTY_CODES
from messaging.models import EmailTemplate
from messaging.rendering import validate_template
from seeds.seed_email_templates_core import content_hash

LOCALES = {"en", "fr", "de", "lb"}


def _seed(runner: Any) -> list[str]:
    result = runner.invoke(args=["seed", "email-templates"])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def _template(session: Any, code: str, locale: str) -> EmailTemplate:
    return session.scalars(select(EmailTemplate).filter_by(code=code, locale=locale)).one()


def test_first_run_creates_every_template_then_changes_nothing(runner: Any, session: Any) -> None:
    assert _seed(runner) == [
        "core email templates: created 8, updated 0, unchanged 0, kept 0 edited",
        "loyalty email templates: created 28, updated 0, unchanged 0, kept 0 edited",
        "webhook email templates: created 4, updated 0, unchanged 0, kept 0 edited",
    ]
    assert _seed(runner) == [
        "core email templates: created 0, updated 0, unchanged 8, kept 0 edited",
        "loyalty email templates: created 0, updated 0, unchanged 28, kept 0 edited",
        "webhook email templates: created 0, updated 0, unchanged 4, kept 0 edited",
    ]
    rows = session.scalars(select(EmailTemplate)).all()
    assert {(r.code, r.locale) for r in rows} == {
        (code, locale) for code in (*CORE_CODES, *LOYALTY_CODES) for locale in LOCALES
    }
    assert session.scalar(select(func.count()).select_from(EmailTemplate)) == 40


def test_an_edited_template_is_kept(runner: Any, session: Any) -> None:
    _seed(runner)
    edited = _template(session, "loyalty_reward_ready", "lb")
    edited.subject = "Är Kaddo waart, {{ customer_first_name }}!"
    session.commit()

    lines = _seed(runner)

    assert lines[1] == "loyalty email templates: created 0, updated 0, unchanged 27, kept 1 edited"
    session.expire_all()
    assert _template(session, "loyalty_reward_ready", "lb").subject.startswith("Är Kaddo")


def test_an_untouched_template_from_an_older_seed_is_refreshed(runner: Any, session: Any) -> None:
    _seed(runner)
    old = _template(session, "loyalty_enrollment", "de")
    old.subject = "Willkommen!"
    old.seeded_hash = content_hash(old.subject, old.body_html, old.body_text)
    session.commit()

    lines = _seed(runner)

    assert lines[1] == "loyalty email templates: created 0, updated 1, unchanged 27, kept 0 edited"
    session.expire_all()
    refreshed = _template(session, "loyalty_enrollment", "de")
    assert refreshed.subject == "Willkommen bei {{ program_name }}, {{ customer_first_name }}!"


def test_every_seeded_template_passes_validation(runner: Any, session: Any) -> None:
    _seed(runner)
    for row in session.scalars(select(EmailTemplate)):
        assert validate_template(row.code, row.subject, row.body_html, row.body_text) == [], row


def test_luxembourgish_templates_are_written_in_luxembourgish(runner: Any, session: Any) -> None:
    _seed(runner)
    lb = " ".join(
        r.subject + r.body_html
        for r in session.scalars(select(EmailTemplate).filter_by(locale="lb"))
    )
    for phrase in (
        "Wëllkomm",
        "Är Kaart",
        "Punkten",
        "Merci",
        "verfalen den",
        "Moien",
        "Bis geschwënn",
    ):
        assert phrase in lb
    assert '<html lang="lb">' in lb

"""Store overrides of email templates, as the console edits them.

Every save is validated, then updates (or creates) the override and appends a
:class:`StoreEmailTemplateVersion`, so any earlier state can be restored; restoring is itself
a new version. Resetting deletes the override: the platform template applies again.

Scoping lives here, not in the views: a store outside the user's stores, or an override or
version of another merchant, raises :class:`NotInScope` (the views answer 404).
"""

from __future__ import annotations

import difflib
import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import func, select
from sqlalchemy import inspect as sa_inspect

import messaging.scoping  # noqa: F401  (the rules must be registered before any lookup)
from messaging.catalog import CATALOG, CORE_CODES, TemplateSpec, get_spec
from messaging.delivery import build_message
from messaging.models import (
    EmailLog,
    EmailStatus,
    EmailTemplate,
    StoreEmailTemplate,
    StoreEmailTemplateVersion,
)
from messaging.previews import render_preview
from messaging.providers import MailProviderError, get_provider
from messaging.rendering import RenderedEmail, TemplateProblem, validate_template
from platform_core import db as dbmod
from platform_core.extensions import db
from platform_core.i18n_lazy import _
from platform_core.models_base import utcnow
from platform_core.scoping import apply_scope, row_in_scope
from platform_core.staff.models import StaffUser
from platform_core.tenancy.models import Store

#: Marks a message sent by "Send me a test" (in its context); the log shows it as a test.
TEST_CONTEXT_KEY = "_editor_test"


class NotInScope(LookupError):
    """The store, override or version does not exist for this user (answer 404)."""


class TemplateRejected(ValueError):
    """The template has problems; nothing was saved.

    :ivar problems: the ``TemplateProblem`` list (field, line, message) to show inline.
    """

    def __init__(self, problems: list[Any]) -> None:
        super().__init__("; ".join(str(p.message) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class OverrideStatus:
    """One line of the editor's overview: a code in a locale, overridden or not."""

    code: str
    locale: str
    platform: EmailTemplate | None
    override: StoreEmailTemplate | None


def template_codes() -> list[str]:
    """The codes a store may override: the catalog's customer emails.

    Staff emails (invitation, password reset) belong to the platform, not to a store.
    """
    return [code for code in CATALOG if code not in CORE_CODES]


def template_spec(code: str) -> TemplateSpec:
    """What ``code`` is for and its declared variables (with descriptions and samples)."""
    return get_spec(code)


def template_title(code: str) -> str:
    """The human name of ``code`` (the code itself when the catalog does not know it)."""
    spec = CATALOG.get(code)
    return str(spec.title) if spec is not None else code


def locales() -> tuple[str, ...]:
    return tuple(current_app.config["LANGUAGES"])


def stores_for(user: StaffUser) -> list[Store]:
    """The stores whose overrides ``user`` may edit, by name."""
    query = apply_scope(select(Store), Store, user).order_by(Store.name, Store.id)
    return list(db.session.scalars(query))


def store_for(user: StaffUser, store_id: int | None) -> Store:
    """The store ``store_id`` if ``user`` may edit its overrides.

    :raises NotInScope: unknown store, another merchant's, or not one of a store staff's.
    """
    store = db.session.get(Store, store_id) if store_id is not None else None
    if store is None or not row_in_scope(store, user):
        raise NotInScope(store_id)
    return store


def check_code_and_locale(code: str, locale: str) -> None:
    """:raises NotInScope: an undeclared template code or an unsupported locale."""
    if code not in template_codes() or locale not in locales():
        raise NotInScope((code, locale))


def platform_template(code: str, locale: str) -> EmailTemplate | None:
    """The platform's template for ``code`` in ``locale`` (what the override replaces)."""
    return db.session.scalar(
        select(EmailTemplate).where(EmailTemplate.code == code, EmailTemplate.locale == locale)
    )


def find_override(store: Store, code: str, locale: str) -> StoreEmailTemplate | None:
    return db.session.scalar(
        select(StoreEmailTemplate).where(
            StoreEmailTemplate.store_id == store.id,
            StoreEmailTemplate.code == code,
            StoreEmailTemplate.locale == locale,
        )
    )


def version_for(user: StaffUser, version_id: int) -> StoreEmailTemplateVersion:
    """A saved version ``user`` may see.

    :raises NotInScope: unknown, or an override of another merchant or store.
    """
    version = db.session.get(StoreEmailTemplateVersion, version_id)
    if version is None or not row_in_scope(version, user):
        raise NotInScope(version_id)
    return version


def overview(user: StaffUser, store: Store) -> list[OverrideStatus]:
    """Every code x locale of ``store`` with its platform template and override, if any."""
    if not row_in_scope(store, user):
        raise NotInScope(store.id)
    platform = {(t.code, t.locale): t for t in db.session.scalars(select(EmailTemplate))}
    overrides = {
        (o.code, o.locale): o
        for o in db.session.scalars(
            select(StoreEmailTemplate).where(StoreEmailTemplate.store_id == store.id)
        )
    }
    return [
        OverrideStatus(code, locale, platform.get((code, locale)), overrides.get((code, locale)))
        for code in template_codes()
        for locale in locales()
    ]


def check_template(
    code: str, subject: str, body_html: str, body_text: str
) -> list[TemplateProblem]:
    """The problems of a template (syntax, unknown variables, sandbox violations)."""
    return list(validate_template(code, subject, body_html, body_text))


def _next_version_number(override: StoreEmailTemplate) -> int:
    if not sa_inspect(override).has_identity:
        return 1
    current = db.session.scalar(
        select(func.max(StoreEmailTemplateVersion.version)).where(
            StoreEmailTemplateVersion.override_id == override.id
        )
    )
    return (current or 0) + 1


def _write(
    user: StaffUser, override: StoreEmailTemplate, subject: str, body_html: str, body_text: str
) -> StoreEmailTemplate:
    override.subject = subject
    override.body_html = body_html
    override.body_text = body_text
    override.updated_by = user
    version = StoreEmailTemplateVersion(
        override=override,
        merchant_id=override.merchant_id,
        version=_next_version_number(override),
        subject=subject,
        body_html=body_html,
        body_text=body_text,
        created_by=user,
    )
    db.session.add(version)
    db.session.flush()
    # Reloaded on next access, newest first as the relationship orders them.
    db.session.expire(override, ["versions"])
    return override


def save_override(
    user: StaffUser,
    store: Store,
    code: str,
    locale: str,
    *,
    subject: str,
    body_html: str,
    body_text: str = "",
) -> StoreEmailTemplate:
    """Create or update ``store``'s override of ``code`` in ``locale`` and record a version.

    :param user: the staff user saving; must be allowed to edit ``store``.
    :param store: the store whose customers get the overridden message.
    :param code: a template code declared in the catalog.
    :param locale: the override's language.
    :param subject: the subject template.
    :param body_html: the HTML body template.
    :param body_text: the text body template; empty means derived from the HTML.
    :raises NotInScope: the store, code or locale is not the user's to edit.
    :raises TemplateRejected: the template has problems; nothing is written.
    """
    if not row_in_scope(store, user):
        raise NotInScope(store.id)
    check_code_and_locale(code, locale)
    problems = check_template(code, subject, body_html, body_text)
    if problems:
        raise TemplateRejected(problems)
    override = find_override(store, code, locale)
    if override is None:
        # merchant_id always follows the store: a form cannot move an override elsewhere.
        override = StoreEmailTemplate(
            merchant_id=store.merchant_id, store=store, code=code, locale=locale
        )
        db.session.add(override)
    return _write(user, override, subject, body_html, body_text)


def restore_version(user: StaffUser, version_id: int) -> StoreEmailTemplate:
    """Make an earlier version current again; this records a new version.

    :param user: the staff user restoring.
    :param version_id: the :class:`StoreEmailTemplateVersion` to bring back.
    :raises NotInScope: the version is not the user's to see.
    :raises TemplateRejected: the old content no longer validates (the catalog changed).
    """
    version = version_for(user, version_id)
    override = version.override
    problems = check_template(override.code, version.subject, version.body_html, version.body_text)
    if problems:
        raise TemplateRejected(problems)
    return _write(user, override, version.subject, version.body_html, version.body_text)


def reset_override(user: StaffUser, store: Store, code: str, locale: str) -> bool:
    """Delete ``store``'s override (and its versions): the platform template applies again.

    :returns: whether there was an override to delete.
    :raises NotInScope: the store is not the user's to edit.
    """
    if not row_in_scope(store, user):
        raise NotInScope(store.id)
    override = find_override(store, code, locale)
    if override is None:
        return False
    db.session.delete(override)
    db.session.flush()
    return True


def render_draft(
    store: Store,
    code: str,
    locale: str,
    subject: str,
    body_html: str,
    body_text: str,
    values: Mapping[str, str] | None = None,
) -> RenderedEmail:
    """Render unsaved template text with sample data (no problems checked).

    :param values: the preview's variables (the console's: the store's own merchant, store
        and program with a sample customer); default: the catalog's samples.
    :raises TemplateRenderError: the draft cannot be rendered; check it first.
    """
    return render_preview(code, locale, subject, body_html, body_text, store=store, values=values)


def mark_as_test(subject: str, locale: str) -> str:
    """``subject`` marked as a test, in ``locale`` ("[Test] Welcome", "[Essai] Bienvenue")."""
    with force_locale(locale):
        return _("[Test] %(subject)s", subject=subject)


def send_test(
    user: StaffUser,
    store: Store,
    code: str,
    locale: str,
    *,
    subject: str,
    body_html: str,
    body_text: str = "",
    values: Mapping[str, str] | None = None,
) -> EmailLog:
    """Queue the draft, rendered with sample data, to ``user``'s own address.

    Its subject is marked as a test (:func:`mark_as_test`), in the draft's language.

    The message is rendered now (the draft is not saved anywhere the send task could find
    it) and the log row keeps it; ``TEST_CONTEXT_KEY`` in its context marks it as a test.
    It carries the store's ids, so the merchant sees it in their email log.

    :param user: the staff user asking; the test goes to their email address.
    :param store: the store whose override is being edited.
    :param code: the template code.
    :param locale: the draft's language.
    :param values: the preview's variables, as for :func:`render_draft`.
    :raises NotInScope: the store, code or locale is not the user's to edit.
    :raises TemplateRejected: the draft has problems; nothing is sent.
    """
    if not row_in_scope(store, user):
        raise NotInScope(store.id)
    check_code_and_locale(code, locale)
    problems = check_template(code, subject, body_html, body_text)
    if problems:
        raise TemplateRejected(problems)
    rendered = render_draft(store, code, locale, subject, body_html, body_text, values)
    rendered = RenderedEmail(
        mark_as_test(rendered.subject, locale), rendered.body_html, rendered.body_text
    )
    context = {TEST_CONTEXT_KEY: True, "sent_by": user.email}
    return _queue_rendered(
        code,
        user.email,
        locale,
        rendered,
        context,
        merchant_id=store.merchant_id,
        store_id=store.id,
    )


def resend_test(user: StaffUser, email_log_id: int) -> EmailLog:
    """Send a logged test message again, with the very content it had.

    :raises NotInScope: the row is not the user's to see, or is no test message.
    """
    original = db.session.get(EmailLog, email_log_id)
    if original is None or not row_in_scope(original, user) or not is_test_message(original):
        raise NotInScope(email_log_id)
    rendered = RenderedEmail(
        original.subject or "", original.body_html or "", original.body_text or ""
    )
    row = _queue_rendered(
        original.code,
        original.recipient,
        original.locale,
        rendered,
        json.loads(original.context_json or "{}"),
        merchant_id=original.merchant_id,
        store_id=original.store_id,
    )
    row.resent_from_id = original.id
    db.session.flush()
    return row


def _queue_rendered(
    code: str,
    recipient: str,
    locale: str,
    rendered: RenderedEmail,
    context: dict[str, Any],
    *,
    merchant_id: int | None,
    store_id: int | None,
) -> EmailLog:
    row = EmailLog(
        code=code,
        recipient=recipient,
        locale=locale,
        merchant_id=merchant_id,
        store_id=store_id,
        status=EmailStatus.QUEUED,
        context_json=json.dumps(context, ensure_ascii=False, sort_keys=True),
        attempts=0,
        subject=rendered.subject[:255],
        body_html=rendered.body_html,
        body_text=rendered.body_text,
    )
    db.session.add(row)
    db.session.flush()
    from messaging.editor_tasks import send_test_email_task

    dbmod.after_commit(send_test_email_task, row.id)
    return row


def deliver_rendered(email_log_id: int) -> EmailLog | None:
    """Send a queued row that already holds its rendered message (a test); the caller commits.

    One attempt only: a failed test is recorded on the row for the editor to see, and the
    staff user simply sends another.
    """
    row = db.session.get(EmailLog, email_log_id)
    if row is None or row.status == EmailStatus.SENT:
        return row
    config = current_app.config
    rendered = RenderedEmail(row.subject or "", row.body_html or "", row.body_text or "")
    message = build_message(row, rendered, mail_from=config["MAIL_FROM"])
    row.attempts += 1
    try:
        get_provider(config).send(message, sender=config["MAIL_FROM"], recipients=[row.recipient])
    except MailProviderError as exc:
        row.status = EmailStatus.FAILED
        row.last_error = str(exc)
    else:
        row.status = EmailStatus.SENT
        row.message_id = str(message["Message-ID"])
        row.sent_at = utcnow()
        row.last_error = None
    db.session.flush()
    return row


def is_test_message(log: EmailLog) -> bool:
    """Whether ``log`` was sent by "Send me a test"."""
    try:
        return bool(json.loads(log.context_json or "{}").get(TEST_CONTEXT_KEY))
    except (ValueError, AttributeError):
        return False


@dataclass(frozen=True)
class DiffLine:
    """One line of a unified diff: ``kind`` is ``added``, ``removed``, ``context`` or
    ``hunk`` (the ``@@ -a,b +c,d @@`` header); ``text`` is raw text, escaped when shown."""

    kind: str
    text: str


@dataclass(frozen=True)
class FieldDiff:
    """The changes of one field (subject, HTML body, text body) between two versions."""

    field: str
    lines: tuple[DiffLine, ...]

    @property
    def changed(self) -> bool:
        return bool(self.lines)


#: The fields of a version, in the order the diff shows them.
DIFF_FIELDS = ("subject", "body_html", "body_text")


def diff_versions(
    user: StaffUser, old_id: int, new_id: int, *, context: int = 3
) -> list[FieldDiff]:
    """What changed from version ``old_id`` to ``new_id`` of the same override, per field.

    :param user: the staff user asking; both versions must be theirs to see.
    :param old_id: the earlier side (the ``-`` lines).
    :param new_id: the later side (the ``+`` lines).
    :param context: unchanged lines shown around each change.
    :raises NotInScope: a version is not the user's to see, or the two belong to different
        overrides.
    """
    old = version_for(user, old_id)
    new = version_for(user, new_id)
    if old.override_id != new.override_id:
        raise NotInScope((old_id, new_id))
    return [
        FieldDiff(
            field,
            _diff_lines(getattr(old, field) or "", getattr(new, field) or "", context),
        )
        for field in DIFF_FIELDS
    ]


def _diff_lines(old: str, new: str, context: int) -> tuple[DiffLine, ...]:
    lines: list[DiffLine] = []
    diff = difflib.unified_diff(old.splitlines(), new.splitlines(), n=context, lineterm="")
    # The first two lines are the "---"/"+++" file headers: the page names the versions.
    for line in itertools.islice(diff, 2, None):
        if line.startswith("@@"):
            lines.append(DiffLine("hunk", line))
        elif line.startswith("+"):
            lines.append(DiffLine("added", line[1:]))
        elif line.startswith("-"):
            lines.append(DiffLine("removed", line[1:]))
        else:
            lines.append(DiffLine("context", line[1:]))
    return tuple(lines)

"""The email service: queue a message, deliver it, resend it, preview a template.

:func:`send` only records a queued :class:`EmailLog` row and registers the send task to run
after the caller's transaction commits, so no request ever waits on SMTP and a rolled-back
change sends nothing. :func:`deliver` (run by the task) resolves the template, renders it in
the sandbox, builds the MIME message and hands it to the provider.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import Row, and_, bindparam, literal, select, union_all
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from messaging.catalog import get_spec, sample_context
from messaging.mime import OutgoingEmail, build_mime
from messaging.models import EmailLog, EmailStatus, EmailTemplate, StoreEmailTemplate
from messaging.providers import MailProviderError, get_provider
from messaging.queueing import queue_email
from messaging.rendering import RenderedEmail, TemplateRenderError, render_email
from platform_core import db as dbmod
from platform_core.extensions import db
from platform_core.models_base import utcnow
from platform_core.staff.models import StaffUser
from platform_core.tenancy.models import Merchant, Store

log = logging.getLogger(__name__)

FALLBACK_LOCALE = "en"


class EmailDeliveryError(Exception):
    """The provider refused or could not take the message; the task retries it."""


@dataclass(frozen=True)
class ResolvedTemplate:
    """The template chosen for one send, and where it came from."""

    code: str
    locale: str
    subject: str
    body_html: str
    body_text: str
    #: ``"store"`` for a store override, ``"platform"`` for a platform template.
    source: str
    template_id: int


# --- resolution -------------------------------------------------------------------------


class _TemplateCache:
    """Resolved templates of this process, keyed by (source, id, ``updated_at``).

    Every send still asks the database which templates are candidates and when each was
    last changed (one small query of ids and timestamps), so an edit, a deactivation or a
    new override is used by the very next send; only the bodies, which are large and rarely
    change, come from memory. A saved edit bumps ``updated_at``, so it gets a new key.
    """

    def __init__(self, maxsize: int = 512) -> None:
        self.maxsize = maxsize
        self._items: dict[tuple[str, int, Any], ResolvedTemplate] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int, Any]) -> ResolvedTemplate | None:
        return self._items.get(key)

    def put(self, key: tuple[str, int, Any], template: ResolvedTemplate) -> None:
        with self._lock:
            if len(self._items) >= self.maxsize:
                # Old versions of edited templates pile up here; starting over is cheap.
                self._items.clear()
            self._items[key] = template

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


resolved_templates = _TemplateCache()


# Built once: a send only binds values (building the statement cost as much as running it).
_PLATFORM_CANDIDATES = select(
    literal("platform").label("source"),
    EmailTemplate.id,
    EmailTemplate.locale,
    EmailTemplate.updated_at,
).where(
    EmailTemplate.code == bindparam("code"),
    EmailTemplate.locale.in_(bindparam("locales", expanding=True)),
    EmailTemplate.is_active.is_(True),
)
_ALL_CANDIDATES = union_all(
    select(
        literal("store").label("source"),
        StoreEmailTemplate.id,
        StoreEmailTemplate.locale,
        StoreEmailTemplate.updated_at,
    ).where(
        StoreEmailTemplate.store_id == bindparam("store_id"),
        StoreEmailTemplate.code == bindparam("code"),
        StoreEmailTemplate.locale == bindparam("locale"),
    ),
    _PLATFORM_CANDIDATES,
)


def _candidates(code: str, locale: str, locales: list[str], store_id: int | None) -> list[Row[Any]]:
    """(source, id, locale, updated_at) of every template that could serve this send."""
    if store_id is None:
        return list(db.session.execute(_PLATFORM_CANDIDATES, {"code": code, "locales": locales}))
    return list(
        db.session.execute(
            _ALL_CANDIDATES,
            {"code": code, "locales": locales, "store_id": store_id, "locale": locale},
        )
    )


def _load(code: str, source: str, template_id: int) -> ResolvedTemplate | None:
    model = StoreEmailTemplate if source == "store" else EmailTemplate
    found = db.session.execute(
        select(model.locale, model.subject, model.body_html, model.body_text).where(
            model.id == template_id
        )
    ).first()
    if found is None:
        return None
    return ResolvedTemplate(
        code,
        found.locale,
        found.subject,
        found.body_html,
        found.body_text or "",
        source,
        template_id,
    )


def resolve_template(
    code: str, locale: str, *, store: Store | None = None, merchant: Merchant | None = None
) -> ResolvedTemplate | None:
    """The template to render for ``code`` in ``locale``.

    Order: the store's override in ``locale``; the platform template in ``locale``; the
    platform template in the store's default locale (the merchant's without a store); the
    platform template in English. Inactive platform templates are skipped.

    :param code: the template code.
    :param locale: the recipient's locale.
    :param store: the store the email is sent for, if any.
    :param merchant: the merchant, when there is no store.
    :return: the template, or ``None`` when none of them exists.
    """
    default_locale = (
        store.default_locale
        if store is not None
        else merchant.default_locale
        if merchant is not None
        else None
    )
    locales: list[str] = []
    for candidate in (locale, default_locale, FALLBACK_LOCALE):
        if candidate and candidate not in locales:
            locales.append(candidate)
    if not locales:
        return None
    found = {
        (row.source, row.locale): row
        for row in _candidates(code, locale, locales, store.id if store is not None else None)
    }
    order = [("store", locale)] + [("platform", candidate) for candidate in locales]
    for source, candidate in order:
        row = found.get((source, candidate))
        template = _cached(code, source, row.id, row.updated_at) if row is not None else None
        if template is not None:
            return template
    return None


def _cached(code: str, source: str, template_id: int, updated_at: Any) -> ResolvedTemplate | None:
    """The template ``template_id`` as saved at ``updated_at``, from memory when it can be."""
    key = (source, template_id, updated_at)
    template = resolved_templates.get(key)
    if template is None:
        template = _load(code, source, template_id)
        if template is not None:  # None: deleted since its timestamp was read
            resolved_templates.put(key, template)
    return template


# --- queueing ---------------------------------------------------------------------------


def _enqueue_after_commit(log_row: EmailLog) -> None:
    from messaging.tasks import send_email_task

    dbmod.after_commit(send_email_task, log_row.id)


def send(
    code: str,
    *,
    recipient: str,
    locale: str,
    context: dict[str, Any],
    merchant_id: int | None = None,
    store_id: int | None = None,
) -> EmailLog:
    """Queue the email ``code`` for ``recipient``; it is sent after the transaction commits.

    :param code: a template code declared in :mod:`messaging.catalog`.
    :param recipient: the address to send to.
    :param locale: the recipient's locale (en, fr, de, lb).
    :param context: the template variables, already formatted for ``locale``; values are
        stored as strings so the task (and any resend) renders the same message.
    :param merchant_id: the merchant the email is sent for (From name, Reply-To).
    :param store_id: the store it is sent for (template override, fallback locale).
    :return: the queued log row (flushed, so it has an id, unless inside
        :func:`messaging.queueing.email_batch`, which flushes its rows together).
    """
    return queue_email(
        code,
        recipient=recipient,
        locale=locale,
        context=context,
        merchant_id=merchant_id,
        store_id=store_id,
    )


def resend(email_log_id: int, *, staff_user: StaffUser | None = None) -> EmailLog:
    """Queue a new copy of a logged email (same template, variables and recipient).

    The new row points back with ``resent_from_id``; the template is resolved again at send
    time, so a corrected template is used.

    :param email_log_id: the log row to repeat.
    :param staff_user: who asked for it (recorded in the log line).
    :return: the new queued row.
    """
    original = db.session.get(EmailLog, email_log_id)
    if original is None:
        raise LookupError(f"no email log {email_log_id}")
    row = EmailLog(
        code=original.code,
        recipient=original.recipient,
        locale=original.locale,
        merchant_id=original.merchant_id,
        store_id=original.store_id,
        status=EmailStatus.QUEUED,
        context_json=original.context_json,
        attempts=0,
        resent_from_id=original.id,
    )
    db.session.add(row)
    db.session.flush()
    log.info(
        "email log %s resent as %s by %s",
        original.id,
        row.id,
        staff_user.email if staff_user is not None else "system",
    )
    _enqueue_after_commit(row)
    return row


# --- delivery ---------------------------------------------------------------------------


def build_message(row: EmailLog, rendered: RenderedEmail, *, mail_from: str) -> OutgoingEmail:
    """The MIME message for ``row``: multipart/alternative, UTF-8, From the merchant's name."""
    merchant = row.merchant
    return build_mime(
        from_name=merchant.name if merchant is not None else "",
        mail_from=mail_from,
        to=row.recipient,
        reply_to=merchant.contact_email if merchant is not None else None,
        subject=rendered.subject,
        body_text=rendered.body_text,
        body_html=rendered.body_html,
    )


def _render_row(row: EmailLog, template: ResolvedTemplate | None = None) -> RenderedEmail:
    if template is None:
        # The fallbacks (store's language, English) or a template changed meanwhile.
        template = resolve_template(row.code, row.locale, store=row.store, merchant=row.merchant)
    if template is None:
        raise TemplateRenderError("code", f"no active template for {row.code} ({row.locale})")
    context = json.loads(row.context_json or "{}")
    # Variables a template may use but the sender did not provide render as empty, not as an
    # error: a merchant adding {{ wallet_url }} must not break emails without a wallet.
    values = dict.fromkeys(get_spec(row.code).variable_names, "")
    values.update({k: str(v) for k, v in context.items()})
    return render_email(template.subject, template.body_html, template.body_text, values)


_override = aliased(StoreEmailTemplate)
_platform = aliased(EmailTemplate)

# One query for what a send needs: the row, its store, its merchant, and the id and timestamp
# of the two templates that serve most sends (the store's override and the platform template,
# both in the recipient's language; the unique constraints make each at most one row). The
# entities are selected as such rather than with ``joinedload``, whose eager-loading setup is
# rebuilt on each execution and cost more than the query itself.
_ROW_FOR_DELIVERY = (
    select(
        EmailLog,
        Store,
        Merchant,
        _override.id,
        _override.updated_at,
        _platform.id,
        _platform.updated_at,
    )
    .outerjoin(Store, EmailLog.store_id == Store.id)
    .outerjoin(Merchant, EmailLog.merchant_id == Merchant.id)
    .outerjoin(
        _override,
        and_(
            _override.store_id == EmailLog.store_id,
            _override.code == EmailLog.code,
            _override.locale == EmailLog.locale,
        ),
    )
    .outerjoin(
        _platform,
        and_(
            _platform.code == EmailLog.code,
            _platform.locale == EmailLog.locale,
            _platform.is_active.is_(True),
        ),
    )
    .where(EmailLog.id == bindparam("email_log_id"))
)


def _load_for_delivery(email_log_id: int) -> tuple[EmailLog | None, ResolvedTemplate | None]:
    """The row (with its store and merchant), and its template when the first choice exists."""
    found = db.session.execute(_ROW_FOR_DELIVERY, {"email_log_id": email_log_id}).first()
    if found is None:
        return None, None
    row, _, merchant, override_id, override_at, platform_id, platform_at = found
    # Outer-joined: the row of a deleted store (SET NULL) has none.
    store: Store | None = found[1]
    # Attached as loaded (not as changes): the identity map holds objects weakly, so without
    # these references ``row.store`` would be fetched again.
    set_committed_value(row, "store", store)
    set_committed_value(row, "merchant", merchant)
    template = None
    if override_id is not None and store is not None:
        template = _cached(row.code, "store", override_id, override_at)
    elif platform_id is not None:
        template = _cached(row.code, "platform", platform_id, platform_at)
    return row, template


def deliver(email_log_id: int, *, final_attempt: bool = True) -> EmailLog | None:
    """Render and send one queued email; the caller commits.

    Idempotent: a row already sent is left alone, so a retried task never sends twice. A
    template that cannot be rendered fails the row at once (retrying would not help). A
    transport error counts an attempt, records the error and raises
    :class:`EmailDeliveryError` so the task retries; on the ``final_attempt`` the row is
    marked failed first.

    :param email_log_id: the queued row.
    :param final_attempt: whether no retry follows this attempt.
    :return: the row, or ``None`` if it no longer exists.
    """
    row, template = _load_for_delivery(email_log_id)
    if row is None:
        log.warning("email log %s vanished before it was sent", email_log_id)
        return None
    if row.status == EmailStatus.SENT:
        return row
    config = current_app.config
    try:
        rendered = _render_row(row, template)
    except TemplateRenderError as exc:
        row.attempts += 1
        row.status = EmailStatus.FAILED
        row.last_error = exc.message if exc.field == "code" else str(exc)
        db.session.flush()
        log.warning("email log %s not rendered: %s", row.id, row.last_error)
        return row
    message = build_message(row, rendered, mail_from=config["MAIL_FROM"])
    row.subject = rendered.subject[:255]
    row.body_html = rendered.body_html
    row.body_text = rendered.body_text
    try:
        get_provider(config).send(message, sender=config["MAIL_FROM"], recipients=[row.recipient])
    except MailProviderError as exc:
        row.attempts += 1
        row.last_error = str(exc)
        row.status = EmailStatus.FAILED if final_attempt else EmailStatus.QUEUED
        db.session.flush()
        raise EmailDeliveryError(str(exc)) from exc
    row.attempts += 1
    row.status = EmailStatus.SENT
    row.message_id = str(message["Message-ID"])
    row.sent_at = utcnow()
    row.last_error = None
    db.session.flush()
    return row


# --- preview ----------------------------------------------------------------------------


def render_preview(
    code: str,
    locale: str,
    subject: str,
    body_html: str,
    body_text: str = "",
    store: Store | None = None,
) -> RenderedEmail:
    """Render unsaved template sources with the catalog's sample values (the editor's preview).

    The store, when given, supplies its own and its merchant's names instead of the samples.

    :raises TemplateRenderError: the sources cannot be rendered; validate them first to get
        every problem with its line.
    """
    values = sample_context(code, locale)
    if store is not None:
        if "store_name" in values:
            values["store_name"] = store.name
        if "merchant_name" in values:
            values["merchant_name"] = store.merchant.name
    return render_email(subject, body_html, body_text, values)


class EmailService:
    """The service under the name the issue uses: ``EmailService.send(...)``."""

    send = staticmethod(send)
    deliver = staticmethod(deliver)
    resend = staticmethod(resend)
    render_preview = staticmethod(render_preview)
    resolve_template = staticmethod(resolve_template)

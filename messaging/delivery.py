"""Delivering a queued email: render its row in the sandbox, build the MIME message, send it.

:func:`deliver` is what the send task runs; it is idempotent, so a retried task never sends
twice.
"""

from __future__ import annotations

import json
import logging

from flask import current_app
from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from messaging.catalog import get_spec
from messaging.mime import OutgoingEmail, build_mime
from messaging.models import EmailLog, EmailStatus, EmailTemplate, StoreEmailTemplate
from messaging.providers import MailProviderError, get_provider
from messaging.rendering import RenderedEmail, TemplateRenderError, render_email
from messaging.resolution import ResolvedTemplate, cached_template, resolve_template
from platform_core.extensions import db
from platform_core.models_base import utcnow
from platform_core.tenancy.models import Merchant, Store

log = logging.getLogger(__name__)


class EmailDeliveryError(Exception):
    """The provider refused or could not take the message; the task retries it."""


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
    row, store, merchant, override_id, override_at, platform_id, platform_at = found
    # Attached as loaded (not as changes): the identity map holds objects weakly, so without
    # these references ``row.store`` would be fetched again.
    set_committed_value(row, "store", store)
    set_committed_value(row, "merchant", merchant)
    template = None
    if override_id is not None and store is not None:
        template = cached_template(row.code, "store", override_id, override_at)
    elif platform_id is not None:
        template = cached_template(row.code, "platform", platform_id, platform_at)
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

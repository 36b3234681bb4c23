"""Delivering a queued email: claim its row, render it in the sandbox, send it.

The log row is the outbox. :func:`deliver` first claims the row with a conditional
``UPDATE`` from ``queued`` to ``sending`` (a claim token, a lease of ``MAIL_STALE_AFTER``
seconds, one more attempt, the Message-ID chosen once) and commits that claim before it
talks to the mail server: of two deliveries of the same row only the one whose ``UPDATE``
matched goes on, and a consumer that dies while sending leaves a ``sending`` row that the
sweeper (:mod:`messaging.outbox`) takes back once the lease has expired.

Outcomes: accepted (``sent``); temporary or unknown (counted, back to ``queued``, raised as
:class:`EmailDeliveryError` so the task retries; ``failed`` after the last attempt);
permanent (:class:`EmailPermanentError`: ``failed`` at once, and a refused address goes on
the merchant's suppression list). A suppressed address is never attempted.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from messaging.catalog import get_spec
from messaging.mime import OutgoingEmail, build_mime, new_message_id
from messaging.models import (
    EmailLog,
    EmailOutcome,
    EmailStatus,
    EmailSuppression,
    EmailTemplate,
    StoreEmailTemplate,
    normalize_address,
)
from messaging.providers import (
    MailOutcomeUnknownError,
    MailProviderError,
    MailRefusedError,
    get_provider,
)
from messaging.rendering import RenderedEmail, TemplateRenderError, render_email
from messaging.resolution import ResolvedTemplate, cached_template, resolve_template
from platform_core import db as dbmod
from platform_core.extensions import db
from platform_core.models_base import utcnow
from platform_core.tenancy.models import Merchant, Store

log = logging.getLogger(__name__)


class EmailDeliveryError(Exception):
    """A temporary failure or an unknown outcome; the task retries it."""


class EmailPermanentError(Exception):
    """This email cannot be sent as it is: :func:`deliver` fails the row at once, no retry.

    Raised (or converted to) for a template that cannot be rendered and for a permanent
    refusal by the mail server; anything else that retrying cannot fix may raise it too.

    :param message: what staff read as the row's last error.
    :param code: the SMTP reply code of a refusal (5xx), if a server refused.
    :param suppress: put the recipient on the merchant's suppression list.
    """

    def __init__(self, message: str, *, code: int | None = None, suppress: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.suppress = suppress


def build_message(row: EmailLog, rendered: RenderedEmail, *, mail_from: str) -> OutgoingEmail:
    """The MIME message for ``row``: multipart/alternative, UTF-8, From the merchant's name.

    It carries the row's Message-ID when the row has one (every retry sends the same).
    """
    merchant = row.merchant
    return build_mime(
        from_name=merchant.name if merchant is not None else "",
        mail_from=mail_from,
        to=row.recipient,
        reply_to=merchant.contact_email if merchant is not None else None,
        subject=rendered.subject,
        body_text=rendered.body_text,
        body_html=rendered.body_html,
        message_id=row.message_id,
        list_unsubscribe_url=row.list_unsubscribe_url,
    )


def _render_row(row: EmailLog, template: ResolvedTemplate | None = None) -> RenderedEmail:
    if template is None:
        # The fallbacks (store's language, English) or a template changed meanwhile.
        template = resolve_template(row.code, row.locale, store=row.store, merchant=row.merchant)
    if template is None:
        raise EmailPermanentError(f"no active template for {row.code} ({row.locale})")
    context = json.loads(row.context_json or "{}")
    # Variables a template may use but the sender did not provide render as empty, not as an
    # error: a merchant adding {{ wallet_url }} must not break emails without a wallet.
    values = dict.fromkeys(get_spec(row.code).variable_names, "")
    values.update({k: str(v) for k, v in context.items()})
    try:
        return render_email(template.subject, template.body_html, template.body_text, values)
    except TemplateRenderError as exc:
        # Rendering again would fail again: a permanent failure.
        raise EmailPermanentError(exc.message if exc.field == "code" else str(exc)) from exc


_override = aliased(StoreEmailTemplate)
_platform = aliased(EmailTemplate)
_suppression = aliased(EmailSuppression)

# One query for what a send needs: the row, its store, its merchant, and the id and timestamp
# of the two templates that serve most sends (the store's override and the platform template,
# both in the recipient's language; the unique constraints make each at most one row). The
# entities are selected as such rather than with ``joinedload``, whose eager-loading setup is
# rebuilt on each execution and cost more than the query itself. The suppression of the
# recipient, if any, comes along (the unique constraint makes it at most one row).
_ROW_FOR_DELIVERY = (
    select(
        EmailLog,
        Store,
        Merchant,
        _override.id,
        _override.updated_at,
        _platform.id,
        _platform.updated_at,
        _suppression.code,
        _suppression.id,
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
    .outerjoin(
        _suppression,
        and_(
            _suppression.merchant_id == EmailLog.merchant_id,
            _suppression.address == func.lower(func.trim(EmailLog.recipient)),
        ),
    )
    .where(EmailLog.id == bindparam("email_log_id"))
)


@dataclass
class _Loaded:
    row: EmailLog
    template: ResolvedTemplate | None
    #: The recipient's suppression: its id and the refusal's code.
    suppression_id: int | None
    suppression_code: int | None


def _load_for_delivery(email_log_id: int) -> _Loaded | None:
    """The row (with its store and merchant), its template when the first choice exists,
    and the recipient's suppression."""
    found = db.session.execute(_ROW_FOR_DELIVERY, {"email_log_id": email_log_id}).first()
    if found is None:
        return None
    (
        row,
        store,
        merchant,
        override_id,
        override_at,
        platform_id,
        platform_at,
        suppression_code,
        suppression_id,
    ) = found
    # Attached as loaded (not as changes): the identity map holds objects weakly, so without
    # these references ``row.store`` would be fetched again.
    set_committed_value(row, "store", store)
    set_committed_value(row, "merchant", merchant)
    template = None
    if override_id is not None and store is not None:
        template = cached_template(row.code, "store", override_id, override_at)
    elif platform_id is not None:  # type: ignore[unreachable]  # outer join: may be NULL
        template = cached_template(row.code, "platform", platform_id, platform_at)
    return _Loaded(row, template, suppression_id, suppression_code)


def _claim(row: EmailLog, *, mail_from: str, lease: timedelta) -> bool:
    """Move ``row`` from ``queued`` to ``sending`` for this delivery, and commit the claim.

    The ``UPDATE`` matches only a ``queued`` row, so of two deliveries racing for one row
    exactly one gets it. The claim is committed before any SMTP traffic: a consumer that
    dies afterwards leaves the row ``sending``, with the Message-ID every later attempt uses.
    """
    token = secrets.token_hex(16)
    claimed = db.session.execute(
        update(EmailLog)
        .where(EmailLog.id == row.id, EmailLog.status == EmailStatus.QUEUED)
        .values(
            status=EmailStatus.SENDING,
            claim_token=token,
            lease_expires_at=utcnow() + lease,
            attempts=EmailLog.attempts + 1,
            message_id=func.coalesce(EmailLog.message_id, new_message_id(mail_from)),
        )
        .returning(EmailLog.attempts, EmailLog.message_id, EmailLog.lease_expires_at)
        .execution_options(synchronize_session=False)
    ).first()
    if claimed is None:
        return False
    for name, value in (
        ("status", EmailStatus.SENDING),
        ("claim_token", token),
        ("attempts", claimed.attempts),
        ("message_id", claimed.message_id),
        ("lease_expires_at", claimed.lease_expires_at),
    ):
        set_committed_value(row, name, value)
    session = db.session()
    # Nothing loaded changed but the claim: keep the row, its store and merchant in memory
    # rather than have the commit expire them and reload them one query at a time.
    expire_on_commit = session.expire_on_commit
    session.expire_on_commit = False
    try:
        dbmod.commit()
    finally:
        session.expire_on_commit = expire_on_commit
    return True


def _suppress(row: EmailLog, loaded: _Loaded) -> None:
    """Record ``row`` as ``suppressed`` (never attempted), unless another delivery has it."""
    db.session.execute(
        update(EmailLog)
        .where(EmailLog.id == row.id, EmailLog.status == EmailStatus.QUEUED)
        .values(
            status=EmailStatus.SUPPRESSED,
            lease_expires_at=None,
            last_error=f"suppressed address (refused with {loaded.suppression_code or '5xx'})",
        )
        .execution_options(synchronize_session=False)
    )
    db.session.expire(row)


def _add_suppression(row: EmailLog, exc: EmailPermanentError) -> None:
    """Put the row's recipient on its merchant's suppression list (kept if already there)."""
    if row.merchant_id is None:
        return  # platform emails (staff invitations) have no merchant list to go on
    values = {
        "merchant_id": row.merchant_id,
        "address": normalize_address(row.recipient),
        "code": exc.code,
        "reason": exc.message,
        "created_at": utcnow(),
        "email_log_id": row.id,
    }
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(
        insert(EmailSuppression)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["merchant_id", "address"])
    )


def _fail_permanently(row: EmailLog, exc: EmailPermanentError) -> None:
    row.status = EmailStatus.FAILED
    row.last_error = exc.message
    row.last_outcome = EmailOutcome.REFUSED if exc.code is not None else None
    row.claim_token = None
    row.lease_expires_at = None
    if exc.suppress:
        _add_suppression(row, exc)
    db.session.flush()
    log.warning("email log %s failed for good: %s", row.id, exc.message)


def _retry_later(
    row: EmailLog,
    outcome: EmailOutcome,
    exc: MailProviderError,
    *,
    final_attempt: bool,
    retry_in: timedelta,
) -> EmailDeliveryError:
    row.last_outcome = outcome
    row.last_error = str(exc)
    row.claim_token = None
    if outcome == EmailOutcome.UNKNOWN:
        row.unknown_attempts += 1
    if final_attempt:
        row.status = EmailStatus.FAILED
        row.lease_expires_at = None
    else:
        # Back in the outbox; the sweeper takes it over if the retry never comes.
        row.status = EmailStatus.QUEUED
        row.lease_expires_at = utcnow() + retry_in
    db.session.flush()
    return EmailDeliveryError(str(exc))


def deliver(email_log_id: int, *, final_attempt: bool = True) -> EmailLog | None:
    """Claim, render and send one queued email; commits the claim, the caller the outcome.

    Idempotent: only a ``queued`` row is sent, by the one delivery that claims it; a row
    sent, failed, suppressed or claimed by another delivery is left alone. A permanent
    failure (:class:`EmailPermanentError`: no template, a render error, a 5xx refusal)
    fails the row at once. A temporary error or an unknown outcome counts the attempt,
    records it and raises :class:`EmailDeliveryError` so the task retries; on the
    ``final_attempt`` the row is marked failed first.

    :param email_log_id: the queued row.
    :param final_attempt: whether no retry follows this attempt.
    :return: the row, or ``None`` if it no longer exists.
    """
    loaded = _load_for_delivery(email_log_id)
    if loaded is None:
        log.warning("email log %s vanished before it was sent", email_log_id)
        return None
    row = loaded.row
    if row.status != EmailStatus.QUEUED:
        return row
    if loaded.suppression_id is not None:
        _suppress(row, loaded)
        return row
    config = current_app.config
    stale_after = timedelta(seconds=config["MAIL_STALE_AFTER"])
    if not _claim(row, mail_from=config["MAIL_FROM"], lease=stale_after):
        return row
    try:
        rendered = _render_row(row, loaded.template)
        message = build_message(row, rendered, mail_from=config["MAIL_FROM"])
        row.subject = rendered.subject[:255]
        row.body_html = rendered.body_html
        row.body_text = rendered.body_text
        try:
            get_provider(config).send(
                message, sender=config["MAIL_FROM"], recipients=[row.recipient]
            )
        except MailRefusedError as exc:
            raise EmailPermanentError(str(exc), code=exc.code, suppress=True) from exc
    except EmailPermanentError as exc:
        _fail_permanently(row, exc)
        return row
    except MailProviderError as exc:
        unknown = isinstance(exc, MailOutcomeUnknownError)
        raise _retry_later(
            row,
            EmailOutcome.UNKNOWN if unknown else EmailOutcome.TEMPORARY,
            exc,
            final_attempt=final_attempt,
            retry_in=timedelta(seconds=config["MAIL_RETRY_DELAY"]) + stale_after,
        ) from exc
    row.status = EmailStatus.SENT
    row.last_outcome = EmailOutcome.ACCEPTED
    row.claim_token = None
    row.lease_expires_at = None
    row.sent_at = utcnow()
    row.last_error = None
    db.session.flush()
    return row

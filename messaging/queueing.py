"""Queueing an email: the log row inside the caller's transaction, the send task after it.

:func:`send` only records a queued :class:`EmailLog` row and registers the send task to run
after the caller's transaction commits, so no request ever waits on SMTP and a rolled-back
change sends nothing. :func:`resend` enqueues a row never delivered again, or queues a copy
of a logged email through the same row constructor. :func:`email_batch` lets a caller queue
several emails with one flush: enrollment queues two, and on PostgreSQL their rows go in
with a single multi-row ``INSERT``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from flask import current_app

from messaging.catalog import get_spec
from messaging.models import EmailLog, EmailStatus
from platform_core import db as dbmod
from platform_core.extensions import db
from platform_core.models_base import utcnow
from platform_core.staff.models import StaffUser
from platform_core.tenancy.models import Store

log = logging.getLogger(__name__)

#: ``session.info`` key of the rows queued inside :func:`email_batch`, not flushed yet.
_BATCH_KEY = "messaging_email_batch"


def enqueue_after_commit(log_row: EmailLog | int) -> None:
    """Register the send task of a flushed row (or row id) to run once the transaction commits.

    If the enqueue itself fails (the queue's Redis is down), the row stays ``queued`` and
    the sweeper (:mod:`messaging.outbox`) enqueues it again once its lease has expired.
    """
    from messaging.tasks import send_email_task

    dbmod.after_commit(send_email_task, log_row if isinstance(log_row, int) else log_row.id)


def _lease() -> datetime:
    """Until when a newly queued row waits for its task before the sweeper takes it over."""
    return utcnow() + timedelta(seconds=current_app.config["MAIL_STALE_AFTER"])


def _queued_row(
    code: str,
    *,
    recipient: str,
    locale: str,
    context_json: str,
    merchant_id: int | None,
    store_id: int | None,
    resent_from_id: int | None = None,
    list_unsubscribe_url: str | None = None,
) -> EmailLog:
    """A new queued row, added to the session: first sends and resends both start here."""
    row = EmailLog(
        code=code,
        recipient=recipient,
        locale=locale,
        merchant_id=merchant_id,
        store_id=store_id,
        status=EmailStatus.QUEUED,
        context_json=context_json,
        attempts=0,
        unknown_attempts=0,
        lease_expires_at=_lease(),
        resent_from_id=resent_from_id,
        list_unsubscribe_url=list_unsubscribe_url,
    )
    db.session.add(row)
    return row


def send(
    code: str,
    *,
    recipient: str,
    locale: str,
    context: dict[str, Any],
    merchant_id: int | None = None,
    store_id: int | None = None,
    list_unsubscribe_url: str | None = None,
) -> EmailLog:
    """Queue the email ``code`` for ``recipient``; it is sent after the transaction commits.

    Outside :func:`email_batch` the row is flushed at once (it has its id on return); inside
    one it is flushed, and its task registered, when the batch ends.

    :param code: a template code declared in :mod:`messaging.catalog`.
    :param recipient: the address to send to.
    :param locale: the recipient's locale (en, fr, de, lb).
    :param context: the template variables, already formatted for ``locale``; stored as
        strings so the task (and any resend) renders the same message.
    :param merchant_id: the merchant the email is sent for (From name, Reply-To).
    :param store_id: the store it is sent for (template override, fallback locale).
    :param list_unsubscribe_url: for a marketing email, the one-click unsubscribe address
        (``List-Unsubscribe`` and ``List-Unsubscribe-Post`` headers, RFC 8058).
    :raises ValueError: ``context`` holds variables the template does not declare.
    """
    spec = get_spec(code)
    unknown = set(context) - spec.variable_names
    if unknown:
        raise ValueError(f"{code} does not declare the variables {sorted(unknown)}")
    if store_id is not None and merchant_id is None:
        store = db.session.get(Store, store_id)
        merchant_id = store.merchant_id if store is not None else None
    values = {name: "" if value is None else str(value) for name, value in context.items()}
    row = _queued_row(
        code,
        recipient=recipient.strip(),
        locale=locale,
        context_json=json.dumps(values, ensure_ascii=False, sort_keys=True),
        merchant_id=merchant_id,
        store_id=store_id,
        list_unsubscribe_url=list_unsubscribe_url,
    )
    batch = db.session.info.get(_BATCH_KEY)
    if batch is not None:
        batch.append(row)
        return row
    db.session.flush()
    enqueue_after_commit(row)
    return row


def resend(email_log_id: int, *, staff_user: StaffUser | None = None) -> EmailLog:
    """Send a logged email again (same template, variables and recipient).

    A row that is still ``queued`` was never delivered: that same row is enqueued again
    (with a fresh lease), so the email is not sent twice. A row being sent right now is left
    to its delivery. Any other row (sent, failed, suppressed) gets a new queued copy that
    points back with ``resent_from_id``; the template is resolved again at send time, so a
    corrected template is used.

    :param email_log_id: the log row to repeat.
    :param staff_user: who asked for it (recorded in the log line).
    :return: the row that will be sent.
    """
    original = db.session.get(EmailLog, email_log_id)
    if original is None:
        raise LookupError(f"no email log {email_log_id}")
    who = staff_user.email if staff_user is not None else "system"
    if original.status == EmailStatus.SENDING:
        log.info("email log %s is being sent; resend by %s ignored", original.id, who)
        return original
    if original.status == EmailStatus.QUEUED:
        original.lease_expires_at = _lease()
        db.session.flush()
        log.info("email log %s enqueued again by %s", original.id, who)
        enqueue_after_commit(original)
        return original
    row = _queued_row(
        original.code,
        recipient=original.recipient,
        locale=original.locale,
        context_json=original.context_json,
        merchant_id=original.merchant_id,
        store_id=original.store_id,
        resent_from_id=original.id,
        list_unsubscribe_url=original.list_unsubscribe_url,
    )
    db.session.flush()
    log.info(
        "email log %s resent as %s by %s",
        original.id,
        row.id,
        who,
    )
    enqueue_after_commit(row)
    return row


@contextmanager
def email_batch() -> Iterator[None]:
    """Queue the emails of the block with one flush at its end.

    The rows get their ids, and their send tasks are registered to run after the commit,
    when the block ends without an error. On an error nothing is registered; the rows are
    still in the session, which the caller rolls back. A nested batch joins the outer one.
    """
    session = db.session
    if _BATCH_KEY in session.info:
        yield
        return
    rows: list[EmailLog] = []
    session.info[_BATCH_KEY] = rows
    try:
        yield
    finally:
        session.info.pop(_BATCH_KEY, None)
    if rows:
        session.flush()
        for row in rows:
            enqueue_after_commit(row)

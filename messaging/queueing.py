"""Queueing an email: the log row inside the caller's transaction, the send task after it.

:func:`send` only records a queued :class:`EmailLog` row and registers the send task to run
after the caller's transaction commits, so no request ever waits on SMTP and a rolled-back
change sends nothing. :func:`resend` queues a copy of a logged email through the same row
constructor. :func:`email_batch` lets a caller queue several emails with one flush:
enrollment queues two, and on PostgreSQL their rows go in with a single multi-row ``INSERT``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from messaging.catalog import get_spec
from messaging.models import EmailLog, EmailStatus
from platform_core import db as dbmod
from platform_core.extensions import db
from platform_core.staff.models import StaffUser
from platform_core.tenancy.models import Store

log = logging.getLogger(__name__)

#: ``session.info`` key of the rows queued inside :func:`email_batch`, not flushed yet.
_BATCH_KEY = "messaging_email_batch"


def enqueue_after_commit(log_row: EmailLog) -> None:
    """Register the send task of a flushed row to run once the transaction commits."""
    from messaging.tasks import send_email_task

    dbmod.after_commit(send_email_task, log_row.id)


def _queued_row(
    code: str,
    *,
    recipient: str,
    locale: str,
    context_json: str,
    merchant_id: int | None,
    store_id: int | None,
    resent_from_id: int | None = None,
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
        resent_from_id=resent_from_id,
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
    )
    batch = db.session.info.get(_BATCH_KEY)
    if batch is not None:
        batch.append(row)
        return row
    db.session.flush()
    enqueue_after_commit(row)
    return row


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
    row = _queued_row(
        original.code,
        recipient=original.recipient,
        locale=original.locale,
        context_json=original.context_json,
        merchant_id=original.merchant_id,
        store_id=original.store_id,
        resent_from_id=original.id,
    )
    db.session.flush()
    log.info(
        "email log %s resent as %s by %s",
        original.id,
        row.id,
        staff_user.email if staff_user is not None else "system",
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

"""Queueing an email: the log row inside the caller's transaction, the send task after it.

:func:`queue_email` is the body of :func:`messaging.service.send`. :func:`email_batch` lets a
service queue several emails with one flush: enrollment queues two, and on PostgreSQL their
rows go in with a single multi-row ``INSERT``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from messaging.catalog import get_spec
from messaging.models import EmailLog, EmailStatus
from platform_core import db as dbmod
from platform_core.extensions import db
from platform_core.tenancy.models import Store

#: ``session.info`` key of the rows queued inside :func:`email_batch`, not flushed yet.
_BATCH_KEY = "messaging_email_batch"


def _enqueue_after_commit(log_row: EmailLog) -> None:
    from messaging.tasks import send_email_task

    dbmod.after_commit(send_email_task, log_row.id)


def queue_email(
    code: str,
    *,
    recipient: str,
    locale: str,
    context: dict[str, Any],
    merchant_id: int | None = None,
    store_id: int | None = None,
) -> EmailLog:
    """Add a queued :class:`EmailLog` row for ``code`` and send it after the commit.

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
    row = EmailLog(
        code=code,
        recipient=recipient.strip(),
        locale=locale,
        merchant_id=merchant_id,
        store_id=store_id,
        status=EmailStatus.QUEUED,
        context_json=json.dumps(values, ensure_ascii=False, sort_keys=True),
        attempts=0,
    )
    db.session.add(row)
    batch = db.session.info.get(_BATCH_KEY)
    if batch is not None:
        batch.append(row)
        return row
    db.session.flush()
    _enqueue_after_commit(row)
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
            _enqueue_after_commit(row)

"""Queueing many emails at once: one multi-row insert of log rows, their sends after commit.

Batch jobs (points expiry, expiry warnings) queue hundreds of emails per transaction; one
ORM object and one flush per email would hold their row locks for as long as that takes.
Here the rows go in with a single ``INSERT ... VALUES (...), (...) RETURNING id``, and one
after-commit callback enqueues all their send tasks, so nothing is sent unless the
transaction that queued the rows commits.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert

from messaging.models import EmailLog, EmailStatus
from platform_core import db as dbmod
from platform_core.extensions import db
from platform_core.models_base import utcnow


@dataclass(frozen=True)
class QueuedEmail:
    """One email to queue: its log row's columns; ``context`` is stored as JSON."""

    code: str
    recipient: str
    locale: str
    context: dict[str, Any]
    merchant_id: int | None = None
    store_id: int | None = None


def insert_queued_emails(emails: Sequence[QueuedEmail]) -> list[int]:
    """Insert ``emails`` as queued log rows in one statement; the caller commits.

    No send task is registered: call :func:`enqueue_sends_after_commit` with the ids once
    their context is final (it may be completed later, outside the caller's transaction).

    :returns: the new rows' ids, in the order of ``emails``.
    """
    if not emails:
        return []
    now = utcnow()
    table = EmailLog.__table__
    params = [
        {
            "code": email.code,
            "recipient": email.recipient.strip(),
            "locale": email.locale,
            "merchant_id": email.merchant_id,
            "store_id": email.store_id,
            "status": EmailStatus.QUEUED,
            "context_json": json.dumps(email.context, ensure_ascii=False, sort_keys=True),
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
        for email in emails
    ]
    # executemany with RETURNING: SQLAlchemy sends it as multi-row VALUES ("insertmanyvalues")
    # and hands back the ids in parameter order.
    result = db.session.execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True), params
    )
    return list(result.scalars())


def _enqueue_sends(email_log_ids: Sequence[int]) -> None:
    from messaging.tasks import send_email_task

    for email_log_id in email_log_ids:
        send_email_task(email_log_id)


def enqueue_sends_after_commit(email_log_ids: Sequence[int]) -> None:
    """Enqueue one send task per row once the current transaction commits."""
    if email_log_ids:
        dbmod.after_commit(_enqueue_sends, list(email_log_ids))

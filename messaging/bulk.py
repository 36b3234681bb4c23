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
from datetime import timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import Table, insert, text, update

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


_INSERT_UNNEST = text(
    "INSERT INTO email_logs (code, recipient, locale, merchant_id, store_id, status,"
    " context_json, attempts, unknown_attempts, lease_expires_at, created_at, updated_at)"
    " SELECT u.code, u.recipient, u.locale, u.merchant_id, u.store_id, :status,"
    " u.context_json, 0, 0, :lease, :now, :now"
    " FROM unnest(CAST(:code AS text[]), CAST(:recipient AS text[]), CAST(:locale AS text[]),"
    " CAST(:merchant_id AS integer[]), CAST(:store_id AS integer[]),"
    " CAST(:context_json AS text[]))"
    " AS u(code, recipient, locale, merchant_id, store_id, context_json)"
    " RETURNING id"
)


def insert_queued_emails(
    emails: Sequence[QueuedEmail], *, hold: timedelta | None = None
) -> list[int]:
    """Insert ``emails`` as queued log rows in one statement; the caller commits.

    No send task is registered: call :func:`enqueue_sends_after_commit` with the ids once
    their context is final (it may be completed later, outside the caller's transaction).

    :param hold: how long the outbox sweeper leaves the rows alone (their lease); by default
        ``MAIL_STALE_AFTER``, as for any queued row. Rows whose context is completed later
        take a longer hold, so the sweeper never sends one that is not ready; whoever
        completes them calls :func:`release_for_sending`.

    :returns: the new rows' ids.
    """
    if not emails:
        return []
    now = utcnow()
    lease = now + (hold if hold is not None else _stale_after())
    columns: dict[str, list[Any]] = {
        "code": [email.code for email in emails],
        "recipient": [email.recipient.strip() for email in emails],
        "locale": [email.locale for email in emails],
        "merchant_id": [email.merchant_id for email in emails],
        "store_id": [email.store_id for email in emails],
        "context_json": [
            json.dumps(email.context, ensure_ascii=False, sort_keys=True) for email in emails
        ],
    }
    if db.session.get_bind().dialect.name == "postgresql":
        # One array per column: a statement of a dozen parameters, whatever the row count
        # (thousands of placeholders cost more to send and parse than the insert itself).
        return list(
            db.session.scalars(
                _INSERT_UNNEST,
                {**columns, "status": EmailStatus.QUEUED.value, "now": now, "lease": lease},
            )
        )
    table = cast(Table, EmailLog.__table__)
    params = [
        {
            **{name: values[i] for name, values in columns.items()},
            "status": EmailStatus.QUEUED,
            "attempts": 0,
            "unknown_attempts": 0,
            "lease_expires_at": lease,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(len(emails))
    ]
    # SQLite: executemany with RETURNING, sent as multi-row VALUES ("insertmanyvalues").
    return list(db.session.scalars(insert(table).returning(table.c.id), params))


def _stale_after() -> timedelta:
    return timedelta(seconds=current_app.config["MAIL_STALE_AFTER"])


def release_for_sending(email_log_ids: Sequence[int]) -> None:
    """Rows now ready: the usual lease from now, then the sweeper may take them over."""
    if email_log_ids:
        db.session.execute(
            update(EmailLog)
            .where(EmailLog.id.in_(list(email_log_ids)), EmailLog.status == EmailStatus.QUEUED)
            .values(lease_expires_at=utcnow() + _stale_after())
        )


def _enqueue_sends(email_log_ids: Sequence[int]) -> None:
    from messaging.tasks import send_email_task

    for email_log_id in email_log_ids:
        send_email_task(email_log_id)


def enqueue_sends_after_commit(email_log_ids: Sequence[int]) -> None:
    """Enqueue one send task per row once the current transaction commits."""
    if email_log_ids:
        dbmod.after_commit(_enqueue_sends, list(email_log_ids))

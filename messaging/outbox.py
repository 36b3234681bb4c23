"""The sweeper of the email outbox: rows whose send task was lost are queued again.

Two kinds of row have lost their task, and both show it by a lease that has expired
(``lease_expires_at``, ``MAIL_STALE_AFTER`` seconds from the enqueue or the claim):

* ``queued`` rows whose enqueue failed (Redis down at the commit) or whose task was taken
  by a consumer that died before claiming them;
* ``sending`` rows whose consumer died while it held the claim. The message may have gone
  out: the retry sends it again with the same Message-ID.

Rows are taken in keyset chunks (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two sweepers
never hold the same row), reset to ``queued`` with a fresh lease by one ``UPDATE`` that
checks the lease again, committed, and then enqueued after the commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, and_, or_, select, update

from messaging.models import EmailLog, EmailStatus
from messaging.queueing import enqueue_after_commit
from platform_core import db as dbmod
from platform_core.extensions import db
from platform_core.models_base import utcnow

#: Rows per chunk (one SELECT, one UPDATE, one commit each).
SWEEP_CHUNK_SIZE = 500


@dataclass
class SweepReport:
    """What one sweep did."""

    #: ``queued`` rows whose task was lost, queued again.
    queued: int = 0
    #: ``sending`` rows whose consumer died, queued again.
    sending: int = 0
    chunks: int = 0

    @property
    def requeued(self) -> int:
        return self.queued + self.sending


def _stale(now: datetime, stale_after: timedelta) -> ColumnElement[bool]:
    return and_(
        EmailLog.status.in_([EmailStatus.QUEUED, EmailStatus.SENDING]),
        or_(
            EmailLog.lease_expires_at < now,
            # Rows queued before leases existed.
            and_(EmailLog.lease_expires_at.is_(None), EmailLog.created_at < now - stale_after),
        ),
    )


def requeue_stale(
    *,
    now: datetime | None = None,
    chunk_size: int = SWEEP_CHUNK_SIZE,
    commit: Callable[[], None] = dbmod.commit,
) -> SweepReport:
    """Queue again every row whose lease has expired; commits after each chunk.

    :param now: the time the leases are compared with (tests pass their clock).
    :param chunk_size: rows per chunk.
    :param commit: the commit point (runs the enqueues registered for the chunk).
    :return: how many rows of each kind were queued again.
    """
    now = now or utcnow()
    stale_after = timedelta(seconds=current_app.config["MAIL_STALE_AFTER"])
    report = SweepReport()
    last_id = 0
    while True:
        candidates = db.session.execute(
            select(EmailLog.id, EmailLog.status)
            .where(EmailLog.id > last_id, _stale(now, stale_after))
            .order_by(EmailLog.id)
            .limit(chunk_size)
            .with_for_update(skip_locked=True)
        ).all()
        if not candidates:
            break
        last_id = candidates[-1].id
        was = {row.id: row.status for row in candidates}
        # The lease is checked again: on SQLite (no row locks) a delivery may have claimed a
        # row between the SELECT and this UPDATE, and its fresh lease protects it.
        requeued = db.session.scalars(
            update(EmailLog)
            .where(EmailLog.id.in_(list(was)), _stale(now, stale_after))
            .values(
                status=EmailStatus.QUEUED,
                claim_token=None,
                lease_expires_at=utcnow() + stale_after,
            )
            .returning(EmailLog.id)
            .execution_options(synchronize_session=False)
        ).all()
        for log_id in requeued:
            if was[log_id] == EmailStatus.SENDING:
                report.sending += 1
            else:
                report.queued += 1
            enqueue_after_commit(log_id)
        report.chunks += 1
        commit()
        if len(candidates) < chunk_size:
            break
    return report

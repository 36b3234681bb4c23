"""Record each run of a job in ``task_runs``: periodic, from the CLI, or from the console.

The run row is committed when the job starts; on success it gets its figures, on failure the
job's transaction is rolled back first and the row gets the error, committed on its own, so
the failure is visible in the console even though the job's work was undone. Huey then
retries the job, which records a new run.

A consumer killed in the middle of a run cannot finish its row. Two things tell staff the
truth about such a row: the heartbeat (set at the start, then by :meth:`RunFigures.beat`,
which long jobs call once per chunk) makes a run whose heartbeat is older than
:data:`~platform_core.task_runs.models.STALE_AFTER` show as interrupted; and
:func:`mark_interrupted_runs`, called when a consumer starts, records it so. It only touches
runs it can prove dead: the heartbeat is stale, or the owning process ran on this host and
no longer exists. A fresh run of another live consumer is left alone.
"""

from __future__ import annotations

import os
import socket
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select, update

from platform_core import db as dbmod
from platform_core.extensions import db
from platform_core.models_base import utcnow
from platform_core.task_runs.models import STALE_AFTER, TaskRun, TaskRunSource, TaskRunStatus

_MAX_TRACEBACK_CHARS = 4000
#: Tells this process from an earlier one that had the same pid (containers restart as pid 1).
_PROCESS_TOKEN = uuid.uuid4().hex[:12]


def process_owner() -> str:
    """``host:pid:token`` of this process, as stored in ``TaskRun.owner``."""
    return f"{socket.gethostname()}:{os.getpid()}:{_PROCESS_TOKEN}"


@dataclass
class RunFigures:
    """What a job reports about its run; filled in by the job while it runs."""

    run_id: int = 0
    figures: dict[str, int | float] = field(default_factory=dict)
    failed_items: int = 0

    def set(self, **figures: int | float) -> None:
        self.figures.update(figures)

    def beat(self) -> None:
        """Record a sign of life; it is written with the job's next commit (call it once per
        chunk, before the chunk's commit)."""
        db.session.execute(
            update(TaskRun).where(TaskRun.id == self.run_id).values(heartbeat_at=utcnow())
        )


@contextmanager
def recorded_run(
    task_name: str, source: TaskRunSource | str = TaskRunSource.PERIODIC
) -> Iterator[RunFigures]:
    """Wrap one run of a job: ``with recorded_run("expire_points_task") as run: ...``.

    :param task_name: the job's name (its Huey task name).
    :param source: what started it: the schedule, a CLI command, the console.
    """
    now = utcnow()
    row = TaskRun(
        task_name=task_name,
        status=TaskRunStatus.RUNNING,
        source=TaskRunSource(source),
        started_at=now,
        heartbeat_at=now,
        owner=process_owner(),
    )
    db.session.add(row)
    dbmod.commit()
    figures = RunFigures(run_id=row.id)
    try:
        yield figures
    except Exception as exc:
        dbmod.rollback()
        _finish(figures.run_id, TaskRunStatus.FAILED, figures, error=_describe(exc))
        raise
    _finish(figures.run_id, TaskRunStatus.SUCCEEDED, figures)


def _finish(
    run_id: int, status: TaskRunStatus, figures: RunFigures, error: str | None = None
) -> None:
    row = db.session.get(TaskRun, run_id)
    if row is None:  # pragma: no cover - the row was committed at the start
        return
    row.status = status
    row.finished_at = utcnow()
    row.heartbeat_at = row.finished_at
    row.summary = ", ".join(f"{name}: {value}" for name, value in figures.figures.items())
    row.failed_items = figures.failed_items
    row.error = error
    dbmod.commit()


def _describe(exc: BaseException) -> str:
    text = "".join(traceback.format_exception(exc))
    return text[-_MAX_TRACEBACK_CHARS:]


def _process_gone(owner: str) -> bool:
    """Whether ``owner`` names a process of this host that no longer exists."""
    host, _, rest = owner.partition(":")
    pid_text, _, token = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        # Same pid, another token: an earlier process of ours (a restarted container).
        return token != _PROCESS_TOKEN
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # exists, owned by someone else
        return False
    return False


def mark_interrupted_runs() -> list[int]:
    """Record as interrupted every ``running`` run whose process is provably dead: its
    heartbeat is older than ``STALE_AFTER``, or it ran on this host in a process that no
    longer exists. Commits; returns the ids marked.
    """
    now = utcnow()
    stale_before = now - STALE_AFTER
    rows = db.session.execute(
        select(TaskRun.id, TaskRun.owner, TaskRun.heartbeat_at, TaskRun.started_at).where(
            TaskRun.status == TaskRunStatus.RUNNING
        )
    ).all()
    dead = []
    for run_id, owner, heartbeat_at, started_at in rows:
        beat = heartbeat_at or started_at
        stale = beat is not None and _as_aware(beat) < stale_before
        if stale or _process_gone(owner or ""):
            dead.append(run_id)
    if dead:
        db.session.execute(
            update(TaskRun)
            # A run that finished meanwhile keeps its real outcome.
            .where(TaskRun.id.in_(dead), TaskRun.status == TaskRunStatus.RUNNING)
            .values(
                status=TaskRunStatus.INTERRUPTED,
                finished_at=now,
                error="interrupted: its process stopped before the run finished",
            )
        )
    dbmod.commit()
    return dead


def _as_aware(value: datetime) -> datetime:
    # SQLite hands back naive UTC datetimes, PostgreSQL aware ones.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value

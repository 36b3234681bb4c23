"""One row per run of a periodic job, so staff see what ran, what it did, and what failed."""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta

from sqlalchemy import DateTime, Enum, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from platform_core.extensions import Model
from platform_core.i18n_lazy import _l
from platform_core.models_base import utcnow


class TaskRunStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    #: Left ``running`` by a consumer that died (killed, machine lost).
    INTERRUPTED = "interrupted"

    @property
    def label(self) -> str:
        return str(TASK_RUN_STATUS_LABELS[self])


TASK_RUN_STATUS_LABELS = {
    TaskRunStatus.RUNNING: _l("Running"),
    TaskRunStatus.SUCCEEDED: _l("Succeeded"),
    TaskRunStatus.FAILED: _l("Failed"),
    TaskRunStatus.INTERRUPTED: _l("Interrupted"),
}


class TaskRunSource(enum.StrEnum):
    """What started a run."""

    PERIODIC = "periodic"
    CLI = "cli"
    CONSOLE = "console"

    @property
    def label(self) -> str:
        return str(TASK_RUN_SOURCE_LABELS[self])


TASK_RUN_SOURCE_LABELS = {
    TaskRunSource.PERIODIC: _l("Schedule"),
    TaskRunSource.CLI: _l("Command line"),
    TaskRunSource.CONSOLE: _l("Console"),
}

#: A ``running`` run whose heartbeat is older than this is shown (and swept) as interrupted.
#: Long jobs beat at least once per chunk, and a chunk takes seconds, not minutes.
STALE_AFTER = timedelta(minutes=5)


def _status_enum() -> Enum:
    return Enum(
        TaskRunStatus,
        name="task_run_status",
        native_enum=False,
        length=20,
        values_callable=lambda e: [m.value for m in e],
    )


class TaskRun(Model):
    __tablename__ = "task_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The Huey task's name, e.g. ``expire_points_task``.
    task_name: Mapped[str] = mapped_column(String(100), index=True)
    status: Mapped[TaskRunStatus] = mapped_column(
        _status_enum(), default=TaskRunStatus.RUNNING, index=True
    )
    source: Mapped[TaskRunSource] = mapped_column(
        Enum(
            TaskRunSource,
            name="task_run_source",
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=TaskRunSource.PERIODIC,
        server_default=TaskRunSource.PERIODIC.value,
    )
    #: Last sign of life of a running job (set at start, then by ``RunFigures.beat``).
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The process running it, ``host:pid:token``; a starting consumer on the same host
    #: marks the runs of processes that no longer exist as interrupted.
    owner: Mapped[str] = mapped_column(String(200), default="", server_default="")
    started_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: What the run did, as ``name: number`` figures (cards, points, chunks, ...).
    summary: Mapped[str] = mapped_column(Text, default="")
    #: For a failed run: the exception and the last lines of its traceback.
    error: Mapped[str | None] = mapped_column(Text)
    #: How many items failed without failing the run (e.g. wallet cards).
    failed_items: Mapped[int] = mapped_column(Integer, default=0)

    def shown_status(self, now: datetime) -> TaskRunStatus:
        """The status staff see: a run still ``running`` with a stale heartbeat is
        interrupted even before a consumer start records it so."""
        if self.status is TaskRunStatus.RUNNING:
            beat = self.heartbeat_at or self.started_at
            if beat is not None and _naive(now) - _naive(beat) > STALE_AFTER:
                return TaskRunStatus.INTERRUPTED
        return self.status

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None or self.started_at is None:
            return None
        start, end = self.started_at, self.finished_at
        if (start.tzinfo is None) != (end.tzinfo is None):
            start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
        return (end - start).total_seconds()

    def __str__(self) -> str:
        return f"{self.task_name} #{self.id}"


def _naive(value: datetime) -> datetime:
    # SQLite hands back naive UTC datetimes, PostgreSQL aware ones.
    return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)

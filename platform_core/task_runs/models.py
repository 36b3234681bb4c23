"""One row per run of a periodic job, so staff see what ran, what it did, and what failed."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, Enum, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from platform_core.extensions import Model
from platform_core.i18n_lazy import _l
from platform_core.models_base import utcnow


class TaskRunStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return str(TASK_RUN_STATUS_LABELS[self])


TASK_RUN_STATUS_LABELS = {
    TaskRunStatus.RUNNING: _l("Running"),
    TaskRunStatus.SUCCEEDED: _l("Succeeded"),
    TaskRunStatus.FAILED: _l("Failed"),
}


class TaskRun(Model):
    __tablename__ = "task_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The Huey task's name, e.g. ``expire_points_task``.
    task_name: Mapped[str] = mapped_column(String(100), index=True)
    status: Mapped[TaskRunStatus] = mapped_column(
        Enum(
            TaskRunStatus,
            name="task_run_status",
            native_enum=False,
            length=10,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=TaskRunStatus.RUNNING,
        index=True,
    )
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

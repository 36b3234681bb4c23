"""Record each run of a periodic job in ``task_runs``.

The run row is committed when the job starts; on success it gets its figures, on failure the
job's transaction is rolled back first and the row gets the error, committed on its own, so
the failure is visible in the console even though the job's work was undone. Huey then
retries the job, which records a new run.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from platform_core import db as dbmod
from platform_core.extensions import db
from platform_core.models_base import utcnow
from platform_core.task_runs.models import TaskRun, TaskRunStatus

_MAX_TRACEBACK_CHARS = 4000


@dataclass
class RunFigures:
    """What a job reports about its run; filled in by the job while it runs."""

    figures: dict[str, int | float] = field(default_factory=dict)
    failed_items: int = 0

    def set(self, **figures: int | float) -> None:
        self.figures.update(figures)


@contextmanager
def recorded_run(task_name: str) -> Iterator[RunFigures]:
    """Wrap one run of a job: ``with recorded_run("expire_points_task") as run: ...``."""
    row = TaskRun(task_name=task_name, status=TaskRunStatus.RUNNING, started_at=utcnow())
    db.session.add(row)
    dbmod.commit()
    run_id = row.id
    figures = RunFigures()
    try:
        yield figures
    except Exception as exc:
        dbmod.rollback()
        _finish(run_id, TaskRunStatus.FAILED, figures, error=_describe(exc))
        raise
    _finish(run_id, TaskRunStatus.SUCCEEDED, figures)


def _finish(
    run_id: int, status: TaskRunStatus, figures: RunFigures, error: str | None = None
) -> None:
    row = db.session.get(TaskRun, run_id)
    if row is None:  # pragma: no cover - the row was committed at the start
        return
    row.status = status
    row.finished_at = utcnow()
    row.summary = ", ".join(f"{name}: {value}" for name, value in figures.figures.items())
    row.failed_items = figures.failed_items
    row.error = error
    dbmod.commit()


def _describe(exc: BaseException) -> str:
    text = "".join(traceback.format_exception(exc))
    return text[-_MAX_TRACEBACK_CHARS:]

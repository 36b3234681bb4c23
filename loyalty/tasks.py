"""Periodic loyalty jobs: points expiry and the warnings before it.

Each chunk of cards is its own transaction (committed here, after the service changed it),
so row locks are held only for one chunk and the emails of a chunk go out after its commit.
A failure rolls back the current chunk only, is logged with its traceback, and is raised
again so Huey retries the job; chunks already committed stay done and the retry picks up
the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from huey import crontab

from loyalty.services.expiry import ExpiryReport, expire_inactive_points, send_expiry_warnings
from platform_core import db as dbmod
from platform_core.huey import huey
from platform_core.task_context import app_task
from platform_core.task_runs.models import TaskRunSource
from platform_core.task_runs.recorder import RunFigures, recorded_run

log = logging.getLogger(__name__)

#: A failed run is retried this many times, this many seconds apart.
JOB_RETRIES = 2
JOB_RETRY_DELAY = 300


def _chunk_commit(run: RunFigures | None) -> Callable[[], None]:
    """The per-chunk commit; inside a recorded run it carries the run's heartbeat."""
    if run is None:
        return dbmod.commit

    def commit() -> None:
        run.beat()
        dbmod.commit()

    return commit


def run_expiry(chunk_size: int | None = None, run: RunFigures | None = None) -> ExpiryReport:
    """Expire due points now, committing after each chunk (also used by the CLI)."""
    try:
        report = expire_inactive_points(chunk_size=chunk_size, commit=_chunk_commit(run))
    except Exception:
        dbmod.rollback()
        log.exception("points expiry failed; committed chunks stay done, the job will retry")
        raise
    dbmod.commit()
    log.info(
        "points expiry: %d cards, %d points, %d chunks", report.cards, report.points, report.chunks
    )
    return report


def run_expiry_warnings(
    chunk_size: int | None = None, run: RunFigures | None = None
) -> ExpiryReport:
    """Queue the "points expiring" emails now, committing after each chunk."""
    try:
        report = send_expiry_warnings(chunk_size=chunk_size, commit=_chunk_commit(run))
    except Exception:
        dbmod.rollback()
        log.exception("expiry warnings failed; committed chunks stay done, the job will retry")
        raise
    dbmod.commit()
    log.info("expiry warnings: %d cards warned in %d chunks", report.cards, report.chunks)
    return report


@huey.periodic_task(
    crontab(hour="2", minute="30"), retries=JOB_RETRIES, retry_delay=JOB_RETRY_DELAY
)
@app_task
def expire_points_task() -> None:
    """Daily at 02:30: expire the points of inactive cards."""
    recorded_expiry(TaskRunSource.PERIODIC)


def recorded_expiry(source: TaskRunSource, chunk_size: int | None = None) -> ExpiryReport:
    """One recorded run of the points expiry (the schedule and the CLI)."""
    with recorded_run("expire_points_task", source=source) as run:
        report = run_expiry(chunk_size=chunk_size, run=run)
        run.set(cards=report.cards, points=report.points, chunks=report.chunks)
    return report


def recorded_expiry_warnings(source: TaskRunSource, chunk_size: int | None = None) -> ExpiryReport:
    """One recorded run of the expiry warnings (the schedule and the CLI)."""
    with recorded_run("expiry_warnings_task", source=source) as run:
        report = run_expiry_warnings(chunk_size=chunk_size, run=run)
        run.set(cards=report.cards, chunks=report.chunks)
    return report


@huey.periodic_task(crontab(hour="9", minute="0"), retries=JOB_RETRIES, retry_delay=JOB_RETRY_DELAY)
@app_task
def expiry_warnings_task() -> None:
    """Daily at 09:00 (a civil hour for an email): warn cards whose points expire soon."""
    recorded_expiry_warnings(TaskRunSource.PERIODIC)

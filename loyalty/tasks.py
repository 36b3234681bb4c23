"""Periodic loyalty jobs: points expiry and the warnings before it; and the task that
prepares and sends the emails of one of their chunks.

Each chunk of cards is its own transaction (committed here, after the service changed it),
so row locks are held only for one chunk and the emails of a chunk go out after its commit.
A program that fails is rolled back to its last committed chunk and the other programs go
on; at the end the run fails, with each failed program and its error on the task run, and
Huey retries it: chunks already committed stay done and the retry picks up the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from huey import crontab

from loyalty.expiry_notifications import prepare_emails, requeue_unprepared
from loyalty.services.expiry import (
    ExpiryReport,
    Progress,
    expire_inactive_points,
    send_expiry_warnings,
)
from loyalty.services.ledger_rollup import RollupReport, refresh_ledger_rollup
from loyalty.services.marketing import (
    MarketingReport,
    send_birthday_emails,
    send_reengagement_emails,
)
from platform_core import db as dbmod
from platform_core.huey import huey
from platform_core.task_context import app_task
from platform_core.task_runs.models import TaskRunSource
from platform_core.task_runs.recorder import RunFigures, recorded_run

log = logging.getLogger(__name__)

#: A failed run is retried this many times, this many seconds apart.
JOB_RETRIES = 2
JOB_RETRY_DELAY = 300
EXPIRE_TASK = "expire_points_task"
WARNINGS_TASK = "expiry_warnings_task"
BIRTHDAY_TASK = "birthday_emails_task"
REENGAGEMENT_TASK = "reengagement_emails_task"
ROLLUP_TASK = "ledger_rollup_task"


class ProgramsFailed(RuntimeError):
    """Some programs could not be processed; the others were."""

    def __init__(self, report: ExpiryReport) -> None:
        self.report = report
        lines = "\n".join(str(failure) for failure in report.failures)
        super().__init__(f"{len(report.failures)} program(s) failed:\n{lines}")


def _finish(report: ExpiryReport, what: str) -> ExpiryReport:
    log.info(
        "%s: %d cards, %d points, %d chunks, %d left locked, %d program(s) failed",
        what,
        report.cards,
        report.points,
        report.chunks,
        report.left_locked,
        len(report.failures),
    )
    if report.failures:
        raise ProgramsFailed(report)
    return report


def _chunk_commit(run: RunFigures | None) -> Callable[[], None]:
    """The per-chunk commit; inside a recorded run it also moves the run's heartbeat."""
    if run is None:
        return dbmod.commit

    def commit() -> None:
        run.beat()
        dbmod.commit()

    return commit


def _start() -> None:
    # Emails of an earlier run killed between a chunk's commit and its task's enqueue.
    if requeue_unprepared():
        dbmod.commit()


def run_expiry(
    chunk_size: int | None = None,
    *,
    merchant_id: int | None = None,
    progress: Progress | None = None,
    run: RunFigures | None = None,
) -> ExpiryReport:
    """Expire due points now, committing after each chunk (the job and the CLI).

    :raises ProgramsFailed: after every other program was processed.
    """
    _start()
    report = expire_inactive_points(
        chunk_size=chunk_size,
        commit=_chunk_commit(run),
        merchant_id=merchant_id,
        progress=progress,
    )
    dbmod.commit()
    return _finish(report, "points expiry")


def run_expiry_warnings(
    chunk_size: int | None = None,
    *,
    merchant_id: int | None = None,
    progress: Progress | None = None,
    run: RunFigures | None = None,
) -> ExpiryReport:
    """Queue the "points expiring" emails now, committing after each chunk."""
    _start()
    report = send_expiry_warnings(
        chunk_size=chunk_size,
        commit=_chunk_commit(run),
        merchant_id=merchant_id,
        progress=progress,
    )
    dbmod.commit()
    return _finish(report, "expiry warnings")


def record_figures(run: RunFigures, report: ExpiryReport, *, points: bool = True) -> None:
    figures: dict[str, int | float] = {"cards": report.cards, "chunks": report.chunks}
    if points:
        figures["points"] = report.points
    if report.left_locked:
        figures["left_locked"] = report.left_locked
    run.set(**figures)
    run.failed_items = len(report.failures)


def recorded_expiry(
    run_job: Callable[..., ExpiryReport],
    task_name: str,
    *,
    points: bool,
    source: TaskRunSource = TaskRunSource.PERIODIC,
    **kwargs: Any,
) -> ExpiryReport:
    """Run ``run_job`` inside a task run; a partial failure records the figures of what was
    done, and each failed program with its error, on the run."""
    with recorded_run(task_name, source=source) as run:
        try:
            report = run_job(run=run, **kwargs)
        except ProgramsFailed as exc:
            record_figures(run, exc.report, points=points)
            raise
        record_figures(run, report, points=points)
        return report


@huey.periodic_task(
    crontab(hour="2", minute="30"), retries=JOB_RETRIES, retry_delay=JOB_RETRY_DELAY
)
@app_task
def expire_points_task() -> None:
    """Daily at 02:30: expire the points of inactive cards."""
    recorded_expiry(run_expiry, EXPIRE_TASK, points=True)


@huey.periodic_task(crontab(hour="9", minute="0"), retries=JOB_RETRIES, retry_delay=JOB_RETRY_DELAY)
@app_task
def expiry_warnings_task() -> None:
    """Daily at 09:00 (a civil hour for an email): warn cards whose points expire soon."""
    recorded_expiry(run_expiry_warnings, WARNINGS_TASK, points=False)


def run_marketing(job: Callable[..., MarketingReport], task_name: str, **kwargs: Any) -> Any:
    """Run a marketing job (birthday, re-engagement) inside a task run, a commit per chunk."""
    source = kwargs.pop("source", TaskRunSource.PERIODIC)
    with recorded_run(task_name, source=source) as run:
        report = job(commit=_chunk_commit(run), **kwargs)
        dbmod.commit()
        run.set(
            cards=report.cards, emails=report.emails, points=report.points, chunks=report.chunks
        )
        log.info(
            "%s: %d cards, %d emails, %d points, %d chunks",
            task_name,
            report.cards,
            report.emails,
            report.points,
            report.chunks,
        )
        return report


# 08:30 and 08:45 UTC: 09:30/09:45 in Luxembourg in winter, 10:30/10:45 in summer, a
# morning hour for wishes and offers (and the same Luxembourg day as the birthday).
@huey.periodic_task(
    crontab(hour="8", minute="30"), retries=JOB_RETRIES, retry_delay=JOB_RETRY_DELAY
)
@app_task
def birthday_emails_task() -> None:
    """Daily: birthday wishes (and bonus) to today's consenting customers, once a year."""
    run_marketing(send_birthday_emails, BIRTHDAY_TASK)


@huey.periodic_task(
    crontab(hour="8", minute="45"), retries=JOB_RETRIES, retry_delay=JOB_RETRY_DELAY
)
@app_task
def reengagement_emails_task() -> None:
    """Daily: "we miss you" to consenting customers of inactive cards, once per period."""
    run_marketing(send_reengagement_emails, REENGAGEMENT_TASK)


def run_ledger_rollup(*, source: TaskRunSource = TaskRunSource.PERIODIC) -> RollupReport:
    """Sum the ledger's closed days for the dashboard, inside a task run."""
    from flask import current_app

    tz = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    with recorded_run(ROLLUP_TASK, source=source) as run:
        report = refresh_ledger_rollup(tz)
        dbmod.commit()
        run.set(rows=report.rows, days=_days(report))
        return report


def _days(report: RollupReport) -> int:
    if report.first_day is None or report.last_day is None:
        return 0
    return max(0, (report.last_day - report.first_day).days + 1)


# 01:15 UTC: 02:15 or 03:15 in Luxembourg, when yesterday is closed; before expiry at 02:30.
@huey.periodic_task(
    crontab(hour="1", minute="15"), retries=JOB_RETRIES, retry_delay=JOB_RETRY_DELAY
)
@app_task
def ledger_rollup_task() -> None:
    """Daily: sum yesterday's ledger for the dashboard (and any day a missed night left)."""
    run_ledger_rollup()


@huey.task(retries=3, retry_delay=60)
@app_task
def prepare_expiry_emails_task(email_log_ids: list[int]) -> None:
    """Format the emails of one expiry or warning chunk, then enqueue their sends."""
    prepare_emails(email_log_ids)
    dbmod.commit()

"""The daily retention job: anonymize the customers inactive beyond their merchant's period."""

from __future__ import annotations

import logging
from collections.abc import Callable

from huey import crontab

from loyalty.data_rights.retention import RetentionReport, purge_inactive_customers
from platform_core import db as dbmod
from platform_core.huey import huey
from platform_core.task_context import app_task
from platform_core.task_runs.models import TaskRunSource
from platform_core.task_runs.recorder import RunFigures, recorded_run

log = logging.getLogger(__name__)

RETENTION_TASK = "purge_inactive_customers_task"


def _commit(run: RunFigures) -> Callable[[], None]:
    def commit() -> None:
        run.beat()
        dbmod.commit()

    return commit


def run_retention(
    source: TaskRunSource = TaskRunSource.PERIODIC, *, merchant_id: int | None = None
) -> RetentionReport:
    """One recorded run: erase in chunks, each committed; figures on the task run."""
    with recorded_run(RETENTION_TASK, source=source) as run:
        report = purge_inactive_customers(commit=_commit(run), merchant_id=merchant_id)
        dbmod.commit()
        run.set(merchants=len(report.merchants), customers=report.customers, chunks=report.chunks)
    log.info(
        "retention: %d customer(s) anonymized at %d merchant(s) in %d chunk(s)",
        report.customers,
        len(report.merchants),
        report.chunks,
    )
    return report


@huey.periodic_task(crontab(hour="3", minute="45"), retries=2, retry_delay=300)
@app_task
def purge_inactive_customers_task() -> None:
    """Daily at 03:45: anonymize customers inactive for longer than their merchant keeps them."""
    run_retention()

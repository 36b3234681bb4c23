"""Google Wallet Huey tasks: sync one card after a change, and hand out what is left over."""

from __future__ import annotations

import logging

from huey import crontab

from loyalty.wallet import service
from platform_core import db as dbmod
from platform_core.huey import huey
from platform_core.task_context import app_task
from platform_core.task_runs.models import TaskRunSource
from platform_core.task_runs.recorder import recorded_run

log = logging.getLogger(__name__)


@huey.task()
@app_task
def sync_wallet_card_task(card_id: int) -> None:
    """Push one card to Google Wallet (retries inside, see ``service.sync_card``)."""
    try:
        # The commit after reading the card ends its transaction before Google is called.
        service.sync_card(card_id, release=dbmod.commit)
    except Exception as exc:  # recorded on the card; the retry job tries it again
        dbmod.rollback()
        log.exception("wallet sync of card %s crashed", card_id)
        service.record_crash(card_id, exc)
    dbmod.commit()


def run_wallet_retry(source: TaskRunSource = TaskRunSource.PERIODIC) -> service.RetryReport:
    """One recorded run of the retry job (the periodic task, the CLI and the console)."""
    with recorded_run("retry_wallet_syncs_task", source=source) as run:
        report = service.retry_pending_syncs(on_chunk=run.beat)
        run.set(
            queued=len(report.queued),
            previously_failed=len(report.failed),
            unrejected=len(report.unrejected),
            chunks=report.chunks,
        )
        run.failed_items = len(report.failed)
    return report


@huey.periodic_task(crontab(minute="*/15"))
@app_task
def retry_wallet_syncs_task() -> None:
    """Every 15 minutes: queue a sync for each card still ``pending`` or ``failed`` (and
    ``rejected`` ones whose Wallet configuration changed)."""
    if not service.wallet_enabled():
        return
    run_wallet_retry()

"""Google Wallet Huey tasks: sync one card after a change, and retry what is left over."""

from __future__ import annotations

from huey import crontab

from loyalty.wallet import service
from loyalty.wallet.google import wallet_enabled
from platform_core import db as dbmod
from platform_core.huey import huey
from platform_core.task_context import app_task
from platform_core.task_runs.recorder import recorded_run


@huey.task()
@app_task
def sync_wallet_card_task(card_id: int) -> None:
    """Push one card to Google Wallet (retries inside, see ``service.sync_card``)."""
    service.sync_card(card_id)
    dbmod.commit()


@huey.periodic_task(crontab(minute="*/15"))
@app_task
def retry_wallet_syncs_task() -> None:
    """Every 15 minutes: sync the cards still ``pending`` or ``failed``."""
    if not wallet_enabled():
        return
    with recorded_run("retry_wallet_syncs_task") as run:
        report = service.retry_pending_syncs()
        run.set(synced=len(report.synced), failed=len(report.failed))
        run.failed_items = len(report.failed)

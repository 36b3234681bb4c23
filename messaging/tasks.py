"""Huey tasks of the messaging package: sending queued emails, sweeping the outbox."""

from __future__ import annotations

from typing import Any

from huey import crontab

from messaging.delivery import EmailDeliveryError, deliver
from messaging.outbox import SweepReport, requeue_stale
from platform_core import db as dbmod
from platform_core.config import load_config
from platform_core.huey import huey
from platform_core.task_context import app_task
from platform_core.task_runs.recorder import recorded_run

# Huey fixes a task's retries when it is decorated, so they come from the configuration of
# this process (APP_ENV): 3 retries 60 s apart, no delay in tests.
_config = load_config()
MAIL_RETRIES = _config.MAIL_RETRIES
MAIL_RETRY_DELAY = _config.MAIL_RETRY_DELAY

#: The name the sweeper's runs are recorded under (console: task runs).
SWEEP_TASK_NAME = "requeue_stale_emails_task"


@huey.task(retries=MAIL_RETRIES, retry_delay=MAIL_RETRY_DELAY, context=True)
@app_task
def send_email_task(email_log_id: int, task: Any = None) -> None:
    """Deliver one queued email; temporary errors and unknown outcomes are retried, the last
    one fails the row; permanent failures fail it at once (inside :func:`deliver`).

    Every attempt commits what it learnt (attempts, outcome, last error), so staff see a
    struggling email in the log while it is still being retried.
    """
    final_attempt = task is None or not task.retries
    try:
        deliver(email_log_id, final_attempt=final_attempt)
    except EmailDeliveryError:
        dbmod.commit()
        if final_attempt:
            # Recorded as failed on the row, which keeps everything needed to resend it.
            return
        raise
    dbmod.commit()


def run_requeue_stale() -> SweepReport:
    """One recorded sweep of the outbox (the periodic task and the CLI both run this)."""
    with recorded_run(SWEEP_TASK_NAME) as run:
        report = requeue_stale()
        run.set(queued=report.queued, sending=report.sending, chunks=report.chunks)
    return report


@huey.periodic_task(crontab(minute="*"))
@app_task
def requeue_stale_emails_task() -> None:
    """Every minute: enqueue again the emails whose task was lost (see messaging.outbox)."""
    run_requeue_stale()

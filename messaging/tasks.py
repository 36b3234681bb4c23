"""Huey tasks of the messaging package: sending queued emails."""

from __future__ import annotations

from typing import Any

from messaging.delivery import EmailDeliveryError, deliver
from platform_core import db as dbmod
from platform_core.config import load_config
from platform_core.huey import huey
from platform_core.task_context import app_task

# Huey fixes a task's retries when it is decorated, so they come from the configuration of
# this process (APP_ENV): 3 retries 60 s apart, no delay in tests.
_config = load_config()
MAIL_RETRIES = _config.MAIL_RETRIES
MAIL_RETRY_DELAY = _config.MAIL_RETRY_DELAY


@huey.task(retries=MAIL_RETRIES, retry_delay=MAIL_RETRY_DELAY, context=True)
@app_task
def send_email_task(email_log_id: int, task: Any = None) -> None:
    """Deliver one queued email; transport errors are retried, the last one fails the row.

    Every attempt commits what it learnt (attempts, last error), so staff see a struggling
    email in the log while it is still being retried.
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

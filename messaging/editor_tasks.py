"""Huey task of the template editor: sending a "Send me a test" message."""

from __future__ import annotations

from messaging.editor import deliver_rendered
from platform_core import db as dbmod
from platform_core.huey import huey
from platform_core.task_context import app_task


@huey.task()
@app_task
def send_test_email_task(email_log_id: int) -> None:
    """Send a test message the editor already rendered; a failure is recorded on the row."""
    deliver_rendered(email_log_id)
    dbmod.commit()

"""The Huey consumer's entry module: ``huey_consumer platform_core.worker.huey``.

It imports every package's ``tasks`` module so the consumer knows every task and periodic job.
"""

import loyalty.tasks  # noqa: E402,F401,I001
import loyalty.wallet.tasks  # noqa: E402,F401
import loyalty.webhooks.tasks  # noqa: E402,F401
import messaging.tasks  # noqa: E402,F401
import messaging.editor_tasks  # noqa: E402,F401
from platform_core.huey import huey
from platform_core.task_context import app_task, get_app

__all__ = ["app_task", "get_app", "huey"]

"""The Huey consumer's entry module: ``huey_consumer platform_core.worker.huey``.

It imports every package's ``tasks`` module so the consumer knows every task and periodic job.
``wsgi.huey`` is this same instance. A consumer started on the bare instance
(``platform_core.huey.huey``) refuses to start: see :mod:`platform_core.huey`. This is a
composition root: the layers contract in ``pyproject.toml`` lets it import the domains.
"""

import loyalty.tasks  # noqa: E402,F401,I001
import loyalty.data_rights.tasks  # noqa: E402,F401
import loyalty.wallet.tasks  # noqa: E402,F401
import loyalty.webhooks.tasks  # noqa: E402,F401
import messaging.tasks  # noqa: E402,F401
import messaging.editor_tasks  # noqa: E402,F401
import platform_core.task_runs.tasks  # noqa: E402,F401
from platform_core.config import load_config
from platform_core.huey import huey
from platform_core.logging_setup import configure_logging, drop_foreign_handlers
from platform_core.task_context import app_task, get_app

__all__ = ["app_task", "get_app", "huey"]

_config = load_config()
configure_logging(_config.LOG_FORMAT, _config.LOG_LEVEL)


@huey.on_startup(name="platform_one_log_configuration")
def _one_log_configuration() -> None:
    # huey_consumer gave the "huey" logger a handler of its own after importing this module.
    drop_foreign_handlers("huey")

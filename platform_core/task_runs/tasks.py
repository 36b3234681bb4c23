"""Consumer hooks for task runs: a starting consumer records the runs that died with their
process as interrupted (see :func:`~platform_core.task_runs.recorder.mark_interrupted_runs`)."""

from __future__ import annotations

import logging
import threading

from platform_core.huey import huey
from platform_core.task_context import app_task
from platform_core.task_runs.recorder import mark_interrupted_runs

log = logging.getLogger(__name__)

_swept = threading.Event()
_sweep_lock = threading.Lock()


@app_task
def _sweep() -> list[int]:
    return mark_interrupted_runs()


@huey.on_startup()
def mark_interrupted_runs_on_startup() -> None:
    """Huey calls startup hooks in every worker; the sweep runs once per process."""
    with _sweep_lock:
        if _swept.is_set():
            return
        _swept.set()
    try:
        marked = _sweep()
    except Exception:  # a consumer must start even when the database is briefly away
        log.exception("could not mark interrupted task runs")
        return
    if marked:
        log.warning("task runs interrupted by a stopped consumer: ids %s", marked)

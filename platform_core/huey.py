"""The one Huey instance. Its storage comes from ``HUEY_URL``.

``sqlite:///path`` (development), ``redis://host:port/db`` (production, several consumers),
``memory://`` (tests, with ``immediate`` mode switched on by the app factory).

This module holds the bare instance: no task is registered on it until a package's ``tasks``
module is imported. Consumers start from :mod:`platform_core.worker` (or ``wsgi``, which
exports the same instance), which imports every one; a consumer started on an instance
without tasks would dequeue every message and drop it, so it refuses to start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from huey.consumer import Consumer

from platform_core.config import load_config
from platform_core.logging_setup import install_task_context

NO_TASKS_MESSAGE = (
    "huey consumer refused to start: no tasks are registered on this Huey instance, so "
    "every message would be dequeued and dropped. Start it with "
    "`huey_consumer platform_core.worker.huey` (or `wsgi.huey`), which imports every task."
)


class _RefusesWithoutTasks:
    """Mixed into each storage class: ``create_consumer`` (what ``huey_consumer`` calls)
    exits with a clear message when no task is registered."""

    _registry: Any

    def create_consumer(self, **options: Any) -> Consumer:
        # Huey has no public listing of its registry; ``_registry`` is stable across 2.x/3.x.
        if not self._registry._registry:
            raise SystemExit(NO_TASKS_MESSAGE)
        return super().create_consumer(**options)  # type: ignore[misc]


class _RedisHuey(_RefusesWithoutTasks, RedisHuey):
    pass


class _SqliteHuey(_RefusesWithoutTasks, SqliteHuey):
    pass


class _MemoryHuey(_RefusesWithoutTasks, MemoryHuey):
    pass


def huey_from_url(url: str, name: str = "loyalty-platform") -> Huey:
    if url.startswith("redis://") or url.startswith("rediss://"):
        return _RedisHuey(name, url=url)
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
        path.parent.mkdir(parents=True, exist_ok=True)
        return _SqliteHuey(name, filename=str(path))
    if url.startswith("memory://"):
        return _MemoryHuey(name)
    raise RuntimeError(f"HUEY_URL must be sqlite:///, redis:// or memory://, got {url!r}")


huey: Huey = huey_from_url(load_config().HUEY_URL)
# Every line a task logs names the task, wherever the task runs (consumer or immediate mode).
install_task_context(huey)

"""The one Huey instance. Its storage comes from ``HUEY_URL``.

``sqlite:///path`` (development), ``redis://host:port/db`` (production, several consumers),
``memory://`` (tests, with ``immediate`` mode switched on by the app factory).
"""

from __future__ import annotations

from pathlib import Path

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey

from platform_core.config import load_config
from platform_core.logging_setup import install_task_context


def huey_from_url(url: str, name: str = "loyalty-platform") -> Huey:
    if url.startswith("redis://") or url.startswith("rediss://"):
        return RedisHuey(name, url=url)
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(name, filename=str(path))
    if url.startswith("memory://"):
        return MemoryHuey(name)
    raise RuntimeError(f"HUEY_URL must be sqlite:///, redis:// or memory://, got {url!r}")


huey: Huey = huey_from_url(load_config().HUEY_URL)
# Every line a task logs names the task, wherever the task runs (consumer or immediate mode).
install_task_context(huey)

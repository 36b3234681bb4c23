"""Task context: one app per consumer process, and the ``app_task`` decorator."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, has_app_context

F = TypeVar("F", bound=Callable[..., Any])

_app: Flask | None = None


def get_app() -> Flask:
    """The consumer's app, created on first use (never at import time of a task module)."""
    global _app
    if _app is None:
        from platform_core.app import create_app

        _app = create_app()
    return _app


def app_task(func: F) -> F:
    """Run ``func`` inside an app context with its own session.

    When a context is already active (immediate mode in tests, or a CLI command running a
    job inline) the task shares it, so tests see its writes inside their transaction.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            return func(*args, **kwargs)
        with get_app().app_context():
            from platform_core.extensions import db

            try:
                return func(*args, **kwargs)
            finally:
                db.session.remove()

    return wrapper  # type: ignore[return-value]

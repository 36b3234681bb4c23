"""One logging configuration for the web app and the consumer.

Every line says what it belongs to: in a request, the request id (the one a trusted proxy
set in ``X-Request-ID``, or one made here), which the response echoes and the error page
shows; in the consumer, the name and id of the task being run. ``LOG_FORMAT=json`` writes one
JSON object per line (python-json-logger) for a log collector; ``text`` is for people.

:func:`configure_logging` is called by the app factory and by the consumer entry; calling it
again replaces its handler, so there is never more than one.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from contextvars import ContextVar
from typing import IO, Any

from flask import Flask, Response, g, has_request_context, request
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

#: What we accept from a proxy as a request id; anything else is replaced by our own.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
REQUEST_ID_HEADER = "X-Request-ID"
_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(context)s] %(message)s"
_JSON_FIELDS = "%(levelname)s %(name)s %(message)s"

#: The tasks running in this thread (or coroutine), innermost last: an immediate-mode task
#: may run another one inline.
_tasks: ContextVar[tuple[tuple[str, str], ...]] = ContextVar("running_tasks", default=())


class _ContextFilter(logging.Filter):
    """Puts the request id, or the running task's name and id, on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = current_request_id()
        running = _tasks.get()
        task_name, task_id = running[-1] if running else (None, None)
        record.request_id = request_id
        record.task_name = task_name
        record.task_id = task_id
        parts = []
        if request_id:
            parts.append(f"request={request_id}")
        if task_name:
            parts.append(f"task={task_name}:{task_id}")
        record.context = " ".join(parts) or "-"
        return True


class _PlatformHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Our one handler; recognised by its class so a second configuration replaces it."""


def _formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        # The filter's fields come out as they are (the text-only ``context`` left out).
        return JsonFormatter(
            _JSON_FIELDS,
            rename_fields={"levelname": "level", "name": "logger"},
            reserved_attrs=[*RESERVED_ATTRS, "context"],
            timestamp="time",
        )
    if log_format == "text":
        return logging.Formatter(_TEXT_FORMAT)
    raise RuntimeError(f"LOG_FORMAT must be text or json, got {log_format!r}")


def configure_logging(
    log_format: str = "text", level: str = "INFO", stream: IO[str] | None = None
) -> logging.Handler:
    """Send every logger's lines through one handler on the root logger.

    :param log_format: ``text`` or ``json`` (``LOG_FORMAT``).
    :param level: the root logger's level (``LOG_LEVEL``).
    :param stream: where to write; standard error by default.
    :return: the handler, so a caller (a test) can remove or inspect it.
    """
    handler = _PlatformHandler(stream if stream is not None else sys.stderr)
    handler.addFilter(_ContextFilter())
    handler.setFormatter(_formatter(log_format))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _PlatformHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler


def drop_foreign_handlers(logger_name: str) -> None:
    """Remove the handlers another tool put on ``logger_name``; its lines reach ours.

    ``huey_consumer`` adds its own handler to the ``huey`` logger after importing the entry
    module: without this, each of its lines would be written twice, once without context.
    """
    logger = logging.getLogger(logger_name)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    logger.propagate = True


# --- requests -------------------------------------------------------------------------------


def current_request_id() -> str | None:
    if not has_request_context():
        return None
    return g.get("request_id")


def _assign_request_id(trust_header: bool) -> None:
    offered = request.headers.get(REQUEST_ID_HEADER, "") if trust_header else ""
    g.request_id = offered if _REQUEST_ID.match(offered) else uuid.uuid4().hex


def init_request_ids(app: Flask) -> None:
    """Give each request an id, echo it in ``X-Request-ID`` and on every log line.

    The header is believed only behind a trusted proxy (``TRUSTED_PROXY_COUNT`` > 0), which
    sets it for every request; otherwise a client could pick ids that collide with others'.
    """
    trust_header = int(app.config.get("TRUSTED_PROXY_COUNT", 0)) > 0

    @app.before_request
    def _request_id() -> None:
        _assign_request_id(trust_header)

    @app.after_request
    def _echo_request_id(response: Response) -> Response:
        request_id = current_request_id()
        if request_id:
            response.headers[REQUEST_ID_HEADER] = request_id
        return response


# --- tasks ----------------------------------------------------------------------------------


def install_task_context(huey: Any) -> None:
    """Register Huey hooks that put the running task's name and id on every line.

    Huey runs the pre- and post-execute hooks in the thread that executes the task, around
    it, in the consumer and in immediate mode alike.
    """

    @huey.pre_execute(name="platform_log_context_enter")
    def _enter(task: Any) -> None:
        _tasks.set((*_tasks.get(), (task.name, task.id)))

    @huey.post_execute(name="platform_log_context_leave")
    def _leave(task: Any, task_value: Any, exc: BaseException | None) -> None:
        running = _tasks.get()
        if running and running[-1] == (task.name, task.id):
            _tasks.set(running[:-1])

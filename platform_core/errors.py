"""Errors people can read: localized pages for the browser, JSON for the API, never a 500
for bad input.

- Under ``/api/`` every error is JSON, ``{"error": {"code": ..., "message": ...}}``, with a
  stable ``code`` and a message in the request's language (the shape of the loyalty API's
  own refusals), 404 and 405 included.
- Elsewhere an HTML page in the visitor's language with a way back: the console's home for
  console paths, the site's home otherwise.
- Input that cannot be read is refused before it reaches a view: integers in URLs beyond
  what the database stores (they would overflow the driver), JSON nested deeper than the
  parser's recursion limit, bodies over ``MAX_CONTENT_LENGTH``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, jsonify, render_template, request
from flask.json.provider import DefaultJSONProvider
from jinja2 import TemplateNotFound
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from platform_core.i18n_lazy import _l
from platform_core.logging_setup import current_request_id

log = logging.getLogger(__name__)

#: The largest id a URL may carry: SQLite's and PostgreSQL's 64-bit integers.
MAX_URL_INTEGER = 2**63 - 1

#: status → (stable code, heading, sentence).
ERRORS: dict[int, tuple[str, Any, Any]] = {
    400: (
        "bad_request",
        _l("This request could not be understood"),
        _l("Something in the address or the form was not valid. Please check it and try again."),
    ),
    403: (
        "forbidden",
        _l("Access denied"),
        _l("You are not allowed to open this page."),
    ),
    404: (
        "not_found",
        _l("Page not found"),
        _l("There is nothing at this address. Please check it, or start again from home."),
    ),
    405: (
        "method_not_allowed",
        _l("Not possible here"),
        _l("This address does not accept this kind of request."),
    ),
    410: (
        "gone",
        _l("No longer available"),
        _l("What was here has been removed or has expired."),
    ),
    413: (
        "payload_too_large",
        _l("Too much data"),
        _l("What was sent is larger than 1 MB. Please send less at once."),
    ),
    415: (
        "unsupported_media_type",
        _l("Format not supported"),
        _l("The request body is in a format this address does not accept."),
    ),
    429: (
        "rate_limited",
        _l("Too many attempts"),
        _l("Too many requests. Please wait a minute and try again."),
    ),
    500: (
        "internal_error",
        _l("Something went wrong"),
        _l("An error on our side stopped this page. It has been logged; please try again later."),
    ),
}


class BoundedIntegerConverter(IntegerConverter):
    """``<int:...>`` in every URL, with a maximum the database can store.

    A 23-digit id would otherwise reach the driver and overflow (SQLite raises
    ``OverflowError``); beyond the maximum the URL does not match, so it answers 404.
    """

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_URL_INTEGER)
        super().__init__(map, *args, **kwargs)


class SafeJSONProvider(DefaultJSONProvider):
    """JSON whose parse errors are all ``ValueError``: a body of 100,000 nested brackets
    raises ``RecursionError`` in the standard parser, which Werkzeug would not treat as bad
    input."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def register_error_handlers(app: Flask) -> None:
    """Bounded URL integers, the safe JSON parser and the error handlers.

    Called before any blueprint is registered (the converter is bound when routes are).
    """
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.json = SafeJSONProvider(app)
    app.before_request(_refuse_large_bodies)
    app.register_error_handler(HTTPException, handle_http_error)
    # Numbers the driver cannot bind, values a column cannot hold: the input was bad. A
    # view that lets one through is a bug to fix, but the visitor gets a 400, not a 500.
    app.register_error_handler(OverflowError, _unstorable_input)
    app.register_error_handler(DataError, _unstorable_input)
    app.register_error_handler(InternalServerError, _internal_error)


F = TypeVar("F", bound=Callable[..., Any])


def large_body(limit: int) -> Callable[[F], F]:
    """Let one view take bodies up to ``limit`` bytes (an upload) instead of
    ``MAX_CONTENT_LENGTH``.

    The limit is applied before any other ``before_request`` reads the form (the CSRF
    check does), so the view keeps its CSRF protection.
    """

    def mark(view: F) -> F:
        view.max_body_bytes = limit  # type: ignore[attr-defined]
        return view

    return mark


def _refuse_large_bodies() -> None:
    # Werkzeug refuses an oversized body only when something reads it; a view that answers
    # without reading (an unknown store) would otherwise accept any upload.
    view = current_app.view_functions.get(request.endpoint or "")
    own = getattr(view, "max_body_bytes", None)
    if own:
        request.max_content_length = own
        request.max_form_memory_size = own
    limit = own or current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge()


def is_api_request() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def is_console_request() -> bool:
    return request.path == "/admin" or request.path.startswith("/admin/")


def error_response(status: int, *, message: Any = None, headers: Any = None) -> Any:
    """The answer for ``status``: JSON under ``/api/``, a localized page elsewhere.

    :param status: the HTTP status.
    :param message: a sentence replacing the default one for this status.
    :param headers: extra response headers (``Allow``, ``Retry-After``).
    """
    code, heading, default_message = ERRORS.get(status, ERRORS[500 if status >= 500 else 400])
    text = str(message or default_message)
    headers = dict(headers or {})
    if status == 429:
        headers.setdefault("Retry-After", str(_retry_after_seconds()))
    if is_api_request():
        return jsonify(error={"code": code, "message": text}), status, headers
    context = {
        "status": status,
        "heading": str(heading),
        "message": text,
        "console": is_console_request(),
        "request_id": current_request_id(),
    }
    try:
        html = render_template([f"errors/{status}.html", "errors/error.html"], **context)
    except TemplateNotFound:  # pragma: no cover - both templates ship with the package
        html = text
    return html, status, headers


def handle_http_error(exc: HTTPException) -> Any:
    """The error page or JSON error for ``exc`` (blueprints with handlers of their own
    delegate here)."""
    status = exc.code or 500
    headers = {name: value for name, value in exc.get_headers() if name.lower() != "content-type"}
    if exc.response is not None and status not in ERRORS:
        return exc.response  # a response made on purpose (redirect-like aborts)
    return error_response(status, headers=headers)


def _unstorable_input(exc: Exception) -> Any:
    from platform_core import db as dbmod

    dbmod.rollback()  # PostgreSQL refuses every statement after a failed one
    log.warning(
        "refused input the database cannot store: %s %s: %r", request.method, request.path, exc
    )
    return error_response(400)


def _internal_error(exc: InternalServerError) -> Any:
    from platform_core import db as dbmod

    try:
        dbmod.rollback()
    except Exception:  # noqa: BLE001 - the page must show even when the database is gone
        log.exception("rollback failed while answering a 500")
    try:
        return error_response(500)
    except Exception:  # noqa: BLE001 - rendering needs the locale, the user, the templates
        log.exception("the 500 page itself failed")
        return "Internal Server Error", 500


def _retry_after_seconds() -> int:
    from platform_core.extensions import limiter

    current = getattr(limiter, "current_limit", None)
    if current is None:
        return 60
    return max(1, math.ceil(current.reset_at - time.time()))

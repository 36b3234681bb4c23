"""Absolute links, built from configuration only.

Every link the product emails or returns (password reset, invitation, card page, ...) is
built on ``PUBLIC_BASE_URL``, or on a store's own domain from ``StoreDomain``, never on the
``Host`` or ``X-Forwarded-Host`` of the request: a forged header would otherwise put a
reset link on an attacker's host. The URL map is bound to the configured base, not to the
request, so the same call works in a view, a task or the command line.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app


def public_base() -> tuple[str, str, str]:
    """``PUBLIC_BASE_URL`` split into scheme, host (with port) and path prefix."""
    parts = urlsplit(current_app.config["PUBLIC_BASE_URL"].strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise RuntimeError("PUBLIC_BASE_URL must be an absolute http(s) URL")
    return parts.scheme, parts.netloc.lower(), parts.path.rstrip("/")


def public_host() -> str:
    """The host name of ``PUBLIC_BASE_URL``, without port."""
    return urlsplit(current_app.config["PUBLIC_BASE_URL"].strip()).hostname or ""


def external_url(endpoint: str, *, store_host: str | None = None, **values: Any) -> str:
    """The absolute URL of ``endpoint`` on ``PUBLIC_BASE_URL``.

    :param endpoint: a full endpoint name (``"auth.reset_password"``).
    :param store_host: a host name read from a ``StoreDomain`` row: the link goes to that
        store's own domain instead, with the scheme and port of ``PUBLIC_BASE_URL``.
    :param values: the endpoint's arguments.
    """
    scheme, netloc, prefix = public_base()
    if store_host:
        port = urlsplit(f"//{netloc}").port
        netloc = store_host.strip().lower() + (f":{port}" if port else "")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    app.inject_url_defaults(endpoint, values)
    adapter = app.url_map.bind(netloc, script_name=prefix or "/", url_scheme=scheme)
    return adapter.build(endpoint, values, force_external=True)

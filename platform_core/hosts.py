"""Refuse requests for hosts the platform does not serve (production).

Only ``PUBLIC_BASE_URL``'s host and the hosts in ``StoreDomain`` are answered; any other
``Host`` gets 400 before a view runs, so no page, redirect or link can be made to carry a
forged host name. ``/healthz`` answers on every host: load balancers probe it by address.
"""

from __future__ import annotations

from flask import Flask, abort, current_app, request

from platform_core.links import public_host
from platform_core.tenancy.resolver import current_store

#: Paths that answer whatever the host (the load balancer's health probe).
ANY_HOST_PATHS = frozenset({"/healthz"})


def _host_name() -> str:
    return request.host.rsplit("]", 1)[-1].split(":", 1)[0].strip().lower().rstrip(".")


#: Loopback names that also reach the platform itself (development, local probes, tests).
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1"})


def is_platform_host() -> bool:
    """Whether this request came in on the platform's own host (``PUBLIC_BASE_URL``'s, or a
    loopback name), as opposed to a store's domain or a host no one configured."""
    name = _host_name()
    if not name:
        return True
    return name == public_host().lower() or name in LOOPBACK_HOSTS


def is_known_host() -> bool:
    """Whether this request's host is the platform's own or a store's domain."""
    name = _host_name()
    if name and name == public_host().lower():
        return True
    return current_store._get_current_object() is not None


def init_host_check(app: Flask) -> None:
    """Answer 400 for unknown hosts when ``REJECT_UNKNOWN_HOSTS`` is on (production)."""

    @app.before_request
    def _reject_unknown_host() -> None:
        if not current_app.config.get("REJECT_UNKNOWN_HOSTS"):
            return
        if request.path in ANY_HOST_PATHS or is_known_host():
            return
        abort(400)

"""Resolve the current store from the request's host, once per request."""

from __future__ import annotations

from flask import g, request
from sqlalchemy import select
from werkzeug.local import LocalProxy

from platform_core.extensions import db
from platform_core.tenancy.models import Store, StoreDomain


def store_for_host(host: str) -> Store | None:
    name = host.split(":", 1)[0].strip().lower().rstrip(".")
    if not name:
        return None
    return db.session.scalar(select(Store).join(StoreDomain).where(StoreDomain.host == name))


def _resolve_current_store() -> Store | None:
    if "current_store" not in g:
        g.current_store = store_for_host(request.host) if request else None
    return g.current_store


#: The store whose domain this request came in on, or ``None`` (admin, API by slug, ...).
current_store: LocalProxy[Store | None] = LocalProxy(_resolve_current_store)

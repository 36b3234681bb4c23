"""Bearer authentication and the per-key rate limit of the merchant API."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import current_app, g, request

from loyalty.merchant_api import errors
from loyalty.merchant_api.keys import find_active_key, touch_last_used
from loyalty.merchant_api.models import ApiKey
from platform_core.extensions import limiter
from platform_core.ratelimit import client_ip

_NO_KEY = object()


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def current_key() -> ApiKey | None:
    """The request's valid API key (looked up once per request), or ``None``."""
    cached = g.get("merchant_api_key", _NO_KEY)
    if cached is _NO_KEY:
        cached = find_active_key(_bearer())
        g.merchant_api_key = cached
    return cached


def rate_limit_key() -> str:
    # One bucket per valid key; bad keys share their client's address bucket, so guessing
    # cannot drain a real key's budget.
    key = current_key()
    return f"key:{key.id}" if key is not None else f"anonymous:{client_ip()}"


def _limit() -> str:
    return current_app.config["MERCHANT_API_RATELIMIT"]


#: Applied to the whole merchant API blueprint.
merchant_api_limit = limiter.limit(_limit, key_func=rate_limit_key, scope="merchant-api")


def require_scope(scope: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The view needs a valid key (401) with ``scope`` (403)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            key = current_key()
            if key is None:
                raise errors.unauthorized()
            if scope not in key.scope_set:
                raise errors.missing_scope(scope)
            touch_last_used(key)
            return view(key, *args, **kwargs)

        return wrapper

    return decorator

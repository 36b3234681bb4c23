"""Counting failed attempts at a secret (void PINs) in the rate-limit storage.

Only failures count, with Flask-Limiter's ``test()``/``hit()`` on the configured storage
(``RATELIMIT_STORAGE_URI``: Redis in production), so every gunicorn worker sees the same
count. A successful try does not reset the count: a guesser who got lucky once must not
get a fresh allowance.
"""

from __future__ import annotations

import math
import time

from flask import current_app
from limits import RateLimitItem, parse

from platform_core.extensions import limiter


class FailureLimit:
    """At most the configured number of failures per key and window.

    :param config_key: the setting holding the limit, e.g. ``"5/15 minutes"``.
    :param scope: keeps these counters apart from every other limit.
    """

    def __init__(self, config_key: str, scope: str) -> None:
        self.config_key = config_key
        self.scope = scope

    def _item(self) -> RateLimitItem:
        return parse(current_app.config[self.config_key])

    def locked(self, key: str) -> bool:
        """Whether ``key`` has used up its failures in the current window."""
        return not limiter.limiter.test(self._item(), self.scope, key)

    def fail(self, key: str) -> bool:
        """Count one failure for ``key``; ``True`` when this one used up the allowance."""
        item = self._item()
        limiter.limiter.hit(item, self.scope, key)
        return not limiter.limiter.test(item, self.scope, key)

    def minutes_left(self, key: str) -> int:
        """Whole minutes (at least 1) until ``key`` may try again."""
        reset_at, _remaining = limiter.limiter.get_window_stats(self._item(), self.scope, key)
        return max(1, math.ceil((reset_at - time.time()) / 60))

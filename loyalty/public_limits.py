"""Named rate limits of the public loyalty endpoints (values from config).

Enrollment has ONE budget per client, shared by the HTML form and the JSON API: a client
cannot double its attempts by switching entry point. The key is the client address
(``platform_core.ratelimit.client_ip``, behind ProxyFix when proxies are trusted).
"""

from __future__ import annotations

import math
import time

from flask import current_app

from platform_core.extensions import limiter
from platform_core.ratelimit import client_ip


def _enroll_limit() -> str:
    return current_app.config["RATELIMIT_ENROLL"]


def _program_info_limit() -> str:
    return current_app.config["RATELIMIT_PROGRAM_INFO"]


#: Applied to the form's POST and the API's enroll endpoint (GET of the form is free).
enroll_limit = limiter.shared_limit(
    _enroll_limit, scope="loyalty-enroll", key_func=client_ip, methods=["POST"]
)

#: Applied to the program info endpoint.
program_info_limit = limiter.limit(
    _program_info_limit, scope="loyalty-program-info", key_func=client_ip
)


def retry_after_seconds() -> int:
    """Seconds until the limit that was just hit lets the client in again (at least 1)."""
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, math.ceil(current.reset_at - time.time()))

"""Console sessions that end: idle expiry.

A logged-in session records when it was last used (inside the signed session cookie, so the
browser cannot move it); a request that comes more than ``SESSION_IDLE_HOURS`` later is
logged out first, remember-me cookie included. The per-user session token that logout and
password or role changes rotate lives on :class:`~platform_core.staff.models.StaffUser`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask, current_app, flash, session
from flask_login import logout_user, user_loaded_from_cookie, user_logged_in

from platform_core.i18n_lazy import _

#: Session key holding the time (epoch seconds) of the last request of this session.
LAST_SEEN_KEY = "_seen"
#: Rewriting the cookie on every request is needless: the last-seen time is kept to a minute.
_RESOLUTION_SECONDS = 60


def _now() -> float:
    # Tests inject a clock through the config.
    clock: Callable[[], float] = current_app.config.get("SESSION_CLOCK") or time.time
    return clock()


def _start_clock(_sender: object, **_extra: object) -> None:
    # A new login (or one restored from the remember-me cookie) starts a fresh idle clock,
    # whatever an earlier session of this browser left in the cookie.
    session[LAST_SEEN_KEY] = int(_now())


def init_sessions(app: Flask) -> None:
    """Log out sessions idle for longer than ``SESSION_IDLE_HOURS``, before any view runs."""
    user_logged_in.connect(_start_clock, app)
    user_loaded_from_cookie.connect(_start_clock, app)

    @app.before_request
    def _expire_idle_session() -> None:
        if "_user_id" not in session:
            return
        now = _now()
        last_seen = session.get(LAST_SEEN_KEY)
        idle_limit = float(current_app.config["SESSION_IDLE_HOURS"]) * 3600
        if isinstance(last_seen, int | float) and now - last_seen > idle_limit:
            logout_user()
            session.pop(LAST_SEEN_KEY, None)
            flash(
                _("Your session ended after a long time without activity. Please log in again."),
                "warning",
            )
            return
        if not isinstance(last_seen, int | float) or now - last_seen >= _RESOLUTION_SECONDS:
            session[LAST_SEEN_KEY] = int(now)

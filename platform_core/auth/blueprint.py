"""The ``auth`` blueprint object, in a module of its own.

:mod:`platform_core.auth.views` (login, logout) and :mod:`platform_core.auth.password_views`
(reset, invitation) both attach their routes to it; the app factory imports both and
registers it, so neither view module imports the other.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("auth", __name__)

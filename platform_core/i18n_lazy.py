"""Our own translation functions, re-exported so import-time strings use our catalog.

Flask-Admin's ``flask_admin.babel`` uses its own ``admin`` domain; labels we write must come
from the ``messages`` domain instead, so every module imports these.
"""

from flask_babel import gettext, lazy_gettext, lazy_ngettext, ngettext

_ = gettext
_l = lazy_gettext

__all__ = ["_", "_l", "gettext", "lazy_gettext", "lazy_ngettext", "ngettext"]

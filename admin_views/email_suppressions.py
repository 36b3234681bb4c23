"""The suppression list: addresses a mail server refused for good, per merchant.

Emails to a listed address are recorded as ``suppressed`` and not attempted. Staff lift a
suppression by deleting its row (merchant admins and platform admins); later emails to the
address are attempted again.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from admin_views.base import SecureModelView
from admin_views.email_log import datetime_formatter
from platform_core.i18n_lazy import _l
from platform_core.staff.models import StaffRole


def _log_formatter(view: Any, context: Any, model: Any, name: str) -> Any:
    if model.email_log_id is None:
        return ""
    url = view.get_url("email_log.details_view", id=model.email_log_id)
    return Markup('<a href="{}">#{}</a>').format(url, model.email_log_id)


class EmailSuppressionAdmin(SecureModelView):
    """Suppressed addresses, newest first; nobody adds or edits one by hand."""

    write_roles = frozenset({StaffRole.PLATFORM_ADMIN, StaffRole.MERCHANT_ADMIN})
    can_create = False
    can_edit = False
    column_list = ["address", "code", "reason", "merchant", "created_at", "email_log_id"]
    column_details_list = column_list
    column_export_list = ["address", "code", "reason", "merchant", "created_at"]
    column_labels = {
        "address": _l("Address"),
        "code": _l("SMTP code"),
        "reason": _l("Reason"),
        "merchant": _l("Merchant"),
        "created_at": _l("Suppressed since"),
        "email_log_id": _l("Refused email"),
    }
    column_descriptions = {
        "address": _l("Emails to this address are not sent. Delete the row to lift it."),
    }
    column_searchable_list = ["address"]
    column_sortable_list = ["address", "code", "created_at"]
    column_default_sort = ("created_at", True)
    column_formatters = {"created_at": datetime_formatter, "email_log_id": _log_formatter}
    column_formatters_detail = column_formatters
    column_formatters_export = {
        "created_at": lambda v, c, m, n: m.created_at.isoformat() if m.created_at else "",
        "merchant": lambda v, c, m, n: m.merchant.name if m.merchant else "",
    }

"""System → Audit log: read-only. Platform admins see every row, merchant admins their
merchant's (the default scoping rule on ``merchant_id``), store staff nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from flask_admin import Admin
from flask_admin.contrib.sqla import filters
from flask_babel import to_user_timezone
from markupsafe import Markup, escape

from admin_views.base import SecureModelView
from admin_views.loyalty_format import when
from platform_core.audit.models import ACTION_LABELS, AuditLog
from platform_core.extensions import db
from platform_core.i18n_lazy import _l
from platform_core.staff.models import ROLE_LABELS, StaffRole


def iso_with_offset(value: datetime | None) -> str:
    """ISO 8601 in the console's time zone, with its UTC offset (``2026-12-02T15:04:05+01:00``)."""
    if value is None:
        return ""
    if value.tzinfo is None:  # SQLite hands back naive UTC
        value = value.replace(tzinfo=UTC)
    return to_user_timezone(value).isoformat(timespec="seconds")


def _action(view: Any, context: Any, model: AuditLog, name: str) -> str:
    return model.action_label


def _role(view: Any, context: Any, model: AuditLog, name: str) -> str:
    try:
        return str(ROLE_LABELS[StaffRole(model.actor_role)]) if model.actor_role else ""
    except ValueError:
        return model.actor_role or ""


def _value(value: Any) -> str:
    if value is None:
        return "∅"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _changes_text(model: AuditLog) -> str:
    if not model.changes:
        return ""
    parts = []
    for key, value in model.changes.items():
        if isinstance(value, list) and len(value) == 2:
            parts.append(f"{key}: {_value(value[0])} → {_value(value[1])}")
        else:
            parts.append(f"{key}: {_value(value)}")
    return "; ".join(parts)


def _changes_short(view: Any, context: Any, model: AuditLog, name: str) -> str:
    text = _changes_text(model)
    return text if len(text) <= 120 else text[:119] + "…"


def _changes_table(view: Any, context: Any, model: AuditLog, name: str) -> Markup:
    if not model.changes:
        return Markup("")
    rows = []
    for key, value in model.changes.items():
        if isinstance(value, list) and len(value) == 2:
            old, new = _value(value[0]), _value(value[1])
        else:
            old, new = "", _value(value)
        rows.append(
            Markup("<tr><th>{}</th><td>{}</td><td>{}</td></tr>").format(
                escape(key), escape(old), escape(new)
            )
        )
    head = Markup("<thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead>").format(
        _l("Field"), _l("Before"), _l("After")
    )
    return Markup('<table class="table table-sm audit-changes">{}<tbody>{}</tbody></table>').format(
        head, Markup("").join(rows)
    )


def _action_options() -> list[tuple[str, str]]:
    return [(action.value, str(label)) for action, label in ACTION_LABELS.items()]


class AuditLogAdmin(SecureModelView):
    allowed_roles = frozenset({StaffRole.PLATFORM_ADMIN, StaffRole.MERCHANT_ADMIN})
    can_create = False
    can_edit = False
    can_delete = False
    action_disallowed_list = ["delete"]
    column_default_sort = ("id", True)
    column_list = [
        "created_at",
        "action",
        "model",
        "object_id",
        "actor_email",
        "actor_role",
        "client_address",
        "merchant_id",
        "changes",
    ]
    column_details_list = [
        "id",
        "created_at",
        "action",
        "model",
        "object_id",
        "actor_id",
        "actor_email",
        "actor_role",
        "client_address",
        "merchant_id",
        "changes",
    ]
    column_export_list = column_details_list
    column_labels = {
        "id": _l("Number"),
        "created_at": _l("Time"),
        "action": _l("Action"),
        "model": _l("Record type"),
        "object_id": _l("Record"),
        "actor_id": _l("Staff user number"),
        "actor_email": _l("Staff user"),
        "actor_role": _l("Role"),
        "client_address": _l("Client address"),
        "merchant_id": _l("Merchant number"),
        "changes": _l("Changes"),
    }
    column_formatters = {
        "created_at": lambda v, c, m, n: when(m.created_at),
        "action": _action,
        "actor_role": _role,
        "changes": _changes_short,
    }
    column_formatters_detail = {
        "created_at": lambda v, c, m, n: when(m.created_at),
        "action": _action,
        "actor_role": _role,
        "changes": _changes_table,
    }
    column_formatters_export = {
        "created_at": lambda v, c, m, n: iso_with_offset(m.created_at),
        "changes": lambda v, c, m, n: (
            json.dumps(m.changes, ensure_ascii=False, sort_keys=True) if m.changes else ""
        ),
    }
    column_sortable_list = ["created_at", "action", "model", "actor_email"]
    column_filters = [
        filters.FilterEqual(AuditLog.action, _l("Action"), options=_action_options),
        filters.FilterLike(AuditLog.model, _l("Record type")),
        filters.FilterLike(AuditLog.actor_email, _l("Staff user")),
        filters.DateTimeBetweenFilter(AuditLog.created_at, _l("Time")),
        filters.FilterEqual(AuditLog.object_id, _l("Record")),
    ]


def add_views(admin: Admin) -> None:
    admin.add_view(
        AuditLogAdmin(
            AuditLog, db, name=_l("Audit log"), category=_l("System"), endpoint="auditlog"
        )
    )

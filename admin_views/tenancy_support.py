"""Shared pieces of the tenancy admin views: labels, Babel formatters, per-request filters,
and field errors coming from services."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from admin_views import base as base_formatters
from admin_views.base import SecureModelView
from platform_core.i18n import LANGUAGE_NAMES
from platform_core.i18n_lazy import _l
from platform_core.staff.models import StaffRole

#: Column labels used by every tenancy view (Flask-Admin would show raw attribute names).
COLUMN_LABELS = {
    "name": _l("Name"),
    "slug": _l("Short name (URL)"),
    "legal_name": _l("Legal name"),
    "contact_email": _l("Contact email"),
    "default_locale": _l("Language"),
    "preferred_locale": _l("Language"),
    "merchant": _l("Merchant"),
    "merchant.name": _l("Merchant"),
    "store": _l("Store"),
    "store.name": _l("Store"),
    "stores": _l("Stores"),
    "address": _l("Address"),
    "host": _l("Host name"),
    "email": _l("Email"),
    "first_name": _l("First name"),
    "last_name": _l("Last name"),
    "phone": _l("Phone"),
    "birthday": _l("Birthday"),
    "marketing_consent": _l("Marketing consent"),
    "full_name": _l("Full name"),
    "role": _l("Role"),
    "is_active_user": _l("Active"),
    "created_at": _l("Created"),
    "updated_at": _l("Last changed"),
    "password": _l("Password"),
}

#: Language endonyms are the same in every locale, so a static list is right here.
LOCALE_CHOICES = [(code, name) for code, name in LANGUAGE_NAMES.items()]


#: The base view's formatters (kept as names: other modules import them from here).
TYPE_FORMATTERS = base_formatters.TYPE_FORMATTERS
DETAIL_TYPE_FORMATTERS = base_formatters.DETAIL_TYPE_FORMATTERS
EXPORT_TYPE_FORMATTERS = base_formatters.EXPORT_TYPE_FORMATTERS


def locale_name(view: Any, context: Any, model: Any, name: str) -> str:
    code: str = getattr(model, name, None) or ""
    return str(LANGUAGE_NAMES.get(code, code))


def role_label(view: Any, context: Any, model: Any, name: str) -> str:
    role = getattr(model, name, None)
    return StaffRole(role).label if role else ""


def store_list(view: Any, context: Any, model: Any, name: str) -> str:
    return ", ".join(store.name for store in getattr(model, name) or [])


def mailto(view: Any, context: Any, model: Any, name: str) -> Markup:
    value = getattr(model, name) or ""
    return Markup('<a href="mailto:{0}">{0}</a>').format(value)


def role_options() -> list[tuple[str, str]]:
    return [(role.value, role.label) for role in StaffRole]


class TenancyModelView(SecureModelView):
    """Babel-formatted values, localized labels, filter options rebuilt per request."""

    column_labels = COLUMN_LABELS
    column_type_formatters = TYPE_FORMATTERS
    column_type_formatters_export = EXPORT_TYPE_FORMATTERS
    column_type_formatters_detail = DETAIL_TYPE_FORMATTERS
    column_display_pk = False


def add_field_error(form: Any, field: str | None, message: str) -> None:
    """Show a service's error next to ``field`` (or next to the first field)."""
    target = getattr(form, field, None) if field else None
    if target is None:
        target = next(iter(form))
    target.errors = [*target.errors, message]

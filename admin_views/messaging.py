"""Admin views of messaging: platform templates, the store override editor, the email log."""

from __future__ import annotations

from typing import Any

from flask_admin import Admin
from flask_login import current_user

import messaging.scoping  # noqa: F401  (registers the scope rules before any request)
from admin_views.base import SecureModelView
from admin_views.email_editor import EmailTemplateEditorView, attach_problems
from admin_views.email_log import (
    EmailLogAdmin,
    code_formatter,
    datetime_formatter,
    locale_formatter,
)
from admin_views.email_suppressions import EmailSuppressionAdmin
from messaging.models import EmailLog, EmailSuppression, EmailTemplate
from messaging.rendering import validate_template
from platform_core.extensions import db
from platform_core.i18n_lazy import _l
from platform_core.staff.models import StaffRole

CATEGORY = _l("Emails")


class EmailTemplateAdmin(SecureModelView):
    """The platform's templates: merchant admins read them, platform admins edit them.

    Store staff neither see the menu entry nor open the pages (403): they edit their
    stores' overrides only. Codes and locales come from the catalog and the seeds, so
    nobody creates or deletes a platform template here: a missing one would break the
    fallback of every store.
    """

    allowed_roles = frozenset({StaffRole.PLATFORM_ADMIN, StaffRole.MERCHANT_ADMIN})
    write_roles = frozenset({StaffRole.PLATFORM_ADMIN})
    can_create = False
    can_delete = False
    can_export = False
    column_list = ["code", "locale", "subject", "is_active", "updated_at"]
    column_labels = {
        "code": _l("Code"),
        "locale": _l("Language"),
        "subject": _l("Subject"),
        "body_html": _l("HTML body"),
        "body_text": _l("Text body"),
        "description": _l("Description"),
        "is_active": _l("Active"),
        "updated_at": _l("Last changed"),
        "updated_by": _l("Changed by"),
    }
    column_details_list = [
        "code",
        "locale",
        "description",
        "subject",
        "body_html",
        "body_text",
        "is_active",
        "updated_by",
        "updated_at",
    ]
    column_formatters = {
        "code": code_formatter,
        "locale": locale_formatter,
        "updated_at": datetime_formatter,
    }
    column_formatters_detail = column_formatters
    column_filters = ["code", "locale", "is_active"]
    column_searchable_list = ["code", "subject"]
    column_default_sort = [("code", False), ("locale", False)]
    form_columns = ["subject", "body_html", "body_text", "description", "is_active"]
    form_widget_args = {
        "body_html": {"rows": 16, "class": "form-control text-monospace small"},
        "body_text": {"rows": 8, "class": "form-control text-monospace small"},
    }

    def edit_form(self, obj: Any = None) -> Any:
        form = super().edit_form(obj)
        # The code is not editable; validation needs it to know the declared variables.
        form.template_code = obj.code if obj is not None else None
        return form

    def validate_form(self, form: Any) -> bool:
        if not super().validate_form(form):
            return False
        code = getattr(form, "template_code", None)
        if code is None or "subject" not in form:
            return True
        problems = validate_template(
            code, form.subject.data or "", form.body_html.data or "", form.body_text.data or ""
        )
        attach_problems(form, problems)
        return not problems

    def on_model_change(self, form: Any, model: Any, is_created: bool) -> None:
        model.updated_by_id = current_user.id
        super().on_model_change(form, model, is_created)


def add_views(admin: Admin) -> None:
    """Add this domain's views to the console."""
    admin.add_view(
        EmailTemplateAdmin(
            EmailTemplate,
            db,
            name=_l("Platform templates"),
            category=CATEGORY,
            endpoint="platform_templates",
            url="/admin/platform-templates",
        )
    )
    admin.add_view(
        EmailTemplateEditorView(
            name=_l("Store templates"),
            category=CATEGORY,
            endpoint="email_templates",
            url="/admin/email-templates",
        )
    )
    admin.add_view(
        EmailLogAdmin(
            EmailLog,
            db,
            name=_l("Email log"),
            category=CATEGORY,
            endpoint="email_log",
            url="/admin/email-log",
        )
    )
    admin.add_view(
        EmailSuppressionAdmin(
            EmailSuppression,
            db,
            name=_l("Suppressed addresses"),
            category=CATEGORY,
            endpoint="emailsuppression",
            url="/admin/emailsuppression",
        )
    )

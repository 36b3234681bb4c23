"""The email log: read-only, filtered and scoped, with the rendered message and "Resend"."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from flask import abort, flash, has_request_context, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import DateBetweenFilter, FilterEqual, IntEqualFilter
from flask_admin.model.template import TemplateLinkRowAction
from flask_babel import format_datetime, get_timezone
from flask_login import current_user
from markupsafe import Markup

from admin_views.base import SecureModelView, scoped_choices
from messaging import editor
from messaging.catalog import CATALOG
from messaging.models import EmailLog, EmailOutcome, EmailStatus
from messaging.queueing import resend
from platform_core import db as dbmod
from platform_core.i18n import LANGUAGE_NAMES
from platform_core.i18n_lazy import _, _l, ngettext
from platform_core.redirects import local_path_or
from platform_core.tenancy.models import Store

STATUS_LABELS = {
    EmailStatus.QUEUED: _l("Queued"),
    EmailStatus.SENDING: _l("Sending"),
    EmailStatus.SENT: _l("Sent"),
    EmailStatus.FAILED: _l("Failed"),
    EmailStatus.SUPPRESSED: _l("Suppressed"),
}
OUTCOME_LABELS = {
    EmailOutcome.ACCEPTED: _l("Accepted"),
    EmailOutcome.TEMPORARY: _l("Temporary error"),
    EmailOutcome.REFUSED: _l("Refused"),
    EmailOutcome.UNKNOWN: _l("Unknown (connection lost after sending)"),
}
#: Longest error shown in the list; the details page shows all of it.
ERROR_PREVIEW_LENGTH = 80


def status_label(status: EmailStatus | str | None) -> str:
    if status is None:
        return ""
    return str(STATUS_LABELS.get(EmailStatus(status), status))


def outcome_label(outcome: EmailOutcome | str | None) -> str:
    if outcome is None:
        return ""
    return str(OUTCOME_LABELS.get(EmailOutcome(outcome), outcome))


def truncate(value: str | None, length: int = ERROR_PREVIEW_LENGTH) -> str:
    if not value:
        return ""
    value = " ".join(value.split())
    return value if len(value) <= length else value[: length - 1].rstrip() + "…"


class CreatedOnFilter(DateBetweenFilter):
    """Created between two days, both included, in the console's time zone."""

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        start, end = value
        zone = get_timezone()
        since = datetime.combine(start, time.min, tzinfo=zone)
        until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
        column = self.get_column(alias)
        return query.filter(column >= since, column < until)


def _store_options() -> list[tuple[Any, str]]:
    # Also called once while the view is built, outside any request: nothing to offer then.
    if not has_request_context():
        return []
    return scoped_choices(Store, Store.name)


def _status_formatter(view: Any, context: Any, model: EmailLog, name: str) -> Any:
    css = {
        EmailStatus.SENT: "success",
        EmailStatus.FAILED: "danger",
        EmailStatus.SENDING: "warning",
        EmailStatus.SUPPRESSED: "dark",
    }.get(model.status, "secondary")
    badge = Markup('<span class="badge badge-{}">{}</span>').format(css, status_label(model.status))
    if editor.is_test_message(model):
        badge += Markup(' <span class="badge badge-info">{}</span>').format(_("test"))
    return badge


def datetime_formatter(view: Any, context: Any, model: EmailLog, name: str) -> str:
    value = getattr(model, name)
    return format_datetime(value, "medium") if value else ""


def code_formatter(view: Any, context: Any, model: EmailLog, name: str) -> Any:
    title = editor.template_title(model.code)
    return Markup('{}<br><small class="text-muted">{}</small>').format(title, model.code)


def locale_formatter(view: Any, context: Any, model: EmailLog, name: str) -> str:
    return LANGUAGE_NAMES.get(model.locale, model.locale)


def _resent_from_formatter(view: Any, context: Any, model: EmailLog, name: str) -> Any:
    if model.resent_from_id is None:
        return ""
    url = view.get_url(".details_view", id=model.resent_from_id)
    return Markup('<a href="{}">#{}</a>').format(url, model.resent_from_id)


def _error_formatter(view: Any, context: Any, model: EmailLog, name: str) -> Any:
    full = model.last_error or ""
    return Markup('<span title="{}">{}</span>').format(full, truncate(full))


class EmailLogAdmin(SecureModelView):
    """Every email the platform meant to send, newest first. Nobody edits the log."""

    can_create = False
    can_edit = False
    can_delete = False
    list_template = "admin/messaging/email_log_list.html"
    details_template = "admin/messaging/email_log_details.html"

    column_list = [
        "recipient",
        "code",
        "locale",
        "status",
        "attempts",
        "last_error",
        "store",
        "created_at",
        "sent_at",
    ]
    column_details_list = [
        "recipient",
        "code",
        "locale",
        "status",
        "attempts",
        "unknown_attempts",
        "last_outcome",
        "last_error",
        "message_id",
        "merchant",
        "store",
        "created_at",
        "sent_at",
        "resent_from_id",
    ]
    column_export_list = [
        "id",
        "recipient",
        "code",
        "locale",
        "status",
        "attempts",
        "last_error",
        "store",
        "created_at",
        "sent_at",
    ]
    column_labels = {
        "id": _l("Id"),
        "recipient": _l("Recipient"),
        "code": _l("Template"),
        "locale": _l("Language"),
        "status": _l("Status"),
        "attempts": _l("Attempts"),
        "unknown_attempts": _l("Attempts with unknown outcome"),
        "last_outcome": _l("Last outcome"),
        "last_error": _l("Last error"),
        "message_id": _l("Message id"),
        "merchant": _l("Merchant"),
        "store": _l("Store"),
        "created_at": _l("Created"),
        "sent_at": _l("Sent"),
        "resent_from_id": _l("Resend of log"),
    }
    column_searchable_list = ["recipient"]
    column_sortable_list = [
        "recipient",
        "code",
        "locale",
        "status",
        "attempts",
        "created_at",
        "sent_at",
    ]
    column_default_sort = ("created_at", True)
    column_formatters = {
        "code": code_formatter,
        "locale": locale_formatter,
        "status": _status_formatter,
        "last_error": _error_formatter,
        "created_at": datetime_formatter,
        "sent_at": datetime_formatter,
    }
    column_formatters_detail = {
        "code": code_formatter,
        "locale": locale_formatter,
        "resent_from_id": _resent_from_formatter,
        "status": _status_formatter,
        "last_outcome": lambda v, c, m, n: outcome_label(m.last_outcome),
        "created_at": datetime_formatter,
        "sent_at": datetime_formatter,
    }
    column_formatters_export = {
        "status": lambda v, c, m, n: status_label(m.status),
        "created_at": lambda v, c, m, n: m.created_at.isoformat() if m.created_at else "",
        "sent_at": lambda v, c, m, n: m.sent_at.isoformat() if m.sent_at else "",
        "store": lambda v, c, m, n: m.store.name if m.store else "",
    }
    column_extra_row_actions = [
        TemplateLinkRowAction("log_actions.resend_row", _l("Resend")),
    ]

    # Option lists are callables: evaluated per request, in the user's language and scope.
    column_filters = [
        FilterEqual(
            EmailLog.status,
            _l("Status"),
            options=lambda: [(s.value, status_label(s)) for s in EmailStatus],
        ),
        FilterEqual(
            EmailLog.code,
            _l("Template"),
            options=lambda: [(c, editor.template_title(c)) for c in CATALOG],
        ),
        IntEqualFilter(EmailLog.store_id, _l("Store"), options=_store_options),
        CreatedOnFilter(EmailLog.created_at, _l("Created")),
    ]

    # --- resend -----------------------------------------------------------------------------
    def _resend(self, logs: list[EmailLog]) -> int:
        for log in logs:
            if editor.is_test_message(log):
                # A test holds a draft that was never saved: send that same content again.
                editor.resend_test(current_user, log.id)
            else:
                resend(log.id, staff_user=current_user)
        dbmod.commit()
        return len(logs)

    @expose("/resend/", methods=("POST",))
    def resend_view(self) -> Any:
        log_id = request.form.get("id", type=int)
        if log_id is None:
            abort(404)
        log = self.get_one(str(log_id))  # 404 outside the user's rows
        self._resend([log])
        flash(_("The email to %(recipient)s was queued again.", recipient=log.recipient), "success")
        # Back to the page the form was on, but never off this site.
        return redirect(local_path_or(request.form.get("url"), self.get_url(".index_view")))

    @action("resend", _l("Resend"), _l("Send the selected emails again?"))
    def action_resend(self, ids: list[str]) -> None:
        wanted = [int(i) for i in ids if str(i).isdigit()]
        logs = list(self.get_query().filter(EmailLog.id.in_(wanted)))
        count = self._resend(logs)
        flash(
            ngettext("%(num)d email was queued again.", "%(num)d emails were queued again.", count),
            "success",
        )

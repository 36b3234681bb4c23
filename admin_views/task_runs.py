"""Task runs: what the periodic jobs did, and which runs failed (platform admins only)."""

from __future__ import annotations

from typing import Any

from flask_admin import Admin
from flask_admin.contrib.sqla import filters
from markupsafe import Markup, escape

from admin_views.base import SecureModelView
from admin_views.loyalty_format import when
from platform_core.extensions import db
from platform_core.i18n_lazy import _l
from platform_core.models_base import utcnow
from platform_core.staff.models import StaffRole
from platform_core.task_runs.models import (
    TASK_RUN_SOURCE_LABELS,
    TASK_RUN_STATUS_LABELS,
    TaskRun,
    TaskRunStatus,
)


def _status(view: Any, context: Any, model: TaskRun, name: str) -> Markup:
    # A run still "running" with a stale heartbeat shows as interrupted at once; the next
    # consumer start records it so.
    status = model.shown_status(utcnow())
    css = {
        TaskRunStatus.SUCCEEDED: "success",
        TaskRunStatus.FAILED: "danger",
        TaskRunStatus.INTERRUPTED: "warning",
        TaskRunStatus.RUNNING: "info",
    }.get(status, "secondary")
    return Markup('<span class="badge badge-{}" data-status="{}">{}</span>').format(
        css, status.value, status.label
    )


def _source(view: Any, context: Any, model: TaskRun, name: str) -> str:
    return model.source.label if model.source is not None else ""


def _duration(view: Any, context: Any, model: TaskRun, name: str) -> str:
    seconds = model.duration_seconds
    return "" if seconds is None else f"{seconds:.1f} s"


def _error(view: Any, context: Any, model: TaskRun, name: str) -> Markup:
    if not model.error:
        return Markup("")
    last_line = model.error.strip().splitlines()[-1]
    return Markup("<code>{}</code>").format(escape(last_line[:200]))


class TaskRunAdmin(SecureModelView):
    allowed_roles = frozenset({StaffRole.PLATFORM_ADMIN})
    can_create = False
    can_edit = False
    can_delete = False
    action_disallowed_list = ["delete"]
    column_default_sort = ("started_at", True)
    column_list = [
        "task_name",
        "status",
        "source",
        "started_at",
        "finished_at",
        "duration",
        "summary",
        "failed_items",
        "error",
    ]
    column_details_list = [
        "task_name",
        "status",
        "source",
        "heartbeat_at",
        "owner",
        "started_at",
        "finished_at",
        "duration",
        "summary",
        "failed_items",
        "error",
    ]
    column_labels = {
        "task_name": _l("Task"),
        "status": _l("Status"),
        "source": _l("Started by"),
        "heartbeat_at": _l("Last sign of life"),
        "owner": _l("Process"),
        "started_at": _l("Started"),
        "finished_at": _l("Finished"),
        "duration": _l("Duration"),
        "summary": _l("Summary"),
        "failed_items": _l("Failed items"),
        "error": _l("Error"),
    }
    column_formatters = {
        "status": _status,
        "source": _source,
        "started_at": lambda v, c, m, n: when(m.started_at),
        "finished_at": lambda v, c, m, n: when(m.finished_at),
        "duration": _duration,
        "error": _error,
    }
    column_formatters_detail = {
        "status": _status,
        "source": _source,
        "heartbeat_at": lambda v, c, m, n: when(m.heartbeat_at),
        "started_at": lambda v, c, m, n: when(m.started_at),
        "finished_at": lambda v, c, m, n: when(m.finished_at),
        "duration": _duration,
        "error": lambda v, c, m, n: Markup("<pre>{}</pre>").format(m.error or ""),
    }
    column_searchable_list = ["task_name", "error"]
    column_filters = [
        filters.FilterEqual(
            TaskRun.status,
            _l("Status"),
            options=lambda: [(s.value, str(label)) for s, label in TASK_RUN_STATUS_LABELS.items()],
        ),
        filters.FilterLike(TaskRun.task_name, _l("Task")),
        filters.DateTimeBetweenFilter(TaskRun.started_at, _l("Started")),
        # Last, so the filters before it keep their numbers in saved links.
        filters.FilterEqual(
            TaskRun.source,
            _l("Started by"),
            options=lambda: [(s.value, str(label)) for s, label in TASK_RUN_SOURCE_LABELS.items()],
        ),
    ]


def add_views(admin: Admin) -> None:
    admin.add_view(
        TaskRunAdmin(TaskRun, db, name=_l("Task runs"), category=_l("System"), endpoint="taskrun")
    )

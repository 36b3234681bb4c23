"""The console's home page: what the logged-in user can do, by role."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select

from admin_views import dashboard_charts
from loyalty.models import LoyaltyCard
from loyalty.services import dashboard
from platform_core.customers.models import Customer
from platform_core.extensions import db
from platform_core.scoping import scope_clause
from platform_core.tenancy.models import Merchant, Store

#: Endpoint of the store terminal view (registered by the loyalty admin views).
TERMINAL_ENDPOINT = "terminal"


def _count(model: type) -> int:
    stmt = select(func.count()).select_from(model)
    clause = scope_clause(model, current_user)
    if clause is not None:
        stmt = stmt.where(clause)
    return int(db.session.scalar(stmt) or 0)


def _counter_label(model: type, count: int) -> str:
    """The counter's caption, in the singular or plural the count needs."""
    if model is Merchant:
        return ngettext("merchant", "merchants", count)
    if model is Store:
        return ngettext("store", "stores", count)
    if model is Customer:
        return ngettext("customer", "customers", count)
    return ngettext("loyalty card", "loyalty cards", count)


#: (model, admin endpoint) of what the home page counts.
COUNTED_MODELS: list[tuple[type, str]] = [
    (Merchant, "merchant"),
    (Store, "store"),
    (Customer, "customer"),
    (LoyaltyCard, "loyaltycard"),
]


def _dashboard() -> dict[str, Any] | None:
    tz = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    enrollments = dashboard.enrollments(current_user, tz)
    short = enrollments.last(30)
    points = dashboard.points_per_week(current_user, tz)
    return {
        "enrollments_90": enrollments,
        "enrollments_30": short,
        "enrollments_90_chart": dashboard_charts.enrollments_chart(enrollments),
        "enrollments_30_chart": dashboard_charts.enrollments_chart(short),
        "enrollment_rows": dashboard_charts.enrollment_rows(enrollments),
        "points": points,
        "points_chart": dashboard_charts.points_chart(points),
        "cards": dashboard.card_figures(current_user, tz),
        "emails": dashboard.email_figures(current_user),
        "jobs": dashboard.last_job_runs(current_user),
    }


def _view_url(view: Any) -> str:
    # The same URL Flask-Admin's menu uses for the view.
    return view.get_url(f"{view.endpoint}.{view._default_view}")


class HomeView(AdminIndexView):
    def is_accessible(self) -> bool:
        return bool(current_user.is_authenticated and current_user.is_active)

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
        return redirect(url_for("auth.login", next=request.full_path))

    def _accessible_views(self) -> list[Any]:
        return [
            view
            for view in self.admin._views
            if view is not self and view.is_accessible() and view.is_visible()
        ]

    @expose("/")
    def index(self) -> Any:
        views = self._accessible_views()
        by_endpoint = {view.endpoint: view for view in views}
        dash = _dashboard()
        counts = []
        for model, endpoint in COUNTED_MODELS:
            view = by_endpoint.get(endpoint)
            # The dashboard has counted the cards already, without reading them all.
            if dash is not None and model is LoyaltyCard:
                count = dash["cards"].total_cards
            else:
                count = _count(model)
            counts.append(
                {
                    "key": endpoint,
                    "label": _counter_label(model, count),
                    "count": count,
                    "url": _view_url(view) if view is not None else None,
                }
            )
        terminal = by_endpoint.get(TERMINAL_ENDPOINT)
        return self.render(
            "admin/home.html",
            user=current_user,
            counts=counts,
            links=[
                {"name": view.name, "category": view.category, "url": _view_url(view)}
                for view in views
                if view.endpoint != TERMINAL_ENDPOINT
            ],
            terminal_url=_view_url(terminal) if terminal is not None else None,
            dash=dash,
        )

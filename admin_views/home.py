"""The console's home page: what the logged-in user can do, by role."""

from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_login import current_user
from sqlalchemy import func, select

from platform_core.customers.models import Customer
from platform_core.extensions import db
from platform_core.i18n_lazy import _l
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


def _counted_models() -> list[tuple[Any, type, str]]:
    """(label, model, admin endpoint) of what the home page counts."""
    rows: list[tuple[Any, type, str]] = [
        (_l("Merchants"), Merchant, "merchant"),
        (_l("Stores"), Store, "store"),
        (_l("Customers"), Customer, "customer"),
    ]
    try:
        from loyalty.models import LoyaltyCard
    except ImportError:  # the loyalty package is optional for the core
        return rows
    rows.append((_l("Loyalty cards"), LoyaltyCard, "loyaltycard"))
    return rows


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
        counts = []
        for label, model, endpoint in _counted_models():
            view = by_endpoint.get(endpoint)
            counts.append(
                {
                    "label": label,
                    "count": _count(model),
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
        )

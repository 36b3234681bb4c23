"""Every console export streams completely, for every role that may use it.

The download runs in a thread of its own, without the test's app context, so the request
ends before the WSGI server reads the body, as in production: a lazy load on a row whose
session was removed then cut the card export after its header row.
"""

from __future__ import annotations

import csv
import io
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_login import login_user

from platform_core.audit.models import AuditLog
from platform_core.extensions import db
from platform_core.staff.models import StaffRole
from platform_core.task_runs.models import TaskRun, TaskRunStatus
from tests.loyalty.console_world import World, build_world

ROLES = ("platform_admin", "merchant_admin", "store_staff")


@pytest.fixture
def world(
    dummy_merchant,
    dummy_store,
    create_store,
    create_merchant,
    create_staff_user,
    create_store_domain,
) -> World:
    built = build_world(
        dummy_merchant,
        dummy_store,
        {"store": create_store, "merchant": create_merchant, "staff": create_staff_user},
    )
    create_store_domain(store=dummy_store, host="kirchberg.example.lu")
    create_store_domain(store=built.other_store, host="rouge.example.lu")
    db.session.add(TaskRun(task_name="loyalty.expire_points", status=TaskRunStatus.SUCCEEDED))
    from messaging.models import EmailSuppression

    for merchant in (dummy_merchant, built.other_merchant):
        db.session.add(
            EmailSuppression(
                merchant_id=merchant.id, address="gone@example.lu", code=550, reason="user unknown"
            )
        )
        db.session.add(AuditLog(action="update", model="Customer", merchant_id=merchant.id))
    db.session.commit()
    return built


def _export_views(app: Flask) -> list[Any]:
    admin = app.extensions["admin"][0]
    return [view for view in admin._views if getattr(view, "can_export", False)]


def _expected_rows(app: Flask, view: Any, user: Any) -> int:
    with app.test_request_context():
        login_user(user)
        return view.get_count_query().scalar()


def _download(app: Flask, user_id: str, url: str) -> tuple[int, str]:
    def run() -> tuple[int, str]:
        client = FlaskClient(app, app.response_class, use_cookies=True)
        with client.session_transaction() as sess:
            sess["_user_id"] = user_id
            sess["_fresh"] = True
        response = client.get(url)
        return response.status_code, response.get_data(as_text=True)

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=60)


def test_every_export_view_is_covered(app):
    endpoints = {view.endpoint for view in _export_views(app)}
    # A new export view joins this test by itself; this list only guards against none.
    assert {"loyaltycard", "loyaltytransaction", "customer", "email_log"} <= endpoints


@pytest.mark.parametrize("role", ROLES)
def test_each_export_streams_every_row(app, request, world: World, role):
    user = request.getfixturevalue(role)
    checked = []
    for view in _export_views(app):
        allowed = getattr(view, "allowed_roles", frozenset(StaffRole))
        if user.role not in allowed:
            continue
        expected = _expected_rows(app, view, user)
        assert expected > 0, f"{view.endpoint}: no rows for {role}, the test proves nothing"
        status, body = _download(app, user.get_id(), f"{view.url}/export/csv/")
        assert status == 200, (view.endpoint, status)
        rows = list(csv.reader(io.StringIO(body)))
        assert len(rows) - 1 == expected, (view.endpoint, role, len(rows) - 1, expected)
        assert all(len(row) == len(rows[0]) for row in rows), view.endpoint
        checked.append(view.endpoint)
    assert "loyaltycard" in checked

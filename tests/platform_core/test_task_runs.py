"""Periodic jobs leave a run row staff can read; a failed run shows its error."""

from __future__ import annotations

import pytest

from platform_core.task_runs.models import TaskRun, TaskRunStatus
from platform_core.task_runs.recorder import recorded_run


def test_successful_run_records_its_figures(session):
    with recorded_run("expire_points_task") as run:
        run.set(cards=3, points=120, chunks=1)
    row = session.query(TaskRun).one()
    assert row.status == TaskRunStatus.SUCCEEDED
    assert row.summary == "cards: 3, points: 120, chunks: 1"
    assert row.finished_at is not None
    assert row.error is None


def test_failed_run_keeps_the_error_and_rolls_back_the_work(session, create_merchant):
    def failing_job() -> None:
        with recorded_run("expiry_warnings_task"):
            create_merchant(slug="half-done")
            raise RuntimeError("SMTP exploded")

    with pytest.raises(RuntimeError):
        failing_job()
    row = session.query(TaskRun).one()
    assert row.status == TaskRunStatus.FAILED
    assert "RuntimeError: SMTP exploded" in row.error
    # The job's own writes were rolled back; only the run row survived.
    from platform_core.tenancy.models import Merchant

    assert session.query(Merchant).filter_by(slug="half-done").count() == 0


def test_expiry_task_records_a_run(session):
    from loyalty.tasks import expire_points_task

    expire_points_task.call_local()
    row = session.query(TaskRun).filter_by(task_name="expire_points_task").one()
    assert row.status == TaskRunStatus.SUCCEEDED
    assert "cards: 0" in row.summary


def test_task_runs_view_is_for_platform_admins_only(
    client, login_as, platform_admin, merchant_admin, session
):
    with recorded_run("expire_points_task") as run:
        run.set(cards=0)
    login_as(merchant_admin)
    assert client.get("/admin/taskrun/").status_code == 403
    login_as(platform_admin)
    page = client.get("/admin/taskrun/")
    assert page.status_code == 200
    assert "expire_points_task" in page.text
    # Read-only: no create or edit routes.
    assert client.get("/admin/taskrun/new/").status_code in (302, 403)

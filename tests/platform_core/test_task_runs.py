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


# --- heartbeat, interrupted runs, sources ---------------------------------------------------
def _run_row(session, **kwargs):
    from datetime import timedelta

    from platform_core.models_base import utcnow

    now = utcnow()
    beat_age = kwargs.pop("beat_age", timedelta(0))
    row = TaskRun(
        task_name=kwargs.pop("task_name", "expire_points_task"),
        status=kwargs.pop("status", TaskRunStatus.RUNNING),
        started_at=now - beat_age,
        heartbeat_at=now - beat_age,
        **kwargs,
    )
    session.add(row)
    session.flush()
    return row


def _dead_pid() -> int:
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_runs_record_their_source_owner_and_heartbeat(session):
    from platform_core.task_runs.models import TaskRunSource
    from platform_core.task_runs.recorder import process_owner

    with recorded_run("expire_points_task", source="cli") as run:
        first = session.get(TaskRun, run.run_id).heartbeat_at
        run.beat()
        session.commit()
        second = session.get(TaskRun, run.run_id).heartbeat_at
    row = session.get(TaskRun, run.run_id)
    assert row.source is TaskRunSource.CLI
    assert row.owner == process_owner()
    assert second >= first
    assert row.status is TaskRunStatus.SUCCEEDED


def test_a_stale_running_run_shows_as_interrupted(session):
    from datetime import timedelta

    from platform_core.models_base import utcnow

    stale = _run_row(session, beat_age=timedelta(minutes=6), owner="elsewhere:1:x")
    fresh = _run_row(session, beat_age=timedelta(minutes=1), owner="elsewhere:2:y")
    done = _run_row(session, beat_age=timedelta(hours=2), status=TaskRunStatus.SUCCEEDED)

    now = utcnow()
    assert stale.shown_status(now) is TaskRunStatus.INTERRUPTED
    assert fresh.shown_status(now) is TaskRunStatus.RUNNING
    assert done.shown_status(now) is TaskRunStatus.SUCCEEDED


def test_consumer_start_marks_only_runs_it_can_prove_dead(session):
    import os
    import socket
    from datetime import timedelta

    from platform_core.task_runs.recorder import mark_interrupted_runs, process_owner

    host = socket.gethostname()
    rows = {
        # Another machine, heartbeat too old: its consumer is gone.
        "stale_elsewhere": _run_row(session, beat_age=timedelta(minutes=10), owner="other:7:a"),
        # Another machine, fresh heartbeat: a live consumer there, hands off.
        "fresh_elsewhere": _run_row(session, beat_age=timedelta(seconds=30), owner="other:8:b"),
        # This host, the process no longer exists: dead at once, heartbeat or not.
        "dead_here": _run_row(session, owner=f"{host}:{_dead_pid()}:c"),
        # This host, a live process (our parent): a sibling consumer still running.
        "alive_here": _run_row(session, owner=f"{host}:{os.getppid()}:d"),
        # Our own pid but another token: an earlier process (a restarted container).
        "earlier_me": _run_row(session, owner=f"{host}:{os.getpid()}:old"),
        # This very process: running right now.
        "me": _run_row(session, owner=process_owner()),
    }

    marked = mark_interrupted_runs()

    for row in rows.values():
        session.refresh(row)
    status = {name: row.status for name, row in rows.items()}
    assert status == {
        "stale_elsewhere": TaskRunStatus.INTERRUPTED,
        "fresh_elsewhere": TaskRunStatus.RUNNING,
        "dead_here": TaskRunStatus.INTERRUPTED,
        "alive_here": TaskRunStatus.RUNNING,
        "earlier_me": TaskRunStatus.INTERRUPTED,
        "me": TaskRunStatus.RUNNING,
    }
    assert sorted(marked) == sorted(
        rows[n].id for n in ("stale_elsewhere", "dead_here", "earlier_me")
    )
    assert rows["dead_here"].finished_at is not None
    assert "interrupted" in rows["dead_here"].error


def test_cli_runs_are_recorded_with_their_source(runner, session):
    from platform_core.task_runs.models import TaskRunSource

    result = runner.invoke(args=["loyalty", "expire-points"])

    assert result.exit_code == 0, result.output
    row = session.query(TaskRun).filter_by(task_name="expire_points_task").one()
    assert row.source is TaskRunSource.CLI
    assert row.status is TaskRunStatus.SUCCEEDED
    assert "cards: 0" in row.summary


def test_chunked_job_beats_once_per_chunk(session, monkeypatch):
    from loyalty import tasks as loyalty_tasks
    from platform_core.task_runs import recorder

    beats = []
    original = recorder.RunFigures.beat

    def counting_beat(self):
        beats.append(self.run_id)
        original(self)

    # Counting the calls, not faking them: the real beat still writes the row.
    monkeypatch.setattr(recorder.RunFigures, "beat", counting_beat)

    def fake_expire(chunk_size=None, commit=None, **kwargs):
        for _ in range(3):
            commit()
        from loyalty.services.expiry import ExpiryReport

        return ExpiryReport()

    monkeypatch.setattr(loyalty_tasks, "expire_inactive_points", fake_expire)
    from platform_core.task_runs.models import TaskRunSource

    loyalty_tasks.recorded_expiry(
        loyalty_tasks.run_expiry, loyalty_tasks.EXPIRE_TASK, points=True, source=TaskRunSource.CLI
    )

    assert len(beats) == 3


def test_console_shows_source_and_interrupted_localized(client, login_as, platform_admin, session):
    from datetime import timedelta

    from platform_core.task_runs.models import TaskRunSource

    _run_row(
        session,
        task_name="retry_wallet_syncs_task",
        beat_age=timedelta(minutes=30),
        owner="gone:1:z",
        source=TaskRunSource.CLI,
    )
    login_as(platform_admin)

    page = client.get("/admin/taskrun/")
    assert 'data-status="interrupted">Interrupted<' in page.text
    assert "Command line" in page.text

    page = client.get("/admin/taskrun/", headers={"Accept-Language": "de"})
    assert 'data-status="interrupted">Unterbrochen<' in page.text
    assert "Kommandozeile" in page.text

"""A process killed in the middle of a recorded run leaves the run ``interrupted``.

Real processes on a SQLite file of their own: ``flask db upgrade``, a job process that
starts a recorded run and is killed with SIGKILL mid-run, then a real Huey consumer whose
startup hook records the dead run as interrupted.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from platform_core.config import PROJECT_ROOT

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent

_JOB = """
import time
from platform_core.app import create_app
from platform_core.task_runs.recorder import recorded_run

app = create_app()
with app.app_context(), recorded_run("expire_points_task", source="cli") as run:
    print("started", run.run_id, flush=True)
    time.sleep(120)
"""


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"TEST_DATABASE_URL"}}
    env.update(
        APP_ENV="development",
        SECRET_KEY="kill-test-secret-key-0123456789",
        INSTANCE_PATH=str(tmp / "instance"),
        DATABASE_URL=f"sqlite:///{tmp / 'runs.sqlite3'}",
        HUEY_URL=f"sqlite:///{tmp / 'huey.sqlite3'}",
        MAIL_BACKEND="memory",
        GOOGLE_WALLET_ISSUER_ID="",
    )
    return env


def _status(db: Path, run_id: int) -> str:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT status FROM task_runs WHERE id = ?", (run_id,)).fetchone()[0]


def test_killed_run_is_interrupted_when_a_consumer_starts(tmp_path: Path) -> None:
    env = _env(tmp_path)
    db = tmp_path / "runs.sqlite3"
    subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
        env=env,
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
    )
    job = subprocess.Popen(
        [sys.executable, "-c", _JOB],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = job.stdout.readline()
        assert line.startswith("started"), job.stderr.read()
        run_id = int(line.split()[1])
        assert _status(db, run_id) == "running"
    finally:
        job.send_signal(signal.SIGKILL)
        job.wait(timeout=10)
    assert job.returncode == -signal.SIGKILL
    # Killed: nothing could finish the row.
    assert _status(db, run_id) == "running"

    consumer = subprocess.Popen(
        [str(BIN / "huey_consumer"), "platform_core.worker.huey", "-w", "2", "-k", "thread", "-n"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _status(db, run_id) == "running":
            time.sleep(0.2)
        status = _status(db, run_id)
    finally:
        consumer.send_signal(signal.SIGINT)
        try:
            consumer.wait(timeout=15)
        except subprocess.TimeoutExpired:
            consumer.kill()
            consumer.wait()
    assert status == "interrupted", consumer.stderr.read().decode()[-2000:]
    with sqlite3.connect(db) as conn:
        source, finished, error = conn.execute(
            "SELECT source, finished_at, error FROM task_runs WHERE id = ?", (run_id,)
        ).fetchone()
    assert source == "cli"
    assert finished is not None
    assert "interrupted" in error

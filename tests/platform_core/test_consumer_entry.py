"""One way to start a consumer: every importable Huey entry knows every task, and a consumer
on an instance without tasks refuses to start instead of dropping the queue.

Real processes: ``huey_consumer`` runs as a subprocess against a SQLite Huey file holding a
send task enqueued by another process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from platform_core.config import PROJECT_ROOT
from platform_core.huey import NO_TASKS_MESSAGE

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
MISSING_LOG_ID = 424242


def _env(tmp_path: Path) -> dict[str, str]:
    drop = {"TEST_DATABASE_URL", "APP_ENV", "HUEY_IMMEDIATE"}
    return {
        **{k: v for k, v in os.environ.items() if k not in drop},
        "APP_ENV": "development",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}",
        "HUEY_URL": f"sqlite:///{tmp_path / 'huey.sqlite3'}",
        "MAIL_BACKEND": "file",
        "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
    }


def _run(args: list[str], env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, **kwargs
    )


def _pending(env: dict[str, str]) -> int:
    done = _run(
        [sys.executable, "-c", "from wsgi import huey; print(huey.pending_count())"],
        env,
        check=True,
    )
    return int(done.stdout.strip().splitlines()[-1])


def test_consumer_started_from_wsgi_runs_an_enqueued_send_task(tmp_path: Path) -> None:
    env = _env(tmp_path)
    _run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], env, check=True)
    # Enqueued by another process, as the web app does: a send for a row that does not exist,
    # so the task's run shows in the consumer's log without any SMTP.
    enqueue = (
        "from platform_core.worker import huey\n"
        "from messaging.tasks import send_email_task\n"
        f"send_email_task({MISSING_LOG_ID})\n"
    )
    _run([sys.executable, "-c", enqueue], env, check=True)
    assert _pending(env) == 1

    log_path = tmp_path / "consumer.log"
    with log_path.open("w") as log_file:
        consumer = subprocess.Popen(
            [str(BIN / "huey_consumer"), "wsgi.huey", "-w", "1", "-k", "thread", "--no-periodic"],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and consumer.poll() is None:
                if f"email log {MISSING_LOG_ID} vanished" in log_path.read_text():
                    break
                time.sleep(0.2)
        finally:
            consumer.terminate()
            consumer.wait(timeout=15)
    output = log_path.read_text()
    assert "not found in TaskRegistry" not in output
    assert "messaging.tasks.send_email_task" in output  # listed as registered, then executed
    assert f"email log {MISSING_LOG_ID} vanished" in output, output
    assert _pending(env) == 0


@pytest.mark.parametrize("entry", ["wsgi.huey", "platform_core.worker.huey"])
def test_every_consumer_entry_registers_every_task(tmp_path: Path, entry: str) -> None:
    module, _, name = entry.rpartition(".")
    listing = f"import {module}\nprint(sorted({module}.{name}._registry._registry))\n"
    done = _run([sys.executable, "-c", listing], _env(tmp_path), check=True)
    for task in ("send_email_task", "wallet", "expir"):
        assert task in done.stdout, done.stdout


def test_consumer_on_the_bare_instance_refuses_to_start(tmp_path: Path) -> None:
    done = _run(
        [str(BIN / "huey_consumer"), "platform_core.huey.huey", "-w", "1", "-k", "thread"],
        _env(tmp_path),
    )
    assert done.returncode != 0
    assert NO_TASKS_MESSAGE in done.stderr

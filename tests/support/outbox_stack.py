"""A real outbox stack in child processes, for the fault tests and ``bench/outbox_faults.py``.

A redis-server that can be stopped and started again on the same port, a ``huey_consumer``
that can be killed with SIGKILL and started again, an aiosmtpd server on loopback counting
what it receives (by Message-ID), a SQLite database (WAL) in a temporary directory, and
``flask messaging requeue-stale`` for the sweeper. The database and the queue are shared by
this process's children only; the test process never opens them through the app.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(0.05)


@dataclass
class RecordingHandler:
    """Keeps the Message-ID of every message received; ``delay`` slows each DATA reply."""

    delay: float = 0.0
    message_ids: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        import asyncio

        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.message_ids.append(str(message["Message-ID"]))
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 OK"

    def received(self) -> list[str]:
        with self.lock:
            return list(self.message_ids)


class OutboxStack:
    """Start with :meth:`start`, stop everything with :meth:`stop`."""

    def __init__(self, *, stale_after: int = 2, workers: int = 2, smtp_delay: float = 0.0):
        self.workdir = Path(tempfile.mkdtemp(prefix="outbox-stack-"))
        self.workers = workers
        self.redis_port = free_port()
        self.smtp = RecordingHandler(delay=smtp_delay)
        self.smtp_port = free_port()
        self._smtp = Controller(self.smtp, hostname="127.0.0.1", port=self.smtp_port)
        self.redis: subprocess.Popen[bytes] | None = None
        self.consumer: subprocess.Popen[bytes] | None = None
        self._consumer_logs = 0
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in {"TEST_DATABASE_URL"}},
            "APP_ENV": "development",
            "SECRET_KEY": "outbox-stack-secret-key-0123456789",
            "INSTANCE_PATH": str(self.workdir / "instance"),
            "DATABASE_URL": f"sqlite:///{self.workdir / 'outbox.sqlite3'}",
            "HUEY_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "MAIL_BACKEND": "smtp",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.smtp_port),
            "SMTP_SECURITY": "none",
            "SMTP_TIMEOUT": "5",
            "MAIL_RETRY_DELAY": "1",
            "MAIL_STALE_AFTER": str(stale_after),
            "PYTHONPATH": str(PROJECT_ROOT),
        }

    # --- lifecycle --------------------------------------------------------------------------
    def start(self) -> OutboxStack:
        self._smtp.start()
        self.start_redis()
        self.run("python", "-m", "tests.support.outbox_driver", "setup")
        with sqlite3.connect(self.workdir / "outbox.sqlite3") as conn:
            conn.execute("PRAGMA journal_mode=WAL").fetchall()
        self.start_consumer()
        return self

    def stop(self) -> None:
        self.kill_consumer(signal.SIGTERM)
        self.stop_redis()
        self._smtp.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def start_redis(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.redis = subprocess.Popen(
            [binary, "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.redis_port, self.redis, "redis-server")

    def stop_redis(self) -> None:
        if self.redis is not None:
            self.redis.terminate()
            self.redis.wait(timeout=10)
            self.redis = None

    def start_consumer(self) -> None:
        self._consumer_logs += 1
        log = (self.workdir / f"consumer-{self._consumer_logs}.log").open("wb")
        self.consumer = subprocess.Popen(
            [str(BIN / "huey_consumer"), "platform_core.worker.huey"]
            + ["-w", str(self.workers), "-k", "thread", "-d", "0.01", "-m", "0.05"],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def kill_consumer(self, sig: int = signal.SIGKILL) -> None:
        if self.consumer is not None and self.consumer.poll() is None:
            self.consumer.send_signal(sig)
            try:
                self.consumer.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.consumer.kill()
                self.consumer.wait(timeout=5)
        self.consumer = None

    # --- commands ---------------------------------------------------------------------------
    def run(self, program: str, *args: str) -> str:
        path = sys.executable if program == "python" else str(BIN / program)
        done = subprocess.run(
            [path, *args], cwd=PROJECT_ROOT, env=self.env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"{program} {' '.join(args)} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def enroll(self, start: int, count: int) -> None:
        self.run("python", "-m", "tests.support.outbox_driver", "enroll", str(start), str(count))

    def sweep(self) -> str:
        return self.run("flask", "--app", "wsgi", "messaging", "requeue-stale")

    def rows(self) -> list[dict[str, Any]]:
        out = self.run("python", "-m", "tests.support.outbox_driver", "rows")
        return [json.loads(line) for line in out.splitlines() if line.startswith("{")]

    def wait_until_sent(
        self, expected: int, *, timeout: float, sweep_every: float | None = None
    ) -> list[dict[str, Any]]:
        """Poll the log until ``expected`` rows are sent (sweeping now and then, if asked)."""
        deadline = time.monotonic() + timeout
        next_sweep = time.monotonic() + (sweep_every or 0)
        rows: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            rows = self.rows()
            if sum(r["status"] == "sent" for r in rows) >= expected:
                return rows
            if sweep_every is not None and time.monotonic() >= next_sweep:
                self.sweep()
                next_sweep = time.monotonic() + sweep_every
            time.sleep(0.3)
        return rows

    def consumer_log(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-3000:] for p in sorted(self.workdir.glob("consumer-*"))
        )


@dataclass
class Figures:
    """What a fault scenario ended with."""

    rows: int
    sent: int
    #: Rows never received by the SMTP server (and not sent).
    lost: int
    #: Extra copies received, and how many of them kept the row's Message-ID.
    duplicates: int
    duplicates_same_id: int
    #: Message-IDs received that no row carries (a resend with a new id).
    foreign_ids: int
    recovery_seconds: float

    @classmethod
    def of(
        cls, rows: list[dict[str, Any]], received: list[str], recovery_seconds: float
    ) -> Figures:
        counts = Counter(received)
        ids = {r["message_id"] for r in rows}
        delivered = {r["message_id"] for r in rows if r["message_id"] in counts}
        return cls(
            rows=len(rows),
            sent=sum(r["status"] == "sent" for r in rows),
            lost=len(rows) - len(delivered),
            duplicates=sum(n - 1 for n in counts.values()),
            duplicates_same_id=sum(n - 1 for mid, n in counts.items() if mid in ids),
            foreign_ids=sum(1 for mid in counts if mid not in ids),
            recovery_seconds=recovery_seconds,
        )


def redis_down_scenario(stack: OutboxStack, *, sweep_every: float | None) -> Figures:
    """Redis stopped during an enrollment, started again: both emails must arrive once.

    With ``sweep_every`` the CLI sweeps that often; without, the consumer's periodic sweeper
    (every minute) has to find the rows.
    """
    stack.stop_redis()
    stack.enroll(0, 1)  # commits; both enqueues fail
    stack.start_redis()
    restarted = time.monotonic()
    rows = stack.wait_until_sent(2, timeout=130, sweep_every=sweep_every)
    recovery = time.monotonic() - restarted
    time.sleep(0.5)  # a late duplicate would show up now
    return Figures.of(stack.rows(), stack.smtp.received(), recovery if len(rows) else -1)


def consumer_killed_scenario(
    stack: OutboxStack, *, enrollments: int = 100, kill_after: int = 40
) -> Figures:
    """SIGKILL on the consumer while it sends 2 x ``enrollments`` emails, then a restart."""
    enrolling = subprocess.Popen(
        [sys.executable, "-m", "tests.support.outbox_driver", "enroll", "1000", str(enrollments)],
        cwd=PROJECT_ROOT,
        env=stack.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while len(stack.smtp.received()) < kill_after and time.monotonic() < deadline:
        time.sleep(0.005)
    stack.kill_consumer(signal.SIGKILL)
    if enrolling.wait(timeout=120) != 0:
        raise RuntimeError("the enrollments failed")
    stack.start_consumer()
    restarted = time.monotonic()
    expected = 2 * enrollments
    stack.wait_until_sent(expected, timeout=120, sweep_every=float(stack.env["MAIL_STALE_AFTER"]))
    recovery = time.monotonic() - restarted
    time.sleep(0.5)
    return Figures.of(stack.rows(), stack.smtp.received(), recovery)

"""A small pool of warm sandbox worker processes, shared by the threads of one process.

Why processes: a render that loops in Python holds the GIL, so inside the web process it
would stall every other request of that worker (``/healthz`` included), and no thread can
stop it. In a separate process the render has real CPU and memory limits
(``RLIMIT_CPU``/``RLIMIT_AS``) and can be killed; the web thread only waits on a pipe, which
releases the GIL. Workers are started once and reused (a render costs one round trip on a
pipe, well under a millisecond), so previews and sends do not pay for a fresh interpreter.

Workers are plain subprocesses (``python -m messaging.sandbox_worker``), not
``multiprocessing`` children: starting one never forks the threaded web or consumer process.
The pool notices when its process was forked (gunicorn, Huey process workers) and starts its
own workers there.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

_HEADER = struct.Struct(">I")
_PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: How long a worker may take to start and say it is ready.
_START_TIMEOUT = 15.0
#: Time a worker gets beyond the render budget to answer before it is killed.
_GRACE = 1.0
#: A worker is replaced after this many renders, so whatever it accumulates stays bounded.
_MAX_RENDERS = 5_000


class SandboxUnavailable(RuntimeError):
    """No sandbox worker could be started or reached (not the template's fault)."""


class _Worker:
    def __init__(self, memory_mb: int) -> None:
        self.renders = 0
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "messaging.sandbox_worker", str(memory_mb)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            # ``-m`` finds the package from the working directory.
            cwd=_PROJECT_ROOT,
        )
        ready = self._receive(time.monotonic() + _START_TIMEOUT)
        if not (ready and ready.get("ready")):
            self.stop()
            raise SandboxUnavailable("the sandbox worker did not start")

    def ask(self, request: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """The worker's answer, or ``None`` when it died or did not answer in ``timeout``."""
        self.renders += 1
        body = json.dumps(request, ensure_ascii=False).encode("utf-8", "surrogatepass")
        stdin: IO[bytes] = self.process.stdin  # type: ignore[assignment]
        try:
            stdin.write(_HEADER.pack(len(body)) + body)
            stdin.flush()
        except OSError:
            return None
        return self._receive(time.monotonic() + timeout)

    def _receive(self, deadline: float) -> dict[str, Any] | None:
        header = self._read(_HEADER.size, deadline)
        if header is None:
            return None
        body = self._read(_HEADER.unpack(header)[0], deadline)
        return json.loads(body) if body is not None else None

    def _read(self, size: int, deadline: float) -> bytes | None:
        fd = self.process.stdout.fileno()  # type: ignore[union-attr]
        data = b""
        while len(data) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                return None
            chunk = os.read(fd, size - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


class SandboxPool:
    """Up to ``size`` workers of this process; a render waits for a free one."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._idle: list[_Worker] = []
        self._started = 0
        self._pid = os.getpid()

    def _check_fork(self) -> None:
        # Workers belong to the process that started them; after a fork they are not ours.
        if os.getpid() != self._pid:
            self._lock = threading.Condition()
            self._idle = []
            self._started = 0
            self._pid = os.getpid()

    def _acquire(self, size: int, memory_mb: int, wait: float) -> _Worker:
        deadline = time.monotonic() + wait
        with self._lock:
            self._check_fork()
            while not self._idle and self._started >= size:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise SandboxUnavailable("every sandbox worker is busy")
                self._lock.wait(remaining)
            if self._idle:
                return self._idle.pop()
            self._started += 1
        try:
            return _Worker(memory_mb)
        except BaseException:
            with self._lock:
                self._started -= 1
                self._lock.notify()
            raise

    def _release(self, worker: _Worker, *, healthy: bool) -> None:
        if not healthy or worker.renders >= _MAX_RENDERS:
            worker.stop()
            with self._lock:
                if self._pid == os.getpid():
                    self._started -= 1
                self._lock.notify()
            return
        with self._lock:
            if self._pid == os.getpid():
                self._idle.append(worker)
                self._lock.notify()
            else:
                worker.stop()

    def render(
        self,
        parts: list[tuple[str, str, bool]],
        context: dict[str, str],
        *,
        budget: float,
        max_output: int,
        size: int = 2,
        memory_mb: int = 512,
    ) -> dict[str, Any]:
        """Render ``parts`` (field, source, html) in a worker; the worker's answer as a dict.

        A worker that does not answer within ``budget`` and a grace second is killed, and the
        answer is ``{"ok": False, "code": "stopped"}``.

        :raises SandboxUnavailable: no worker could be started, or all stayed busy.
        """
        request = {
            "parts": parts,
            "context": context,
            "budget": budget,
            "max_output": max_output,
        }
        # Waiting for a busy worker is bounded too: at worst every one is finishing a budget.
        worker = self._acquire(size, memory_mb, wait=budget + _GRACE + _START_TIMEOUT)
        answer = None
        try:
            answer = worker.ask(request, budget + _GRACE)
        finally:
            self._release(worker, healthy=answer is not None)
        if answer is None:
            field = parts[0][0] if parts else ""
            return {"ok": False, "field": field, "code": "stopped", "line": None, "reason": ""}
        return answer

    def shutdown(self) -> None:
        """Stop the idle workers (busy ones stop when they are given back)."""
        with self._lock:
            self._check_fork()
            idle, self._idle = self._idle, []
            self._started -= len(idle)
        for worker in idle:
            worker.stop()


pool = SandboxPool()
atexit.register(pool.shutdown)

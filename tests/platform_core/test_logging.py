"""One logging configuration: request ids on web lines, task name and id on consumer lines.

The request id comes from ``X-Request-ID`` only behind a trusted proxy; otherwise it is made
here. The response echoes it and the error page shows it, so staff can quote it.
"""

from __future__ import annotations

import html
import io
import json
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from platform_core.app import create_app
from platform_core.config import PROJECT_ROOT, TestConfig
from platform_core.logging_setup import configure_logging

BIN = Path(sys.executable).parent
GENERATED = re.compile(r"^[0-9a-f]{32}$")
log = logging.getLogger("tests.request_log")


def _boom() -> str:
    log.info("about to fail")
    raise RuntimeError("the database fell over")


def _hello() -> str:
    log.info("saying hello")
    return "hello"


@pytest.fixture
def make_app() -> Iterator[Callable[..., Flask]]:
    """An app of its own (so it can take test routes), errors answered as in production."""

    def make(**overrides: Any) -> Flask:
        app = create_app(
            config=TestConfig(), overrides={"PROPAGATE_EXCEPTIONS": False, **overrides}
        )
        app.add_url_rule("/test-boom", view_func=_boom)
        app.add_url_rule("/test-hello", view_func=_hello)
        return app

    yield make
    configure_logging()  # the factory's configuration went to the apps made here


class Captured:
    """What the one handler writes, once :meth:`start` pointed it at a buffer."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()

    def start(self, log_format: str) -> None:
        configure_logging(log_format, stream=self.buffer)

    def lines(self) -> list[str]:
        return self.buffer.getvalue().splitlines()

    def text(self) -> str:
        return self.buffer.getvalue()

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines()]  # each line one JSON object


@pytest.fixture
def captured() -> Iterator[Captured]:
    yield Captured()
    configure_logging()


def test_without_a_trusted_proxy_the_header_is_ignored_and_an_id_is_made(
    make_app: Callable[..., Flask], captured: Captured
) -> None:
    app = make_app(TRUSTED_PROXY_COUNT=0)
    captured.start("text")
    client = app.test_client()

    plain = client.get("/test-hello")
    forged = client.get("/test-hello", headers={"X-Request-ID": "chosen-by-the-client"})

    ids = [plain.headers["X-Request-ID"], forged.headers["X-Request-ID"]]
    assert all(GENERATED.match(i) for i in ids), ids
    assert ids[0] != ids[1]
    text = captured.text()
    assert "chosen-by-the-client" not in text
    for request_id in ids:
        assert f"[request={request_id}] saying hello" in text


def test_behind_a_trusted_proxy_its_request_id_is_used(
    make_app: Callable[..., Flask], captured: Captured
) -> None:
    app = make_app(TRUSTED_PROXY_COUNT=1)
    captured.start("text")
    client = app.test_client()

    given = client.get("/test-hello", headers={"X-Request-ID": "edge-7f3a.42"})
    missing = client.get("/test-hello")
    # A value no proxy would send (spaces, quotes, too long) is not copied into the logs.
    mangled = client.get("/test-hello", headers={"X-Request-ID": 'x" level="forged'})
    too_long = client.get("/test-hello", headers={"X-Request-ID": "x" * 129})

    assert given.headers["X-Request-ID"] == "edge-7f3a.42"
    for response in (missing, mangled, too_long):
        assert GENERATED.match(response.headers["X-Request-ID"])
    text = captured.text()
    assert "[request=edge-7f3a.42] saying hello" in text
    assert "forged" not in text


def test_json_lines_parse_and_carry_the_request_id(
    make_app: Callable[..., Flask], captured: Captured
) -> None:
    app = make_app()
    captured.start("json")
    response = app.test_client().get("/test-hello")

    records = captured.records()
    (hello,) = [r for r in records if r["message"] == "saying hello"]
    assert hello["request_id"] == response.headers["X-Request-ID"]
    assert hello["level"] == "INFO"
    assert hello["logger"] == "tests.request_log"
    assert hello["time"]
    assert hello["task_name"] is None


def test_the_error_page_shows_the_request_id_that_the_logs_carry(
    make_app: Callable[..., Flask], captured: Captured
) -> None:
    app = make_app()
    captured.start("json")
    response = app.test_client().get("/test-boom?lang=fr")

    assert response.status_code == 500
    request_id = response.headers["X-Request-ID"]
    page = response.get_data(as_text=True)
    assert request_id in page
    assert "Une erreur s'est produite" in html.unescape(page)
    assert "the database fell over" not in page, "no internals on the page"
    records = captured.records()
    (failure,) = [r for r in records if r["level"] == "ERROR"]
    assert failure["request_id"] == request_id
    assert "the database fell over" in failure["exc_info"]
    assert {r["request_id"] for r in records if r["logger"] == "tests.request_log"} == {request_id}


def test_immediate_task_lines_carry_the_task_name_and_id(
    captured: Captured, app_ctx: Flask
) -> None:
    from messaging.tasks import send_email_task

    captured.start("json")
    result = send_email_task(987_654_321)  # no such row: the task logs a warning

    records = captured.records()
    (warning,) = [r for r in records if "vanished" in r["message"]]
    assert warning["task_name"] == "send_email_task"
    assert warning["task_id"] == result.id
    # Outside the task, lines carry no task.
    log.info("after the task")
    (after,) = [r for r in captured.records() if r["message"] == "after the task"]
    assert after["task_name"] is None


def test_a_real_consumer_writes_json_lines_naming_the_task(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"},
        "APP_ENV": "development",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'consumer.sqlite3'}",
        "HUEY_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}",
        "LOG_FORMAT": "json",
        "MAIL_BACKEND": "memory",
    }
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    subprocess.run(
        [*flask, "db", "upgrade"], env=env, cwd=PROJECT_ROOT, check=True, capture_output=True
    )
    # Enqueued as the web app does it: its process calls the task.
    enqueue = (
        "import wsgi; from messaging.tasks import send_email_task; "
        "print(send_email_task(987654321).id)"
    )
    task_id = subprocess.run(
        [sys.executable, "-c", enqueue],
        env=env,
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()[-1]

    stderr = tmp_path / "consumer.log"
    with stderr.open("w") as out:
        consumer = subprocess.Popen(
            [str(BIN / "huey_consumer"), "platform_core.worker.huey", "-w", "1", "-n"],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and "vanished" not in stderr.read_text():
                assert consumer.poll() is None, stderr.read_text()
                time.sleep(0.1)
        finally:
            consumer.terminate()
            consumer.wait(timeout=15)

    about_the_task = [line for line in stderr.read_text().splitlines() if task_id in line]
    assert about_the_task, stderr.read_text()
    # Every line about the task is one JSON object: huey's own handler was replaced by ours.
    records = [json.loads(line) for line in about_the_task]
    (warning,) = [r for r in records if "vanished" in r["message"]]
    assert warning["task_name"] == "send_email_task"
    assert warning["task_id"] == task_id
    assert warning["logger"] == "messaging.delivery"

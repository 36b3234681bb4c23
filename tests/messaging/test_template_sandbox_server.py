"""Hostile templates against the real production shape: gunicorn with one gthread worker (so
a render holding the interpreter would stall every other request of it) and a Huey consumer.

While each payload goes to the editor's preview, another thread asks ``/healthz`` every 20 ms:
every payload must be refused within 3 s, and ``/healthz`` must answer within 200 ms
throughout. Then a hostile template slipped into the database fails its send in the consumer
once, and the consumer still delivers the next email.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from platform_core.config import PROJECT_ROOT
from tests.messaging.conftest import SmtpServer, free_port

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
ADMIN = "ops@platform.lu"
PASSWORD = "a long enough password"

#: name -> (body, the line the refusal names). Unpatched, the power tower alone held the
#: interpreter for 28 s.
PAYLOADS = {
    "power tower": ("<p>Hi</p>\n{{ ((((9**64)**64)**64)**64) > 1 }}", 2),
    "string doubling": (
        "<p>Hi</p>\n{% set s = customer_first_name %}\n"
        + "{% set s = s ~ s %}" * 24
        + "\n{{ s|length }}",
        3,
    ),
    "center": ("{{ customer_first_name|center(1000000000) }}", 1),
    "format with a width": ("<p>\n{{ '%1000000000s'|format(customer_first_name) }}</p>", 2),
    "indent": ("{{ ('a' ~ '\\n' * 90000)|indent(100000) }}", 1),
    "replace": ("{{ ('a' * 90000)|replace('a', 'a' * 90000) }}", 1),
    "batch": ("{{ customer_first_name|batch(1000000000, 'x')|list|length }}", 1),
    "a method printed": ("<p>Hi</p>\n<p>{{ customer_first_name.upper }}</p>", 2),
    "loop until the budget": (
        "{% set s = 'x' * 100000 %}\n{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}",
        2,
    ),
}


def _wait_for_http(url: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("sandbox-stack")
    smtp = SmtpServer().start()
    env = {
        **{k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"},
        "APP_ENV": "production",
        "SECRET_KEY": "sandbox-stack-secret-key-0123456789",
        "INSTANCE_PATH": str(tmp / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp / 'stack.sqlite3'}",
        "HUEY_URL": f"sqlite:///{tmp / 'huey.sqlite3'}",
        "RATELIMIT_STORAGE_URI": "memory://",
        "MAIL_BACKEND": "smtp",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "SMTP_SECURITY": "none",
        "MAIL_RETRY_DELAY": "1",
        "SESSION_COOKIE_SECURE": "false",
    }
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    for command in (["db", "upgrade"], ["seed", "demo"], ["seed", "email-templates"]):
        subprocess.run(
            [*flask, *command], env=env, cwd=PROJECT_ROOT, check=True, capture_output=True
        )
    subprocess.run(
        [*flask, "users", "create-admin", ADMIN, "--password-stdin"],
        input=PASSWORD + "\n",
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
    )
    port = free_port()
    web = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--worker-class",
            "gthread",
            "--workers",
            "1",
            "--threads",
            "4",
            "--bind",
            f"127.0.0.1:{port}",
            "wsgi:app",
        ],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    consumer = subprocess.Popen(
        [
            str(BIN / "huey_consumer"),
            "platform_core.worker.huey",
            "--workers",
            "2",
            "--worker-type",
            "thread",
            "--no-periodic",
            "--delay",
            "0.1",
        ],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for_http(f"{base}/healthz", web)
        yield {"base": base, "db": tmp / "stack.sqlite3", "smtp": smtp}
    finally:
        for proc in (web, consumer):
            proc.terminate()
        for proc in (web, consumer):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        smtp.stop()


def _csrf_token(page: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def _logged_in(base: str) -> requests.Session:
    browser = requests.Session()
    token = _csrf_token(browser.get(f"{base}/login", timeout=5).text)
    response = browser.post(
        f"{base}/login",
        data={"email": ADMIN, "password": PASSWORD, "csrf_token": token},
        timeout=5,
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text
    return browser


class HealthProbe(threading.Thread):
    """Asks /healthz every 20 ms until stopped; keeps each answer's latency."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        with requests.Session() as probe:
            while not self.stopping.is_set():
                started = time.monotonic()
                try:
                    ok = probe.get(self.url, timeout=5).status_code == 200
                except requests.RequestException as exc:
                    ok = False
                    self.failures.append(str(exc))
                self.latencies.append(time.monotonic() - started)
                if not ok:
                    self.failures.append("not 200")
                self.stopping.wait(0.02)


def test_hostile_previews_are_refused_quickly_while_healthz_stays_fast(
    stack: dict[str, Any],
) -> None:
    base = stack["base"]
    browser = _logged_in(base)
    overview = browser.get(f"{base}/admin/email-templates/", timeout=5).text
    edit = re.search(r"/admin/email-templates/(\d+)/loyalty_enrollment/en/", overview)
    assert edit, "the overview links to the editor"
    edit_url = f"{base}{edit.group(0)}"
    token = _csrf_token(browser.get(edit_url, timeout=5).text)

    def preview(body: str) -> tuple[dict[str, Any], float]:
        started = time.monotonic()
        answer = browser.post(
            f"{edit_url}preview",
            data={"csrf_token": token, "subject": "Hi", "body_html": body, "body_text": ""},
            timeout=30,
        )
        return answer.json(), time.monotonic() - started

    good, _ = preview("<p>Hi {{ customer_first_name }}</p>")
    assert good["ok"] is True, good

    probe = HealthProbe(f"{base}/healthz")
    probe.start()
    results = {}
    try:
        time.sleep(0.2)
        for name, (body, line) in PAYLOADS.items():
            results[name] = (*preview(body), line)
        time.sleep(0.2)
    finally:
        probe.stopping.set()
        probe.join(timeout=10)

    for name, (answer, elapsed, line) in results.items():
        assert answer["ok"] is False, f"{name} was rendered"
        assert [p["line"] for p in answer["problems"]] == [line], (name, answer)
        assert elapsed < 3.0, f"{name} took {elapsed:.2f} s to be refused"
    assert probe.failures == []
    assert len(probe.latencies) > 50
    worst = max(probe.latencies)
    assert worst < 0.2, f"/healthz took {worst * 1000:.0f} ms while templates were refused"

    # The worker is still serving previews afterwards.
    again, elapsed = preview("<p>Hi {{ customer_first_name }}</p>")
    assert again["ok"] is True
    assert elapsed < 1.0
    print(
        "\nrefused in (s): "
        + ", ".join(f"{name} {elapsed:.3f}" for name, (_, elapsed, _) in results.items())
        + f"\n/healthz: {len(probe.latencies)} answers, worst {worst * 1000:.1f} ms, "
        f"median {sorted(probe.latencies)[len(probe.latencies) // 2] * 1000:.1f} ms"
    )


def _rows(db: Path, code: str) -> list[tuple[str, int, str | None]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT status, attempts, last_error FROM email_logs WHERE code = ? ORDER BY id",
            (code,),
        ).fetchall()


def test_consumer_fails_a_slipped_in_template_once_and_keeps_sending(
    stack: dict[str, Any],
) -> None:
    # Written straight to the database, as a template saved before these limits existed.
    with sqlite3.connect(stack["db"]) as conn:
        conn.execute(
            "UPDATE email_templates SET body_html = ? WHERE code = 'loyalty_enrollment'",
            ("<p>Hi</p>\n{{ ((((9**64)**64)**64)**64) > 1 }}",),
        )
    response = requests.post(
        f"{stack['base']}/api/v1/stores/hoffmann-gare/enroll",
        json={
            "email": "lea.wagner@example.lu",
            "first_name": "Léa",
            "last_name": "Wagner",
            "locale": "lb",
            "marketing_consent": False,
            "accept_terms": True,
        },
        timeout=10,
    )
    assert response.status_code == 201, response.text

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        enrollment = _rows(stack["db"], "loyalty_enrollment")
        if enrollment and enrollment[0][0] != "queued" and stack["smtp"].messages:
            break
        time.sleep(0.2)
    time.sleep(3)  # three retry delays: a retry would have counted another attempt by now

    assert _rows(stack["db"], "loyalty_enrollment") == [
        ("failed", 1, "body_html: Line 2: The result would be a number with more than 300 digits.")
    ]
    # The welcome-bonus email of the same enrollment still went out, through the same consumer.
    # The demo seed's expiry emails go out too; only Léa's count here.
    (delivered,) = [m for m in stack["smtp"].messages if m["To"] == "lea.wagner@example.lu"]
    assert _rows(stack["db"], "loyalty_welcome_bonus")[0][:2] == ("sent", 1)

"""The production shape, for real: gunicorn with two workers, Redis for rate limits and the
Huey queue, a separate Huey consumer process, production config.

What it proves: rate limits are shared across workers (a client cannot get fresh attempts
by landing on another worker), and an email enqueued by the web app is delivered by the
consumer through Redis.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
import requests

from platform_core.config import PROJECT_ROOT
from tests.support.redis_server import redis_server

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp("stack")
    with redis_server() as redis_url:
        env = {
            **{k: v for k, v in os.environ.items() if k not in {"TEST_DATABASE_URL"}},
            "APP_ENV": "production",
            "SECRET_KEY": "stack-test-secret-key-0123456789",
            "INSTANCE_PATH": str(tmp / "instance"),
            "DATABASE_URL": f"sqlite:///{tmp / 'stack.sqlite3'}",
            "HUEY_URL": f"{redis_url}/0",
            "RATELIMIT_STORAGE_URI": f"{redis_url}/1",
            "RATELIMIT_LOGIN": "3/minute",
            "MAIL_BACKEND": "file",
            "MAIL_OUTBOX_DIR": str(tmp / "outbox"),
            "SESSION_COOKIE_SECURE": "false",
        }
        flask = [str(BIN / "flask"), "--app", "wsgi"]
        subprocess.run(
            [*flask, "db", "upgrade"], env=env, cwd=PROJECT_ROOT, check=True, capture_output=True
        )
        for seed in ("demo", "email-templates"):
            subprocess.run(
                [*flask, "seed", seed], env=env, cwd=PROJECT_ROOT, check=True, capture_output=True
            )
        subprocess.run(
            [*flask, "users", "create-admin", "ops@platform.lu", "--password-stdin"],
            input="a long enough password\n",
            text=True,
            env=env,
            cwd=PROJECT_ROOT,
            check=True,
            capture_output=True,
        )
        port = _free_port()
        web = subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
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
            ],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_for_http(f"{base}/healthz", web)
            yield {"base": base, "env": env, "tmp": tmp}
        finally:
            for proc in (web, consumer):
                proc.terminate()
            for proc in (web, consumer):
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()


def _csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "the login form carries a CSRF token"
    return match.group(1)


def test_failed_logins_are_limited_across_gunicorn_workers(stack: dict) -> None:
    browser = requests.Session()
    token = _csrf_token(browser.get(f"{stack['base']}/login", timeout=5).text)
    statuses = []
    for _ in range(6):
        # Sync gunicorn workers close every connection, so attempts spread over both workers.
        response = browser.post(
            f"{stack['base']}/login",
            data={"email": "ops@platform.lu", "password": "wrong password", "csrf_token": token},
            timeout=5,
        )
        statuses.append(response.status_code)
    assert statuses == [401, 401, 401, 429, 429, 429], statuses
    assert "Retry-After" in response.headers

    # The right password from another client address bucket would work, but this client is
    # limited: even a correct password is refused until the window passes.
    response = browser.post(
        f"{stack['base']}/login",
        data={
            "email": "ops@platform.lu",
            "password": "a long enough password",
            "csrf_token": token,
        },
        timeout=5,
        allow_redirects=False,
    )
    assert response.status_code == 429


def test_enrollment_email_is_delivered_by_the_consumer_through_redis(stack: dict) -> None:
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
    outbox = stack["tmp"] / "outbox"
    deadline = time.monotonic() + 30
    messages: list[Path] = []
    parsed: list[Any] = []
    while time.monotonic() < deadline:
        messages = sorted(outbox.glob("*.eml")) if outbox.exists() else []
        # The demo seed expired some demo cards: their emails go out through the same
        # consumer; only Léa's count here.
        parsed = [
            m
            for m in (message_from_bytes(path.read_bytes(), policy=default) for path in messages)
            if m["To"] == "lea.wagner@example.lu"
        ]
        if len(parsed) >= 2:
            break
        time.sleep(0.2)
    # The welcome email and the welcome-bonus email, sent by the separate consumer process.
    assert len(parsed) == 2, messages
    assert all("Boulangerie Hoffmann" in m["From"] for m in parsed)

"""Webhooks on the production shape: gunicorn, Redis queue, a separate Huey consumer.

An enrollment and three earns through the merchant API; the receiver on loopback refuses the
first delivery with a 500. The consumer delivers after each commit, retries the refused one
on its back-off schedule (Huey's scheduler), and the card's later events wait for it: all four
arrive, signed (checked with ``standardwebhooks``), in order.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from platform_core.config import PROJECT_ROOT
from tests.support.redis_server import redis_server
from tests.support.webhook_receiver import webhook_receiver
from tests.test_production_stack import BIN, _free_port, _wait_for_http

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    tmp: Path = tmp_path_factory.mktemp("webhook-stack")
    with redis_server() as redis_url, webhook_receiver() as receiver:
        env = {
            **{k: v for k, v in os.environ.items() if k not in {"TEST_DATABASE_URL"}},
            "APP_ENV": "production",
            "SECRET_KEY": "stack-test-secret-key-0123456789",
            "INSTANCE_PATH": str(tmp / "instance"),
            "DATABASE_URL": f"sqlite:///{tmp / 'stack.sqlite3'}",
            "HUEY_URL": f"{redis_url}/0",
            "RATELIMIT_STORAGE_URI": f"{redis_url}/1",
            "MAIL_BACKEND": "file",
            "MAIL_OUTBOX_DIR": str(tmp / "outbox"),
            "WEBHOOK_ALLOW_PRIVATE": "true",
            "WEBHOOK_RETRY_BASE_SECONDS": "0.5",
        }
        flask = [str(BIN / "flask"), "--app", "wsgi"]

        def cli(*args: str) -> str:
            done = subprocess.run(
                [*flask, *args],
                env=env,
                cwd=PROJECT_ROOT,
                check=True,
                capture_output=True,
                text=True,
            )
            lines = done.stdout.strip().splitlines()
            return lines[-1] if lines else ""

        cli("db", "upgrade")
        cli("seed", "demo")
        key = cli(
            "merchants", "api-key", "create", "--merchant", "boulangerie-hoffmann", "--name", "Till"
        )
        receiver.secret = cli(
            "merchants",
            "webhook",
            "add",
            receiver.url,
            "--merchant",
            "boulangerie-hoffmann",
            "--events",
            "card.enrolled,points.earned",
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
                "-s",
                "1",
            ],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_for_http(f"{base}/healthz", web)
            yield {"base": base, "key": key, "receiver": receiver}
        finally:
            for proc in (web, consumer):
                proc.terminate()
            for proc in (web, consumer):
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()


def test_consumer_delivers_retries_and_keeps_the_order(stack: dict) -> None:
    receiver = stack["receiver"]
    answers = iter([500])
    receiver.behaviour = lambda body: (next(answers, 200), 0)
    headers = {"Authorization": f"Bearer {stack['key']}"}
    enrolled = requests.post(
        f"{stack['base']}/api/v1/merchant/enroll",
        json={
            "store": "hoffmann-gare",
            "email": "stack@example.lu",
            "first_name": "S",
            "last_name": "T",
            "accept_terms": True,
        },
        headers={**headers, "Idempotency-Key": "enroll-1"},
        timeout=10,
    )
    assert enrolled.status_code == 201, enrolled.text
    number = enrolled.json()["card"]["number"]
    for points in (1, 2, 3):
        earned = requests.post(
            f"{stack['base']}/api/v1/merchant/cards/{number}/earn",
            json={"store": "hoffmann-gare", "points": points},
            headers={**headers, "Idempotency-Key": f"earn-{points}"},
            timeout=10,
        )
        assert earned.status_code == 201, earned.text
    deadline = time.monotonic() + 30
    while len(receiver.delivered()) < 4 and time.monotonic() < deadline:
        time.sleep(0.1)
    got = receiver.delivered()
    assert [r.type for r in got] == [
        "card.enrolled",
        "points.earned",
        "points.earned",
        "points.earned",
    ]
    assert [r.data["transaction"]["points_delta"] for r in got[1:]] == [1, 2, 3]
    assert receiver.received[0].answered == 500
    assert receiver.received[0].message_id == got[0].message_id
    assert all(r.verified for r in receiver.received)

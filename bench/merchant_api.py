"""Benchmark of the merchant API's earn endpoint and of webhook delivery, production shape.

    .venv/bin/python bench/merchant_api.py [--workers 3] [--clients 20] [--duration 10]

What it does: a throwaway PostgreSQL and Redis (rate limits, Huey queue), ``flask db
upgrade``, a merchant with a points program, ``--cards`` cards and an API key made through
the services, and the app under gunicorn (gthread) with the per-key rate limit raised. Then,
in the same run:

1. 20 keep-alive clients against the bare ``/api/v1/ping`` (the floor), then against
   ``POST /api/v1/merchant/cards/<n>/earn`` (Bearer key, a fresh Idempotency-Key each time,
   each client on its own card), no webhook endpoint -> req/s, p50, p99;
2. a webhook endpoint subscribed to ``points.earned`` on a loopback receiver (which checks
   every signature with ``standardwebhooks``) and one Huey consumer (4 threads): the same earn
   load again -> req/s, p50, p99 with the outbox writes, then the deliveries per second from
   the first to the last delivery received, and how many arrived out of order per card.

Everything is stopped and removed at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing import get_context
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from public_api import (  # noqa: E402
    BIN,
    ROOT,
    Result,
    gunicorn,
    postgres_durability,
    throwaway_postgres,
    throwaway_redis,
)

STORE_SLUG = "bench-store"


def seed(env: dict[str, str], cards: int) -> dict:
    """Merchant, store, program, cards and an API key through the services; returns the key,
    the card numbers and the merchant slug (printed as JSON by a subprocess)."""
    code = f"""
import json
from decimal import Decimal
from platform_core.app import create_app
from platform_core.db import commit
from platform_core.tenancy.services import create_merchant, create_store
from loyalty.models import ProgramKind
from loyalty.merchant_api.keys import create_api_key
from loyalty.services.enrollment import EnrollmentData, enroll_customer
from loyalty.services.programs import create_program, get_settings

app = create_app()
with app.app_context():
    merchant = create_merchant("Bench Bakery", "bench-bakery", "bench@bakery.example")
    store = create_store(merchant, "Bench Store", {STORE_SLUG!r})
    create_program(merchant, kind=ProgramKind.POINTS, name="Bench Club",
                   points_per_euro=Decimal("1.00"), welcome_bonus_points=0)
    get_settings(merchant.id)
    numbers = []
    for n in range({cards}):
        data = EnrollmentData(email=f"bench-{{n}}@example.lu", first_name="Bench",
                              last_name=str(n), locale="fr", marketing_consent=False,
                              accept_terms=True)
        numbers.append(enroll_customer(store, data, source="console").card.card_number)
    key = create_api_key(merchant, "Bench till").key
    commit()
    print(json.dumps({{"key": key, "cards": numbers}}))
"""
    out = subprocess.run(
        [str(BIN / "python"), "-c", code], cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE
    )
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


def add_endpoint(env: dict[str, str], url: str) -> str:
    out = subprocess.run(
        [
            str(BIN / "flask"),
            "--app",
            "wsgi",
            "merchants",
            "webhook",
            "add",
            url,
            "--merchant",
            "bench-bakery",
            "--events",
            "points.earned",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.PIPE,
    )
    return out.stdout.decode().strip().splitlines()[-1]


# --- load --------------------------------------------------------------------------------
def _client_thread(args: tuple) -> None:
    port, mode, key, card, worker, stop_at, out, errors = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    n = 0
    while time.perf_counter() < stop_at:
        n += 1
        if mode == "ping":
            method, path, body = "GET", "/api/v1/ping", None
            headers = {"Connection": "keep-alive"}
            expect = 200
        else:
            method, path = "POST", f"/api/v1/merchant/cards/{card}/earn"
            body = json.dumps({"store": STORE_SLUG, "amount": "12.50"}).encode()
            headers = {
                "Content-Type": "application/json",
                "Authorization": f"Bearer {key}",
                "Idempotency-Key": f"{mode}-{os.getpid()}-{worker}-{n}",
                "Connection": "keep-alive",
            }
            expect = 201
        started = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            ok = response.status == expect
        except (OSError, http.client.HTTPException):
            ok = False
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        elapsed = time.perf_counter() - started
        (out.append(elapsed) if ok else errors.append(1))
    conn.close()


def _client_process(args: tuple) -> tuple[list[float], int, float]:
    port, mode, key, cards, first_worker, threads, start_at, duration = args
    while time.time() < start_at:
        time.sleep(0.001)
    cpu_started = time.process_time()
    stop_at = time.perf_counter() + duration
    latencies: list[float] = []
    errors: list[int] = []
    pool = [
        threading.Thread(
            target=_client_thread,
            args=(
                (
                    port,
                    mode,
                    key,
                    cards[(first_worker + i) % len(cards)],
                    first_worker + i,
                    stop_at,
                    latencies,
                    errors,
                ),
            ),
        )
        for i in range(threads)
    ]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return latencies, len(errors), time.process_time() - cpu_started


def drive(
    port: int,
    mode: str,
    name: str,
    key: str,
    cards: list[str],
    clients: int,
    duration: float,
    processes: int,
) -> Result:
    per_process = [
        clients // processes + (1 if i < clients % processes else 0) for i in range(processes)
    ]
    start_at = time.time() + 0.5
    jobs, first = [], 0
    for threads in per_process:
        jobs.append((port, mode, key, cards, first, threads, start_at, duration))
        first += threads
    with get_context("fork").Pool(processes) as pool:
        parts = pool.map(_client_process, jobs)
    result = Result(name, seconds=duration)
    for latencies, errors, cpu_seconds in parts:
        result.latencies.extend(latencies)
        result.errors += errors
        result.client_cpu_seconds += cpu_seconds
    return result


# --- webhooks ----------------------------------------------------------------------------
class Receiver:
    """Loopback receiver: verifies each signature, records arrival time and order per card."""

    def __init__(self) -> None:
        self.secret = ""
        self.lock = threading.Lock()
        self.times: list[float] = []
        self.bad_signatures = 0
        self.out_of_order = 0
        self._last_balance: dict[str, int] = {}
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler(self):
        from standardwebhooks.webhooks import Webhook, WebhookVerificationError

        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    Webhook(receiver.secret).verify(raw, headers)
                    good = True
                except WebhookVerificationError:
                    good = False
                data = json.loads(raw)["data"]
                number = data["card"]["number"]
                balance = data["transaction"]["points_balance_after"]
                with receiver.lock:
                    receiver.times.append(time.perf_counter())
                    receiver.bad_signatures += 0 if good else 1
                    if balance < receiver._last_balance.get(number, -1):
                        receiver.out_of_order += 1
                    receiver._last_balance[number] = balance
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        return Handler

    def count(self) -> int:
        with self.lock:
            return len(self.times)


def start_consumer(env: dict[str, str], tmp: Path) -> subprocess.Popen:
    log = (tmp / "consumer.log").open("wb")
    return subprocess.Popen(
        [
            str(BIN / "huey_consumer"),
            "platform_core.worker.huey",
            "-w",
            "4",
            "-k",
            "thread",
            "-q",
            "-d",
            "0.01",
            "-m",
            "0.05",
            "-n",
        ],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--client-processes", type=int, default=4)
    parser.add_argument("--cards", type=int, default=100)
    parser.add_argument("--drain-timeout", type=float, default=120.0)
    args = parser.parse_args()

    load_before = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    tmp = Path(tempfile.mkdtemp(prefix="bench-merchant-"))
    tmp.chmod(0o755)
    consumer = None
    receiver = Receiver()
    try:
        with throwaway_postgres(tmp) as dsn, throwaway_redis(tmp) as redis_url:
            env = {
                **{
                    k: v
                    for k, v in os.environ.items()
                    if k not in {"TEST_DATABASE_URL", "DATABASE_URL", "HUEY_URL"}
                },
                "APP_ENV": "production",
                "SECRET_KEY": "bench-secret-key-not-for-production-0123456789",
                "SESSION_COOKIE_SECURE": "false",
                "INSTANCE_PATH": str(tmp / "instance"),
                "DATABASE_URL": dsn,
                "HUEY_URL": f"{redis_url}/0",
                "RATELIMIT_STORAGE_URI": f"{redis_url}/1",
                "MERCHANT_API_RATELIMIT": "10000000/minute",
                "WEBHOOK_ALLOW_PRIVATE": "true",  # the receiver is on loopback
                "PUBLIC_BASE_URL": "http://127.0.0.1",
            }
            subprocess.run(
                [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
                cwd=ROOT,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            world = seed(env, args.cards)
            pg_settings = postgres_durability(dsn)
            key, cards = world["key"], world["cards"]
            with gunicorn(env, args.workers, args.threads) as port:
                common = (key, cards, args.clients, args.duration, args.client_processes)
                ping = drive(port, "ping", "bare JSON endpoint (/api/v1/ping)", *common)
                earn = drive(port, "earn", "earn POST, no webhook endpoint", *common)
                receiver.secret = add_endpoint(env, receiver.url)
                consumer = start_consumer(env, tmp)
                hooked = drive(port, "hooked", "earn POST, webhooks on", *common)
                expected = len(hooked.latencies)
                deadline = time.perf_counter() + args.drain_timeout
                while receiver.count() < expected and time.perf_counter() < deadline:
                    time.sleep(0.2)
    finally:
        if consumer is not None:
            consumer.terminate()
            consumer.wait(timeout=20)
        receiver.server.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)

    delivered = receiver.count()
    span = (receiver.times[-1] - receiver.times[0]) if delivered > 1 else float("nan")
    print()
    print(
        f"gunicorn gthread: {args.workers} workers x {args.threads} threads; {args.clients} "
        f"clients for {args.duration:.0f} s per run; {args.cards} cards; "
        f"{os.cpu_count()} CPUs shared by server, database, consumer, receiver and clients"
    )
    print(f"PostgreSQL: {pg_settings}; load average before the run: {load_before}")
    print(f"{'endpoint':38} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for result in (ping, earn, hooked):
        print(
            f"{result.name:38} {result.rps:8.0f} {result.pct(50):8.1f} "
            f"{result.pct(99):8.1f} {result.errors:7d}"
        )
    ratio = earn.rps / ping.rps if ping.rps else 0.0
    print(f"(earn throughput: {ratio:.2f}x of the bare endpoint)")
    print()
    print(
        f"webhook deliveries: {delivered} of {expected} events received "
        f"({receiver.bad_signatures} bad signatures, {receiver.out_of_order} out of order "
        f"per card); {delivered / span:.0f} deliveries/s from first to last"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

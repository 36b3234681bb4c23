"""Benchmark of the public API and the console's card list, on the production shape.

    .venv/bin/python bench/public_api.py [--workers 3] [--clients 20] [--duration 10]

What it does: starts a throwaway PostgreSQL (``scripts/pg-throwaway.sh``) and a Redis (rate
limits and the Huey queue, as in production), migrates with ``flask db upgrade``, seeds a
merchant, store, program and platform admin through the services, bulk-loads 100,000 cards
with COPY, and runs the app under gunicorn (gthread) with the rate limits raised. Then:

* 20 concurrent clients for a fixed time each against: the bare ``/api/v1/ping`` (the
  framework floor), program info, and enrollment (unique emails) -> requests/s, p50, p99;
* the console's card list as a logged-in platform admin: first page and an email search,
  ~50 requests each -> p95.

Everything is stopped and removed at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
ADMIN_EMAIL = "bench-admin@platform.example"
ADMIN_PASSWORD = "bench admin password 2024"
STORE_SLUG = "bench-store"

TARGET_ENROLL_P99_MS = 100.0
TARGET_PROGRAM_VS_PING = 0.5  # program info throughput at least half the bare endpoint's
TARGET_CARD_LIST_P95_MS = 300.0


# --- infrastructure ----------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def throwaway_postgres(tmp: Path) -> Iterator[str]:
    pgdir = tmp / "pg"
    script = ROOT / "scripts" / "pg-throwaway.sh"
    dsn = (
        subprocess.run(
            [str(script), "start", str(pgdir)], check=True, text=True, stdout=subprocess.PIPE
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    try:
        yield dsn
    finally:
        subprocess.run([str(script), "stop", str(pgdir)], check=False)


@contextmanager
def throwaway_redis(tmp: Path) -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def gunicorn(env: dict[str, str], workers: int, threads: int) -> Iterator[int]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--keep-alive",
            "30",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {proc.returncode}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/api/v1/ping")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer")
            time.sleep(0.2)
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


# --- data --------------------------------------------------------------------------------
def seed(env: dict[str, str]) -> None:
    """Merchant, store, program and a platform admin, through the services (a subprocess,
    so the settings are read from this environment)."""
    code = f"""
from decimal import Decimal
from platform_core.app import create_app
from platform_core.db import commit
from platform_core.staff.models import StaffRole
from platform_core.staff.services import create_staff_user
from platform_core.tenancy.services import create_merchant, create_store
from loyalty.models import ProgramKind
from loyalty.services.programs import create_program, get_settings

app = create_app()
with app.app_context():
    merchant = create_merchant("Bench Bakery", "bench-bakery", "bench@bakery.example")
    create_store(merchant, "Bench Store", {STORE_SLUG!r})
    create_program(merchant, kind=ProgramKind.HYBRID, name="Bench Club",
                   points_per_euro=Decimal("1.00"), welcome_bonus_points=50,
                   stamps_target=10, texts={{"en": {{"reward_description": "A free coffee"}}}},
                   points_expiry_days=365)
    get_settings(merchant.id)
    create_staff_user({ADMIN_EMAIL!r}, {ADMIN_PASSWORD!r}, StaffRole.PLATFORM_ADMIN)
    commit()
"""
    subprocess.run([str(BIN / "python"), "-c", code], cwd=ROOT, env=env, check=True)


def bulk_cards(dsn: str, count: int) -> float:
    """``count`` customers with one card each, loaded with COPY; returns the seconds taken."""
    import psycopg

    sys.path.insert(0, str(ROOT))
    from loyalty.services.cards import luhn_check_digit

    started = time.perf_counter()
    url = dsn.replace("postgresql+psycopg://", "postgresql://")
    now = datetime.now(UTC)
    with psycopg.connect(url) as conn:
        merchant_id, store_id, program_id = conn.execute(
            "SELECT m.id, s.id, p.id FROM merchants m JOIN stores s ON s.merchant_id = m.id "
            "JOIN loyalty_programs p ON p.merchant_id = m.id WHERE s.slug = %s",
            (STORE_SLUG,),
        ).fetchone()
        first_customer = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM customers").fetchone()[
            0
        ]
        with conn.cursor() as cur:
            with cur.copy(
                "COPY customers (id, merchant_id, email, first_name, last_name, "
                "preferred_locale, marketing_consent, created_at, updated_at) FROM STDIN"
            ) as copy:
                for n in range(count):
                    moment = now - timedelta(minutes=n)
                    copy.write_row(
                        (
                            first_customer + n,
                            merchant_id,
                            f"bench-user-{n:06d}@example.lu",
                            f"First{n}",
                            f"Last{n}",
                            "fr",
                            False,
                            moment,
                            moment,
                        )
                    )
            with cur.copy(
                "COPY loyalty_cards (merchant_id, customer_id, program_id, card_number, "
                "enrolled_at_store_id, points_balance, total_points_earned, "
                "total_points_redeemed, total_points_voided, total_points_expired, stamp_count, "
                "stamp_rewards_earned, stamp_rewards_redeemed, last_activity_at, "
                "wallet_sync_status, is_active, created_at, updated_at) FROM STDIN"
            ) as copy:
                for n in range(count):
                    payload = f"9{n:014d}"
                    moment = now - timedelta(minutes=n)
                    copy.write_row(
                        (
                            merchant_id,
                            first_customer + n,
                            program_id,
                            payload + luhn_check_digit(payload),
                            store_id,
                            n % 500,
                            n % 500,
                            0,
                            0,
                            0,
                            n % 10,
                            0,
                            0,
                            moment,
                            "not_synced",
                            True,
                            moment,
                            moment,
                        )
                    )
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('customers', 'id'), "
            "(SELECT MAX(id) FROM customers))"
        )
        conn.commit()
        conn.execute("ANALYZE")
    return time.perf_counter() - started


def postgres_durability(dsn: str) -> str:
    """The throwaway server's durability settings, printed with the figures: it runs with
    fsync and synchronous_commit off (``scripts/pg-throwaway.sh``), unlike production."""
    import psycopg

    names = ("fsync", "synchronous_commit", "full_page_writes")
    with psycopg.connect(dsn.replace("postgresql+psycopg://", "postgresql://")) as conn:
        values = [conn.execute(f"SHOW {name}").fetchone()[0] for name in names]
    durable = all(value == "on" for value in values)
    return ", ".join(f"{n}={v}" for n, v in zip(names, values, strict=True)) + (
        "" if durable else " (throwaway settings: commits do not wait for the disk)"
    )


# --- load --------------------------------------------------------------------------------
@dataclass
class Scenario:
    name: str
    method: str
    path: str
    body: Callable[[int, int], bytes | None] = lambda worker, n: None
    expect: tuple[int, ...] = (200,)


@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    #: CPU time the load generator itself used (all client processes).
    client_cpu_seconds: float = 0.0

    @property
    def client_cores(self) -> float:
        return self.client_cpu_seconds / self.seconds if self.seconds else 0.0

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


def _enroll_body(worker: int, n: int) -> bytes:
    return json.dumps(
        {
            "email": f"load-{os.getpid()}-{worker}-{n}@example.lu",
            "first_name": "Load",
            "last_name": f"Client{worker}",
            "locale": "fr",
            "marketing_consent": False,
            "accept_terms": True,
        }
    ).encode()


SCENARIOS = {
    "ping": Scenario("bare JSON endpoint (/api/v1/ping)", "GET", "/api/v1/ping"),
    "program": Scenario("program info", "GET", f"/api/v1/stores/{STORE_SLUG}/program"),
    "enroll": Scenario(
        "enrollment POST", "POST", f"/api/v1/stores/{STORE_SLUG}/enroll", _enroll_body, (201,)
    ),
}


def _client_thread(
    port: int, scenario: Scenario, worker: int, stop_at: float, out: list[float], errors: list[int]
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json", "Connection": "keep-alive"}
    n = 0
    while time.perf_counter() < stop_at:
        body = scenario.body(worker, n)
        n += 1
        started = time.perf_counter()
        try:
            conn.request(scenario.method, scenario.path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            ok = response.status in scenario.expect
        except (OSError, http.client.HTTPException):
            ok = False
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        elapsed = time.perf_counter() - started
        if ok:
            out.append(elapsed)
        else:
            errors.append(1)
    conn.close()


def _client_process(args: tuple) -> tuple[list[float], int, float]:
    port, key, first_worker, threads, start_at, duration = args
    scenario = SCENARIOS[key]
    while time.time() < start_at:  # all processes start together
        time.sleep(0.001)
    cpu_started = time.process_time()
    stop_at = time.perf_counter() + duration
    latencies: list[float] = []
    errors: list[int] = []
    pool = [
        threading.Thread(
            target=_client_thread,
            args=(port, scenario, first_worker + i, stop_at, latencies, errors),
        )
        for i in range(threads)
    ]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return latencies, len(errors), time.process_time() - cpu_started


def drive(port: int, key: str, clients: int, duration: float, processes: int) -> Result:
    """``clients`` concurrent keep-alive clients, spread over a few processes (one Python
    process cannot drive 20 connections fast enough to load the server)."""
    per_process = [
        clients // processes + (1 if i < clients % processes else 0) for i in range(processes)
    ]
    start_at = time.time() + 0.5
    jobs, first = [], 0
    for threads in per_process:
        jobs.append((port, key, first, threads, start_at, duration))
        first += threads
    with get_context("fork").Pool(processes) as pool:
        parts = pool.map(_client_process, jobs)
    result = Result(SCENARIOS[key].name, seconds=duration)
    for latencies, errors, cpu_seconds in parts:
        result.latencies.extend(latencies)
        result.errors += errors
        result.client_cpu_seconds += cpu_seconds
    return result


# --- console -----------------------------------------------------------------------------
def console_session(port: int):
    import requests

    session = requests.Session()
    base = f"http://127.0.0.1:{port}"
    page = session.get(f"{base}/login", timeout=30)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page.text
    )
    data = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    if token:
        data["csrf_token"] = token.group(1)
    response = session.post(f"{base}/login", data=data, allow_redirects=False, timeout=30)
    if response.status_code != 302:
        raise RuntimeError(f"console login failed: {response.status_code}")
    return session, base


def time_page(session, url: str, requests_count: int, must_contain: str) -> Result:
    result = Result(url)
    session.get(url, timeout=30)  # warm-up (templates compiled, connection pooled)
    started = time.perf_counter()
    for _ in range(requests_count):
        t0 = time.perf_counter()
        response = session.get(url, timeout=30)
        elapsed = time.perf_counter() - t0
        if response.status_code == 200 and must_contain in response.text:
            result.latencies.append(elapsed)
        else:
            result.errors += 1
    result.seconds = time.perf_counter() - started
    return result


# --- report ------------------------------------------------------------------------------
def _verdict(ok: bool) -> str:
    return "OK  " if ok else "MISS"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--client-processes", type=int, default=4)
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--page-requests", type=int, default=50)
    args = parser.parse_args()

    load_before = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    tmp = Path(tempfile.mkdtemp(prefix="bench-public-"))
    tmp.chmod(0o755)  # PostgreSQL runs as the postgres user and must reach its directory
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
                "RATELIMIT_ENROLL": "1000000/minute",
                "RATELIMIT_PROGRAM_INFO": "1000000/minute",
                "RATELIMIT_LOGIN": "1000/minute",
                "PUBLIC_BASE_URL": "http://127.0.0.1",
            }
            subprocess.run(
                [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
                cwd=ROOT,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            seed(env)
            load_seconds = bulk_cards(dsn, args.cards)
            pg_settings = postgres_durability(dsn)
            print(f"Loaded {args.cards:,} cards with COPY in {load_seconds:.1f} s")

            with gunicorn(env, args.workers, args.threads) as port:
                results = {}
                for key in ("ping", "program", "enroll"):
                    results[key] = drive(
                        port, key, args.clients, args.duration, args.client_processes
                    )
                session, base = console_session(port)
                # The first page lists the cards just enrolled by the load above.
                first_page = time_page(
                    session, f"{base}/admin/loyaltycard/", args.page_requests, "@example.lu"
                )
                search = time_page(
                    session,
                    f"{base}/admin/loyaltycard/?search=bench-user-054321",
                    args.page_requests,
                    "bench-user-054321@example.lu",
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    print(
        f"gunicorn gthread: {args.workers} workers x {args.threads} threads; "
        f"{args.clients} clients for {args.duration:.0f} s per endpoint; "
        f"{os.cpu_count()} CPUs shared by server, database and clients"
    )
    print(f"PostgreSQL: {pg_settings}; load average before the run: {load_before}")
    print(
        f"{'endpoint':38} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'client CPU':>10}"
    )
    for result in results.values():
        print(
            f"{result.name:38} {result.rps:8.0f} {result.pct(50):8.1f} {result.pct(99):8.1f} "
            f"{result.errors:7d} {result.client_cores:8.2f} c"
        )
    print(
        f"(client CPU: cores the load generator used itself, out of the machine's {os.cpu_count()})"
    )
    print()
    print(
        f"{'console card list (' + format(args.cards, ',') + ' cards)':38} "
        f"{'p50 ms':>8} {'p95 ms':>8} {'errors':>7}"
    )
    for label, result in (("first page", first_page), ("search by email", search)):
        print(f"{label:38} {result.pct(50):8.1f} {result.pct(95):8.1f} {result.errors:7d}")

    enroll_p99 = results["enroll"].pct(99)
    ratio = results["program"].rps / results["ping"].rps if results["ping"].rps else 0.0
    print()
    print("Targets:")
    print(
        f"  {_verdict(enroll_p99 < TARGET_ENROLL_P99_MS)} enrollment p99 "
        f"{enroll_p99:.1f} ms < {TARGET_ENROLL_P99_MS:.0f} ms"
    )
    print(
        f"  {_verdict(ratio >= TARGET_PROGRAM_VS_PING)} program info throughput "
        f"{ratio:.2f}x of the bare endpoint (target: within 2x, i.e. >= 0.50x)"
    )
    for label, result in (("first page", first_page), ("search", search)):
        p95 = result.pct(95)
        print(
            f"  {_verdict(p95 < TARGET_CARD_LIST_P95_MS)} card list {label} p95 "
            f"{p95:.1f} ms < {TARGET_CARD_LIST_P95_MS:.0f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

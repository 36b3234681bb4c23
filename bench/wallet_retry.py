"""Wallet retry with one hanging card: how long the healthy cards wait for it.

    .venv/bin/python bench/wallet_retry.py [--cards 60] [--hanging 1] [--workers 4]
    BENCH_DATABASE_URL=postgresql+psycopg://.../scratch .venv/bin/python bench/wallet_retry.py

Google is the test suite's Wallet double on loopback (real HTTP, real token grant); the
hanging cards' ``loyaltyObject.get`` never answers, so each of their 4 attempts ends in the
client timeout. Timeout and back-off are scaled down (``--timeout`` 2.5 s, delays 0.25/1/4 s)
so the run is short; the ratio is what matters.

- **baseline** (how the job worked before): the job syncs the waiting cards one after the
  other, in id order, the hanging card first;
- **now**: the job claims the cards and queues one ``sync_wallet_card_task`` each; one real
  Huey consumer (``--workers`` threads, in this process) syncs them side by side.

Printed: seconds until every healthy card is synced, until the last card is settled, and the
final status of every card (nothing may be lost). Target: the healthy cards are done before
the first timeout of the hanging card.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

DELAYS = (0.25, 1.0, 4.0)


def _environment(workdir: Path, double, key) -> None:  # noqa: ANN001 - test helpers
    database_url = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{workdir / 'db.sqlite3'}")
    os.environ.update(
        {
            "APP_ENV": "development",
            "INSTANCE_PATH": str(workdir / "instance"),
            "DATABASE_URL": database_url,
            "HUEY_URL": "memory://",
            "SECRET_KEY": "bench-secret-key",
            "GOOGLE_WALLET_ISSUER_ID": "3388000000012345678",
            "GOOGLE_WALLET_SERVICE_ACCOUNT_FILE": str(key.path),
            "GOOGLE_WALLET_API_BASE": double.api_base,
            "GOOGLE_WALLET_TOKEN_URI": double.token_uri,
        }
    )
    if database_url.startswith("sqlite:///"):
        # WAL, as a development install would use it: readers never block the writer.
        with sqlite3.connect(database_url[len("sqlite:///") :]) as conn:
            conn.execute("PRAGMA journal_mode=WAL").fetchall()


def _build(count: int) -> list[int]:
    from loyalty.models import LoyaltyCard, LoyaltyProgram, ProgramKind, WalletSyncStatus
    from platform_core import db as dbmod
    from platform_core.customers.models import Customer
    from platform_core.extensions import db
    from platform_core.tenancy.models import Merchant

    db.drop_all()
    db.create_all()
    merchant = Merchant(name="Bench Wallet", slug="bench-wallet", contact_email="w@example.lu")
    program = LoyaltyProgram(
        merchant=merchant,
        kind=ProgramKind.POINTS,
        name="Bench Club",
        logo_url="https://cdn.example.lu/logo.png",
    )
    cards = [
        LoyaltyCard(
            merchant=merchant,
            customer=Customer(
                merchant=merchant, email=f"w{n}@example.lu", first_name="Wal", last_name=f"Let{n}"
            ),
            program=program,
            card_number=f"88{n:010d}",
            points_balance=n,
            wallet_sync_status=WalletSyncStatus.PENDING,
        )
        for n in range(count)
    ]
    db.session.add_all([merchant, program, *cards])
    dbmod.commit()
    return [card.id for card in cards]


def _reset(ids: list[int], double, hanging: int) -> None:  # noqa: ANN001
    from sqlalchemy import update

    from loyalty.models import LoyaltyCard, WalletSyncStatus
    from loyalty.wallet import google
    from platform_core import db as dbmod
    from platform_core.extensions import db

    db.session.execute(
        update(LoyaltyCard)
        .where(LoyaltyCard.id.in_(ids))
        .values(wallet_sync_status=WalletSyncStatus.PENDING, wallet_object_id=None)
    )
    dbmod.commit()
    google.forget_sent_classes()
    double.objects.clear()
    double.classes.clear()
    double.requests.clear()
    for n in range(hanging):
        double.hang_next(4, "loyaltyObject.get", f"3388000000012345678.loyalty-card-88{n:010d}")


def _statuses(ids: list[int]) -> dict[int, str]:
    from sqlalchemy import select

    from loyalty.models import LoyaltyCard
    from platform_core.extensions import db

    rows = db.session.execute(
        select(LoyaltyCard.id, LoyaltyCard.wallet_sync_status).where(LoyaltyCard.id.in_(ids))
    ).all()
    # End the read at once: on SQLite every transaction holds the write lock.
    db.session.rollback()
    return {card_id: str(status) for card_id, status in rows}


def _wait(ids: list[int], healthy: set[int], started: float, limit: float) -> tuple[float, float]:
    healthy_done = None
    while time.monotonic() - started < limit:
        statuses = _statuses(ids)
        if healthy_done is None and all(statuses[i] == "synced" for i in healthy):
            healthy_done = time.monotonic() - started
        if all(s != "pending" for s in statuses.values()):
            return healthy_done or 0.0, time.monotonic() - started
        time.sleep(0.02)
    raise SystemExit("the cards did not settle in time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cards", type=int, default=60)
    parser.add_argument("--hanging", type=int, default=1)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=2.5)
    args = parser.parse_args()

    from tests.wallet_double.keys import make_service_account_key
    from tests.wallet_double.server import WalletDouble

    workdir = Path(tempfile.mkdtemp(prefix="bench-wallet-"))
    key = make_service_account_key(workdir)
    double = WalletDouble(key.cert_pem, key.email).start()
    _environment(workdir, double, key)

    from loyalty.wallet import service
    from platform_core import db as dbmod
    from platform_core import task_context
    from platform_core.app import create_app
    from platform_core.huey import huey
    from platform_core.worker import huey as _registered  # noqa: F401 - every task known

    app = create_app()
    app.config.update(WALLET_RETRY_DELAYS=DELAYS, GOOGLE_WALLET_TIMEOUT=args.timeout)
    task_context._app = app
    huey.immediate = False
    results = {}
    with app.app_context():
        ids = _build(args.cards)
        healthy = set(ids[args.hanging :])

        # Baseline: one after the other inside the job, the hanging card first.
        _reset(ids, double, args.hanging)
        started = time.monotonic()
        for card_id in ids:
            service.sync_card(card_id)
            dbmod.commit()
        results["baseline"] = (*_wait(ids, healthy, started, 600), _statuses(ids))

        # Now: the job queues one task per card; the consumer's workers sync them.
        _reset(ids, double, args.hanging)
        consumer = huey.create_consumer(
            workers=args.workers,
            worker_type="thread",
            periodic=False,
            check_worker_health=False,
            initial_delay=0.01,
            max_delay=0.05,
        )
        consumer.start()
        try:
            started = time.monotonic()
            report = service.retry_pending_syncs()
            job_seconds = time.monotonic() - started
            results["now"] = (*_wait(ids, healthy, started, 600), _statuses(ids))
        finally:
            consumer.stop(graceful=True)
    double.stop()

    one_hang = 4 * args.timeout + sum(DELAYS)
    print(
        f"\n{args.cards} cards, {args.hanging} hanging (each: 4 timeouts of {args.timeout:g} s "
        f"+ waits {'/'.join(f'{d:g}' for d in DELAYS)} s = {one_hang:g} s), "
        f"{args.workers} consumer threads, database {os.environ['DATABASE_URL'].split(':')[0]}\n"
    )
    print("| | healthy cards synced after | all cards settled after | final statuses |")
    print("| --- | --- | --- | --- |")
    for name, (healthy_s, all_s, statuses) in results.items():
        counts: dict[str, int] = {}
        for status in statuses.values():
            counts[status] = counts.get(status, 0) + 1
        summary = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
        print(f"| {name} | {healthy_s:.2f} s | {all_s:.2f} s | {summary} |")
    queued = len(report.queued)
    print(f"\nthe job itself (claim + queue {queued} tasks): {job_seconds * 1000:.0f} ms")
    now_healthy = results["now"][0]
    verdict = "met" if now_healthy < args.timeout else "MISSED"
    print(f"target: healthy cards done before the first timeout ({args.timeout:g} s): {verdict}")
    for name, (_h, _a, statuses) in results.items():
        lost = [i for i, s in statuses.items() if s == "pending"]
        expected = {"synced": len(healthy), "failed": args.hanging}
        got = {s: sum(1 for v in statuses.values() if v == s) for s in expected}
        if lost or got != expected:
            raise SystemExit(f"{name}: lost or wrong outcome: {got}, pending {lost}")


if __name__ == "__main__":
    main()

"""Points expiry at scale: the shipped job against a per-card ORM loop and one statement.

    .venv/bin/python bench/expiry.py [--cards 1000000] [--loop-sample 1000] [--writer-rate 50]

Builds N cards on a throwaway PostgreSQL (``scripts/pg-throwaway.sh``: fsync off, as for the
test suite) with set-based SQL: 10 merchants with a store and a points program each (expiry
after 365 days, warning 14 days before), one customer per card, two history rows per card
(an earn of 60 and a redemption of 20, so each balance is 40). 30 % of the cards are due
(idle 400 days), 5 % are in the warning window (idle 355 days), the rest active (0-300
days). The schema comes from the migrations (``flask db upgrade``). Every variant runs on a
copy of that database (``CREATE DATABASE ... TEMPLATE``), so all start from the same state:

- **loop**: the naive baseline, through the ORM: lock one due card, expire it, add its
  ledger row and its email row, commit; on a sample, extrapolated;
- **job**: the shipped job through its entry point (``loyalty.tasks.run_expiry`` inside a
  task run, what the periodic task and the CLI call), email rows included, then
  ``verify_ledger`` over every card;
- **set**: one statement over all due cards (card update, ledger rows and email rows in
  data-modifying CTEs), the lower bound;
- **warnings**: the warning job through its entry point, on its own copy.

While the job runs, a second process makes single-card terminal earns (lock, update, ledger
row, commit: the statements of an earn at the terminal) at a steady rate, a fifth of them on
due cards; its p50, p99 and worst wait are printed next to the same figures with nothing
else running. The last line printed is one JSON object with the figures.

Targets at 1,000,000 cards: job >= 25x the loop and within 1.5x of the set-based statement;
the last 10 chunk lookups at most 2x the first 10; the writer's p99 during the job within 3x
of idle and its worst wait under 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = 10
TARGET_LOOP_RATIO = 25.0
TARGET_SET_RATIO = 1.5
TARGET_LOOKUP_RATIO = 2.0
TARGET_WRITER_P99_RATIO = 3.0
TARGET_WRITER_WORST_MS = 50.0


# --- infrastructure ----------------------------------------------------------------------
@contextmanager
def throwaway_postgres(tmp: Path) -> Iterator[str]:
    script = ROOT / "scripts" / "pg-throwaway.sh"
    pgdir = tmp / "pg"
    out = subprocess.run(
        [str(script), "start", str(pgdir)], check=True, text=True, stdout=subprocess.PIPE
    ).stdout
    try:
        yield out.strip().splitlines()[-1]
    finally:
        subprocess.run([str(script), "stop", str(pgdir)], check=False)


def _pg(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _with_db(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


def _admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(_pg(_with_db(url, "postgres")), autocommit=True) as conn:
        conn.execute(sql)


def _env(url: str, tmp: Path) -> dict[str, str]:
    return {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": url,
        "HUEY_URL": "memory://",
        "HUEY_IMMEDIATE": "false",
        "MAIL_BACKEND": "memory",
        "INSTANCE_PATH": str(tmp / "instance"),
    }


# --- the world ---------------------------------------------------------------------------
BUILD_SQL = """
INSERT INTO merchants (name, slug, legal_name, contact_email, default_locale,
                       created_at, updated_at)
SELECT 'Merchant ' || m, 'bench-m' || m, '', 'm' || m || '@example.lu',
       (ARRAY['en','fr','de','lb'])[1 + m % 4], now(), now()
FROM generate_series(1, {programs}) m;

INSERT INTO stores (merchant_id, name, slug, address, default_locale,
                    created_at, updated_at)
SELECT id, 'Store ' || id, 'bench-s' || id, '', default_locale, now(), now()
FROM merchants;

INSERT INTO loyalty_programs (merchant_id, kind, name, points_per_euro,
    welcome_bonus_points, points_expiry_days, expiry_warning_days,
    logo_url, brand_color, is_active, birthday_emails_enabled, birthday_bonus_points,
    created_at, updated_at)
SELECT id, 'points', 'Program ' || id, 1, 0, 365, 14, '', '#1f5f8b', true, false, 0,
       now(), now()
FROM merchants;

INSERT INTO customers (merchant_id, email, first_name, last_name, preferred_locale,
                       marketing_consent, created_at, updated_at)
SELECT m.id, 'c' || g || '@example.lu', 'Ada', 'Customer ' || g,
       (ARRAY['en','fr','de','lb'])[1 + g % 4], false, now(), now()
FROM generate_series(1, {cards}) g
JOIN merchants m ON m.slug = 'bench-m' || (1 + g % {programs});

INSERT INTO loyalty_cards (merchant_id, customer_id, program_id, card_number,
    enrolled_at_store_id, points_balance, total_points_earned, total_points_redeemed,
    total_points_voided, total_points_expired, stamp_count, stamp_rewards_earned,
    stamp_rewards_redeemed, last_activity_at, wallet_sync_status, is_active,
    created_at, updated_at)
SELECT c.merchant_id, c.id, p.id, lpad(c.id::text, 16, '0'), s.id, 40, 60, 20,
       0, 0, 0, 0, 0,
       now() - CASE
           WHEN c.id % 100 < 30 THEN interval '400 days'
           WHEN c.id % 100 < 35 THEN interval '355 days'
           ELSE make_interval(days => ((c.id::bigint * 7919) % 300)::int)
       END,
       'not_synced', true, now(), now()
FROM customers c
JOIN loyalty_programs p ON p.merchant_id = c.merchant_id
JOIN stores s ON s.merchant_id = c.merchant_id
ORDER BY c.id;

INSERT INTO loyalty_transactions (merchant_id, card_id, type, points_delta, stamps_delta,
    points_balance_after, note, created_at)
SELECT merchant_id, id, 'earn', 60, 0, 60, '', last_activity_at - interval '1 day'
FROM loyalty_cards
UNION ALL
SELECT merchant_id, id, 'redeem', -20, 0, 40, '', last_activity_at
FROM loyalty_cards;
"""

SET_BASED_SQL = """
WITH due AS (
    UPDATE loyalty_cards c
    SET total_points_expired = c.total_points_expired + d.points,
        points_balance = 0,
        updated_at = now()
    FROM (
        SELECT k.id, k.points_balance AS points
        FROM loyalty_cards k JOIN loyalty_programs p ON p.id = k.program_id
        WHERE p.points_expiry_days IS NOT NULL AND k.points_balance > 0
          AND k.last_activity_at <= now() - make_interval(days => p.points_expiry_days)
    ) d
    WHERE c.id = d.id
    RETURNING c.id, c.merchant_id, c.customer_id, c.enrolled_at_store_id, d.points
), ledger AS (
    INSERT INTO loyalty_transactions (merchant_id, card_id, type, points_delta, stamps_delta,
        points_balance_after, note, created_at)
    SELECT merchant_id, id, 'expiry', -points, 0, 0, '', now() FROM due
)
INSERT INTO email_logs (merchant_id, store_id, recipient, code, locale, status,
    context_json, attempts, unknown_attempts, lease_expires_at, created_at, updated_at)
SELECT due.merchant_id, due.enrolled_at_store_id, cu.email, 'loyalty_points_expired',
       CASE WHEN cu.preferred_locale IN ('en', 'fr', 'de', 'lb') THEN cu.preferred_locale
            WHEN s.default_locale IN ('en', 'fr', 'de', 'lb') THEN s.default_locale
            WHEN m.default_locale IN ('en', 'fr', 'de', 'lb') THEN m.default_locale
            ELSE 'en' END,
       'queued',
       json_build_object('_pending', json_build_object('card_id', due.id,
                                                       'points', due.points))::text,
       0, 0, now() + interval '2 days', now(), now()
FROM due JOIN customers cu ON cu.id = due.customer_id
JOIN merchants m ON m.id = due.merchant_id
LEFT JOIN stores s ON s.id = due.enrolled_at_store_id
"""


def build_base(url: str, cards: int, tmp: Path) -> None:
    import psycopg

    _admin(url, "CREATE DATABASE expiry_base")
    base = _with_db(url, "expiry_base")
    subprocess.run(
        [str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=_env(base, tmp),
        check=True,
        capture_output=True,
    )
    with psycopg.connect(_pg(base), autocommit=True) as conn:
        conn.execute(BUILD_SQL.format(cards=cards, programs=PROGRAMS))
        conn.execute("VACUUM ANALYZE")


def copy_of_base(url: str, name: str) -> str:
    _admin(url, f"CREATE DATABASE {name} TEMPLATE expiry_base")
    return _with_db(url, name)


# --- the variants, each in a process of its own -------------------------------------------
def _variant(name: str, url: str, tmp: Path, extra: list[str] | None = None) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--variant", name, "--database-url", url, *(extra or [])],
        cwd=ROOT,
        env=_env(url, tmp),
        check=True,
        text=True,
        stdout=subprocess.PIPE,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def _app() -> Any:
    sys.path.insert(0, str(ROOT))
    from platform_core.app import create_app

    return create_app()


def variant_loop(sample: int) -> dict[str, Any]:
    from sqlalchemy import select

    from loyalty.models import LoyaltyCard, TransactionType
    from loyalty.services.ledger import add_ledger_row
    from messaging.models import EmailLog, EmailStatus
    from platform_core.extensions import db

    app = _app()
    with app.app_context():
        ids = list(
            db.session.scalars(
                select(LoyaltyCard.id)
                .where(LoyaltyCard.points_balance > 0)
                .where(
                    LoyaltyCard.last_activity_at <= db.func.now() - db.text("interval '365 days'")
                )
                .order_by(LoyaltyCard.id)
                .limit(sample)
            )
        )
        db.session.rollback()
        started = time.perf_counter()
        for card_id in ids:
            card = db.session.scalars(
                select(LoyaltyCard).where(LoyaltyCard.id == card_id).with_for_update()
            ).one()
            points = card.expire_points()
            add_ledger_row(card, TransactionType.EXPIRY, points_delta=-points)
            db.session.add(
                EmailLog(
                    code="loyalty_points_expired",
                    recipient=card.customer.email,
                    locale=card.customer.preferred_locale,
                    merchant_id=card.merchant_id,
                    store_id=card.enrolled_at_store_id,
                    status=EmailStatus.QUEUED,
                    context_json=json.dumps({"card_id": card.id, "points": points}),
                    attempts=0,
                )
            )
            db.session.commit()
        elapsed = time.perf_counter() - started
    return {"cards": len(ids), "seconds": elapsed}


def variant_job(kind: str) -> dict[str, Any]:
    from sqlalchemy import func, select

    from loyalty.services.verify import verify_ledger
    from loyalty.tasks import (
        EXPIRE_TASK,
        WARNINGS_TASK,
        recorded_expiry,
        run_expiry,
        run_expiry_warnings,
    )
    from messaging.models import EmailLog
    from platform_core.extensions import db

    app = _app()
    with app.app_context():
        started = time.perf_counter()
        if kind == "job":
            report = recorded_expiry(run_expiry, EXPIRE_TASK, points=True)
        else:
            report = recorded_expiry(run_expiry_warnings, WARNINGS_TASK, points=False)
        elapsed = time.perf_counter() - started
        emails = db.session.scalar(select(func.count()).select_from(EmailLog))
        ledger_ok = verify_ledger().ok if kind == "job" else None
    return {
        "cards": report.cards,
        "points": report.points,
        "chunks": report.chunks,
        "seconds": elapsed,
        "lookups": report.lookup_seconds,
        "last_pass": report.last_pass_seconds,
        "emails": emails,
        "ledger_ok": ledger_ok,
    }


def variant_set(url: str) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(_pg(url)) as conn:
        started = time.perf_counter()
        cursor = conn.execute(SET_BASED_SQL)
        conn.commit()
        elapsed = time.perf_counter() - started
        return {"cards": cursor.rowcount, "seconds": elapsed}


# --- the terminal writer -----------------------------------------------------------------
def writer(url: str, rate: float, out: str) -> None:
    """Single-card earns at ``rate`` per second until SIGTERM; latencies (ms) to ``out``."""
    import psycopg

    stop = False

    def on_term(*_: Any) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    rng = random.Random(7)
    with psycopg.connect(_pg(url)) as conn:
        due = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM loyalty_cards WHERE last_activity_at < now() - interval '365 days'"
            )
        ]
        active = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM loyalty_cards WHERE last_activity_at > now() - interval '300 days'"
            )
        ]
        conn.commit()
        latencies: list[float] = []
        interval = 1.0 / rate
        next_at = time.perf_counter()
        with open(out + ".ready", "w"):
            pass
        while not stop:
            card_id = rng.choice(due if rng.random() < 0.2 else active)
            started = time.perf_counter()
            row = conn.execute(
                "SELECT merchant_id, points_balance FROM loyalty_cards WHERE id = %s FOR UPDATE",
                (card_id,),
            ).fetchone()
            merchant_id, balance = row
            conn.execute(
                "UPDATE loyalty_cards SET points_balance = points_balance + 5,"
                " total_points_earned = total_points_earned + 5, last_activity_at = now(),"
                " updated_at = now() WHERE id = %s",
                (card_id,),
            )
            conn.execute(
                "INSERT INTO loyalty_transactions (merchant_id, card_id, type, points_delta,"
                " stamps_delta, points_balance_after, note, created_at)"
                " VALUES (%s, %s, 'earn', 5, 0, %s, '', now())",
                (merchant_id, card_id, balance + 5),
            )
            conn.commit()
            latencies.append((time.perf_counter() - started) * 1000)
            next_at += interval
            time.sleep(max(0.0, next_at - time.perf_counter()))
    Path(out).write_text(json.dumps(latencies))


@contextmanager
def running_writer(url: str, rate: float, tmp: Path, name: str) -> Iterator[dict[str, float]]:
    out = str(tmp / f"writer-{name}.json")
    proc = subprocess.Popen(
        [sys.executable, __file__, "--writer", url, "--writer-rate", str(rate), "--out", out],
        cwd=ROOT,
    )
    while not Path(out + ".ready").exists():
        time.sleep(0.05)
    figures: dict[str, float] = {}
    try:
        yield figures
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    latencies = sorted(json.loads(Path(out).read_text()))
    figures.update(
        count=len(latencies),
        p50=statistics.median(latencies),
        p99=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        worst=latencies[-1],
    )


# --- the run -----------------------------------------------------------------------------
def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=1_000_000)
    parser.add_argument("--loop-sample", type=int, default=1000)
    parser.add_argument("--writer-rate", type=float, default=50.0)
    parser.add_argument("--idle-seconds", type=float, default=5.0)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--writer", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.writer:
        writer(args.writer, args.writer_rate, args.out)
        return
    if args.variant:
        result = {
            "loop": lambda: variant_loop(args.loop_sample),
            "job": lambda: variant_job("job"),
            "warnings": lambda: variant_job("warnings"),
            "set": lambda: variant_set(args.database_url),
        }[args.variant]()
        print(json.dumps(result))
        return

    load = lambda: " ".join(Path("/proc/loadavg").read_text().split()[:3])  # noqa: E731
    print(f"== expiry benchmark: {args.cards:,} cards; load average {load()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-expiry-") as tmp_name:
        tmp = Path(tmp_name)
        tmp.chmod(0o755)  # PostgreSQL runs as the postgres user and must reach its directory
        with throwaway_postgres(tmp) as url:
            started = time.perf_counter()
            build_base(url, args.cards, tmp)
            print(f"built the base database in {time.perf_counter() - started:.0f} s", flush=True)

            loop = _variant("loop", copy_of_base(url, "v_loop"), tmp)
            loop_cps = loop["cards"] / loop["seconds"]
            print(
                f"loop:  {loop['cards']} cards in {loop['seconds']:.2f} s: {loop_cps:,.0f} cards/s"
            )

            set_based = _variant("set", copy_of_base(url, "v_set"), tmp)
            set_cps = set_based["cards"] / set_based["seconds"]
            print(
                f"set:   {set_based['cards']:,} cards in {set_based['seconds']:.2f} s: "
                f"{set_cps:,.0f} cards/s"
            )

            job_url = copy_of_base(url, "v_job")
            with running_writer(job_url, args.writer_rate, tmp, "idle") as idle:
                time.sleep(args.idle_seconds)
            print(f"load average before the job: {load()}", flush=True)
            with running_writer(job_url, args.writer_rate, tmp, "job") as during:
                job = _variant("job", job_url, tmp)
            job_cps = job["cards"] / job["seconds"]
            first10, last10 = _mean(job["lookups"][:10]), _mean(job["lookups"][-10:])
            print(
                f"job:   {job['cards']:,} cards in {job['seconds']:.2f} s: {job_cps:,.0f} "
                f"cards/s, {job['chunks']} chunks, {job['emails']:,} email rows, ledger "
                f"{'consistent' if job['ledger_ok'] else 'NOT CONSISTENT'}"
            )
            last_pass = _mean(job["last_pass"])
            print(
                f"chunk lookups: first 10 {first10 * 1000:.2f} ms, last 10 {last10 * 1000:.2f} ms "
                f"(mean each; {len(job['lookups'])} lookups); last pass {last_pass * 1000:.2f} ms "
                f"(mean of {len(job['last_pass'])}: each rescans what is left of a program)"
            )
            warn = _variant("warnings", copy_of_base(url, "v_warn"), tmp)
            warn_cps = warn["cards"] / warn["seconds"]
            print(
                f"warnings: {warn['cards']:,} cards in {warn['seconds']:.2f} s: "
                f"{warn_cps:,.0f} cards/s"
            )
            print(
                f"writer idle:   {idle['count']} earns, p50 {idle['p50']:.1f} ms, "
                f"p99 {idle['p99']:.1f} ms, worst {idle['worst']:.1f} ms"
            )
            print(
                f"writer in job: {during['count']} earns, p50 {during['p50']:.1f} ms, "
                f"p99 {during['p99']:.1f} ms, worst {during['worst']:.1f} ms"
            )
    ratios = {
        "job / loop": (
            job_cps / loop_cps,
            f">= {TARGET_LOOP_RATIO:g}x",
            job_cps / loop_cps >= TARGET_LOOP_RATIO,
        ),
        "set / job": (
            set_cps / job_cps,
            f"<= {TARGET_SET_RATIO:g}x",
            set_cps / job_cps <= TARGET_SET_RATIO,
        ),
        "last10 / first10": (
            last10 / first10 if first10 else 0,
            f"<= {TARGET_LOOKUP_RATIO:g}x",
            last10 <= TARGET_LOOKUP_RATIO * first10,
        ),
        "writer p99 job / idle": (
            during["p99"] / idle["p99"],
            f"<= {TARGET_WRITER_P99_RATIO:g}x",
            during["p99"] <= TARGET_WRITER_P99_RATIO * idle["p99"],
        ),
        "writer worst (ms)": (
            during["worst"],
            f"< {TARGET_WRITER_WORST_MS:g}",
            during["worst"] < TARGET_WRITER_WORST_MS,
        ),
    }
    for name, (value, target, met) in ratios.items():
        print(f"{name:24} {value:8.2f}   target {target}: {'met' if met else 'MISSED'}")
    print(f"load average after: {load()}")
    print(
        json.dumps(
            {
                "cards": args.cards,
                "loop_cps": round(loop_cps, 1),
                "job_cps": round(job_cps, 1),
                "set_cps": round(set_cps, 1),
                "warnings_cps": round(warn_cps, 1),
                "job_seconds": round(job["seconds"], 2),
                "first10_s": round(first10, 6),
                "last10_s": round(last10, 6),
                "last_pass_s": round(last_pass, 6),
                "writer_idle_p99_ms": round(idle["p99"], 2),
                "writer_job_p99_ms": round(during["p99"], 2),
                "writer_worst_ms": round(during["worst"], 2),
            }
        )
    )


if __name__ == "__main__":
    main()

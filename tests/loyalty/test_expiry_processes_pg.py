"""The expiry job as separate OS processes on PostgreSQL, committing for real.

Each test runs ``flask --app wsgi loyalty expire-points`` in subprocesses against the test
database, with thousands of cards made by set-based SQL. Huey's queue is in memory in those
processes, so the emails stay as log rows (one per card, checked here). The rows are removed
afterwards by deleting the test merchant (every loyalty and email row cascades from it).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from loyalty.models import ProgramKind
from loyalty.services.programs import create_program
from platform_core import db as dbmod
from platform_core.config import PROJECT_ROOT
from platform_core.extensions import db
from platform_core.task_runs.models import TaskRun
from platform_core.tenancy.models import Merchant, Store
from tests.conftest import database_url

pytestmark = pytest.mark.postgres

SLUG = "expiry-processes"


@dataclass
class World:
    merchant_id: int
    store_id: int
    program_id: int


@pytest.fixture
def world(app: Flask, tmp_path: Path) -> Iterator[World]:
    with app.app_context():
        last_run = db.session.scalar(select(func.max(TaskRun.id))) or 0
        merchant = Merchant(name="Expiry S.à r.l.", slug=SLUG, contact_email="e@example.lu")
        store = Store(merchant=merchant, name="Expiry", slug="expiry-processes-store")
        db.session.add_all([merchant, store])
        db.session.flush()
        program = create_program(
            merchant,
            kind=ProgramKind.POINTS,
            name="Processes",
            welcome_bonus_points=0,
            points_per_euro=Decimal("1"),
            points_expiry_days=365,
        )
        dbmod.commit()
        ids = World(merchant.id, store.id, program.id)
    try:
        yield ids
    finally:
        with app.app_context():
            # email_logs.resent_from_id has no index: the cascade would check every deleted
            # row against the whole table. Nothing else references email_logs.
            db.session.execute(text("SET LOCAL session_replication_role = replica"))
            db.session.execute(
                text("DELETE FROM email_logs WHERE merchant_id = :id"), {"id": ids.merchant_id}
            )
            db.session.execute(text("SET LOCAL session_replication_role = DEFAULT"))
            db.session.execute(
                text("DELETE FROM merchants WHERE id = :id"), {"id": ids.merchant_id}
            )
            db.session.execute(text("DELETE FROM task_runs WHERE id > :id"), {"id": last_run})
            dbmod.commit()


def _make_cards(app: Flask, world: World, n: int, idle_days: int, tag: str) -> None:
    """``n`` cards of 40 points each (one EARN row), last active ``idle_days`` ago."""
    params = {
        "m": world.merchant_id,
        "s": world.store_id,
        "p": world.program_id,
        "n": n,
        "idle": idle_days,
        "tag": tag,
    }
    with app.app_context():
        db.session.execute(
            text(
                "INSERT INTO customers (merchant_id, email, first_name, last_name,"
                " preferred_locale, marketing_consent, created_at, updated_at)"
                " SELECT :m, :tag || g || '@example.lu', 'Ada', 'Race', 'en', false, now(), now()"
                " FROM generate_series(1, :n) g"
            ),
            params,
        )
        db.session.execute(
            text(
                "INSERT INTO loyalty_cards (merchant_id, customer_id, program_id, card_number,"
                " enrolled_at_store_id, points_balance, total_points_earned,"
                " total_points_redeemed, total_points_voided, total_points_expired, stamp_count,"
                " stamp_rewards_earned, stamp_rewards_redeemed, last_activity_at,"
                " wallet_sync_status, is_active, created_at, updated_at)"
                " SELECT :m, c.id, :p, 'P' || lpad(c.id::text, 15, '0'), :s, 40, 40, 0, 0, 0,"
                " 0, 0, 0, now() - make_interval(days => :idle), 'not_synced', true, now(), now()"
                " FROM customers c WHERE c.merchant_id = :m AND c.email LIKE :tag || '%'"
                " ORDER BY c.id"
            ),
            params,
        )
        db.session.execute(
            text(
                "INSERT INTO loyalty_transactions (merchant_id, card_id, type, points_delta,"
                " stamps_delta, points_balance_after, note, created_at)"
                " SELECT :m, k.id, 'earn', 40, 0, 40, '', k.last_activity_at"
                " FROM loyalty_cards k JOIN customers c ON c.id = k.customer_id"
                " WHERE k.merchant_id = :m AND c.email LIKE :tag || '%'"
            ),
            params,
        )
        dbmod.commit()


def _cli(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": database_url(),
        "HUEY_URL": "memory://",
        "HUEY_IMMEDIATE": "false",
        "MAIL_BACKEND": "memory",
        "INSTANCE_PATH": str(tmp_path / "instance"),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "loyalty", *args],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _count(app: Flask, sql: str, world: World) -> int:
    with app.app_context():
        value = db.session.scalar(text(sql), {"m": world.merchant_id})
        db.session.rollback()
        return int(value or 0)


EXPIRY_ROWS = "SELECT count(*) FROM loyalty_transactions WHERE merchant_id = :m AND type = 'expiry'"
DUE_LEFT = "SELECT count(*) FROM loyalty_cards WHERE merchant_id = :m AND points_balance > 0"


def _check_exactly_once(app: Flask, world: World, tmp_path: Path, due: int) -> None:
    with app.app_context():
        per_card = db.session.execute(
            text(
                "SELECT k.id, k.points_balance, k.total_points_expired, count(t.id)"
                " FROM loyalty_cards k LEFT JOIN loyalty_transactions t"
                " ON t.card_id = k.id AND t.type = 'expiry'"
                " WHERE k.merchant_id = :m GROUP BY k.id"
            ),
            {"m": world.merchant_id},
        ).all()
        emails = db.session.execute(
            text(
                "SELECT count(*), count(DISTINCT recipient) FROM email_logs"
                " WHERE merchant_id = :m AND code = 'loyalty_points_expired'"
            ),
            {"m": world.merchant_id},
        ).one()
        db.session.rollback()
    expired = [row for row in per_card if row[3]]
    assert len(expired) == due
    assert all(row[3] == 1 and row[1] == 0 and row[2] == 40 for row in expired)
    assert tuple(emails) == (due, due), "one email per expired card"
    verify = _cli(tmp_path, "verify-ledger", "--merchant", SLUG)
    out, _ = verify.communicate(timeout=120)
    assert verify.returncode == 0, out
    assert "Ledger consistent" in out


def _expired_count(output: str) -> int:
    match = re.search(r"Expired \d+ points on (\d+) cards", output)
    assert match, output
    return int(match.group(1))


def test_two_runs_in_parallel_expire_each_card_exactly_once(
    app: Flask, world: World, tmp_path: Path
) -> None:
    _make_cards(app, world, 12_000, idle_days=400, tag="due")
    _make_cards(app, world, 500, idle_days=10, tag="active")
    runs = [_cli(tmp_path, "expire-points", "--chunk-size", "100") for _ in range(2)]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert sum(_expired_count(out) for out in outputs) == 12_000
    _check_exactly_once(app, world, tmp_path, due=12_000)


def test_cards_held_by_a_terminal_are_skipped_then_taken_by_the_last_pass(
    app: Flask, world: World, tmp_path: Path
) -> None:
    _make_cards(app, world, 3_000, idle_days=400, tag="due")
    held = 5
    with app.app_context():
        engine = db.engine
    holder = engine.connect()
    try:
        tx = holder.begin()
        # A third connection holds the first cards of the first chunk, as a terminal would
        # hold a card it is crediting (for much longer, here).
        held_ids = holder.scalars(
            text(
                "SELECT id FROM loyalty_cards WHERE merchant_id = :m ORDER BY id LIMIT :n"
                " FOR UPDATE"
            ),
            {"m": world.merchant_id, "n": held},
        ).all()
        run = _cli(tmp_path, "expire-points", "--chunk-size", "100")
        # Generous: the deadline includes the command's start-up (an app import), which takes
        # many seconds on a loaded machine; without SKIP LOCKED the job never gets past.
        deadline = time.monotonic() + 40
        while _count(app, EXPIRY_ROWS, world) < 3_000 - held:
            if run.poll() is not None or time.monotonic() > deadline:
                run.kill()
                pytest.fail(
                    f"the job did not get past the locked cards: "
                    f"{_count(app, EXPIRY_ROWS, world)} expired in 40 s"
                )
            time.sleep(0.05)
        assert _count(app, DUE_LEFT, world) == held
        tx.commit()  # the terminal is done; the last pass takes the held cards
    finally:
        holder.close()
    out, _ = run.communicate(timeout=60)
    assert run.returncode == 0, out
    assert _expired_count(out) == 3_000
    assert _count(app, DUE_LEFT, world) == 0
    assert len(held_ids) == held
    _check_exactly_once(app, world, tmp_path, due=3_000)


def test_kill_9_mid_run_loses_nothing_and_a_rerun_completes(
    app: Flask, world: World, tmp_path: Path
) -> None:
    total = 30_000
    _make_cards(app, world, total, idle_days=400, tag="due")
    run = _cli(tmp_path, "expire-points", "--chunk-size", "50")
    deadline = time.monotonic() + 120
    while _count(app, EXPIRY_ROWS, world) < 500:
        assert run.poll() is None, run.communicate()[0]
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(run.pid, signal.SIGKILL)
    run.wait(timeout=30)
    at_kill = _count(app, EXPIRY_ROWS, world)
    assert at_kill < total, "the run finished before the kill: make it bigger"
    # Whatever was committed is whole: every expired card has its ledger row and its email.
    left = _count(app, DUE_LEFT, world)
    assert at_kill + left == total
    rerun = _cli(tmp_path, "expire-points")
    out, _ = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, out
    assert _expired_count(out) == total - at_kill
    _check_exactly_once(app, world, tmp_path, due=total)


def test_emails_and_wallet_syncs_are_enqueued_only_after_their_chunk_commits(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import loyalty.services.expiry as expiry
    import loyalty.tasks as tasks
    from loyalty.services.expiry import expire_inactive_points

    _make_cards(app, world, 250, idle_days=400, tag="due")
    with app.app_context():
        observer = db.engine.connect()
    seen: list[tuple[str, int, int]] = []

    def committed(sql: str, ids: list[int]) -> int:
        # Another connection sees only committed rows.
        value = observer.scalar(text(sql), {"ids": ids})
        observer.rollback()
        return int(value)

    real_prepare = tasks.prepare_emails

    def prepare_spy(email_log_ids: list[int]) -> list[int]:
        sql = "SELECT count(*) FROM email_logs WHERE id = ANY(:ids)"
        seen.append(("emails", len(email_log_ids), committed(sql, email_log_ids)))
        return real_prepare(email_log_ids)

    def wallet_spy(card_ids: list[int]) -> None:
        sql = "SELECT count(*) FROM loyalty_cards WHERE id = ANY(:ids) AND points_balance = 0"
        seen.append(("wallet", len(card_ids), committed(sql, card_ids)))

    monkeypatch.setattr(tasks, "prepare_emails", prepare_spy)
    monkeypatch.setattr(expiry, "_wallet_enabled", lambda: True)
    monkeypatch.setattr(expiry, "_enqueue_wallet_syncs", wallet_spy)
    try:
        with app.app_context():
            report = expire_inactive_points(chunk_size=100, commit=dbmod.commit)
    finally:
        observer.close()
    assert report.cards == 250
    assert [kind for kind, _, _ in seen] == ["emails", "wallet"] * 3
    # Each chunk's rows were committed, all of them, when its work was enqueued.
    assert all(size == visible for _, size, visible in seen)
    assert sum(size for kind, size, _ in seen if kind == "wallet") == 250

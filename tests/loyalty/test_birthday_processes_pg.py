"""The birthday job as two OS processes in parallel on PostgreSQL, committing for real.

Each test runs ``flask --app wsgi loyalty expire-points`` in subprocesses against the test
database, with thousands of cards made by set-based SQL. Huey's queue is in memory in those
processes, so the emails stay as log rows (one per card, checked here). The rows are removed
afterwards by deleting the test merchant (every loyalty and email row cascades from it).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
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

SLUG = "birthday-processes"


@dataclass
class World:
    merchant_id: int
    store_id: int
    program_id: int


@pytest.fixture
def world(app: Flask, tmp_path: Path) -> Iterator[World]:
    with app.app_context():
        last_run = db.session.scalar(select(func.max(TaskRun.id))) or 0
        merchant = Merchant(name="Birthday S.à r.l.", slug=SLUG, contact_email="b@example.lu")
        store = Store(merchant=merchant, name="Birthday", slug="birthday-processes-store")
        db.session.add_all([merchant, store])
        db.session.flush()
        program = create_program(
            merchant,
            kind=ProgramKind.POINTS,
            name="Processes",
            welcome_bonus_points=0,
            points_per_euro=Decimal("1"),
            birthday_emails_enabled=True,
            birthday_bonus_points=25,
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


def _make_birthday_cards(app: Flask, world: World, n: int, consent: bool, tag: str) -> None:
    """``n`` cards whose customers were born today (Luxembourg), with or without consent."""
    params = {
        "m": world.merchant_id,
        "s": world.store_id,
        "p": world.program_id,
        "n": n,
        "tag": tag,
        "consent": consent,
    }
    with app.app_context():
        db.session.execute(
            text(
                "INSERT INTO customers (merchant_id, email, first_name, last_name,"
                " preferred_locale, marketing_consent, birthday, created_at, updated_at)"
                " SELECT :m, :tag || g || '@example.lu', 'Ada', 'Race', 'lb', :consent,"
                " make_date(1990, extract(month FROM now() AT TIME ZONE 'Europe/Luxembourg')::int,"
                " extract(day FROM now() AT TIME ZONE 'Europe/Luxembourg')::int), now(), now()"
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
                " SELECT :m, c.id, :p, 'B' || lpad(c.id::text, 15, '0'), :s, 0, 0, 0, 0, 0,"
                " 0, 0, 0, now(), 'not_synced', true, now(), now()"
                " FROM customers c WHERE c.merchant_id = :m AND c.email LIKE :tag || '%'"
                " ORDER BY c.id"
            ),
            params,
        )
        dbmod.commit()
        # As after any bulk load: fresh statistics, so the processes plan for these rows.
        db.session.execute(text("ANALYZE customers, loyalty_cards, loyalty_transactions"))
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


def test_two_birthday_runs_in_parallel_credit_and_email_each_card_once(
    app: Flask, world: World, tmp_path: Path
) -> None:
    if date.today().month == 2 and date.today().day == 29:
        pytest.skip("born on 29 February 1990 does not exist")
    _make_birthday_cards(app, world, 3_000, consent=True, tag="yes")
    _make_birthday_cards(app, world, 300, consent=False, tag="no")

    runs = [_cli(tmp_path, "send-birthday-emails", "--chunk-size", "200") for _ in range(2)]
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    emailed = [int(re.search(r"Queued (\d+) emails", out).group(1)) for out in outputs]  # type: ignore[union-attr]
    assert sum(emailed) == 3_000, outputs

    with app.app_context():
        per_card = db.session.execute(
            text(
                "SELECT c.marketing_consent, k.points_balance, k.last_birthday_year,"
                " count(t.id) FROM loyalty_cards k JOIN customers c ON c.id = k.customer_id"
                " LEFT JOIN loyalty_transactions t ON t.card_id = k.id"
                " AND t.type = 'birthday_bonus' WHERE k.merchant_id = :m"
                " GROUP BY c.marketing_consent, k.id"
            ),
            {"m": world.merchant_id},
        ).all()
        emails = db.session.execute(
            text(
                "SELECT count(*), count(DISTINCT recipient),"
                " count(*) FILTER (WHERE list_unsubscribe_url IS NOT NULL) FROM email_logs"
                " WHERE merchant_id = :m AND code = 'loyalty_birthday'"
            ),
            {"m": world.merchant_id},
        ).one()
        db.session.rollback()
    with_consent = [row for row in per_card if row[0]]
    without = [row for row in per_card if not row[0]]
    assert len(with_consent) == 3_000
    assert len(without) == 300
    assert all(row[1] == 25 and row[3] == 1 and row[2] for row in with_consent)
    assert all(row[1] == 0 and row[3] == 0 and row[2] is None for row in without)
    assert tuple(emails) == (3_000, 3_000, 3_000), "one email per card, each unsubscribable"

    again = _cli(tmp_path, "send-birthday-emails")
    out, _ = again.communicate(timeout=300)
    assert again.returncode == 0, out
    assert "Queued 0 emails" in out
    verify = _cli(tmp_path, "verify-ledger", "--merchant", SLUG)
    out, _ = verify.communicate(timeout=120)
    assert verify.returncode == 0, out

"""On PostgreSQL, committed for real: after an erasure, a ``pg_dump`` of the whole database
holds none of the customer's values; and two retention runs at once erase each inactive
customer once.

These tests do not use the rolled-back per-test transaction (``pg_dump`` and other
connections only see committed rows); everything is removed afterwards by deleting the test
merchants (their rows cascade), the task runs and the seeded templates.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from loyalty.data_rights.erasure import erase_customer
from loyalty.data_rights.tasks import run_retention
from loyalty.models import LoyaltyCard, LoyaltyTransaction
from loyalty.services.programs import get_settings
from loyalty.services.verify import verify_ledger
from messaging.models import EmailTemplate
from platform_core import db as dbmod
from platform_core.customers.models import Customer
from platform_core.extensions import db
from platform_core.models_base import utcnow
from platform_core.task_runs.models import TaskRun, TaskRunSource
from platform_core.tenancy.models import Merchant, Store
from tests.conftest import database_url
from tests.loyalty.data_rights.world import build_world

pytestmark = pytest.mark.postgres

LAST_NAME = "Quetschentaart"
PHONE = "+352 621 555 019"


def pg_dump_binary() -> str:
    """Found like scripts/pg-throwaway.sh finds the server's binaries."""
    for candidate in [
        "/usr/lib/postgresql/15/bin/pg_dump",
        *glob.glob("/usr/lib/postgresql/*/bin/pg_dump"),
    ]:
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("pg_dump")
    if found is None:
        pytest.fail("pg_dump not found")
    return found


def dump_database() -> str:
    url = make_url(database_url())
    completed = subprocess.run(
        [
            pg_dump_binary(),
            "--data-only",
            "--no-owner",
            "-h",
            url.host or "127.0.0.1",
            "-p",
            str(url.port or 5432),
            "-U",
            url.username or "postgres",
            url.database or "postgres",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return completed.stdout


@pytest.fixture
def committed(app: Flask) -> Iterator[dict[str, Any]]:
    """A merchant and store committed for real; removed afterwards with everything else."""
    tag = uuid.uuid4().hex[:8]
    with app.app_context():
        had_templates = db.session.scalar(select(func.count()).select_from(EmailTemplate)) > 0
        started = utcnow()
        merchant = Merchant(name="Dump S.à r.l.", slug=f"dump-{tag}", contact_email="d@example.lu")
        store = Store(merchant=merchant, name="Dump", slug=f"dump-store-{tag}")
        db.session.add_all([merchant, store])
        dbmod.commit()
        state = {
            "merchant_id": merchant.id,
            "store_id": store.id,
            "tag": tag,
            "merchants": [merchant.id],
        }
    try:
        yield state
    finally:
        with app.app_context():
            for merchant_id in state["merchants"]:
                db.session.execute(
                    text("DELETE FROM merchants WHERE id = :id"), {"id": merchant_id}
                )
            db.session.execute(
                text("DELETE FROM task_runs WHERE started_at >= :t"),
                {"t": started - timedelta(seconds=1)},
            )
            if not had_templates:
                db.session.execute(text("DELETE FROM email_templates"))
            dbmod.commit()


def test_after_an_erasure_the_dump_holds_none_of_the_customer_s_values(app, committed):
    email = f"zephyrine.{committed['tag']}@example.lu"
    with app.app_context():
        merchant = db.session.get(Merchant, committed["merchant_id"])
        store = db.session.get(Store, committed["store_id"])
        world = build_world(
            app.test_client(), merchant, store, email=email, last_name=LAST_NAME, phone=PHONE
        )
    dump = dump_database().lower()
    for value in (email, LAST_NAME.lower(), PHONE):
        assert value in dump, f"the world does not hold {value}: the test would prove nothing"

    with app.app_context():
        customer = db.session.get(Customer, world.customer_id)
        erase_customer(customer)
        dbmod.commit()
        assert verify_ledger(world.merchant_id).ok

    dump = dump_database().lower()
    for value in (email, LAST_NAME.lower(), PHONE):
        lines = [line for line in dump.splitlines() if value in line]
        assert not lines, f"{value} is still in the database: {lines[:3]}"


def _age(customer_id: int, days: int) -> None:
    """Make the customer, their cards and ledger rows ``days`` old."""
    moment = utcnow() - timedelta(days=days)
    db.session.execute(
        text("UPDATE customers SET created_at = :m WHERE id = :id"),
        {"m": moment, "id": customer_id},
    )
    card_ids = (
        select(LoyaltyCard.id).where(LoyaltyCard.customer_id == customer_id).scalar_subquery()
    )
    db.session.execute(
        text("UPDATE loyalty_cards SET created_at = :m WHERE customer_id = :id"),
        {"m": moment, "id": customer_id},
    )
    db.session.execute(
        LoyaltyTransaction.__table__.update()
        .where(LoyaltyTransaction.card_id.in_(card_ids))
        .values(created_at=moment)
    )


def test_two_retention_runs_at_once_erase_each_inactive_customer_once(app, committed):
    from loyalty.models import ProgramKind
    from loyalty.services.enrollment import EnrollmentData, enroll_customer
    from loyalty.services.programs import create_program

    with app.app_context():
        merchant = db.session.get(Merchant, committed["merchant_id"])
        store = db.session.get(Store, committed["store_id"])
        create_program(merchant, kind=ProgramKind.POINTS, name="Old club", welcome_bonus_points=10)
        get_settings(merchant.id).retention_inactive_months = 12
        dbmod.commit()
        ids = []
        for n in range(30):
            card = enroll_customer(
                store,
                EnrollmentData(
                    email=f"old{n}.{committed['tag']}@example.lu",
                    first_name="Old",
                    last_name=f"Timer{n}",
                    locale="en",
                    marketing_consent=False,
                    accept_terms=True,
                ),
                source="console",
            ).card
            ids.append(card.customer_id)
        dbmod.commit()
        inactive, _active = ids[:25], ids[25:]
        for customer_id in inactive:
            _age(customer_id, 500)
        dbmod.commit()

    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                run_retention(TaskRunSource.CLI, merchant_id=committed["merchant_id"])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors

    with app.app_context():
        erased = set(
            db.session.scalars(
                select(Customer.id).where(
                    Customer.merchant_id == committed["merchant_id"],
                    Customer.erased_at.is_not(None),
                )
            )
        )
        assert erased == set(inactive)
        runs = list(
            db.session.scalars(
                select(TaskRun).where(TaskRun.task_name == "purge_inactive_customers_task")
            )
        )
        assert len(runs) >= 2
        assert sum(int(r.summary.split("customers: ")[1].split(",")[0]) for r in runs[-2:]) == 25
        assert verify_ledger(committed["merchant_id"]).ok

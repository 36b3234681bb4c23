"""Real concurrency on PostgreSQL: threads with their own connections, committing for real.

These tests do not use the rolled-back per-test transaction: each thread opens its own
session (its own app context) and commits. The rows are removed afterwards by deleting the
test merchant (every loyalty row cascades from it).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from loyalty.models import LoyaltyCard, LoyaltyTransaction, ProgramKind
from loyalty.services.enrollment import EnrollmentData, enroll_customer
from loyalty.services.ledger import earn_points
from loyalty.services.programs import create_program
from loyalty.services.verify import verify_ledger
from platform_core import db as dbmod
from platform_core.extensions import db
from platform_core.tenancy.models import Merchant, Store

pytestmark = pytest.mark.postgres


@pytest.fixture
def committed_store(app: Flask, notifications: Any) -> Iterator[tuple[int, int]]:
    """A merchant, store and points program committed for real; deleted afterwards."""
    with app.app_context():
        merchant = Merchant(
            name="Concurrency S.à r.l.", slug="concurrency-test", contact_email="c@example.lu"
        )
        store = Store(merchant=merchant, name="Concurrency", slug="concurrency-store")
        db.session.add_all([merchant, store])
        db.session.flush()
        create_program(
            merchant,
            kind=ProgramKind.POINTS,
            name="Race",
            welcome_bonus_points=0,
            points_per_euro=Decimal("1"),
            points_expiry_days=365,
        )
        dbmod.commit()
        ids = (merchant.id, store.id)
    try:
        yield ids
    finally:
        with app.app_context():
            db.session.execute(text("DELETE FROM merchants WHERE id = :id"), {"id": ids[0]})
            dbmod.commit()


def _enroll(app: Flask, store_id: int, email: str) -> int:
    with app.app_context():
        store = db.session.get(Store, store_id)
        data = EnrollmentData(
            email=email,
            first_name="Ada",
            last_name="Race",
            locale="en",
            marketing_consent=False,
            accept_terms=True,
        )
        card_id = enroll_customer(store, data, source="console").card.id
        dbmod.commit()
        return card_id


def _in_threads(count: int, target: Any) -> list[BaseException]:
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            target(index)
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_concurrent_earns_lose_no_update(app: Flask, committed_store: tuple[int, int]) -> None:
    merchant_id, store_id = committed_store
    card_id = _enroll(app, store_id, "earner@example.lu")
    threads, per_thread = 8, 25
    barrier = threading.Barrier(threads)

    def earn(index: int) -> None:
        barrier.wait()
        with app.app_context():
            for i in range(per_thread):
                card = db.session.get(LoyaltyCard, card_id)
                store = db.session.get(Store, store_id)
                earn_points(card, store=store, points=index + 1, idempotency_key=f"t{index}-{i}")
                dbmod.commit()

    assert _in_threads(threads, earn) == []
    expected = per_thread * sum(range(1, threads + 1))
    with app.app_context():
        card = db.session.get(LoyaltyCard, card_id)
        assert card.points_balance == expected == card.total_points_earned
        rows = db.session.scalar(
            select(func.count())
            .select_from(LoyaltyTransaction)
            .where(LoyaltyTransaction.card_id == card_id)
        )
        assert rows == threads * per_thread
        report = verify_ledger(merchant_id)
        assert report.ok, report.differences
        assert report.transactions == threads * per_thread


def test_concurrent_same_idempotency_key_writes_one_row(
    app: Flask, committed_store: tuple[int, int]
) -> None:
    _, store_id = committed_store
    card_id = _enroll(app, store_id, "retry@example.lu")
    barrier = threading.Barrier(4)
    seen: list[int] = []

    def earn(_: int) -> None:
        barrier.wait()
        with app.app_context():
            card = db.session.get(LoyaltyCard, card_id)
            row = earn_points(
                card, store=db.session.get(Store, store_id), points=7, idempotency_key="receipt-1"
            )
            seen.append(row.id)
            dbmod.commit()

    assert _in_threads(4, earn) == []
    assert len(set(seen)) == 1
    with app.app_context():
        assert db.session.get(LoyaltyCard, card_id).points_balance == 7


def test_double_submit_of_one_email_makes_one_card(
    app: Flask, committed_store: tuple[int, int]
) -> None:
    merchant_id, store_id = committed_store
    barrier = threading.Barrier(4)
    card_ids: list[int] = []

    def submit(_: int) -> None:
        barrier.wait()
        card_ids.append(_enroll(app, store_id, "Double@Example.lu"))

    assert _in_threads(4, submit) == []
    assert len(set(card_ids)) == 1
    with app.app_context():
        count = db.session.scalar(
            select(func.count())
            .select_from(LoyaltyCard)
            .where(LoyaltyCard.merchant_id == merchant_id)
        )
        assert count == 1

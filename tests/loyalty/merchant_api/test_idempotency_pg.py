"""20 concurrent identical requests on PostgreSQL, real threads against a real HTTP server:
one ledger row, 20 identical answers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select, text
from werkzeug.serving import make_server

from loyalty.merchant_api.keys import create_api_key
from loyalty.models import LoyaltyTransaction, ProgramKind, TransactionType
from loyalty.services.enrollment import EnrollmentData, enroll_customer
from loyalty.services.programs import create_program
from platform_core import db as dbmod
from platform_core.extensions import db
from platform_core.tenancy.models import Merchant, Store

pytestmark = pytest.mark.postgres


@pytest.fixture
def live(app: Flask, notifications: Any) -> Iterator[dict[str, Any]]:
    with app.app_context():
        merchant = Merchant(name="Idem S.à r.l.", slug="idem-test", contact_email="i@example.lu")
        store = Store(merchant=merchant, name="Idem", slug="idem-store")
        db.session.add_all([merchant, store])
        db.session.flush()
        create_program(
            merchant,
            kind=ProgramKind.POINTS,
            name="Idem",
            welcome_bonus_points=0,
            points_per_euro=Decimal("1"),
        )
        data = EnrollmentData(
            email="idem@example.lu",
            first_name="I",
            last_name="D",
            locale="en",
            marketing_consent=False,
            accept_terms=True,
        )
        card = enroll_customer(store, data, source="console").card
        key = create_api_key(merchant, "Till").key
        dbmod.commit()
        world = {"merchant_id": merchant.id, "card_id": card.id, "number": card.card_number}
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    world.update(url=f"http://127.0.0.1:{server.server_port}", key=key)
    try:
        yield world
    finally:
        server.shutdown()
        with app.app_context():
            db.session.execute(
                text("DELETE FROM merchants WHERE id = :id"), {"id": world["merchant_id"]}
            )
            dbmod.commit()


def test_twenty_concurrent_identical_requests_make_one_row(app: Flask, live: dict) -> None:
    count = 20
    barrier = threading.Barrier(count)
    answers: list[tuple[int, bytes]] = []
    failures: list[BaseException] = []

    def call() -> None:
        try:
            barrier.wait()
            response = requests.post(
                f"{live['url']}/api/v1/merchant/cards/{live['number']}/earn",
                json={"store": "idem-store", "amount": "19.99"},
                headers={"Authorization": f"Bearer {live['key']}", "Idempotency-Key": "receipt-42"},
                timeout=30,
            )
            answers.append((response.status_code, response.content))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=call) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert len(answers) == count
    assert {status for status, _ in answers} == {201}
    assert len({body for _, body in answers}) == 1
    with app.app_context():
        rows = db.session.scalar(
            select(func.count())
            .select_from(LoyaltyTransaction)
            .where(
                LoyaltyTransaction.card_id == live["card_id"],
                LoyaltyTransaction.type == TransactionType.EARN,
            )
        )
        assert rows == 1

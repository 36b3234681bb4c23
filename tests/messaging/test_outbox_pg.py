"""Two deliveries of one row at the same moment, on PostgreSQL: only one reaches SMTP.

Real concurrency: each thread has its own app context, session and connection, and commits
for real. A barrier holds both deliveries until each has loaded the row as ``queued``, then
lets both claim it at once. The rows are removed afterwards.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from messaging import delivery
from messaging.models import EmailLog, EmailStatus, EmailTemplate
from platform_core import db as dbmod
from platform_core.extensions import db
from platform_core.models_base import utcnow
from platform_core.tenancy.models import Merchant, Store

pytestmark = [pytest.mark.postgres, pytest.mark.smtp]


@pytest.fixture
def committed_row(app: Flask) -> Iterator[int]:
    """A queued email, its template, merchant and store, committed; removed afterwards."""
    with app.app_context():
        merchant = Merchant(name="Race S.à r.l.", slug="outbox-race", contact_email="r@race.lu")
        store = Store(merchant=merchant, name="Race", slug="outbox-race-store")
        template = EmailTemplate(
            code="loyalty_points_expired",
            locale="en",
            subject="Expired",
            body_html="<p>{{ customer_first_name }}</p>",
        )
        db.session.add_all([merchant, store, template])
        db.session.flush()
        row = EmailLog(
            merchant_id=merchant.id,
            store_id=store.id,
            recipient="race@example.lu",
            code="loyalty_points_expired",
            locale="en",
            status=EmailStatus.QUEUED,
            context_json='{"customer_first_name": "Ada"}',
            lease_expires_at=utcnow() + timedelta(seconds=120),
        )
        db.session.add(row)
        dbmod.commit()
        ids = (row.id, template.id, merchant.id)
    try:
        yield ids[0]
    finally:
        with app.app_context():
            db.session.execute(text("DELETE FROM email_templates WHERE id = :id"), {"id": ids[1]})
            db.session.execute(text("DELETE FROM merchants WHERE id = :id"), {"id": ids[2]})
            dbmod.commit()


def test_two_concurrent_deliveries_of_one_row_send_it_once(
    app: Flask,
    committed_row: int,
    smtp_server: Any,
    use_smtp: Callable[[int], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_smtp(smtp_server.port)
    barrier = threading.Barrier(2)
    real_claim = delivery._claim

    def claim_together(row: Any, **kwargs: Any) -> bool:
        barrier.wait(timeout=10)  # both have read the row as queued
        return real_claim(row, **kwargs)

    monkeypatch.setattr(delivery, "_claim", claim_together)
    errors: list[BaseException] = []
    statuses: list[Any] = []

    def run() -> None:
        try:
            with app.app_context():
                row = delivery.deliver(committed_row)
                statuses.append(row.status if row is not None else None)
                dbmod.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert len(smtp_server.messages) == 1
    with app.app_context():
        row = db.session.get(EmailLog, committed_row)
        assert row.status == EmailStatus.SENT
        assert row.attempts == 1
        assert smtp_server.messages[0]["Message-ID"] == row.message_id

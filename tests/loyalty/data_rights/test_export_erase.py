"""Export and erasure of one customer: every table about them is exported, and after the
erasure none of their values is left in any table (read back through SQLAlchemy here; the
PostgreSQL dump test greps the whole database)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Table, select

from loyalty.data_rights.erasure import AlreadyErased, erase_customer, erased_email
from loyalty.data_rights.export import export_csv, export_customer
from loyalty.models import LoyaltyCard, LoyaltyTransaction
from loyalty.services.verify import verify_ledger
from messaging.models import EmailLog, EmailStatus
from platform_core import db as dbmod
from platform_core.customers.models import Customer
from platform_core.extensions import Model, db
from tests.loyalty.data_rights.world import World, build_world
from tests.support.webhook_receiver import webhook_receiver

EMAIL = "zephyrine.quetschentaart@example.lu"
LAST_NAME = "Quetschentaart"
PHONE = "+352 621 987 654"


@pytest.fixture
def receiver() -> Any:
    with webhook_receiver() as rec:
        yield rec


@pytest.fixture
def world(client, session, dummy_merchant, dummy_store, receiver) -> World:
    w = build_world(
        client,
        dummy_merchant,
        dummy_store,
        email=EMAIL,
        last_name=LAST_NAME,
        phone=PHONE,
        receiver_url=receiver.url,
    )
    from loyalty.webhooks.models import WebhookEndpoint

    receiver.secret = session.get(WebhookEndpoint, w.endpoint_id).secret
    return w


def referencing_tables() -> dict[str, set[str]]:
    """Every table with a foreign key into customers, or into such a table (independently of
    the service's own walk): table → the tables it references among them."""
    found: dict[str, set[str]] = {"customers": set()}
    grew = True
    while grew:
        grew = False
        for name, table in Model.metadata.tables.items():
            for fk in table.foreign_keys:
                target = fk.column.table.name
                if target in found and target != name and target not in found.get(name, set()):
                    found.setdefault(name, set()).add(target)
                    grew = True
    return found


def _customer(session, world: World) -> Customer:
    customer = session.get(Customer, world.customer_id)
    assert customer is not None
    return customer


def test_every_table_that_references_the_customer_or_their_cards_is_exported(session, world):
    tables = referencing_tables()
    assert {"loyalty_cards", "consent_records", "loyalty_transactions"} <= set(tables)
    data = export_customer(_customer(session, world))
    exported = data["tables"]
    # The expected rows of each table, found by following the foreign keys from the customer.
    ids: dict[str, set[Any]] = {"customers": {world.customer_id}}
    pending = dict(tables)
    del pending["customers"]
    while pending:
        for name, targets in list(pending.items()):
            if targets & set(pending):
                continue
            table: Table = Model.metadata.tables[name]
            wanted: set[Any] = set()
            for fk in table.foreign_keys:
                target = fk.column.table.name
                if target in ids and ids[target]:
                    wanted |= set(
                        session.scalars(
                            select(table.c.id).where(fk.parent.in_(sorted(ids[target])))
                        )
                    )
            ids[name] = wanted
            del pending[name]
    for name in tables:
        assert name in exported, f"{name} references the customer but is not exported"
        assert {row["id"] for row in exported[name]} == ids[name], name
        assert ids[name], f"the world has no {name} row: the test would prove nothing"
    assert len(exported["consent_records"]) >= 2  # granted at enrollment, then withdrawn


def test_export_holds_the_copies_without_foreign_keys(session, world):
    data = export_customer(_customer(session, world))
    assert data["customer"]["email"] == EMAIL
    assert data["customer"]["phone"] == PHONE
    emails = data["tables"]["email_logs"]
    assert emails
    assert all(row["recipient"] == EMAIL for row in emails)
    sent = [row for row in emails if row["status"] == "sent"]
    assert sent
    assert all(row["subject"] and row["body_html"] for row in sent)
    assert isinstance(emails[0]["context_json"], dict)
    assert [row["address"] for row in data["tables"]["email_suppressions"]] == [EMAIL]
    types = {row["type"] for row in data["tables"]["webhook_events"]}
    assert {"card.enrolled", "points.earned"} <= types
    answers = data["tables"]["merchant_api_idempotency_keys"]
    assert answers
    assert any(EMAIL in json.dumps(row["response_body"]) for row in answers)
    assert data["tables"]["task_runs"]
    assert [w["card_number"] for w in data["wallet_objects"]] == [world.card_number]
    json.dumps(data)  # JSON all the way down
    csv_text = export_csv(data)
    assert csv_text.startswith("section,row,field,value")
    assert EMAIL in csv_text
    assert "loyalty_transactions" in csv_text


def _every_value(session) -> str:
    """Every row of every table as text (the in-process stand-in for a database dump)."""
    chunks = []
    for table in Model.metadata.sorted_tables:
        for row in session.execute(select(table)):
            chunks.append(repr(tuple(row)))
    return "\n".join(chunks).lower()


def test_after_erasure_no_table_holds_the_customer_s_values(session, world, receiver):
    before = _every_value(session)
    assert EMAIL in before
    assert LAST_NAME.lower() in before
    assert PHONE.lower() in before
    balance = session.get(LoyaltyCard, world.card_id).points_balance
    ledger_rows = session.scalar(
        select(db.func.count()).where(LoyaltyTransaction.card_id == world.card_id)
    )

    erase_customer(_customer(session, world))
    dbmod.commit()

    after = _every_value(session)
    for value in (EMAIL, LAST_NAME.lower(), PHONE.lower(), "zéphyrine"):
        assert value not in after, value
    customer = _customer(session, world)
    assert customer.email == erased_email(customer.id)
    assert customer.phone is None
    assert customer.birthday is None
    assert customer.erased_at is not None
    assert not customer.marketing_consent
    card = session.get(LoyaltyCard, world.card_id)
    assert not card.is_active
    assert card.points_balance == balance
    assert (
        session.scalar(select(db.func.count()).where(LoyaltyTransaction.card_id == world.card_id))
        == ledger_rows
    )
    assert verify_ledger(world.merchant_id).ok
    # The consent history stays, tied to the customer id only.
    assert len(customer.consent_records) >= 2
    logs = list(session.scalars(select(EmailLog).where(EmailLog.merchant_id == world.merchant_id)))
    assert logs
    assert all(log.body_html is None and log.subject is None for log in logs)
    assert all(log.status is not EmailStatus.QUEUED for log in logs)

    erased = [r for r in receiver.delivered() if r.type == "customer.erased"]
    assert len(erased) == 1
    assert erased[0].verified
    assert erased[0].data["customer"] == {"id": world.customer_id}
    assert erased[0].data["cards"] == [world.card_number]
    assert EMAIL not in json.dumps(erased[0].data)

    with pytest.raises(AlreadyErased):
        erase_customer(customer)


def test_an_erased_customer_gets_no_more_email(session, world):
    from loyalty.notifications import loyalty_notifications

    erase_customer(_customer(session, world))
    dbmod.commit()
    assert loyalty_notifications.points_expired(world.card_id, 10) is None

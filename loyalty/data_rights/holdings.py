"""Where a customer's personal data is held: the rows of every table about them.

Tables that reference the customer through a foreign key (directly or through their cards)
are found from the metadata (:func:`personal_tables`), so a table added later is exported
too. Tables that hold a copy of the address or a card number without a foreign key (the
email log, the suppression list, webhook events, stored API answers, task runs) are listed
here by hand; :func:`holdings` returns the rows of both kinds.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Table, false, func, or_, select

from loyalty.merchant_api.models import IdempotencyRecord
from loyalty.models import LoyaltyCard
from loyalty.webhooks.models import WebhookEvent
from messaging.models import EmailLog, EmailSuppression, normalize_address
from platform_core.customers.models import Customer
from platform_core.extensions import Model, db
from platform_core.task_runs.models import TaskRun

#: The table every personal row hangs from.
ROOT_TABLE = "customers"


def personal_tables() -> dict[str, list[tuple[str, str]]]:
    """Every table that references the customer, directly or through another such table.

    :return: table name → ``(column, referenced table)`` pairs of its foreign keys into the
        customer's tables (``customers`` itself maps to an empty list).
    """
    tables = Model.metadata.tables
    found: dict[str, list[tuple[str, str]]] = {ROOT_TABLE: []}
    changed = True
    while changed:
        changed = False
        for name, table in tables.items():
            for fk in table.foreign_keys:
                target = fk.column.table.name
                if target in found and name != target:
                    pair = (fk.parent.name, target)
                    if pair not in found.setdefault(name, []):
                        found[name].append(pair)
                        changed = True
    return found


def jsonable(value: Any) -> Any:
    """A column value as JSON takes it (dates ISO 8601, decimals as strings, enums' values)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def row_dict(table: Table, row: Any) -> dict[str, Any]:
    return {column.name: jsonable(row._mapping[column]) for column in table.columns}


def _table(name: str) -> Table:
    return Model.metadata.tables[name]


def format_card_number(number: str) -> str:
    """A card number as the emails print it (groups of four)."""
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


@dataclass
class Identity:
    """What identifies a customer in rows that have no foreign key to them."""

    customer_id: int
    merchant_id: int
    email: str
    first_name: str
    last_name: str
    phone: str | None
    card_ids: list[int] = field(default_factory=list)
    card_numbers: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, customer: Customer) -> Identity:
        cards = db.session.execute(
            select(LoyaltyCard.id, LoyaltyCard.card_number)
            .where(LoyaltyCard.customer_id == customer.id)
            .order_by(LoyaltyCard.id)
        ).all()
        return cls(
            customer_id=customer.id,
            merchant_id=customer.merchant_id,
            email=normalize_address(customer.email),
            first_name=customer.first_name,
            last_name=customer.last_name,
            phone=customer.phone,
            card_ids=[row.id for row in cards],
            card_numbers=[row.card_number for row in cards],
        )

    @property
    def needles(self) -> list[str]:
        """Strings whose presence in a copied text ties it to the customer."""
        values = [self.email, *self.card_numbers]
        values += [format_card_number(n) for n in self.card_numbers]
        return [v for v in values if v]


def _contains_any(column: Any, needles: Iterable[str]) -> ColumnElement[bool]:
    clauses = [func.lower(column).contains(n.lower(), autoescape=True) for n in needles]
    return or_(*clauses) if clauses else false()


def email_log_clause(who: Identity) -> ColumnElement[bool]:
    """The customer's rows of the email log: sent to their address, or about their cards."""
    return (EmailLog.merchant_id == who.merchant_id) & (
        (func.lower(EmailLog.recipient) == who.email)
        | _contains_any(EmailLog.context_json, who.needles)
    )


def suppression_clause(who: Identity) -> ColumnElement[bool]:
    return (EmailSuppression.merchant_id == who.merchant_id) & (
        EmailSuppression.address == who.email
    )


def webhook_event_clause(who: Identity) -> ColumnElement[bool]:
    about_cards = WebhookEvent.card_id.in_(who.card_ids) if who.card_ids else false()
    return (WebhookEvent.merchant_id == who.merchant_id) & (
        about_cards | _contains_any(WebhookEvent.payload, who.needles)
    )


def idempotency_clause(who: Identity) -> ColumnElement[bool]:
    return (IdempotencyRecord.merchant_id == who.merchant_id) & _contains_any(
        IdempotencyRecord.response_body, who.needles
    )


def task_run_clause(who: Identity) -> ColumnElement[bool]:
    return _contains_any(TaskRun.summary, [who.email]) | _contains_any(TaskRun.error, [who.email])


#: Tables holding copies without a foreign key: name → the clause of the customer's rows.
COPY_TABLES = {
    "email_logs": (EmailLog, email_log_clause),
    "email_suppressions": (EmailSuppression, suppression_clause),
    "webhook_events": (WebhookEvent, webhook_event_clause),
    "merchant_api_idempotency_keys": (IdempotencyRecord, idempotency_clause),
    "task_runs": (TaskRun, task_run_clause),
}


def _fk_rows(name: str, links: Sequence[tuple[str, str]], ids: dict[str, list[Any]]) -> list[Any]:
    table = _table(name)
    if name == ROOT_TABLE:
        clause: ColumnElement[bool] = table.c.id.in_(ids[ROOT_TABLE])
    else:
        clauses = [table.c[column].in_(ids[target]) for column, target in links if ids.get(target)]
        if not clauses:
            return []
        clause = or_(*clauses)
    pk = list(table.primary_key.columns)
    return list(db.session.execute(select(table).where(clause).order_by(*pk)))


def holdings(customer: Customer) -> dict[str, list[dict[str, Any]]]:
    """Every row held about ``customer``, as plain dicts, by table name (oldest first)."""
    who = Identity.of(customer)
    tables = personal_tables()
    ids: dict[str, list[Any]] = {ROOT_TABLE: [customer.id]}
    result: dict[str, list[dict[str, Any]]] = {}
    pending = dict(tables)
    # Parents before children: a table's rows are found by its parents' ids.
    while pending:
        progressed = False
        for name, links in list(pending.items()):
            if any(target in pending and target != name for _col, target in links):
                continue
            rows = _fk_rows(name, links, ids)
            table = _table(name)
            result[name] = [row_dict(table, row) for row in rows]
            if "id" in table.c:
                ids[name] = [row._mapping[table.c.id] for row in rows]
            del pending[name]
            progressed = True
        if not progressed:
            raise RuntimeError(f"foreign keys form a cycle between {sorted(pending)}")
    for name, (_model, clause) in COPY_TABLES.items():
        table = _table(name)
        rows = list(db.session.execute(select(table).where(clause(who)).order_by(table.c.id)))
        result[name] = [row_dict(table, row) for row in rows]
    return result


def parse_json(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text

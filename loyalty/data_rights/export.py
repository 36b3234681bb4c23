"""``export_customer``: everything held about a customer, as one JSON-able dict (or CSV)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlalchemy import select

from loyalty.data_rights.audit import audit
from loyalty.data_rights.holdings import holdings, jsonable, parse_json
from loyalty.models import LoyaltyCard
from loyalty.wallet.payloads import loyalty_object_body
from loyalty.wallet.service import wallet_enabled
from platform_core.customers.models import Customer
from platform_core.extensions import db
from platform_core.models_base import utcnow
from platform_core.staff.models import StaffUser

FORMAT_VERSION = 1


def _wallet_objects(customer: Customer) -> list[dict[str, Any]]:
    """Each card's Google Wallet object as it is sent to Google, with its sync state."""
    cards = db.session.scalars(
        select(LoyaltyCard).where(LoyaltyCard.customer_id == customer.id).order_by(LoyaltyCard.id)
    )
    objects = []
    for card in cards:
        entry: dict[str, Any] = {
            "card_number": card.card_number,
            "object_id": card.wallet_object_id,
            "sync_status": jsonable(card.wallet_sync_status),
            "synced_at": jsonable(card.wallet_synced_at),
        }
        if wallet_enabled():
            entry["object"] = loyalty_object_body(card)
        objects.append(entry)
    return objects


def export_customer(customer: Customer, *, staff_user: StaffUser | None = None) -> dict[str, Any]:
    """Everything held about ``customer``: the profile, then the rows of every table about
    them by table name (consent history, cards, ledger, the email log with the subjects and
    bodies sent, suppressions, webhook events, stored API answers, task runs), and the
    Google Wallet objects of their cards.

    JSON copies kept in text columns (email context, webhook payloads, API answers) are
    decoded, so the export reads as one document. The export is recorded for the audit log.

    :param staff_user: who asked (``None``: the command line).
    """
    tables = holdings(customer)
    for name, column in (
        ("email_logs", "context_json"),
        ("webhook_events", "payload"),
        ("merchant_api_idempotency_keys", "response_body"),
    ):
        for row in tables.get(name, []):
            row[column] = parse_json(row[column])
    merchant = customer.merchant
    audit(
        "customer.exported",
        customer_id=customer.id,
        merchant_id=customer.merchant_id,
        staff_user_id=staff_user.id if staff_user is not None else None,
    )
    return {
        "export": {
            "format_version": FORMAT_VERSION,
            "exported_at": jsonable(utcnow()),
            "merchant": {"name": merchant.name, "slug": merchant.slug},
        },
        "customer": tables["customers"][0],
        "tables": tables,
        "wallet_objects": _wallet_objects(customer),
    }


def export_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False)


def export_csv(data: dict[str, Any]) -> str:
    """The export as one CSV table: ``section, row, field, value`` (nested values as JSON)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "row", "field", "value"])
    for name, rows in data["tables"].items():
        for index, row in enumerate(rows, start=1):
            for key, value in row.items():
                writer.writerow([name, index, key, _cell(value)])
    for index, entry in enumerate(data["wallet_objects"], start=1):
        for key, value in entry.items():
            writer.writerow(["wallet_objects", index, key, _cell(value)])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)

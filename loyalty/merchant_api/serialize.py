"""JSON shapes of cards and ledger rows as the merchant API answers them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from loyalty.models import LoyaltyCard, LoyaltyTransaction
from platform_core.extensions import db

HISTORY_LENGTH = 10


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def transaction_json(row: LoyaltyTransaction) -> dict[str, Any]:
    return {
        "id": row.id,
        "type": row.type.value,
        "points_delta": row.points_delta,
        "stamps_delta": row.stamps_delta,
        "points_balance_after": row.points_balance_after,
        "purchase_amount": str(row.purchase_amount) if row.purchase_amount is not None else None,
        "store": row.store.slug if row.store is not None else None,
        "voided_transaction_id": row.voided_transaction_id,
        "note": row.note or "",
        "created_at": _iso(row.created_at),
    }


def card_json(
    card: LoyaltyCard, *, store_id: int | None = None, history: bool = True
) -> dict[str, Any]:
    """The card with its balance, stamps and (optionally) latest rows, newest first.

    :param store_id: a store-limited key sees only its store's rows.
    """
    program = card.program
    body: dict[str, Any] = {
        "number": card.card_number,
        "is_active": card.is_active,
        "program_kind": program.kind.value,
        "customer": {
            "email": card.customer.email,
            "first_name": card.customer.first_name,
            "last_name": card.customer.last_name,
        },
        "points_balance": card.points_balance,
        "stamp_count": card.stamp_count,
        "stamps_target": program.stamps_target if program.uses_stamps else None,
        "rewards_available": card.stamp_rewards_earned - card.stamp_rewards_redeemed,
        "enrolled_at": _iso(card.created_at),
        "last_activity_at": _iso(card.last_activity_at),
    }
    if history:
        stmt = select(LoyaltyTransaction).where(LoyaltyTransaction.card_id == card.id)
        if store_id is not None:
            stmt = stmt.where(LoyaltyTransaction.store_id == store_id)
        rows = db.session.scalars(stmt.order_by(LoyaltyTransaction.id.desc()).limit(HISTORY_LENGTH))
        body["history"] = [transaction_json(row) for row in rows]
    return body

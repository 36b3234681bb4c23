"""``Idempotency-Key`` for every POST of the merchant API.

The first request with a key inserts its record (``INSERT ... ON CONFLICT DO NOTHING``) in
the same transaction as the operation and stores the answer before the commit. A concurrent
request with the same key blocks on the unique index until that commit, then reads the stored
answer. If the first request fails, its record is rolled back with everything else and the
key may be used again. Records are kept ``MERCHANT_API_IDEMPOTENCY_HOURS`` (at least 24 h).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import ReturningInsert

from loyalty.merchant_api import errors
from loyalty.merchant_api.models import IdempotencyRecord
from platform_core.extensions import db
from platform_core.models_base import utcnow

MAX_KEY_LENGTH = 100


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: str


def request_hash(method: str, path: str, payload: object) -> str:
    """Fingerprint of a request: same method, path and JSON body (key order ignored)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def _insert(values: dict[str, object]) -> ReturningInsert[int]:
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return (
        module.insert(IdempotencyRecord)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["merchant_id", "key"])
        .returning(IdempotencyRecord.id)
    )


def claim(merchant_id: int, key: str, fingerprint: str) -> int | StoredResponse:
    """Claim ``key`` for this request: its record id, or the answer stored for it earlier.

    :raises ApiError: ``idempotency_key_reused`` (different request),
        ``request_in_progress`` (not answered yet: cannot happen after a commit).
    """
    inserted = db.session.scalar(
        _insert(
            {
                "merchant_id": merchant_id,
                "key": key,
                "request_hash": fingerprint,
                "created_at": utcnow(),
            }
        )
    )
    if inserted is not None:
        return inserted
    record = db.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.merchant_id == merchant_id, IdempotencyRecord.key == key
        )
    )
    if record is None:  # purged in between: start again as new
        return claim(merchant_id, key, fingerprint)
    if record.request_hash != fingerprint:
        raise errors.idempotency_key_reused()
    if record.status_code is None:
        raise errors.request_in_progress()
    return StoredResponse(status=record.status_code, body=record.response_body or "")


def store(record_id: int, status: int, body: str) -> None:
    """Keep the answer on the claimed record (committed with the operation)."""
    db.session.execute(
        cast(Table, IdempotencyRecord.__table__)
        .update()
        .where(IdempotencyRecord.id == record_id)
        .values(status_code=status, response_body=body)
    )


def purge_expired(hours: int, now: datetime | None = None) -> int:
    """Delete records older than ``hours``; returns how many."""
    cutoff = (now or utcnow()) - timedelta(hours=max(hours, 24))
    result = cast(
        CursorResult[Any],
        db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff)),
    )
    return result.rowcount or 0

"""Creating, checking and revoking API keys.

A key reads ``lk_<prefix>_<secret>``. The prefix (random, 8 hex digits) finds the row; the
row holds only the SHA-256 of the whole key, compared in constant time. With 256 random bits
a fast hash is enough: there is nothing to brute-force.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from loyalty.merchant_api.models import ApiKey, ApiScope
from platform_core.extensions import db
from platform_core.i18n_lazy import _l
from platform_core.models_base import utcnow
from platform_core.staff.models import StaffUser
from platform_core.tenancy.models import Merchant, Store

KEY_PREFIX = "lk_"
#: ``last_used_at`` is written at most this often per key.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyError(ValueError):
    """A key could not be created (localized message)."""


@dataclass(frozen=True)
class NewApiKey:
    api_key: ApiKey
    #: The key itself: shown once, never stored.
    key: str


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_scopes(values: list[str] | tuple[str, ...] | str) -> list[str]:
    """Known scopes from a list or a comma/space separated string, in a stable order."""
    if isinstance(values, str):
        values = values.replace(",", " ").split()
    wanted = {v.strip() for v in values if v and v.strip()}
    unknown = wanted - {s.value for s in ApiScope}
    if unknown:
        raise ApiKeyError(_l("Unknown scope: %(scopes)s.", scopes=", ".join(sorted(unknown))))
    return [s.value for s in ApiScope if s.value in wanted]


_ALL_SCOPES: tuple[str, ...] = tuple(s.value for s in ApiScope)


def create_api_key(
    merchant: Merchant,
    name: str,
    *,
    scopes: list[str] | tuple[str, ...] | str = _ALL_SCOPES,
    store: Store | None = None,
    created_by: StaffUser | None = None,
) -> NewApiKey:
    """Create a key for ``merchant`` (optionally limited to ``store``); flushes.

    :param merchant: whose data the key may reach.
    :param name: what the merchant calls it ("Till 1").
    :param scopes: scopes granted (default: all).
    :param store: the only store it may act for; ``None`` = every store of the merchant.
    :param created_by: the staff member creating it.
    :return: the row and the key, which is shown once and never stored.
    :raises ApiKeyError: no name, unknown scope, no scope, a store of another merchant.
    """
    name = (name or "").strip()
    if not name:
        raise ApiKeyError(_l("Please give the key a name."))
    granted = parse_scopes(scopes)
    if not granted:
        raise ApiKeyError(_l("Choose at least one scope."))
    if store is not None and store.merchant_id != merchant.id:
        raise ApiKeyError(_l("The store belongs to another merchant."))
    prefix = secrets.token_hex(4)
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        merchant_id=merchant.id,
        store_id=store.id if store is not None else None,
        name=name[:120],
        prefix=prefix,
        key_hash=hash_key(key),
        scopes=" ".join(granted),
        created_by_id=created_by.id if created_by is not None else None,
        created_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    return NewApiKey(api_key=row, key=key)


def find_active_key(key: str | None) -> ApiKey | None:
    """The unrevoked key row for ``key``, or ``None`` (unknown, malformed, revoked)."""
    if not key or not key.startswith(KEY_PREFIX):
        return None
    prefix, sep, secret = key[len(KEY_PREFIX) :].partition("_")
    if not sep or not secret or len(prefix) > 16:
        return None
    row = db.session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.key_hash, hash_key(key)):
        return None
    return row


def touch_last_used(row: ApiKey, now: datetime | None = None) -> None:
    """Record that the key was used (one conditional UPDATE at most once a minute)."""
    moment = now or utcnow()
    cutoff = moment - LAST_USED_RESOLUTION
    last = row.last_used_at
    if last is not None and (last if last.tzinfo else last.replace(tzinfo=moment.tzinfo)) > cutoff:
        return
    # Conditional in SQL too: of concurrent requests only the first writes (the others
    # re-check the row after its commit and match nothing).
    db.session.execute(
        update(ApiKey)
        .where(
            ApiKey.id == row.id,
            or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < cutoff),
        )
        .values(last_used_at=moment)
        .execution_options(synchronize_session=False)
    )


def revoke_api_key(row: ApiKey, now: datetime | None = None) -> ApiKey:
    """Revoke the key; the next request with it answers 401."""
    if row.revoked_at is None:
        row.revoked_at = now or utcnow()
        db.session.flush()
    return row

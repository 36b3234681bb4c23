"""API keys of merchants and the stored answers of idempotent requests."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from platform_core.extensions import Model
from platform_core.i18n_lazy import _l
from platform_core.models_base import utcnow
from platform_core.staff.models import StaffUser
from platform_core.tenancy.models import Merchant, Store


class ApiScope(enum.StrEnum):
    CARDS_READ = "cards:read"
    POINTS_WRITE = "points:write"
    ENROLL = "enroll"

    @property
    def label(self) -> str:
        return str(SCOPE_LABELS[self])


SCOPE_LABELS = {
    ApiScope.CARDS_READ: _l("Look up cards"),
    ApiScope.POINTS_WRITE: _l("Earn, redeem, stamp and void"),
    ApiScope.ENROLL: _l("Enroll customers"),
}


class ApiKey(Model):
    """A merchant's key for the integration API. Only a hash of the key is stored."""

    __tablename__ = "merchant_api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    #: The key acts only for this store; empty = every store of the merchant.
    store_id: Mapped[int | None] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    #: The visible, random part of the key (``lk_<prefix>_...``), used to find the row.
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    #: SHA-256 of the whole key: the key has 256 bits of entropy, so no slow hash is needed.
    key_hash: Mapped[str] = mapped_column(String(64))
    #: Space-separated scopes (``cards:read points:write enroll``).
    scopes: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    #: Updated at most once a minute, so a busy till does not write on every request.
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    merchant: Mapped[Merchant] = relationship()
    store: Mapped[Store | None] = relationship()
    created_by: Mapped[StaffUser | None] = relationship()

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def __str__(self) -> str:
        return f"{self.name} (lk_{self.prefix}_…)"


class IdempotencyRecord(Model):
    """The answer to a POST made with an ``Idempotency-Key``, kept at least 24 h.

    The unique ``(merchant_id, key)`` decides between concurrent requests: the first insert
    wins; the others wait for its commit and answer the stored response.
    """

    __tablename__ = "merchant_api_idempotency_keys"
    __table_args__ = (UniqueConstraint("merchant_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    #: SHA-256 of method, path and the canonical JSON body.
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )

"""Staff users of the console and their roles."""

from __future__ import annotations

import enum
import secrets

from flask_login import UserMixin
from sqlalchemy import Boolean, Column, Enum, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from platform_core.extensions import Model, db
from platform_core.i18n_lazy import _l
from platform_core.models_base import TimestampMixin
from platform_core.tenancy.models import Merchant, Store


class StaffRole(enum.StrEnum):
    PLATFORM_ADMIN = "platform_admin"
    MERCHANT_ADMIN = "merchant_admin"
    STORE_STAFF = "store_staff"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    StaffRole.PLATFORM_ADMIN: _l("Platform administrator"),
    StaffRole.MERCHANT_ADMIN: _l("Merchant administrator"),
    StaffRole.STORE_STAFF: _l("Store staff"),
}


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


staff_user_stores = Table(
    "staff_user_stores",
    db.metadata,
    Column("staff_user_id", ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True),
    Column("store_id", ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True),
)


class StaffUser(UserMixin, TimestampMixin, Model):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Login name; stored lower-case.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    #: Argon2 hash of the password.
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[StaffRole] = mapped_column(
        Enum(
            StaffRole,
            name="staff_role",
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    #: Empty for platform admins; required for the other roles.
    merchant_id: Mapped[int | None] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    preferred_locale: Mapped[str | None] = mapped_column(String(5))
    #: Inactive users cannot log in.
    is_active_user: Mapped[bool] = mapped_column("is_active", Boolean, default=True)
    #: Part of every session and remember-me cookie of this user; a new value (logout,
    #: password change, deactivation, role change) ends all of them at once.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)

    merchant: Mapped[Merchant | None] = relationship()
    #: The stores a store_staff user works in.
    stores: Mapped[list[Store]] = relationship(secondary=staff_user_stores, order_by="Store.name")

    @property
    def is_active(self) -> bool:  # Flask-Login reads this
        return bool(self.is_active_user)

    def get_id(self) -> str:
        """Flask-Login's id for the session and remember-me cookies: id and session token.

        A cookie made before :func:`~platform_core.staff.services.end_sessions` names the
        old token and no longer loads the user.
        """
        if not self.session_token:
            self.session_token = new_session_token()
        return f"{self.id}:{self.session_token}"

    @property
    def is_platform_admin(self) -> bool:
        return self.role == StaffRole.PLATFORM_ADMIN

    @property
    def store_ids(self) -> set[int]:
        return {store.id for store in self.stores}

    def __str__(self) -> str:
        return self.full_name or self.email

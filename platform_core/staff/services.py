"""Staff accounts: creation, password hashing, authentication."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from platform_core.extensions import db
from platform_core.staff.models import StaffRole, StaffUser
from platform_core.tenancy.models import Merchant, Store

_hasher = PasswordHasher()
# Verifying against this keeps the timing of "unknown email" equal to "wrong password".
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 10


class StaffUserError(ValueError):
    """A staff account cannot be created as asked; the message says why."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: StaffUser | None, password: str) -> bool:
    try:
        if user is None:
            _hasher.verify(_DUMMY_HASH, password)
            return False
        ok = _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if ok and _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return ok


def get_staff_user_by_email(email: str) -> StaffUser | None:
    return db.session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))


def authenticate(email: str, password: str) -> StaffUser | None:
    """The active user with this email and password, or ``None``."""
    user = get_staff_user_by_email(email)
    if not verify_password(user, password):
        return None
    if user is None or not user.is_active:
        return None
    return user


def create_staff_user(
    email: str,
    password: str,
    role: StaffRole | str,
    merchant: Merchant | None = None,
    stores: list[Store] | None = None,
    full_name: str = "",
    preferred_locale: str | None = None,
) -> StaffUser:
    """Create a staff user and flush it.

    :param role: ``platform_admin``, ``merchant_admin`` or ``store_staff``.
    :param merchant: required for merchant admins and store staff; ``None`` for platform admins.
    :param stores: the stores a store_staff user works in; all must belong to ``merchant``.
    :raises StaffUserError: when the combination is not allowed.
    """
    role = StaffRole(role)
    email = email.strip().lower()
    stores = list(stores or [])
    if "@" not in email:
        raise StaffUserError(f"{email!r} is not an email address")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffUserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if get_staff_user_by_email(email) is not None:
        raise StaffUserError(f"a staff user with email {email} already exists")
    if role == StaffRole.PLATFORM_ADMIN:
        if merchant is not None or stores:
            raise StaffUserError("a platform admin belongs to no merchant and no store")
    elif merchant is None:
        raise StaffUserError(f"a {role.value} needs a merchant")
    if role == StaffRole.STORE_STAFF and not stores:
        raise StaffUserError("store staff need at least one store")
    if role == StaffRole.MERCHANT_ADMIN and stores:
        raise StaffUserError("a merchant admin works for all of the merchant's stores")
    for store in stores:
        if merchant is None or store.merchant_id != merchant.id:
            raise StaffUserError(f"store {store.slug} does not belong to the merchant")
    user = StaffUser(
        email=email,
        password_hash=hash_password(password),
        role=role,
        merchant=merchant,
        stores=stores,
        full_name=full_name,
        preferred_locale=preferred_locale,
        is_active_user=True,
    )
    db.session.add(user)
    db.session.flush()
    return user

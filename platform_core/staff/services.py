"""Staff accounts: creation, password hashing, authentication."""

from __future__ import annotations

import hmac

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from platform_core.extensions import db
from platform_core.i18n_lazy import _
from platform_core.staff.models import StaffRole, StaffUser, new_session_token
from platform_core.tenancy.models import Merchant, Store

_hasher = PasswordHasher()
# Verifying against this keeps the timing of "unknown email" equal to "wrong password".
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 10


class StaffUserError(ValueError):
    """A staff account cannot be saved as asked; the (translated) message says why.

    ``field`` names the form field at fault, so the admin can show the message next to it.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


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


def end_sessions(user: StaffUser) -> None:
    """End every session and remember-me cookie of ``user`` (a new session token) and flush.

    Called on logout, password change, deactivation and role change; whoever copied a cookie
    before then is logged out with the owner.
    """
    user.session_token = new_session_token()
    db.session.flush()


def load_session_user(session_id: str) -> StaffUser | None:
    """The active user a session or remember-me cookie names (``"<id>:<token>"``), or
    ``None`` when the token was rotated since, the id is unknown or the account disabled."""
    user_id, _sep, token = (session_id or "").partition(":")
    if not user_id.isdigit() or len(user_id) > 18 or not token:
        return None
    user = db.session.get(StaffUser, int(user_id))
    if user is None or not user.is_active or not user.session_token:
        return None
    if not hmac.compare_digest(user.session_token.encode(), token.encode()):
        return None
    return user


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


def check_password(password: str) -> None:
    """:raises StaffUserError: when ``password`` is too short."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise StaffUserError(
            _("The password must have at least %(count)d characters.", count=MIN_PASSWORD_LENGTH),
            field="password",
        )


def check_staff_assignment(
    role: StaffRole | str,
    merchant: Merchant | None,
    stores: list[Store],
    actor: StaffUser | None = None,
) -> StaffRole:
    """Check that ``role``, ``merchant`` and ``stores`` fit together, and that ``actor`` may
    hand them out.

    :param actor: the staff user doing it; ``None`` for the command line (no restriction).
    :returns: the role as a :class:`StaffRole`.
    :raises StaffUserError: when the combination is not allowed.
    """
    try:
        role = StaffRole(role)
    except ValueError:
        raise StaffUserError(_("Unknown role %(role)s.", role=role), field="role") from None
    if actor is not None and not actor.is_platform_admin:
        # Merchant admins manage the people of their own merchant, never platform admins.
        if actor.role != StaffRole.MERCHANT_ADMIN or role == StaffRole.PLATFORM_ADMIN:
            raise StaffUserError(
                _("You may not give the role %(role)s.", role=role.label), field="role"
            )
        if merchant is None or merchant.id != actor.merchant_id:
            raise StaffUserError(
                _("You may only add users to your own merchant."), field="merchant"
            )
    if role == StaffRole.PLATFORM_ADMIN:
        if merchant is not None or stores:
            raise StaffUserError(
                _("A platform administrator belongs to no merchant and no store."),
                field="merchant",
            )
    elif merchant is None:
        raise StaffUserError(_("A %(role)s needs a merchant.", role=role.label), field="merchant")
    if role == StaffRole.STORE_STAFF and not stores:
        raise StaffUserError(_("Store staff need at least one store."), field="stores")
    if role == StaffRole.MERCHANT_ADMIN and stores:
        raise StaffUserError(
            _(
                "A merchant administrator works for all of the merchant's stores; "
                "leave the stores empty."
            ),
            field="stores",
        )
    for store in stores:
        if merchant is None or store.merchant_id != merchant.id:
            raise StaffUserError(
                _("The store %(store)s does not belong to the merchant.", store=store.name),
                field="stores",
            )
    return role


def check_staff_email(email: str, exclude_id: int | None = None) -> str:
    """Normalise ``email`` and make sure no other staff user has it.

    :raises StaffUserError: when it is no email address or is taken.
    """
    email = (email or "").strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise StaffUserError(_("%(email)s is not an email address.", email=email), field="email")
    existing = get_staff_user_by_email(email)
    if existing is not None and existing.id != exclude_id:
        raise StaffUserError(
            _("A staff user with the email %(email)s already exists.", email=email), field="email"
        )
    return email


def create_staff_user(
    email: str,
    password: str,
    role: StaffRole | str,
    merchant: Merchant | None = None,
    stores: list[Store] | None = None,
    full_name: str = "",
    preferred_locale: str | None = None,
    actor: StaffUser | None = None,
    is_active: bool = True,
) -> StaffUser:
    """Create a staff user and flush it.

    :param role: ``platform_admin``, ``merchant_admin`` or ``store_staff``.
    :param merchant: required for merchant admins and store staff; ``None`` for platform admins.
    :param stores: the stores a store_staff user works in; all must belong to ``merchant``.
    :param actor: the staff user creating the account (``None`` from the command line).
    :raises StaffUserError: when the combination is not allowed.
    """
    stores = list(stores or [])
    email = check_staff_email(email)
    check_password(password)
    role = check_staff_assignment(role, merchant, stores, actor)
    user = StaffUser(
        email=email,
        password_hash=hash_password(password),
        role=role,
        merchant=merchant,
        stores=stores,
        full_name=full_name,
        preferred_locale=preferred_locale,
        is_active_user=is_active,
    )
    db.session.add(user)
    db.session.flush()
    return user


def update_staff_user(
    user: StaffUser,
    email: str,
    role: StaffRole | str,
    merchant: Merchant | None,
    stores: list[Store],
    full_name: str = "",
    preferred_locale: str | None = None,
    is_active: bool = True,
    new_password: str | None = None,
    actor: StaffUser | None = None,
) -> StaffUser:
    """Change a staff user's account and flush it.

    :param new_password: a new password, or ``None``/empty to keep the current one.
    :param actor: the staff user making the change (``None`` from the command line).
    :raises StaffUserError: when the change is not allowed.
    """
    stores = list(stores or [])
    email = check_staff_email(email, exclude_id=user.id)
    role = check_staff_assignment(role, merchant, stores, actor)
    # Sessions opened under the old rights or password end (see end_sessions).
    ends_sessions = (
        bool(new_password)
        or (user.is_active_user and not is_active)
        or user.role != role
        or user.merchant_id != (merchant.id if merchant is not None else None)
    )
    if new_password:
        check_password(new_password)
        user.password_hash = hash_password(new_password)
    user.email = email
    user.role = role
    user.merchant = merchant
    user.stores = stores
    user.full_name = full_name
    user.preferred_locale = preferred_locale
    user.is_active_user = is_active
    if ends_sessions:
        user.session_token = new_session_token()
    db.session.flush()
    return user


def set_password(user: StaffUser, password: str) -> None:
    """Replace ``user``'s password (checked for length), end all their sessions and flush.

    :raises StaffUserError: when the password is too short.
    """
    check_password(password)
    user.password_hash = hash_password(password)
    end_sessions(user)

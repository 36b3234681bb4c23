"""Signed links that let a staff member choose a password: reset links and invitations.

A token carries the user's id and a fingerprint of the current password hash, signed with
``SECRET_KEY`` and a salt per purpose (a reset link cannot be used as an invitation and the
other way round) and timestamped, so it expires. Once the password changes the fingerprint no
longer matches: the link works once, and every older link dies with it.
"""

from __future__ import annotations

import enum
import hashlib
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from platform_core.extensions import db
from platform_core.links import external_url
from platform_core.staff.models import StaffUser


class TokenPurpose(enum.StrEnum):
    RESET = "reset"
    INVITATION = "invitation"


class TokenProblem(enum.StrEnum):
    """Why a token does not open the set-password page."""

    INVALID = "invalid"
    EXPIRED = "expired"
    #: The password changed since the link was made (used already, or superseded).
    USED = "used"


_SALTS = {
    TokenPurpose.RESET: "staff-password-reset",
    TokenPurpose.INVITATION: "staff-invitation",
}
_ENDPOINTS = {
    TokenPurpose.RESET: ("auth.reset_password", "/password/reset/"),
    TokenPurpose.INVITATION: ("auth.accept_invitation", "/password/set/"),
}


def max_age_seconds(purpose: TokenPurpose) -> int:
    config = current_app.config
    if purpose == TokenPurpose.RESET:
        return int(config["PASSWORD_RESET_MAX_AGE_HOURS"]) * 3600
    return int(config["INVITATION_MAX_AGE_DAYS"]) * 24 * 3600


def _serializer(purpose: TokenPurpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALTS[purpose])


def password_fingerprint(user: StaffUser) -> str:
    # A digest, not the hash itself: the token is readable by whoever holds the link.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def make_password_token(user: StaffUser, purpose: TokenPurpose) -> str:
    """A signed token for ``user``'s set-password page; see :func:`resolve_password_token`."""
    return _serializer(purpose).dumps({"u": user.id, "p": password_fingerprint(user)})


def password_link(user: StaffUser, purpose: TokenPurpose) -> str:
    """The full link to ``user``'s set-password page, on ``PUBLIC_BASE_URL`` (never on the
    request's host, which a client can forge)."""
    token = make_password_token(user, purpose)
    endpoint, _prefix = _ENDPOINTS[purpose]
    return external_url(endpoint, token=token)


def resolve_password_token(
    token: str, purpose: TokenPurpose
) -> tuple[StaffUser | None, TokenProblem | None]:
    """The active user ``token`` names, or ``None`` and the reason it does not work."""
    try:
        payload: Any = _serializer(purpose).loads(token, max_age=max_age_seconds(purpose))
    except SignatureExpired:
        return None, TokenProblem.EXPIRED
    except BadSignature:
        return None, TokenProblem.INVALID
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
        return None, TokenProblem.INVALID
    user = db.session.get(StaffUser, payload["u"])
    if user is None or not user.is_active:
        return None, TokenProblem.INVALID
    if payload.get("p") != password_fingerprint(user):
        return None, TokenProblem.USED
    return user, None

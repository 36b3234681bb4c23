"""Password resets and invitations: the rules behind the set-password links.

Both send an email through the core's mail port (:mod:`platform_core.mail_port`), which the
app factory wires to messaging: it queues the email and sends it after the caller's
transaction commits. The core never imports messaging, which builds on it.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale, format_date, format_decimal

from platform_core.auth.tokens import (
    TokenProblem,
    TokenPurpose,
    max_age_seconds,
    password_link,
    resolve_password_token,
)
from platform_core.i18n import current_locale_code, normalise_locale
from platform_core.i18n_lazy import _
from platform_core.mail_port import send_mail
from platform_core.staff.models import StaffRole, StaffUser
from platform_core.staff.services import (
    StaffUserError,
    create_staff_user,
    get_staff_user_by_email,
    set_password,
)
from platform_core.tenancy.models import Merchant, Store


def _recipient_locale(user: StaffUser) -> str:
    merchant_locale = user.merchant.default_locale if user.merchant is not None else None
    return (
        normalise_locale(user.preferred_locale)
        or normalise_locale(merchant_locale)
        or current_locale_code()
    )


def _staff_context(user: StaffUser) -> dict[str, Any]:
    return {
        "recipient_name": user.full_name or user.email,
        "merchant_name": user.merchant.name if user.merchant is not None else "",
    }


def _send(code: str, user: StaffUser, locale: str, context: dict[str, Any]) -> Any:
    return send_mail(
        code,
        recipient=user.email,
        locale=locale,
        context={**_staff_context(user), **context},
        merchant_id=user.merchant_id,
    )


def request_password_reset(email: str, locale: str | None = None) -> StaffUser | None:
    """Email a reset link to the active staff user with ``email``, if there is one.

    The caller answers the same whatever this returns, so nobody learns which addresses
    have an account.

    :param email: the address typed on the "forgot your password" form.
    :param locale: the language of the page the request came from; the user's own
        preference wins.
    :return: the user the link was sent to, or ``None`` (unknown email, inactive account).
    """
    user = get_staff_user_by_email(email or "")
    if user is None or not user.is_active:
        return None
    locale = normalise_locale(user.preferred_locale) or normalise_locale(locale) or "en"
    hours = max_age_seconds(TokenPurpose.RESET) // 3600
    with force_locale(locale):
        context = {
            "reset_url": password_link(user, TokenPurpose.RESET),
            "valid_hours": format_decimal(hours),
        }
    _send("staff_password_reset", user, locale, context)
    return user


def invite_staff_user(
    email: str,
    role: StaffRole | str,
    merchant: Merchant | None = None,
    stores: list[Store] | None = None,
    full_name: str = "",
    preferred_locale: str | None = None,
    actor: StaffUser | None = None,
    is_active: bool = True,
) -> StaffUser:
    """Create an active staff account without a known password and email an invitation.

    The account gets a random password nobody knows; the invitation links to a page where
    the person chooses their own (valid ``INVITATION_MAX_AGE_DAYS`` days, once).

    :param actor: who invites (named in the email); ``None`` from the command line.
    :param is_active: must stay ``True``: a disabled account could not use the link.
    :raises StaffUserError: when the account cannot be created as asked.
    """
    if not is_active:
        raise StaffUserError(
            _("An invitation needs an active account: make it active, or type a password."),
            field="password",
        )
    user = create_staff_user(
        email,
        secrets.token_urlsafe(32),
        role,
        merchant=merchant,
        stores=stores,
        full_name=full_name,
        preferred_locale=preferred_locale,
        actor=actor,
    )
    send_invitation(user, actor)
    return user


def send_invitation(user: StaffUser, actor: StaffUser | None = None) -> None:
    """Email ``user`` a link to choose a password (after the transaction commits).

    :param actor: who invites; ``None`` signs the email as the platform team.
    """
    locale = _recipient_locale(user)
    days = int(current_app.config["INVITATION_MAX_AGE_DAYS"])
    with force_locale(locale):
        context = {
            "inviter_name": (str(actor) if actor is not None else _("The loyalty platform team")),
            "invitation_url": password_link(user, TokenPurpose.INVITATION),
            "expiry_date": format_date(date.today() + timedelta(days=days), format="long"),
        }
    _send("staff_invitation", user, locale, context)


def check_password_token(
    token: str, purpose: TokenPurpose
) -> tuple[StaffUser | None, TokenProblem | None]:
    """The user a reset or invitation link opens, or ``None`` and why not."""
    return resolve_password_token(token, purpose)


def set_password_with_token(token: str, purpose: TokenPurpose, password: str) -> StaffUser:
    """Set the password of the user ``token`` names; the link stops working at once.

    :raises StaffUserError: when the token no longer works (``field`` is ``None``) or the
        password breaks the rules (``field`` is ``"password"``).
    """
    user, problem = resolve_password_token(token, purpose)
    if user is None:
        raise StaffUserError(token_problem_message(problem))
    set_password(user, password)
    return user


def token_problem_message(problem: TokenProblem | None) -> str:
    if problem == TokenProblem.EXPIRED:
        return _("This link has expired. Ask for a new one.")
    if problem == TokenProblem.USED:
        return _("This link has already been used. Ask for a new one if you still need it.")
    return _("This link is not valid. Check that you copied all of it, or ask for a new one.")

"""Forgot password, reset links and invitations: thin views over :mod:`platform_core.auth.services`.

The forgot-password form answers the same page whatever the email, so nobody can probe for
accounts; it is rate-limited per client address and per email asked for (every request
counts, since a success looks like a failure from outside).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_user

from platform_core import db as dbmod
from platform_core.auth.blueprint import bp
from platform_core.auth.forms import ForgotPasswordForm, SetPasswordForm
from platform_core.auth.services import (
    check_password_token,
    request_password_reset,
    set_password_with_token,
    token_problem_message,
)
from platform_core.auth.tokens import TokenProblem, TokenPurpose, max_age_seconds
from platform_core.extensions import limiter
from platform_core.i18n import current_locale_code
from platform_core.i18n_lazy import _
from platform_core.ratelimit import client_ip
from platform_core.staff.services import StaffUserError


def _reset_limit() -> str:
    return current_app.config["RATELIMIT_PASSWORD_RESET"]


def _form_email() -> str:
    return (request.form.get("email") or "").strip().lower()


def _private(response: Any) -> Any:
    # The token is in the URL: keep it out of Referer headers and shared caches.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_reset_limit, key_func=client_ip, methods=["POST"], scope="password-reset-ip")
@limiter.limit(_reset_limit, key_func=_form_email, methods=["POST"], scope="password-reset-email")
def forgot_password() -> ResponseReturnValue:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        request_password_reset(form.email.data or "", locale=current_locale_code())
        dbmod.commit()
        hours = max_age_seconds(TokenPurpose.RESET) // 3600
        return render_template("auth/password_forgot_sent.html", hours=hours)
    status = 400 if request.method == "POST" else 200
    return render_template("auth/password_forgot.html", form=form), status


def _set_password_page(token: str, purpose: TokenPurpose) -> Any:
    user, problem = check_password_token(token, purpose)
    if user is None:
        status = 404 if problem == TokenProblem.INVALID else 410
        page = render_template(
            "auth/password_link_invalid.html",
            purpose=purpose.value,
            message=token_problem_message(problem),
        )
        return _private(current_app.make_response((page, status)))
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            set_password_with_token(token, purpose, form.password.data or "")
        except StaffUserError as exc:
            form.password.errors = [*form.password.errors, str(exc)]
        else:
            login_user(user)
            dbmod.commit()
            if purpose == TokenPurpose.INVITATION:
                flash(_("Welcome! Your password is set and you are logged in."), "success")
            else:
                flash(_("Your password has been changed and you are logged in."), "success")
            return redirect(url_for("admin.index"))
    status = 400 if request.method == "POST" else 200
    page = render_template("auth/password_set.html", form=form, purpose=purpose.value, user=user)
    return _private(current_app.make_response((page, status)))


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> ResponseReturnValue:
    return _set_password_page(token, TokenPurpose.RESET)


@bp.route("/password/set/<token>", methods=["GET", "POST"])
def accept_invitation(token: str) -> ResponseReturnValue:
    return _set_password_page(token, TokenPurpose.INVITATION)

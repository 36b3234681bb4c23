"""Staff login and logout.

Failed logins are rate-limited twice: per client address and per email tried (so neither one
machine guessing many accounts nor many machines guessing one account get far). Only failed
attempts count: a successful login answers 302 and is not deducted.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_limiter import RateLimitExceeded
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf.csrf import CSRFError

from platform_core import db as dbmod
from platform_core.audit.models import AuditAction
from platform_core.audit.services import record_audit
from platform_core.auth.blueprint import bp
from platform_core.auth.forms import LoginForm
from platform_core.extensions import limiter, login_manager
from platform_core.i18n_lazy import _
from platform_core.ratelimit import client_ip
from platform_core.staff.models import StaffUser
from platform_core.staff.services import (
    authenticate,
    end_sessions,
    get_staff_user_by_email,
    load_session_user,
)


@login_manager.user_loader
def _load_user(user_id: str) -> StaffUser | None:
    return load_session_user(user_id)


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _form_email() -> str:
    return (request.form.get("email") or "").strip().lower()


def _failed(response: Any) -> bool:
    # Successful logins redirect; everything else (wrong password, invalid form) counts.
    return response.status_code != 302


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else the console's home page.

    An open redirect would turn our login page into a phishing aid, so anything with a
    scheme, a host, a protocol-relative ``//`` or a backslash (browsers read ``/\\`` as
    ``//``) is refused.
    """
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not any(ord(ch) < 32 for ch in target)
        and not urlsplit(target).netloc
        and not urlsplit(target).scheme
    ):
        return target
    return url_for("admin.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    _login_limit, key_func=client_ip, methods=["POST"], scope="login-ip", deduct_when=_failed
)
@limiter.limit(
    _login_limit, key_func=_form_email, methods=["POST"], scope="login-email", deduct_when=_failed
)
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            login_user(user, remember=bool(form.remember.data))
            record_audit(
                AuditAction.LOGIN,
                model=StaffUser,
                object_id=user.id,
                merchant_id=user.merchant_id,
                actor=user,
            )
            dbmod.commit()  # a password rehash may be pending
            return redirect(safe_next(request.args.get("next")))
        _record_failed_login(form.email.data or "")
        flash(_("The email or password is not correct, or the account is disabled."), "danger")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


def _record_failed_login(email: str) -> None:
    """Audit a failed login: the email typed, the client address, and the merchant of the
    account it names (so its merchant admins see attempts on their staff)."""
    typed = email.strip().lower()
    target = get_staff_user_by_email(typed) if typed else None
    record_audit(
        AuditAction.LOGIN_FAILED,
        model=StaffUser,
        object_id=target.id if target is not None else None,
        merchant_id=target.merchant_id if target is not None else None,
        actor_email=typed[:254] or None,
    )
    dbmod.commit()


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> ResponseReturnValue:
    # Every session of this user ends, including cookies copied from this browser.
    end_sessions(current_user._get_current_object())
    dbmod.commit()
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.errorhandler(RateLimitExceeded)
def _too_many_attempts(exc: RateLimitExceeded) -> Any:
    if request.endpoint == "auth.forgot_password":
        return render_template("auth/password_too_many.html"), 429
    if request.endpoint == "auth.login":
        return render_template("auth/login_too_many.html"), 429
    return render_template("errors/429.html"), 429


@bp.errorhandler(CSRFError)
def _csrf_failed(exc: CSRFError) -> Any:
    # A stale login page (token expired, cookies cleared): say so instead of a bare 400.
    flash(_("The form expired. Please try again."), "warning")
    if request.endpoint == "auth.login":
        return render_template("auth/login.html", form=LoginForm(formdata=None)), 400
    if request.endpoint in {
        "auth.forgot_password",
        "auth.reset_password",
        "auth.accept_invitation",
    }:
        return redirect(request.path), 303
    return redirect(url_for("auth.login")), 303

"""Staff login and logout."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from platform_core import db as dbmod
from platform_core.auth.forms import LoginForm
from platform_core.extensions import db, limiter, login_manager
from platform_core.i18n_lazy import _
from platform_core.ratelimit import client_ip, client_ip_and_form_email
from platform_core.staff.models import StaffUser
from platform_core.staff.services import authenticate

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def _load_user(user_id: str) -> StaffUser | None:
    user = db.session.get(StaffUser, int(user_id))
    return user if user is not None and user.is_active else None


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect would turn our login page into a phishing aid.
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("admin.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, key_func=client_ip, methods=["POST"], scope="login-ip",
               deduct_when=lambda response: response.status_code != 302)
@limiter.limit(_login_limit, key_func=client_ip_and_form_email, methods=["POST"],
               scope="login-email", deduct_when=lambda response: response.status_code != 302)
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
            dbmod.commit()  # a password rehash may be pending
            return redirect(_safe_next(request.args.get("next")))
        flash(_("The email or password is not correct, or the account is disabled."), "danger")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))

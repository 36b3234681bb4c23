"""Public entry points that belong to no domain package: the root URL and health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, url_for

from platform_core.tenancy.resolver import current_store

bp = Blueprint("public", __name__)


@bp.route("/")
def root():
    # A store's own domain shows its enrollment page; the platform host goes to the console.
    if current_store:
        from loyalty.public_views import enrollment_page

        return enrollment_page(current_store)
    return redirect(url_for("admin.index"))


@bp.route("/healthz")
def healthz():
    return jsonify(status="ok")

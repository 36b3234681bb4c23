"""Public entry points that belong to no domain package: the health check.

The root URL belongs to the loyalty package (a store's domain shows its enrollment page).
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

bp = Blueprint("public", __name__)


@bp.route("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")

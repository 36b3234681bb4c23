"""Customer-facing pages: enrollment form and the card page behind a signed link."""

from __future__ import annotations

from flask import Blueprint, abort

bp = Blueprint("loyalty_public", __name__, template_folder="templates")


@bp.route("/card/<token>")
def card_page(token: str):
    abort(404)

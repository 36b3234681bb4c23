"""Public JSON API: program info and self-enrollment by store slug (documented in openapi.py).

Errors are JSON and localized from ``?lang=`` or ``Accept-Language``. Enrollment shares its
rate limit with the HTML form (``loyalty.public_limits``).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from loyalty.card_links import card_page_url
from loyalty.errors import LoyaltyError
from loyalty.forms import api_errors, form_from_json
from loyalty.models import LoyaltyProgram
from loyalty.openapi import openapi_document
from loyalty.public_limits import enroll_limit, program_info_limit
from loyalty.services.enrollment import enroll_customer
from loyalty.services.program_texts import has_terms, program_texts
from loyalty.services.programs import get_merchant_program
from platform_core import db as dbmod
from platform_core import errors as platform_errors
from platform_core.extensions import csrf
from platform_core.i18n import current_locale_code
from platform_core.i18n_lazy import _
from platform_core.tenancy.models import Store
from platform_core.tenancy.services import get_store_by_slug

bp = Blueprint("loyalty_api", __name__, url_prefix="/api/v1")

#: Service refusals that belong to one input field (the rest are form-wide: ``_form``).
_ERROR_FIELDS = {
    "invalid_email": "email",
    "name_required": "first_name",
    "terms_not_accepted": "accept_terms",
}


def error_response(
    status: int, code: str, message: str, **headers: str
) -> tuple[Response, int, dict[str, str]]:
    return jsonify(error={"code": code, "message": message}), status, headers


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> ResponseReturnValue:
    # JSON for every error of the API (404, 405, 413, 415, 429, ...), never an HTML page:
    # the platform's handler answers it, with the same shape as the refusals below.
    return platform_errors.handle_http_error(exc)


@bp.route("/ping")
def ping() -> ResponseReturnValue:
    """The framework floor of the benchmark: no database, no templates."""
    return jsonify(ok=True)


@bp.route("/openapi.json")
def openapi() -> ResponseReturnValue:
    return jsonify(openapi_document())


def _store_or_404(slug: str) -> Store | None:
    return get_store_by_slug(slug)


def _store_not_found() -> tuple[Response, int, dict[str, str]]:
    return error_response(404, "store_not_found", _("There is no store at this address."))


def _program_missing() -> tuple[Response, int, dict[str, str]]:
    return error_response(
        404, "program_missing", _("This store does not run a loyalty program at the moment.")
    )


def program_info(
    program: LoyaltyProgram, store: Store, enrollment_open: bool, locale: str
) -> dict[str, Any]:
    """The public description of ``program`` as the program endpoint returns it, its texts
    in ``locale`` (with the fallbacks of :func:`program_texts`)."""
    texts = program_texts(program, locale)
    return {
        "name": texts.name,
        "language": texts.locale,
        "kind": program.kind.value,
        "description": texts.description,
        "points_per_euro": float(program.points_per_euro) if program.uses_points else None,
        "welcome_bonus_points": program.welcome_bonus_points if program.uses_points else 0,
        "stamps_target": program.stamps_target if program.uses_stamps else None,
        "stamps_reward": texts.reward_description if program.uses_stamps else None,
        "points_expiry_days": program.points_expiry_days if program.uses_points else None,
        "logo_url": program.logo_url or None,
        "brand_color": program.brand_color,
        "terms_url": texts.terms_url or None,
        "terms_required": bool(texts.terms_url),
        "merchant_name": store.merchant.name,
        "store_name": store.name,
        "enrollment_open": enrollment_open,
    }


@bp.route("/stores/<slug>/program")
@program_info_limit
def store_program(slug: str) -> ResponseReturnValue:
    # The texts depend on the language (?lang= or Accept-Language): one entry per language.
    locale = current_locale_code()
    cached = _program_cache.get((slug, locale))
    if cached is not None:
        return current_app.response_class(cached, mimetype="application/json")
    store = _store_or_404(slug)
    if store is None:
        return _store_not_found()
    setup = get_merchant_program(store.merchant_id)
    if setup.program is None:
        return _program_missing()
    body = program_info(setup.program, store, setup.settings.self_enrollment_enabled, locale)
    dbmod.commit()  # get_settings creates the defaults on first use
    response = jsonify(body)
    _program_cache.put((slug, locale), response.get_data())
    return response


class _ProgramCache:
    """Program info (the JSON body) per store slug, kept ``PROGRAM_INFO_CACHE_SECONDS`` in
    this worker.

    The answer is public and changes rarely; a page or an app asking for it on every view
    would otherwise cost four queries each time. An edit shows after at most that delay.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], tuple[float, bytes]] = {}

    def _ttl(self) -> float:
        return float(current_app.config.get("PROGRAM_INFO_CACHE_SECONDS", 0))

    def get(self, slug: tuple[str, str]) -> bytes | None:
        if self._ttl() <= 0:
            return None
        entry = self._entries.get(slug)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, slug: tuple[str, str], body: bytes) -> None:
        ttl = self._ttl()
        if ttl <= 0:
            return
        with self._lock:
            if len(self._entries) > 10_000:  # unknown slugs are not cached; this is a bound
                self._entries.clear()
            self._entries[slug] = (time.monotonic() + ttl, body)


_program_cache = _ProgramCache()


@bp.route("/stores/<slug>/enroll", methods=["POST"])
@csrf.exempt
@enroll_limit
def store_enroll(slug: str) -> ResponseReturnValue:
    if not request.is_json:
        return error_response(
            415,
            "json_required",
            _("Send the request body as JSON (Content-Type: application/json)."),
        )
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return error_response(400, "invalid_json", _("The request body is not a JSON object."))
    store = _store_or_404(slug)
    if store is None:
        return _store_not_found()

    # A program without terms asks for no acceptance (the service checks it again).
    program = get_merchant_program(store.merchant_id).program
    form, type_errors = form_from_json(
        payload, terms_required=program is None or has_terms(program)
    )
    form.validate()
    errors = api_errors(form)
    for field, messages in type_errors.items():
        errors[field] = messages  # the type problem says more than "required"
    if errors:
        return jsonify(errors=errors), 422

    data = form.to_enrollment_data()
    try:
        # The service checks the active program and the merchant's self-enrollment switch.
        result = enroll_customer(store, data, source="api")
    except LoyaltyError as err:
        dbmod.rollback()
        if err.code == "program_missing":
            return _program_missing()
        if err.code == "self_enrollment_disabled":
            return error_response(403, err.code, str(err))
        field = _ERROR_FIELDS.get(err.code, "_form")
        return jsonify(errors={field: [str(err)]}, code=err.code), 422

    if not result.created:
        dbmod.commit()  # the owner's "here is your card" email is queued
        return jsonify(status="accepted", message=neutral_message()), 202
    card = result.card
    # Read everything before the commit: afterwards the card would be reloaded.
    body = {
        "card": {
            "number": card.card_number,
            "points_balance": card.points_balance,
            "stamp_count": card.stamp_count,
            "card_page_url": card_page_url(card),
        }
    }
    dbmod.commit()
    return jsonify(body), 201


def neutral_message() -> str:
    """The answer for an address that may or may not be enrolled already."""
    return _(
        "If this email address is new, the card has been created. Otherwise the address "
        "already has a card and we have sent its details to that address."
    )

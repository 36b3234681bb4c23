"""The merchant API: card look-up and ledger operations for tills and web shops.

Every operation goes through the loyalty services with the merchant's settings enforced;
this module only authenticates, resolves the key's merchant and store, and keeps POSTs
idempotent. Another merchant's card or transaction answers 404.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, cast, overload

from flask import Blueprint, Response, request
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

from loyalty.errors import LoyaltyError
from loyalty.merchant_api import errors, idempotency
from loyalty.merchant_api.auth import merchant_api_limit, require_scope
from loyalty.merchant_api.models import ApiKey, ApiScope
from loyalty.merchant_api.serialize import card_json, transaction_json
from loyalty.models import LoyaltyCard, LoyaltyTransaction
from loyalty.public_limits import retry_after_seconds
from loyalty.services import ledger
from loyalty.services.cards import get_card_by_number
from loyalty.services.enrollment import SUPPORTED_LOCALES, EnrollmentData, enroll_customer
from platform_core import db as dbmod
from platform_core.customers.models import Customer
from platform_core.extensions import csrf, db
from platform_core.tenancy.models import Store
from platform_core.tenancy.services import get_store_by_slug

bp = Blueprint("merchant_api", __name__, url_prefix="/api/v1/merchant")
csrf.exempt(bp)
merchant_api_limit(bp)

Answer = tuple[int, dict[str, Any]]
#: Bounds of numbers in requests: far above any till's needs, far below the columns' limits.
MAX_COUNT = 1_000_000
MAX_AMOUNT = Decimal("100000")


def _json_response(status: int, body: str, **headers: str) -> Response:
    return Response(body, status=status, mimetype="application/json", headers=headers)


def error_response(error: LoyaltyError, **headers: str) -> Response:
    body = json.dumps({"error": {"code": error.code, "message": str(error)}})
    return _json_response(errors.status_for(error), body, **headers)


@bp.errorhandler(LoyaltyError)
def _refused(error: LoyaltyError) -> Response:
    dbmod.rollback()
    headers = {"WWW-Authenticate": "Bearer"} if error.code == "unauthorized" else {}
    return error_response(error, **headers)


@bp.errorhandler(DataError)
def _out_of_range(exc: DataError) -> Response:
    # A value the database refuses (a balance beyond its integer range): the client's input.
    dbmod.rollback()
    return error_response(errors.invalid_field("amount"))


@bp.errorhandler(429)
def _too_many(exc: Exception) -> Response:
    return error_response(errors.rate_limited(), **{"Retry-After": str(retry_after_seconds())})


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    body = json.dumps({"error": {"code": "http_error", "message": exc.description or exc.name}})
    return _json_response(exc.code or 500, body)


# -- request helpers ---------------------------------------------------------------------


def _payload() -> dict[str, Any]:
    if not request.get_data():
        return {}
    if not request.is_json:
        raise errors.json_required()
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise errors.invalid_json()
    return payload


def _store_for(key: ApiKey, payload: dict[str, Any]) -> Store:
    slug = payload.get("store")
    if slug is not None and not isinstance(slug, str):
        raise errors.invalid_field("store")
    if key.store is not None:
        if slug and slug != key.store.slug:
            raise errors.key_store_only()
        return key.store
    if not slug:
        raise errors.store_required()
    store = get_store_by_slug(slug)
    if store is None or store.merchant_id != key.merchant_id:
        raise errors.store_not_found()
    return store


def _card(key: ApiKey, number: str) -> LoyaltyCard:
    card = get_card_by_number(key.merchant_id, number)
    if card is None:
        raise errors.card_not_found()
    return card


@overload
def _int_field(payload: dict[str, Any], name: str, *, required: Literal[True] = True) -> int: ...
@overload
def _int_field(payload: dict[str, Any], name: str, *, required: bool) -> int | None: ...
def _int_field(payload: dict[str, Any], name: str, *, required: bool = True) -> int | None:
    value = payload.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_COUNT:
        raise errors.invalid_field(name)
    return value


def _text(payload: dict[str, Any], name: str, limit: int = 500) -> str:
    value = payload.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise errors.invalid_field(name)
    return value[:limit]


def _amount(payload: dict[str, Any]) -> Decimal | None:
    value = payload.get("amount")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise errors.invalid_field("amount")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise errors.invalid_field("amount") from None
    # A finite Decimal's exponent is an int (the letters are for NaN and infinity).
    if not amount.is_finite() or cast(int, amount.as_tuple().exponent) < -2 or amount > MAX_AMOUNT:
        raise errors.invalid_field("amount")
    return amount


def _idempotent(key: ApiKey, operation: Callable[[dict[str, Any]], Answer]) -> Response:
    """Run ``operation`` once per ``Idempotency-Key``; replay its stored answer after."""
    idem_key = (request.headers.get("Idempotency-Key") or "").strip()
    if not idem_key or len(idem_key) > idempotency.MAX_KEY_LENGTH:
        raise errors.idempotency_key_required()
    payload = _payload()
    fingerprint = idempotency.request_hash(request.method, request.path, payload)
    claimed = idempotency.claim(key.merchant_id, idem_key, fingerprint)
    if isinstance(claimed, idempotency.StoredResponse):
        dbmod.commit()
        return _json_response(claimed.status, claimed.body, **{"Idempotent-Replayed": "true"})
    status, body = operation(payload)
    text = json.dumps(body)
    idempotency.store(claimed, status, text)
    dbmod.commit()
    return _json_response(status, text)


def _operation_answer(key: ApiKey, row: LoyaltyTransaction) -> Answer:
    card = row.card
    db.session.flush()
    return 201, {
        "transaction": transaction_json(row),
        "card": card_json(card, store_id=key.store_id, history=False),
    }


# -- endpoints ---------------------------------------------------------------------------


@bp.route("/cards/<number>")
@require_scope(ApiScope.CARDS_READ)
def get_card(key: ApiKey, number: str) -> Response:
    body = json.dumps({"card": card_json(_card(key, number), store_id=key.store_id)})
    dbmod.commit()
    return _json_response(200, body)


@bp.route("/cards")
@require_scope(ApiScope.CARDS_READ)
def find_card_by_email(key: ApiKey) -> Response:
    email = (request.args.get("email") or "").strip().lower()
    if not email:
        raise errors.invalid_field("email")
    card = db.session.scalar(
        db.select(LoyaltyCard)
        .join(Customer, Customer.id == LoyaltyCard.customer_id)
        .where(LoyaltyCard.merchant_id == key.merchant_id, Customer.email == email)
    )
    if card is None:
        raise errors.card_not_found()
    body = json.dumps({"card": card_json(card, store_id=key.store_id)})
    dbmod.commit()
    return _json_response(200, body)


@bp.route("/cards/<number>/earn", methods=["POST"])
@require_scope(ApiScope.POINTS_WRITE)
def earn(key: ApiKey, number: str) -> Response:
    def operation(payload: dict[str, Any]) -> Answer:
        store = _store_for(key, payload)
        card = _card(key, number)
        row = ledger.earn_points(
            card,
            store=store,
            amount=_amount(payload),
            points=_int_field(payload, "points", required=False),
            note=_text(payload, "note"),
        )
        return _operation_answer(key, row)

    return _idempotent(key, operation)


@bp.route("/cards/<number>/redeem", methods=["POST"])
@require_scope(ApiScope.POINTS_WRITE)
def redeem(key: ApiKey, number: str) -> Response:
    def operation(payload: dict[str, Any]) -> Answer:
        store = _store_for(key, payload)
        card = _card(key, number)
        points = _int_field(payload, "points")
        row = ledger.redeem_points(card, points, store=store, note=_text(payload, "note"))
        return _operation_answer(key, row)

    return _idempotent(key, operation)


@bp.route("/cards/<number>/stamps", methods=["POST"])
@require_scope(ApiScope.POINTS_WRITE)
def stamps(key: ApiKey, number: str) -> Response:
    def operation(payload: dict[str, Any]) -> Answer:
        store = _store_for(key, payload)
        card = _card(key, number)
        count = _int_field(payload, "count", required=False)
        row = ledger.add_stamps(
            card, 1 if count is None else count, store=store, note=_text(payload, "note")
        )
        return _operation_answer(key, row)

    return _idempotent(key, operation)


@bp.route("/cards/<number>/stamp-reward", methods=["POST"])
@require_scope(ApiScope.POINTS_WRITE)
def stamp_reward(key: ApiKey, number: str) -> Response:
    def operation(payload: dict[str, Any]) -> Answer:
        store = _store_for(key, payload)
        card = _card(key, number)
        row = ledger.redeem_stamp_reward(card, store=store, note=_text(payload, "note"))
        return _operation_answer(key, row)

    return _idempotent(key, operation)


@bp.route("/transactions/<int:transaction_id>/void", methods=["POST"])
@require_scope(ApiScope.POINTS_WRITE)
def void(key: ApiKey, transaction_id: int) -> Response:
    def operation(payload: dict[str, Any]) -> Answer:
        row = db.session.get(LoyaltyTransaction, transaction_id)
        if row is None or row.merchant_id != key.merchant_id:
            raise errors.transaction_not_found()
        if key.store_id is not None and row.store_id != key.store_id:
            raise errors.transaction_not_found()  # as in the console for store staff
        if key.store_id is None and not payload.get("store") and row.store is not None:
            store = row.store
        else:
            store = _store_for(key, payload)
        pin = payload.get("pin")
        if pin is not None and not isinstance(pin, str):
            raise errors.invalid_field("pin")
        voided = ledger.void_transaction(
            row,
            staff_user=None,
            store=store,
            pin=pin,
            reason=_text(payload, "reason"),
            integration=True,
        )
        return _operation_answer(key, voided)

    return _idempotent(key, operation)


@bp.route("/enroll", methods=["POST"])
@require_scope(ApiScope.ENROLL)
def enroll(key: ApiKey) -> Response:
    def operation(payload: dict[str, Any]) -> Answer:
        store = _store_for(key, payload)
        locale = payload.get("locale") or store.default_locale
        if locale not in SUPPORTED_LOCALES:
            raise errors.invalid_field("locale")
        for name in ("email", "first_name", "last_name"):
            if not isinstance(payload.get(name), str):
                raise errors.invalid_field(name)
        for name in ("marketing_consent", "accept_terms"):
            if not isinstance(payload.get(name, False), bool):
                raise errors.invalid_field(name)
        data = EnrollmentData(
            email=payload["email"][:254],
            first_name=payload["first_name"][:100],
            last_name=payload["last_name"][:100],
            locale=locale,
            marketing_consent=payload.get("marketing_consent", False),
            accept_terms=payload.get("accept_terms", False),
        )
        # Made by the merchant's own system: allowed when self-enrollment is off.
        result = enroll_customer(store, data, source="merchant_api")
        db.session.flush()
        body = {"created": result.created, "card": card_json(result.card, store_id=key.store_id)}
        return (201 if result.created else 200), body

    return _idempotent(key, operation)

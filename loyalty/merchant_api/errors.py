"""Refusals of the merchant API: the same ``LoyaltyError`` (stable code, localized message)."""

from __future__ import annotations

from loyalty.errors import LoyaltyError, LoyaltyNotFoundError, LoyaltyPermissionError
from platform_core.i18n_lazy import _l


class ApiError(LoyaltyError):
    """A refusal with its HTTP status."""

    def __init__(self, status: int, message: object, code: str) -> None:
        super().__init__(message, code)
        self.status = status


def status_for(error: LoyaltyError) -> int:
    """The HTTP status of a service refusal."""
    if isinstance(error, ApiError):
        return error.status
    if error.code == "wrong_merchant":
        return 404  # another merchant's card: as if it did not exist
    if isinstance(error, LoyaltyPermissionError):
        return 403
    if isinstance(error, LoyaltyNotFoundError):
        return 404
    return 422


def unauthorized() -> ApiError:
    return ApiError(
        401,
        _l("A valid API key is required (Authorization: Bearer <key>)."),
        "unauthorized",
    )


def missing_scope(scope: str) -> ApiError:
    return ApiError(403, _l("This API key lacks the scope %(scope)s.", scope=scope), "forbidden")


def card_not_found() -> ApiError:
    return ApiError(404, _l("There is no card with this number or email."), "card_not_found")


def transaction_not_found() -> ApiError:
    return ApiError(404, _l("There is no such transaction."), "transaction_not_found")


def store_not_found() -> ApiError:
    return ApiError(404, _l("There is no store with this slug."), "store_not_found")


def store_required() -> ApiError:
    return ApiError(422, _l("Name the store (its slug) for this operation."), "store_required")


def key_store_only() -> ApiError:
    return ApiError(403, _l("This API key may act only for its own store."), "store_not_allowed")


def idempotency_key_required() -> ApiError:
    return ApiError(
        400,
        _l("Send an Idempotency-Key header (at most 100 characters) with every POST."),
        "idempotency_key_required",
    )


def idempotency_key_reused() -> ApiError:
    return ApiError(
        422,
        _l("This Idempotency-Key was already used with a different request."),
        "idempotency_key_reused",
    )


def request_in_progress() -> ApiError:
    return ApiError(
        409,
        _l("A request with this Idempotency-Key is still being processed."),
        "request_in_progress",
    )


def json_required() -> ApiError:
    return ApiError(
        415,
        _l("Send the request body as JSON (Content-Type: application/json)."),
        "json_required",
    )


def invalid_json() -> ApiError:
    return ApiError(400, _l("The request body is not a JSON object."), "invalid_json")


def invalid_field(field: str) -> ApiError:
    return ApiError(
        422, _l("The field %(field)s is missing or invalid.", field=field), "invalid_field"
    )


def rate_limited() -> ApiError:
    return ApiError(
        429, _l("Too many requests for this API key. Please slow down."), "rate_limited"
    )

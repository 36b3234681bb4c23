"""OpenAPI description of the merchant API, merged into the public document (openapi.py)."""

from __future__ import annotations

from typing import Any

from loyalty.webhooks.models import EVENT_TYPES

_SCOPES = "Scopes: `cards:read` (look-ups), `points:write` (earn, redeem, stamps, void), `enroll`."

_TRANSACTION = {
    "type": "object",
    "required": [
        "id",
        "type",
        "points_delta",
        "stamps_delta",
        "points_balance_after",
        "created_at",
    ],
    "properties": {
        "id": {"type": "integer"},
        "type": {
            "type": "string",
            "enum": [
                "welcome_bonus",
                "earn",
                "redeem",
                "stamp",
                "stamp_reward",
                "void",
                "adjustment",
                "expiry",
            ],
        },
        "points_delta": {"type": "integer"},
        "stamps_delta": {"type": "integer"},
        "points_balance_after": {"type": "integer", "minimum": 0},
        "purchase_amount": {"type": ["string", "null"], "description": "Euros, as a decimal."},
        "store": {"type": ["string", "null"], "description": "The store's slug."},
        "voided_transaction_id": {"type": ["integer", "null"]},
        "note": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
    },
}

_CARD = {
    "type": "object",
    "required": [
        "number",
        "is_active",
        "program_kind",
        "customer",
        "points_balance",
        "stamp_count",
        "stamps_target",
        "rewards_available",
    ],
    "properties": {
        "number": {"type": "string", "pattern": "^[0-9]{16}$", "description": "The QR content."},
        "is_active": {"type": "boolean"},
        "program_kind": {"type": "string", "enum": ["points", "stamps", "hybrid"]},
        "customer": {
            "type": "object",
            "required": ["email", "first_name", "last_name"],
            "properties": {
                "email": {"type": "string", "format": "email"},
                "first_name": {"type": "string"},
                "last_name": {"type": "string"},
            },
        },
        "points_balance": {"type": "integer", "minimum": 0},
        "stamp_count": {"type": "integer", "minimum": 0},
        "stamps_target": {"type": ["integer", "null"]},
        "rewards_available": {"type": "integer", "minimum": 0},
        "enrolled_at": {"type": "string", "format": "date-time"},
        "last_activity_at": {"type": "string", "format": "date-time"},
        "history": {
            "type": "array",
            "description": "The latest ten ledger rows, newest first (a store-limited key "
            "sees its store's rows only).",
            "items": {"$ref": "#/components/schemas/MerchantTransaction"},
        },
    },
}

_STORE_FIELD = {
    "type": "string",
    "description": "The store's slug. Required for keys not limited to a store; a "
    "store-limited key may omit it (or must name its own store).",
}
_NOTE = {"type": "string", "maxLength": 500}


def _op_body(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {"store": _STORE_FIELD, **properties},
    }
    if required:
        schema["required"] = required
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _ref(name: str, description: str, **extra: Any) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
        **extra,
    }


_ERRORS = {
    "401": _ref("Error", "Missing, unknown or revoked API key (`unauthorized`)."),
    "403": _ref("Error", "The key lacks the scope (`forbidden`) or may not act for this store."),
    "429": _ref(
        "Error",
        "The key's rate limit is reached (`rate_limited`).",
        headers={"Retry-After": {"$ref": "#/components/headers/RetryAfter"}},
    ),
}
_POST_ERRORS = {
    **_ERRORS,
    "400": _ref("Error", "No `Idempotency-Key` header, or the body is not a JSON object."),
    "404": _ref("Error", "No such card, transaction or store at this merchant."),
    "409": _ref("Error", "The first request with this key is still running."),
    "415": _ref("Error", "The body is not sent as application/json."),
    "422": _ref(
        "Error",
        "A rule refused (e.g. `insufficient_points`, `voids_disabled`), an invalid field, "
        "or the `Idempotency-Key` was used for a different request (`idempotency_key_reused`).",
    ),
}
_IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "schema": {"type": "string", "maxLength": 100},
    "description": "Unique per operation (a UUID). The same key with the same body answers the "
    "first answer again and changes nothing (header `Idempotent-Replayed: true`); with a "
    "different body it answers 422. Kept at least 24 h per merchant. Failed requests are not "
    "kept: the key may be sent again.",
}
_NUMBER = {
    "name": "number",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "The card number (the QR code's content).",
}
_SECURITY: list[dict[str, list[str]]] = [{"merchantKey": []}]


def _operation(op_id: str, summary: str, body: dict[str, Any], params: list[Any]) -> dict[str, Any]:
    return {
        "post": {
            "operationId": op_id,
            "summary": summary,
            "security": _SECURITY,
            "parameters": [*params, _IDEMPOTENCY],
            "requestBody": body,
            "responses": {
                "201": _ref("MerchantOperation", "The new ledger row and the card after it."),
                **_POST_ERRORS,
            },
        }
    }


PATHS: dict[str, Any] = {
    "/merchant/cards/{number}": {
        "get": {
            "operationId": "merchantGetCard",
            "summary": "A card by its number, with balance, stamps and recent history",
            "security": _SECURITY,
            "parameters": [_NUMBER],
            "responses": {
                "200": _ref("MerchantCardAnswer", "The card."),
                "404": _ref("Error", "No such card at this merchant (`card_not_found`)."),
                **_ERRORS,
            },
        }
    },
    "/merchant/cards": {
        "get": {
            "operationId": "merchantFindCardByEmail",
            "summary": "A card by its customer's email",
            "security": _SECURITY,
            "parameters": [
                {"name": "email", "in": "query", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {
                "200": _ref("MerchantCardAnswer", "The card."),
                "404": _ref("Error", "No card for this email at this merchant."),
                "422": _ref("Error", "No email given."),
                **_ERRORS,
            },
        }
    },
    "/merchant/cards/{number}/earn": _operation(
        "merchantEarn",
        "Credit points for a purchase amount (euros) or a number of points",
        _op_body(
            {
                "amount": {
                    "type": ["number", "string"],
                    "description": "Euros, at most 2 decimals; points = amount x the "
                    "program's points per euro, rounded down.",
                },
                "points": {"type": "integer", "minimum": 1},
                "note": _NOTE,
            }
        ),
        [_NUMBER],
    ),
    "/merchant/cards/{number}/redeem": _operation(
        "merchantRedeem",
        "Redeem points (at least the merchant's minimum; only in the enrollment store "
        "when cross-store redemption is off)",
        _op_body({"points": {"type": "integer", "minimum": 1}, "note": _NOTE}, ["points"]),
        [_NUMBER],
    ),
    "/merchant/cards/{number}/stamps": _operation(
        "merchantAddStamps",
        "Add stamps (default 1); reaching the target makes a reward ready",
        _op_body({"count": {"type": "integer", "minimum": 1}, "note": _NOTE}),
        [_NUMBER],
    ),
    "/merchant/cards/{number}/stamp-reward": _operation(
        "merchantRedeemStampReward",
        "Hand out one earned stamp reward",
        _op_body({"note": _NOTE}),
        [_NUMBER],
    ),
    "/merchant/transactions/{id}/void": _operation(
        "merchantVoid",
        "Void a transaction, where the merchant's settings allow (window, PIN)",
        _op_body(
            {
                "reason": _NOTE,
                "pin": {"type": "string", "description": "When the settings require it."},
            }
        ),
        [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
    ),
    "/merchant/enroll": {
        "post": {
            "operationId": "merchantEnroll",
            "summary": "Enroll a customer (allowed even when self-enrollment is off)",
            "security": _SECURITY,
            "parameters": [_IDEMPOTENCY],
            "requestBody": _op_body(
                {
                    "email": {"type": "string", "format": "email"},
                    "first_name": {"type": "string"},
                    "last_name": {"type": "string"},
                    "locale": {"type": "string", "enum": ["en", "fr", "de", "lb"]},
                    "marketing_consent": {"type": "boolean"},
                    "accept_terms": {"type": "boolean", "const": True},
                },
                ["email", "first_name", "last_name", "accept_terms"],
            ),
            "responses": {
                "201": _ref("MerchantEnrollment", "A new card."),
                "200": _ref("MerchantEnrollment", "The email already had a card: that card."),
                **_POST_ERRORS,
            },
        }
    },
}

SCHEMAS: dict[str, Any] = {
    "WebhookEventType": {
        "type": "string",
        "enum": list(EVENT_TYPES),
        "description": "The `type` of a webhook request's body (Integrations → Webhooks). "
        "`customer.erased`: the customer's personal data was erased; its `data` holds the "
        "customer id, their card numbers, the reason (`request` or `retention`) and the time "
        "only.",
    },
    "MerchantTransaction": _TRANSACTION,
    "MerchantCard": _CARD,
    "MerchantCardAnswer": {
        "type": "object",
        "required": ["card"],
        "properties": {"card": {"$ref": "#/components/schemas/MerchantCard"}},
    },
    "MerchantOperation": {
        "type": "object",
        "required": ["transaction", "card"],
        "properties": {
            "transaction": {"$ref": "#/components/schemas/MerchantTransaction"},
            "card": {"$ref": "#/components/schemas/MerchantCard"},
        },
    },
    "MerchantEnrollment": {
        "type": "object",
        "required": ["created", "card"],
        "properties": {
            "created": {"type": "boolean"},
            "card": {"$ref": "#/components/schemas/MerchantCard"},
        },
    },
}

SECURITY_SCHEMES: dict[str, Any] = {
    "merchantKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "A merchant API key (`lk_...`) from the console or `flask merchants "
        f"api-key create`. {_SCOPES} Rate limited per key (default 600 per minute).",
    }
}

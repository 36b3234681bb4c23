"""OpenAPI 3.1 description of the public loyalty API, served at ``/api/v1/openapi.json``.

Kept next to the views it describes; ``tests/loyalty/test_api_openapi.py`` validates the
document and checks real responses against these schemas.
"""

from __future__ import annotations

import copy
from typing import Any

from loyalty import bounds

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "examples": ["store_not_found"]},
                "message": {"type": "string", "description": "Localized, for people."},
            },
        }
    },
}

_PROGRAM = {
    "type": "object",
    "required": [
        "name",
        "language",
        "kind",
        "description",
        "points_per_euro",
        "welcome_bonus_points",
        "stamps_target",
        "stamps_reward",
        "points_expiry_days",
        "logo_url",
        "brand_color",
        "terms_url",
        "terms_required",
        "merchant_name",
        "store_name",
        "enrollment_open",
    ],
    "properties": {
        "name": {"type": "string"},
        "language": {
            "type": "string",
            "enum": ["en", "fr", "de", "lb"],
            "description": "The language of the texts (from ?lang= or Accept-Language); a text "
            "missing in it comes in the merchant's default language, then English.",
        },
        "kind": {"type": "string", "enum": ["points", "stamps", "hybrid"]},
        "description": {"type": "string"},
        "points_per_euro": {
            "type": ["number", "null"],
            "minimum": float(bounds.POINTS_PER_EURO.minimum),
            "maximum": float(bounds.POINTS_PER_EURO.maximum),
            "description": "Points per euro spent (two decimal places); null for stamps-only "
            "programs.",
        },
        "welcome_bonus_points": {
            "type": "integer",
            "minimum": bounds.WELCOME_BONUS_POINTS.minimum,
            "maximum": bounds.WELCOME_BONUS_POINTS.maximum,
        },
        "stamps_target": {
            "type": ["integer", "null"],
            "minimum": bounds.STAMPS_TARGET.minimum,
            "maximum": bounds.STAMPS_TARGET.maximum,
            "description": "Stamps needed for a reward; null for points-only programs.",
        },
        "stamps_reward": {"type": ["string", "null"]},
        "points_expiry_days": {
            "type": ["integer", "null"],
            "minimum": bounds.POINTS_EXPIRY_DAYS.minimum,
            "maximum": bounds.POINTS_EXPIRY_DAYS.maximum,
            "description": "Days without activity after which points expire; null = never.",
        },
        "logo_url": {"type": ["string", "null"]},
        "brand_color": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"},
        "terms_url": {
            "type": ["string", "null"],
            "description": "The program's terms and conditions, in the answer's language.",
        },
        "terms_required": {
            "type": "boolean",
            "description": "Whether enrollment needs accept_terms: false when the program "
            "has no terms.",
        },
        "merchant_name": {"type": "string"},
        "store_name": {"type": "string"},
        "enrollment_open": {
            "type": "boolean",
            "description": "False when the merchant has switched off self-enrollment.",
        },
    },
}

_ENROLLMENT_REQUEST = {
    "type": "object",
    # accept_terms is required when the program has terms (its terms_required).
    "required": ["email", "first_name", "last_name"],
    "properties": {
        "email": {"type": "string", "format": "email", "maxLength": 254},
        "first_name": {"type": "string", "minLength": 1, "maxLength": 100},
        "last_name": {"type": "string", "minLength": 1, "maxLength": 100},
        "locale": {
            "type": "string",
            "enum": ["en", "fr", "de", "lb"],
            "description": "Language of the customer's emails and card page. Default: the "
            "language this request is answered in.",
        },
        "marketing_consent": {"type": "boolean", "default": False},
        "accept_terms": {
            "type": "boolean",
            "const": True,
            "description": "The customer accepts the terms: required, and true, when the "
            "program's terms_required is true; ignored for a program without terms.",
        },
        "phone": {"type": ["string", "null"], "maxLength": 40},
        "birthday": {"type": ["string", "null"], "format": "date"},
    },
}

_CARD_CREATED = {
    "type": "object",
    "required": ["card"],
    "properties": {
        "card": {
            "type": "object",
            "required": ["number", "points_balance", "stamp_count", "card_page_url"],
            "properties": {
                "number": {"type": "string", "pattern": "^[0-9]{16}$"},
                "points_balance": {"type": "integer", "minimum": 0},
                "stamp_count": {"type": "integer", "minimum": 0},
                "card_page_url": {
                    "type": "string",
                    "format": "uri",
                    "description": "Signed link to the customer's card page; it expires.",
                },
            },
        }
    },
}

_ACCEPTED = {
    "type": "object",
    "required": ["status", "message"],
    "properties": {
        "status": {"type": "string", "const": "accepted"},
        "message": {"type": "string"},
    },
}

_VALIDATION_ERRORS = {
    "type": "object",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "object",
            "description": "Localized messages per request field; `_form` for the request "
            "as a whole.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "code": {"type": "string", "description": "Set when a business rule refused."},
    },
}


def _json(schema_name: str, description: str, **extra: Any) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}
        },
        **extra,
    }


_RATE_LIMITED = _json(
    "Error",
    "Too many requests from this client. Retry after the number of seconds given.",
    headers={"Retry-After": {"$ref": "#/components/headers/RetryAfter"}},
)

#: The slug the document shows as an example (the API fuzz test creates that store).
EXAMPLE_STORE_SLUG = "hoffmann-gare"

_SLUG = {
    "name": "slug",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "example": EXAMPLE_STORE_SLUG,
    "description": "The store's slug, as in /enroll/<slug>.",
}
_LANG = {
    "name": "lang",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "enum": ["en", "fr", "de", "lb"]},
    "description": "Language of the messages (default: from Accept-Language).",
}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (a fresh copy: callers may change it)."""
    from loyalty.merchant_api import openapi as merchant

    document = copy.deepcopy(_DOCUMENT)
    document["paths"].update(copy.deepcopy(merchant.PATHS))
    document["components"]["schemas"].update(copy.deepcopy(merchant.SCHEMAS))
    document["components"]["securitySchemes"] = copy.deepcopy(merchant.SECURITY_SCHEMES)
    return document


_DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Loyalty public API",
        "version": "1.0.0",
        "description": (
            "Program information and self-enrollment for a store's loyalty program. "
            "No authentication; requests are rate limited per client address: program "
            "info 30 per minute, enrollment 10 per minute shared with the web form."
        ),
    },
    "servers": [{"url": "/api/v1"}],
    "paths": {
        "/stores/{slug}/program": {
            "get": {
                "operationId": "getStoreProgram",
                "summary": "The active loyalty program of a store's merchant",
                "parameters": [_SLUG, _LANG],
                "responses": {
                    "200": _json("ProgramInfo", "The program."),
                    "404": _json(
                        "Error",
                        "Unknown store (`store_not_found`) or no "
                        "active program (`program_missing`).",
                    ),
                    "429": _RATE_LIMITED,
                },
            }
        },
        "/stores/{slug}/enroll": {
            "post": {
                "operationId": "enrollAtStore",
                "summary": "Join the program and get a card",
                "description": (
                    "Creates the customer's card and emails it. If the email address "
                    "already has a card at this merchant, nothing is created: the answer "
                    "is 202 with a neutral message (the same for every address, so it "
                    "does not tell whether the address is known) and the card's owner "
                    "receives an email with the card."
                ),
                "parameters": [_SLUG, _LANG],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/EnrollmentRequest"}
                        }
                    },
                },
                "responses": {
                    "201": _json("EnrollmentCreated", "A new card."),
                    "202": _json(
                        "EnrollmentAccepted",
                        "Accepted without details: the address may already "
                        "have a card, which was sent to it by email.",
                    ),
                    "400": _json(
                        "Error", "The body is not a JSON object, or not JSON (`invalid_json`)."
                    ),
                    "403": _json(
                        "Error",
                        "The merchant has switched off online "
                        "enrollment (`self_enrollment_disabled`).",
                    ),
                    "404": _json("Error", "Unknown store or no active program."),
                    "413": _json("Error", "The body is larger than 1 MB (`payload_too_large`)."),
                    "415": _json("Error", "The body is not sent as application/json."),
                    "422": _json(
                        "ValidationErrors", "Invalid fields, with localized messages per field."
                    ),
                    "429": _RATE_LIMITED,
                },
            }
        },
    },
    "components": {
        "schemas": {
            "Error": _ERROR,
            "ProgramInfo": _PROGRAM,
            "EnrollmentRequest": _ENROLLMENT_REQUEST,
            "EnrollmentCreated": _CARD_CREATED,
            "EnrollmentAccepted": _ACCEPTED,
            "ValidationErrors": _VALIDATION_ERRORS,
        },
        "headers": {
            "RetryAfter": {
                "description": "Seconds to wait before trying again.",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
    },
}

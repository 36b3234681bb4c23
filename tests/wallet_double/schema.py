"""Validate request bodies against the schemas of Google's discovery document.

Checks what a real server would reject: unknown fields (at every level), wrong JSON types,
values outside an enum, int32 overflow, and the fields Google documents as required (the
discovery format cannot express "required" for body fields, so they are listed here).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

#: Google's discovery document for ``walletobjects/v1`` (revision 20260806), copied unchanged
#: from the ``google-api-python-client`` wheel (Apache 2.0) so the tests need no network.
DISCOVERY_PATH = Path(__file__).with_name("walletobjects.v1.json")

#: Fields Google's reference pages mark as required on insert/update.
REQUIRED: dict[str, tuple[str, ...]] = {
    "LoyaltyClass": ("id", "issuerName", "programName", "programLogo", "reviewStatus"),
    "LoyaltyObject": ("id", "classId", "state"),
    "LoyaltyPoints": ("balance",),
    "Image": ("sourceUri",),
    "ImageUri": ("uri",),
    "Barcode": ("type", "value"),
}

_ID = re.compile(r"^\d+\.[A-Za-z0-9._-]+$")
_INT32 = (-(2**31), 2**31 - 1)


@cache
def discovery() -> dict[str, Any]:
    return json.loads(DISCOVERY_PATH.read_text(encoding="utf-8"))


def schemas() -> dict[str, Any]:
    return discovery()["schemas"]


def validate(body: Any, schema_name: str, *, partial: bool = False) -> list[str]:
    """Problems with ``body`` as a ``schema_name``; empty when valid.

    :param partial: a PATCH body: required fields may be absent (types still checked).
    """
    errors: list[str] = []
    _check_ref(body, schema_name, schema_name, errors, partial)
    if isinstance(body, dict):
        for key in ("id", "classId"):
            if key in body and isinstance(body[key], str) and not _ID.match(body[key]):
                errors.append(f"{key}: {body[key]!r} is not <issuerId>.<identifier>")
    return errors


def _check_ref(value: Any, ref: str, where: str, errors: list[str], partial: bool) -> None:
    schema = schemas()[ref]
    if not isinstance(value, dict):
        errors.append(f"{where}: expected an object ({ref}), got {type(value).__name__}")
        return
    properties = schema.get("properties", {})
    for key, item in value.items():
        if key not in properties:
            errors.append(f"{where}.{key}: unknown field of {ref}")
            continue
        _check(item, properties[key], f"{where}.{key}", errors, partial)
    if not partial:
        for key in REQUIRED.get(ref, ()):
            if key not in value:
                errors.append(f"{where}.{key}: required field of {ref} is missing")


def _check(value: Any, spec: dict[str, Any], where: str, errors: list[str], partial: bool) -> None:
    if "$ref" in spec:
        # Nested messages are always complete, even inside a PATCH body.
        _check_ref(value, spec["$ref"], where, errors, False)
        return
    kind = spec.get("type")
    if kind == "string":
        if not isinstance(value, str):
            errors.append(f"{where}: expected a string, got {type(value).__name__}")
        elif "enum" in spec and value not in spec["enum"]:
            errors.append(f"{where}: {value!r} is not one of {spec['enum']}")
    elif kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(f"{where}: expected an integer, got {type(value).__name__}")
        elif spec.get("format") == "int32" and not _INT32[0] <= value <= _INT32[1]:
            errors.append(f"{where}: {value} does not fit in int32")
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            errors.append(f"{where}: expected a number, got {type(value).__name__}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            errors.append(f"{where}: expected true or false, got {type(value).__name__}")
    elif kind == "array":
        if not isinstance(value, list):
            errors.append(f"{where}: expected an array, got {type(value).__name__}")
        else:
            for index, item in enumerate(value):
                _check(item, spec["items"], f"{where}[{index}]", errors, partial)
    elif kind == "object" and not isinstance(value, dict):
        errors.append(f"{where}: expected an object, got {type(value).__name__}")

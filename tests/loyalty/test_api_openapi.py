"""The OpenAPI document is valid and the API's real answers match its schemas."""

from __future__ import annotations

import jsonschema
import pytest
from openapi_spec_validator import validate

DOC_URL = "/api/v1/openapi.json"


@pytest.fixture
def spec(client):
    response = client.get(DOC_URL)
    assert response.status_code == 200
    return response.get_json()


def _check(spec: dict, path: str, method: str, response, *, body=None) -> None:
    """Validate ``response`` against the documented schema of its status code."""
    operation = spec["paths"][path][method]
    documented = operation["responses"]
    assert str(response.status_code) in documented, response.status_code
    schema = documented[str(response.status_code)]["content"]["application/json"]["schema"]
    # Resolve $refs against the whole document (OpenAPI 3.1 schemas are JSON Schema 2020-12).
    resolver_doc = dict(spec, **schema)
    jsonschema.validate(
        response.get_json(),
        resolver_doc,
        cls=jsonschema.Draft202012Validator,
        format_checker=jsonschema.FormatChecker(),
    )
    if "Retry-After" in documented[str(response.status_code)].get("headers", {}):
        assert int(response.headers["Retry-After"]) >= 1
    if body is not None:
        request_schema = dict(
            spec, **operation["requestBody"]["content"]["application/json"]["schema"]
        )
        jsonschema.validate(body, request_schema, cls=jsonschema.Draft202012Validator)


def test_document_is_valid_openapi_3_1(spec):
    assert spec["openapi"].startswith("3.1")
    validate(spec)  # raises on any structural problem
    enroll = spec["paths"]["/stores/{slug}/enroll"]["post"]["responses"]
    assert {"201", "202", "404", "422", "429"} <= set(enroll)
    program = spec["paths"]["/stores/{slug}/program"]["get"]["responses"]
    assert {"200", "404", "429"} <= set(program)


def test_program_answers_match_the_schema(
    client, session, spec, dummy_store, stamps_store, stamps_program, points_program
):
    path = "/stores/{slug}/program"
    _check(spec, path, "get", client.get("/api/v1/stores/kirchberg/program"))
    _check(spec, path, "get", client.get("/api/v1/stores/gare/program"))
    _check(spec, path, "get", client.get("/api/v1/stores/nowhere/program"))
    for _ in range(29):
        client.get("/api/v1/stores/kirchberg/program")
    _check(spec, path, "get", client.get("/api/v1/stores/kirchberg/program"))


def test_enroll_answers_match_the_schema(client, session, spec, dummy_store, points_program):
    path = "/stores/{slug}/enroll"
    body = {
        "email": "nina@example.lu",
        "first_name": "Nina",
        "last_name": "Klein",
        "locale": "fr",
        "marketing_consent": False,
        "accept_terms": True,
        "birthday": "2001-02-03",
        "phone": None,
    }
    created = client.post("/api/v1/stores/kirchberg/enroll", json=body)
    assert created.status_code == 201
    _check(spec, path, "post", created, body=body)
    again = client.post("/api/v1/stores/kirchberg/enroll", json=body)
    assert again.status_code == 202
    _check(spec, path, "post", again, body=body)
    invalid = client.post("/api/v1/stores/kirchberg/enroll", json={"email": "x"})
    assert invalid.status_code == 422
    _check(spec, path, "post", invalid)
    _check(spec, path, "post", client.post("/api/v1/stores/nowhere/enroll", json=body))
    for _ in range(6):
        client.post("/api/v1/stores/kirchberg/enroll", json={})
    limited = client.post("/api/v1/stores/kirchberg/enroll", json=body)
    assert limited.status_code == 429
    _check(spec, path, "post", limited)

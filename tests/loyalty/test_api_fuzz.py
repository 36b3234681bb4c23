"""A fuzz run of the public JSON API generated from its own OpenAPI document.

Schemathesis sends valid and invalid requests to every documented operation, in process
(WSGI), against the real app and database. No answer may be a 5xx, and every answer must be
one the document describes: status code, content type, headers and body schema.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from loyalty.openapi import EXAMPLE_STORE_SLUG

#: Examples per operation and mode: about 20 s for the whole run on the 2-core machine.
EXAMPLES = 60

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


class _RequestPerContext:
    """Each fuzzed request in an app context of its own (as the test client does)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response: Any) -> Any:
        with self.app.app_context():
            return list(self.app(environ, start_response))


@pytest.fixture
def api_schema(app, monkeypatch, connection, create_store, dummy_merchant, points_program):
    create_store(merchant=dummy_merchant, name="Gare", slug=EXAMPLE_STORE_SLUG)
    # The limits are documented (429) but would answer most of the run.
    monkeypatch.setitem(app.config, "RATELIMIT_ENROLL", "100000/minute")
    monkeypatch.setitem(app.config, "RATELIMIT_PROGRAM_INFO", "100000/minute")
    monkeypatch.setitem(app.config, "PROGRAM_INFO_CACHE_SECONDS", 0)
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _RequestPerContext(app))


def _operations(api_schema: Any) -> list[Any]:
    # The public endpoints; the merchant API needs a key and has its own tests
    # (tests/loyalty/merchant_api/).
    operations = [result.ok() for result in api_schema.get_all_operations()]
    return [op for op in operations if "/merchant/" not in op.label]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_answers_as_documented(api_schema, mode):
    # Hypothesis driven directly: schemathesis' own pytest loader does not run on pytest 9.
    operations = _operations(api_schema)
    assert {op.label for op in operations} == {
        "GET /stores/{slug}/program",
        "POST /stores/{slug}/enroll",
    }
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            case.call_and_validate(checks=CHECKS)

        run()

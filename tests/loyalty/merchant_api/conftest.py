"""Fixtures of the merchant API tests: keys of two merchants, one limited to a store."""

from __future__ import annotations

from typing import Any

import pytest

from loyalty.merchant_api.keys import create_api_key
from loyalty.models import ProgramKind
from loyalty.services.programs import create_program


def bearer(key: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **extra}


@pytest.fixture
def make_key(session: Any):
    def make(merchant, *, store=None, scopes=("cards:read", "points:write", "enroll"), name="Till"):
        return create_api_key(merchant, name, scopes=list(scopes), store=store).key

    return make


@pytest.fixture
def api_key(make_key, dummy_merchant, points_program) -> str:
    return make_key(dummy_merchant)


@pytest.fixture
def second_store(create_store, dummy_merchant):
    return create_store(merchant=dummy_merchant, name="Gasperich", slug="gasperich")


@pytest.fixture
def other_merchant_key(make_key, create_merchant, create_store) -> str:
    other = create_merchant(name="Other", slug="other-merchant")
    create_store(merchant=other, name="Other store", slug="other-store")
    create_program(other, kind=ProgramKind.HYBRID, name="Other", stamps_target=5)
    return make_key(other)

"""The merchant API's enroll writes consent rows with source api, the request's language
and the public form's wording (what the API documents)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from platform_core.customers.consent import consent_history, wording_hash
from platform_core.customers.models import ConsentPurpose, ConsentSource, Customer
from tests.loyalty.merchant_api.conftest import bearer

TERMS = ConsentPurpose.TERMS
MARKETING = ConsentPurpose.MARKETING_EMAIL


def test_the_merchant_api_records_source_api(
    client: Any, session: Any, api_key: str, dummy_store: Any
) -> None:
    body = {
        "store": "kirchberg",
        "email": "lea@example.lu",
        "first_name": "Léa",
        "last_name": "Schmit",
        "locale": "lb",
        "accept_terms": True,
        "marketing_consent": True,
    }
    response = client.post(
        "/api/v1/merchant/enroll",
        json=body,
        headers=bearer(api_key, **{"Idempotency-Key": "e-1", "Accept-Language": "fr"}),
    )
    assert response.status_code == 201, response.get_json()
    customer = session.scalar(select(Customer).where(Customer.email == "lea@example.lu"))
    rows = consent_history(customer.id)
    assert [(r.purpose, r.granted, r.source, r.locale, r.staff_user_id) for r in rows] == [
        (TERMS, True, ConsentSource.API, "fr", None),
        (MARKETING, True, ConsentSource.API, "fr", None),
    ]
    assert rows[1].wording_hash == wording_hash(
        "Je souhaite recevoir les nouveautés et les offres par e-mail"
    )

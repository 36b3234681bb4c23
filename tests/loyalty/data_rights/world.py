"""A customer whose data is everywhere it can be: enrolled and credited through the merchant
API (stored idempotent answers hold their address), webhook events delivered to a real
receiver, emails sent (subjects and bodies in the log), a suppression, a ledger note and a
task run quoting them, a consent history."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask.testing import FlaskClient

from loyalty.merchant_api.keys import create_api_key
from loyalty.models import LoyaltyCard, ProgramKind
from loyalty.services.ledger import earn_points
from loyalty.services.programs import create_program
from loyalty.webhooks.endpoints import create_endpoint
from messaging.models import EmailSuppression
from platform_core import db as dbmod
from platform_core.customers.consent import record_consent
from platform_core.customers.models import ConsentPurpose, ConsentSource, Customer
from platform_core.extensions import db
from platform_core.models_base import utcnow
from platform_core.task_runs.models import TaskRun, TaskRunStatus
from platform_core.tenancy.models import Merchant, Store
from seeds.seed_email_templates_core import core_templates, upsert_templates
from seeds.seed_email_templates_loyalty import loyalty_templates

_keys = itertools.count()
ALL_EVENTS = "card.enrolled,points.earned,customer.erased"


@dataclass
class World:
    merchant_id: int
    store_slug: str
    customer_id: int
    card_id: int
    card_number: str
    email: str
    phone: str
    last_name: str
    key: str
    endpoint_id: int | None


def _post(client: FlaskClient, url: str, key: str, body: dict[str, Any]) -> Any:
    answer = client.post(
        f"/api/v1/merchant{url}",
        json=body,
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": f"dr-{next(_keys)}"},
    )
    assert answer.status_code in (200, 201), answer.get_json()
    return answer.get_json()


def build_world(
    client: FlaskClient,
    merchant: Merchant,
    store: Store,
    *,
    email: str,
    last_name: str,
    phone: str,
    receiver_url: str | None = None,
    seed_templates: bool = True,
) -> World:
    """Everything committed (inside the test's outer transaction, or for real)."""
    if seed_templates:
        upsert_templates([*core_templates(), *loyalty_templates()])
    create_program(
        merchant,
        kind=ProgramKind.POINTS,
        name="Data rights club",
        points_per_euro=Decimal("1"),
        welcome_bonus_points=50,
    )
    key = create_api_key(merchant, "Till", scopes=["cards:read", "points:write", "enroll"]).key
    endpoint_id = None
    if receiver_url is not None:
        endpoint_id = create_endpoint(merchant, receiver_url, ALL_EVENTS).endpoint.id
    dbmod.commit()

    enrolled = _post(
        client,
        "/enroll",
        key,
        {
            "store": store.slug,
            "email": email,
            "first_name": "Zéphyrine",
            "last_name": last_name,
            "accept_terms": True,
            "marketing_consent": True,
        },
    )
    number = enrolled["card"]["number"]
    _post(client, f"/cards/{number}/earn", key, {"store": store.slug, "points": 30})
    # The look-up answers are not stored, but the earn answer (with the customer) is.

    card = db.session.scalar(db.select(LoyaltyCard).where(LoyaltyCard.card_number == number))
    assert card is not None
    customer = db.session.get(Customer, card.customer_id)
    assert customer is not None
    customer.phone = phone
    customer.birthday = date(1987, 4, 23)
    for granted in (True, False):
        record_consent(
            customer,
            ConsentPurpose.MARKETING_EMAIL,
            granted=granted,
            source=ConsentSource.CONSOLE,
            locale="fr",
            wording="News and offers",
        )
    record_consent(
        customer,
        ConsentPurpose.TERMS,
        granted=True,
        source=ConsentSource.CONSOLE,
        locale="fr",
        wording="News and offers",
    )
    earn_points(card, store=store, points=5, note=f"Goodwill for {customer.full_name}")
    db.session.add(
        EmailSuppression(
            merchant_id=merchant.id, address=email, code=550, reason=f"550 <{email}> unknown"
        )
    )
    db.session.add(
        TaskRun(
            task_name="send_email_task",
            status=TaskRunStatus.FAILED,
            started_at=utcnow(),
            error=f"refused: {email}",
            summary="",
        )
    )
    dbmod.commit()
    return World(
        merchant_id=merchant.id,
        store_slug=store.slug,
        customer_id=customer.id,
        card_id=card.id,
        card_number=number,
        email=email,
        phone=phone,
        last_name=last_name,
        key=key,
        endpoint_id=endpoint_id,
    )

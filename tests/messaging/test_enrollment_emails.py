"""Enrollment queues the enrollment and welcome bonus emails, sent only once it commits."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from loyalty.models import ProgramKind
from loyalty.services.enrollment import EnrollmentData, enroll_customer
from loyalty.services.programs import create_program
from messaging.models import EmailLog, EmailStatus
from messaging.providers import outbox
from platform_core import db as dbmod
from platform_core.tenancy.models import Merchant, Store

pytestmark = pytest.mark.usefixtures("seeded_templates")


@pytest.fixture
def program(shop: tuple[Merchant, Store]) -> Any:
    merchant, _ = shop
    return create_program(
        merchant, kind=ProgramKind.POINTS, name="Club Ëlsa", welcome_bonus_points=150
    )


def _data(email: str = "lea@example.lu", locale: str = "lb") -> EnrollmentData:
    return EnrollmentData(
        email=email,
        first_name="Léa",
        last_name="Hoffmann",
        locale=locale,
        marketing_consent=False,
        accept_terms=True,
    )


@pytest.mark.usefixtures("program")
def test_enrollment_sends_both_emails_after_commit(
    shop: tuple[Merchant, Store], session: Any
) -> None:
    _, store = shop
    result = enroll_customer(store, _data())

    rows = session.scalars(select(EmailLog).order_by(EmailLog.id)).all()
    assert [(r.code, r.status) for r in rows] == [
        ("loyalty_enrollment", EmailStatus.QUEUED),
        ("loyalty_welcome_bonus", EmailStatus.QUEUED),
    ]
    assert outbox == []

    dbmod.commit()

    assert [m["Subject"] for m in outbox] == [
        "Wëllkomm bei Club Ëlsa, Léa!",
        "150 Wëllkommpunkten waarden op Iech",
    ]
    assert all(m["To"] == "lea@example.lu" for m in outbox)
    assert result.card.card_number[:4] in outbox[0].get_body(("plain",)).get_content()
    for row in rows:
        session.refresh(row)
        assert row.status == EmailStatus.SENT


@pytest.mark.usefixtures("program")
def test_rolled_back_enrollment_sends_nothing(shop: tuple[Merchant, Store], session: Any) -> None:
    _, store = shop
    enroll_customer(store, _data())

    dbmod.rollback()
    dbmod.commit()

    assert outbox == []
    assert session.scalars(select(EmailLog)).all() == []


def test_no_bonus_email_without_a_bonus(shop: tuple[Merchant, Store], session: Any) -> None:
    merchant, store = shop
    create_program(merchant, kind=ProgramKind.POINTS, name="Club Ëlsa", welcome_bonus_points=0)

    enroll_customer(store, _data(locale="de"))
    dbmod.commit()

    assert [m["Subject"] for m in outbox] == ["Willkommen bei Club Ëlsa, Léa!"]

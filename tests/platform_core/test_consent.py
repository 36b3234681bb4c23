"""Consent records: append-only, the latest row per purpose is the customer's state."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from platform_core.auth.tokens import TokenPurpose, make_password_token
from platform_core.customers.consent import (
    consent_history,
    has_consent,
    read_unsubscribe_token,
    record_consent,
    unsubscribe_token,
    wording_hash,
)
from platform_core.customers.models import ConsentPurpose, ConsentRecord, ConsentSource

MARKETING = ConsentPurpose.MARKETING_EMAIL


def _record(customer: Any, granted: bool, source: ConsentSource, wording: str = "News") -> Any:
    return record_consent(
        customer, MARKETING, granted=granted, source=source, locale="lb", wording=wording
    )


def test_the_current_state_is_the_latest_row(create_customer: Any, session: Any) -> None:
    customer = create_customer()
    assert not has_consent(customer.id, MARKETING)

    _record(customer, True, ConsentSource.PUBLIC_FORM)
    assert has_consent(customer.id, MARKETING)
    assert customer.marketing_consent
    _record(customer, False, ConsentSource.UNSUBSCRIBE)
    assert not has_consent(customer.id, MARKETING)
    assert not customer.marketing_consent
    _record(customer, True, ConsentSource.CONSOLE)

    history = consent_history(customer.id)
    assert [(r.granted, r.source) for r in history] == [
        (True, ConsentSource.PUBLIC_FORM),
        (False, ConsentSource.UNSUBSCRIBE),
        (True, ConsentSource.CONSOLE),
    ]
    assert {r.merchant_id for r in history} == {customer.merchant_id}
    assert {r.locale for r in history} == {"lb"}
    assert history[0].wording_hash == wording_hash("News")
    assert customer.marketing_consent


def test_a_repeat_appends_nothing_but_new_wording_does(create_customer: Any, session: Any) -> None:
    customer = create_customer()
    assert _record(customer, True, ConsentSource.PUBLIC_FORM) is not None
    assert _record(customer, True, ConsentSource.PUBLIC_FORM) is None
    assert _record(customer, True, ConsentSource.PUBLIC_FORM, wording="Newer text") is not None
    assert _record(customer, False, ConsentSource.UNSUBSCRIBE) is not None
    assert _record(customer, False, ConsentSource.UNSUBSCRIBE) is None
    count = session.scalar(
        select(func.count()).select_from(ConsentRecord).filter_by(customer_id=customer.id)
    )
    assert count == 3


def test_withdrawing_what_was_never_granted_records_nothing(
    create_customer: Any, session: Any
) -> None:
    customer = create_customer()
    assert _record(customer, False, ConsentSource.UNSUBSCRIBE) is None
    assert consent_history(customer.id) == []


def test_purposes_are_independent(create_customer: Any, session: Any) -> None:
    customer = create_customer()
    record_consent(
        customer,
        ConsentPurpose.TERMS,
        granted=True,
        source=ConsentSource.API,
        locale="fr",
        wording="Terms https://example.lu/cgv",
    )
    assert has_consent(customer.id, ConsentPurpose.TERMS)
    assert not has_consent(customer.id, MARKETING)
    assert not customer.marketing_consent


def test_unsubscribe_tokens_are_signed(create_staff_user: Any, session: Any) -> None:
    token = unsubscribe_token(42)
    request = read_unsubscribe_token(token)
    assert request is not None
    assert request.customer_id == 42
    assert request.purpose is MARKETING

    assert read_unsubscribe_token(token[:-2] + ("AA" if token[-2:] != "AA" else "BB")) is None
    assert read_unsubscribe_token("") is None
    assert read_unsubscribe_token("not-a-token") is None
    # A token signed for another purpose (a password reset) is not an unsubscribe link.
    staff = create_staff_user()
    assert read_unsubscribe_token(make_password_token(staff, TokenPurpose.RESET)) is None

"""The unsubscribe link: GET asks, POST (and the mail client's one-click POST) withdraws."""

from __future__ import annotations

import base64
import html
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from loyalty.unsubscribe import UNSUBSCRIBE_WORDING, unsubscribe_url
from platform_core.customers.consent import (
    consent_history,
    has_consent,
    record_consent,
    wording_hash,
)
from platform_core.customers.models import ConsentPurpose, ConsentRecord, ConsentSource

MARKETING = ConsentPurpose.MARKETING_EMAIL


@pytest.fixture
def subscribed(create_customer: Any, session: Any) -> Any:
    customer = create_customer(preferred_locale="fr")
    record_consent(
        customer,
        MARKETING,
        granted=True,
        source=ConsentSource.PUBLIC_FORM,
        locale="fr",
        wording="Envoyez-moi les nouveautés",
    )
    session.commit()
    return customer


def _path(customer: Any) -> str:
    return urlsplit(unsubscribe_url(customer)).path


def test_get_asks_and_changes_nothing(client: Any, subscribed: Any) -> None:
    response = client.get(_path(subscribed))
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert "Oui, me désabonner" in page
    assert subscribed.merchant.name in page
    assert has_consent(subscribed.id, MARKETING)


def test_post_withdraws_and_a_second_post_is_harmless(client: Any, subscribed: Any) -> None:
    for _ in range(2):
        response = client.post(_path(subscribed))
        assert response.status_code == 200
        assert "Votre désabonnement est confirmé" in html.unescape(response.get_data(as_text=True))
    assert not has_consent(subscribed.id, MARKETING)
    rows = consent_history(subscribed.id)
    assert [(r.granted, r.source) for r in rows] == [
        (True, ConsentSource.PUBLIC_FORM),
        (False, ConsentSource.UNSUBSCRIBE),
    ]
    # The page a second GET shows says it is done, without a button.
    assert "Oui, me désabonner" not in client.get(_path(subscribed)).get_data(as_text=True)


def test_one_click_post_needs_no_csrf_token(
    app: Flask, client: Any, subscribed: Any, monkeypatch: pytest.MonkeyPatch, session: Any
) -> None:
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = client.post(
        _path(subscribed),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert not has_consent(subscribed.id, MARKETING)


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_forged_token_changes_nothing(
    client: Any, subscribed: Any, method: str, session: Any
) -> None:
    path = _path(subscribed)
    response = getattr(client, method)(path[:-3] + "xyz")
    assert response.status_code == 404
    assert has_consent(subscribed.id, MARKETING)
    count = len(session.scalars(select(ConsentRecord)).all())
    assert count == 1


def test_the_link_is_built_from_configuration(
    app: Flask, subscribed: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://loyalty.example.lu")
    assert unsubscribe_url(subscribed).startswith("https://loyalty.example.lu/unsubscribe/")


@pytest.mark.parametrize(
    ("locale", "question", "button", "done"),
    [
        ("en", "Stop news and offers by email from", "Yes, unsubscribe me", "You are unsubscribed"),
        (
            "fr",
            "Vous ne souhaitez plus recevoir",
            "Oui, me désabonner",
            "Votre désabonnement est confirmé",
        ),
        ("de", "Keine Neuigkeiten und Angebote von", "Ja, abmelden", "Sie wurden abgemeldet"),
        ("lb", "Keng Neiegkeeten an Offere vu", "Jo, mech ofmellen", "Dir sidd ofgemellt"),
    ],
)
def test_the_page_speaks_the_customer_language(
    client: Any,
    create_customer: Any,
    session: Any,
    locale: str,
    question: str,
    button: str,
    done: str,
) -> None:
    customer = create_customer(preferred_locale=locale)
    record_consent(
        customer, MARKETING, granted=True, source=ConsentSource.API, locale=locale, wording="x"
    )
    session.commit()
    page = html.unescape(client.get(_path(customer)).get_data(as_text=True))
    assert question in page
    assert button in page
    assert f'lang="{locale}"' in page
    after = html.unescape(client.post(_path(customer)).get_data(as_text=True))
    assert done in after
    row = consent_history(customer.id)[-1]
    assert (row.granted, row.source, row.locale) == (False, ConsentSource.UNSUBSCRIBE, locale)
    assert row.wording_hash == wording_hash(UNSUBSCRIBE_WORDING)


def test_a_token_edited_to_name_another_customer_changes_nothing(
    client: Any, subscribed: Any, create_customer: Any, create_merchant: Any, session: Any
) -> None:
    """The token carries the customer id, signed: pointing it at another merchant's customer
    (or any other id) breaks the signature."""
    other = create_customer(merchant=create_merchant(slug="elsewhere"), preferred_locale="de")
    record_consent(
        other, MARKETING, granted=True, source=ConsentSource.CONSOLE, locale="de", wording="y"
    )
    session.commit()
    token = _path(subscribed).rsplit("/", 1)[1]
    payload, signature = token.split(".", 1)
    forged_payload = base64.urlsafe_b64encode(
        json.dumps([other.id, "marketing_email"], separators=(",", ":")).encode()
    ).rstrip(b"=")
    forged = f"{forged_payload.decode()}.{signature}"
    assert forged != token
    for method in ("get", "post"):
        response = getattr(client, method)(f"/unsubscribe/{forged}")
        assert response.status_code == 404
    assert has_consent(other.id, MARKETING)
    assert has_consent(subscribed.id, MARKETING)
    # A token of one customer withdraws that customer only.
    client.post(_path(subscribed))
    assert not has_consent(subscribed.id, MARKETING)
    assert has_consent(other.id, MARKETING)

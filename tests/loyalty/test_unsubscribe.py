"""The unsubscribe link: GET asks, POST (and the mail client's one-click POST) withdraws."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from loyalty.unsubscribe import unsubscribe_url
from platform_core.customers.consent import consent_history, has_consent, record_consent
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
        assert "Vous êtes désabonné" in html.unescape(response.get_data(as_text=True))
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

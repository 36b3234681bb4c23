"""Locale choice (?lang= > staff/customer preference > Accept-Language > en) and Babel
formatting in rendered pages."""

from __future__ import annotations

from datetime import date

import pytest
from flask import g
from sqlalchemy import insert

from platform_core.customers.models import Customer
from platform_core.i18n import select_locale


def _html_lang(response) -> str:
    return response.text.split('<html lang="', 1)[1].split('"', 1)[0]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr-LU,fr;q=0.9,en;q=0.5", "fr"),
        ("de-DE", "de"),
        ("lb", "lb"),
        ("lb-LU", "lb"),
        ("es-ES,it;q=0.8", "en"),
        (None, "en"),
    ],
)
def test_accept_language_picks_a_supported_locale(client, header, expected):
    headers = {"Accept-Language": header} if header else {}
    assert _html_lang(client.get("/login", headers=headers)) == expected


def test_lang_parameter_wins_and_is_remembered(client):
    assert _html_lang(client.get("/login?lang=lb", headers={"Accept-Language": "de"})) == "lb"
    assert _html_lang(client.get("/login", headers={"Accept-Language": "de"})) == "lb"
    assert _html_lang(client.get("/login?lang=fr")) == "fr"
    assert _html_lang(client.get("/login")) == "fr"


def test_unknown_lang_parameter_is_ignored(client):
    assert _html_lang(client.get("/login?lang=xx", headers={"Accept-Language": "de"})) == "de"


def test_staff_preference_beats_accept_language_but_not_lang(
    client, login_as, merchant_admin, session
):
    merchant_admin.preferred_locale = "fr"
    session.flush()
    login_as(merchant_admin)
    assert _html_lang(client.get("/admin/", headers={"Accept-Language": "de"})) == "fr"
    assert _html_lang(client.get("/admin/?lang=lb", headers={"Accept-Language": "de"})) == "lb"
    assert _html_lang(client.get("/admin/store/")) == "lb"


def test_customer_preference_beats_accept_language(app, connection):
    with app.test_request_context("/", headers={"Accept-Language": "de"}):
        g.customer_locale = "lb"
        assert select_locale() == "lb"
    with app.test_request_context("/?lang=fr", headers={"Accept-Language": "de"}):
        g.customer_locale = "lb"
        assert select_locale() == "fr"


def test_language_switcher_keeps_the_page_and_its_query(client, login_as, merchant_admin):
    login_as(merchant_admin)
    page = client.get("/admin/customer/?search=anna&page=1").text
    assert 'href="/admin/customer/?search=anna&amp;page=1&amp;lang=lb"' in page
    assert "Lëtzebuergesch" in page


@pytest.mark.parametrize(
    ("lang", "birthday"),
    [("en", "Mar 14, 1990"), ("fr", "14 mars 1990"), ("de", "14.03.1990"), ("lb", "14. Mäe. 1990")],
)
def test_dates_in_the_console_follow_the_locale(
    client, login_as, merchant_admin, create_customer, lang, birthday
):
    customer = create_customer(merchant=merchant_admin.merchant, birthday=date(1990, 3, 14))
    login_as(merchant_admin)
    page = client.get(f"/admin/customer/details/?id={customer.id}&lang={lang}")
    assert birthday in page.text


@pytest.mark.parametrize(
    ("lang", "count"), [("en", "1,234"), ("fr", "1\u202f234"), ("de", "1.234"), ("lb", "1.234")]
)
def test_numbers_on_the_home_page_follow_the_locale(
    client, login_as, merchant_admin, session, lang, count
):
    session.execute(
        insert(Customer),
        [
            {
                "merchant_id": merchant_admin.merchant_id,
                "email": f"c{n}@example.lu",
                "first_name": "C",
                "last_name": str(n),
                "preferred_locale": "en",
            }
            for n in range(1234)
        ],
    )
    login_as(merchant_admin)
    page = client.get(f"/admin/?lang={lang}")
    assert f">{count}</div>" in page.text


def test_lang_is_remembered_even_when_the_page_only_redirects(client, login_as, store_staff):
    login_as(store_staff)
    # The terminal redirects a one-store user straight to their store: no text rendered.
    first = client.get("/admin/terminal/?lang=lb")
    assert first.status_code == 302
    page = client.get(first.headers["Location"])
    assert 'lang="lb"' in page.text

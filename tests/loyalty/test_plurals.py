"""Counted words agree with their count (ngettext), in English and in the other languages."""

from __future__ import annotations

import html as htmllib
from decimal import Decimal

import pytest
from flask_babel import force_locale

from loyalty import cli as loyalty_cli
from platform_core.extensions import db
from platform_core.i18n_lazy import ngettext


def _page(client, lang: str) -> str:
    response = client.get(f"/enroll/kirchberg?lang={lang}")
    assert response.status_code == 200
    return htmllib.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("lang", "one", "two"),
    [
        ("en", "Earn 1 point for every euro", "Earn 2 points for every euro"),
        ("fr", "Cumulez 1 point pour chaque euro", "Cumulez 2 points pour chaque euro"),
        ("de", "Sammeln Sie 1 Punkt für jeden", "Sammeln Sie 2 Punkte für jeden"),
        ("lb", "Sammelt 1 Punkt fir all Euro", "Sammelt 2 Punkte fir all Euro"),
    ],
)
def test_earn_summary_singular_and_plural(
    client, session, dummy_store, points_program, lang, one, two
):
    assert one in _page(client, lang)
    points_program.points_per_euro = Decimal("2.00")
    db.session.commit()
    page = _page(client, lang)
    assert two in page
    assert one not in page


def test_a_fraction_of_a_point_is_plural(client, session, dummy_store, points_program):
    points_program.points_per_euro = Decimal("1.5")
    db.session.commit()
    assert "Earn 1.5 points for every euro" in _page(client, "en")


def _store_counter(client, lang: str) -> str:
    page = client.get(f"/admin/?lang={lang}").get_data(as_text=True)
    block = page[page.index('data-count="store"') :]
    return htmllib.unescape(
        block[block.index('class="stretched-link">') + 23 : block.index("</a>")]
    )


def test_home_counters_singular_and_plural(
    login_as, platform_admin, dummy_store, create_store, session
):
    client = login_as(platform_admin)
    assert (_store_counter(client, "en"), _store_counter(client, "lb")) == ("store", "Geschäft")
    create_store(merchant=dummy_store.merchant)
    db.session.commit()
    assert (_store_counter(client, "en"), _store_counter(client, "lb")) == ("stores", "Geschäfter")


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", ["1 card", "2 cards", "1 chunk", "3 chunks"]),
        ("lb", ["1 Kaart", "2 Kaarten", "1 Block", "3 Bléck"]),
    ],
)
def test_cli_counts_singular_and_plural(app, lang, expected):
    with app.test_request_context(), force_locale(lang):
        got = [
            loyalty_cli._cards(1),
            loyalty_cli._cards(2),
            loyalty_cli._chunks(1),
            loyalty_cli._chunks(3),
        ]
    assert got == expected


@pytest.mark.parametrize(
    ("lang", "one", "two"),
    [
        (
            "en",
            "Google Wallet is not ready (1 problem).",
            "Google Wallet is not ready (2 problems).",
        ),
        (
            "fr",
            "Google Wallet n’est pas prêt (1 problème).",
            "Google Wallet n’est pas prêt (2 problèmes).",
        ),
    ],
)
def test_wallet_problems_singular_and_plural(app, lang, one, two):
    singular = "Google Wallet is not ready (%(num)s problem)."
    plural = "Google Wallet is not ready (%(num)s problems)."
    with app.test_request_context(), force_locale(lang):
        assert ngettext(singular, plural, 1) == one
        assert ngettext(singular, plural, 2) == two

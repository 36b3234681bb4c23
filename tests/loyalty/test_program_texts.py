"""Program texts in four languages: the fallback rule, and every surface that shows them
(public pages, JSON API by ?lang= and Accept-Language, Google Wallet class), plus the
program without terms (no acceptance asked) and the console's side-by-side editing."""

from __future__ import annotations

import html as htmllib
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from loyalty import api as public_api
from loyalty.models import LoyaltyCard, LoyaltyProgram, ProgramKind, ProgramText
from loyalty.services.program_texts import (
    has_terms,
    own_texts,
    program_texts,
    set_program_texts,
)
from loyalty.services.programs import create_program
from loyalty.wallet.payloads import loyalty_class_body
from tests.wallet_double.schema import validate

LB_DESCRIPTION = "Fir all Euro kritt Dir ee Punkt; mat 100 Punkte kritt Dir e Kuch."
FR_DESCRIPTION = "Un point par euro dépensé ; 100 points pour un gâteau."
EN_DESCRIPTION = "One point per euro; 100 points buy a cake of your choice."

FORM = {
    "email": "lena.weber@example.lu",
    "first_name": "Lena",
    "last_name": "Weber",
    "preferred_locale": "lb",
}


@pytest.fixture
def texts_program(session, dummy_merchant, dummy_store, points_program) -> LoyaltyProgram:
    """Kirchberg Points with lb, fr and en texts; the merchant writes French by default."""
    dummy_merchant.default_locale = "fr"
    set_program_texts(
        points_program,
        {
            "lb": {
                "name": "Kiercheberger Punkten",
                "description": LB_DESCRIPTION,
                "terms_url": "https://kirchberg.example/lb/konditiounen",
            },
            "fr": {
                "name": "Points Kirchberg",
                "description": FR_DESCRIPTION,
                "terms_url": "https://kirchberg.example/fr/conditions",
            },
            "en": {"description": EN_DESCRIPTION},
        },
    )
    return points_program


def _page(client: Any, url: str, **kwargs: Any) -> str:
    return htmllib.unescape(client.get(url, **kwargs).get_data(as_text=True))


# --- the rule -------------------------------------------------------------------------------
def test_each_field_falls_back_to_the_merchant_language_then_english(texts_program):
    lb = program_texts(texts_program, "lb")
    assert (lb.name, lb.description) == ("Kiercheberger Punkten", LB_DESCRIPTION)
    assert lb.terms_url == "https://kirchberg.example/lb/konditiounen"
    # German is missing: the merchant's default (French) answers, not English.
    de = program_texts(texts_program, "de")
    assert (de.name, de.description) == ("Points Kirchberg", FR_DESCRIPTION)
    assert de.terms_url == "https://kirchberg.example/fr/conditions"
    assert de.locale == "de"
    # English has its own description, and takes the French name it lacks.
    en = program_texts(texts_program, "en")
    assert (en.name, en.description) == ("Points Kirchberg", EN_DESCRIPTION)
    # An unknown language counts as missing.
    assert program_texts(texts_program, "pt").description == FR_DESCRIPTION


def test_without_the_merchant_language_english_then_any_language_answers(
    session, dummy_merchant, points_program
):
    dummy_merchant.default_locale = "de"
    set_program_texts(
        points_program,
        {"en": {"description": EN_DESCRIPTION}, "lb": {"reward_description": "E Kaffi gratis"}},
    )
    assert program_texts(points_program, "fr").description == EN_DESCRIPTION
    # Only Luxembourgish has a reward: every language shows it rather than nothing.
    assert program_texts(points_program, "fr").reward_description == "E Kaffi gratis"
    # No name in any language: the program's own name.
    assert program_texts(points_program, "lb").name == "Kirchberg Points"


def test_set_program_texts_replaces_clears_and_refuses_unknown(session, texts_program):
    set_program_texts(texts_program, {"lb": {"name": "", "description": " ", "terms_url": ""}})
    assert "lb" not in {row.locale for row in texts_program.texts}
    assert own_texts(texts_program)["lb"]["description"] == ""
    assert own_texts(texts_program)["fr"]["description"] == FR_DESCRIPTION  # left alone
    with pytest.raises(ValueError, match="locale"):
        set_program_texts(texts_program, {"pt": {"name": "x"}})
    with pytest.raises(ValueError, match="fields"):
        set_program_texts(texts_program, {"fr": {"slogan": "x"}})
    rows = session.scalar(
        select(func.count())
        .select_from(ProgramText)
        .where(ProgramText.program_id == texts_program.id)
    )
    assert rows == 2  # fr, en


# --- public pages -----------------------------------------------------------------------------
def test_enrollment_page_shows_the_visitor_language(client, texts_program):
    lb = _page(client, "/enroll/kirchberg?lang=lb")
    assert "Kiercheberger Punkten" in lb
    assert LB_DESCRIPTION in lb
    assert EN_DESCRIPTION not in lb
    assert 'href="https://kirchberg.example/lb/konditiounen"' in lb
    fr = _page(client, "/enroll/kirchberg?lang=fr")
    assert FR_DESCRIPTION in fr
    assert 'href="https://kirchberg.example/fr/conditions"' in fr
    de = _page(client, "/enroll/kirchberg?lang=de")
    assert FR_DESCRIPTION in de, "German falls back to the merchant's French"


def test_card_page_shows_the_customer_language(
    client, session, dummy_store, texts_program, make_card
):
    from loyalty.card_links import card_page_url

    card = make_card(dummy_store, email="jos@example.lu")
    card.customer.preferred_locale = "lb"
    session.flush()
    path = card_page_url(card).split("://", 1)[1].split("/", 1)[1]
    page = _page(client, "/" + path)
    assert "Kiercheberger Punkten" in page


# --- JSON API -------------------------------------------------------------------------------
def test_program_api_answers_in_lang_or_accept_language(client, texts_program):
    by_query = client.get("/api/v1/stores/kirchberg/program?lang=lb").get_json()
    assert by_query["description"] == LB_DESCRIPTION
    assert by_query["name"] == "Kiercheberger Punkten"
    assert by_query["language"] == "lb"
    assert by_query["terms_url"] == "https://kirchberg.example/lb/konditiounen"
    assert by_query["terms_required"] is True
    fresh = client.application.test_client()
    by_header = fresh.get(
        "/api/v1/stores/kirchberg/program", headers={"Accept-Language": "lb, fr;q=0.5"}
    ).get_json()
    assert by_header["description"] == LB_DESCRIPTION
    french = client.application.test_client().get(
        "/api/v1/stores/kirchberg/program", headers={"Accept-Language": "fr"}
    )
    assert french.get_json()["description"] == FR_DESCRIPTION


def test_program_api_cache_keeps_one_answer_per_language(app, client, texts_program):
    app.config["PROGRAM_INFO_CACHE_SECONDS"] = 60
    try:
        first = client.get("/api/v1/stores/kirchberg/program?lang=fr").get_json()
        then = client.get("/api/v1/stores/kirchberg/program?lang=lb").get_json()
    finally:
        app.config["PROGRAM_INFO_CACHE_SECONDS"] = 0
        public_api._program_cache._entries.clear()
    assert first["description"] == FR_DESCRIPTION
    assert then["description"] == LB_DESCRIPTION


# --- Google Wallet --------------------------------------------------------------------------
def test_wallet_class_carries_every_language(app, monkeypatch, session, texts_program):
    monkeypatch.setitem(app.config, "GOOGLE_WALLET_ISSUER_ID", "3388000000022222222")
    texts_program.logo_url = "https://cdn.example.lu/logo.png"
    texts_program.kind = ProgramKind.HYBRID
    texts_program.stamps_target = 8
    set_program_texts(
        texts_program,
        {
            "lb": {
                "name": "Kiercheberger Punkten",
                "description": LB_DESCRIPTION,
                "reward_description": "E Croissant gratis",
                "terms_url": "https://kirchberg.example/lb/konditiounen",
            },
            "fr": {"name": "Points Kirchberg", "reward_description": "Un croissant offert"},
        },
    )
    body = loyalty_class_body(texts_program)
    assert validate(body, "LoyaltyClass") == []
    # The merchant's language is the default value; the others are translations.
    assert body["programName"] == "Points Kirchberg"
    name = body["localizedProgramName"]
    assert name["defaultValue"] == {"language": "fr", "value": "Points Kirchberg"}
    assert {"language": "lb", "value": "Kiercheberger Punkten"} in name["translatedValues"]
    modules = {module["id"]: module for module in body["textModulesData"]}
    description = modules["description"]["localizedBody"]
    # French has no description now: its fallback, English, is the default value.
    assert description["defaultValue"] == {"language": "fr", "value": EN_DESCRIPTION}
    assert {"language": "lb", "value": LB_DESCRIPTION} in description["translatedValues"]
    reward = modules["reward"]
    assert {"language": "lb", "value": "E Croissant gratis"} in reward["localizedBody"][
        "translatedValues"
    ]
    assert reward["localizedBody"]["defaultValue"]["value"] == "Un croissant offert"
    assert {entry["language"] for entry in reward["localizedHeader"]["translatedValues"]} == {
        "en",
        "de",
        "lb",
    }


# --- terms ------------------------------------------------------------------------------------
@pytest.fixture
def termless_program(session, create_merchant, create_store) -> LoyaltyProgram:
    merchant = create_merchant(name="Bäckerei Lentz", slug="lentz", default_locale="de")
    create_store(merchant=merchant, name="Lentz Gare", slug="lentz-gare")
    return create_program(
        merchant,
        kind=ProgramKind.POINTS,
        name="Lentz Punkte",
        texts={"de": {"description": "Ein Punkt pro Euro."}},
    )


def _cards_of(session, program: LoyaltyProgram) -> int:
    return session.scalar(
        select(func.count()).select_from(LoyaltyCard).where(LoyaltyCard.program_id == program.id)
    )


def test_program_without_terms_asks_no_acceptance_on_the_page(client, session, termless_program):
    assert not has_terms(termless_program)
    page = _page(client, "/enroll/lentz-gare?lang=lb")
    assert 'name="accept_terms"' not in page
    page = client.get("/enroll/lentz-gare?lang=lb")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    data = dict(FORM)
    if token:
        data["csrf_token"] = token.group(1)
    response = client.post("/enroll/lentz-gare?lang=lb", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    assert _cards_of(session, termless_program) == 1


def test_program_without_terms_asks_no_acceptance_in_the_api(client, session, termless_program):
    info = client.get("/api/v1/stores/lentz-gare/program").get_json()
    assert info["terms_url"] is None
    assert info["terms_required"] is False
    response = client.post(
        "/api/v1/stores/lentz-gare/enroll",
        json={"email": "max@example.lu", "first_name": "Max", "last_name": "Wolff"},
    )
    assert response.status_code == 201, response.get_json()
    assert _cards_of(session, termless_program) == 1


def test_program_with_terms_still_needs_acceptance(client, session, texts_program):
    response = client.post(
        "/api/v1/stores/kirchberg/enroll?lang=lb",
        json={"email": "max@example.lu", "first_name": "Max", "last_name": "Wolff"},
    )
    assert response.status_code == 422
    assert "accept_terms" in response.get_json()["errors"]
    assert _cards_of(session, texts_program) == 0


# --- console ------------------------------------------------------------------------------------
def _program_form(program: LoyaltyProgram, **texts: str) -> dict[str, str]:
    data = {
        "name": program.name,
        "kind": "points",
        "points_per_euro": "1",
        "welcome_bonus_points": "50",
        "stamps_target": "",
        "points_expiry_days": "365",
        "expiry_warning_days": "14",
        "logo_url": "",
        "brand_color": "#1f5f8b",
        "is_active": "y",
    }
    data.update(texts)
    return data


def test_console_edits_the_four_languages_side_by_side(
    client, login_as, session, merchant_admin, texts_program
):
    login_as(merchant_admin)
    page = _page(client, f"/admin/loyaltyprogram/edit/?id={texts_program.id}")
    for code in ("en", "fr", "de", "lb"):
        assert f'name="text_{code}_description"' in page
    assert LB_DESCRIPTION in page  # prefilled with what lb has, not the fallback
    assert 'id="no-terms-warning"' not in page
    response = client.post(
        f"/admin/loyaltyprogram/edit/?id={texts_program.id}",
        data=_program_form(
            texts_program,
            text_lb_description="Nei Beschreiwung.",
            text_lb_terms_url="https://kirchberg.example/lb/konditiounen",
            text_de_name="Kirchberger Punkte",
            text_de_reward_description="Ein Croissant",
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    session.expire_all()
    texts = own_texts(session.get(LoyaltyProgram, texts_program.id))
    assert texts["lb"]["description"] == "Nei Beschreiwung."
    assert texts["de"] == {
        "name": "Kirchberger Punkte",
        "description": "",
        "reward_description": "Ein Croissant",
        "terms_url": "",
    }
    assert texts["fr"]["description"] == "", "a field left empty in the form is cleared"


def test_console_refuses_a_bad_terms_url_and_keeps_the_input(
    client, login_as, merchant_admin, texts_program
):
    login_as(merchant_admin)
    response = client.post(
        f"/admin/loyaltyprogram/edit/?id={texts_program.id}",
        data=_program_form(
            texts_program, text_lb_description="Bleift stoen.", text_fr_terms_url="conditions"
        ),
    )
    page = htmllib.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "Bleift stoen." in page
    assert "Enter a full address starting with https://." in page


def test_console_warns_the_merchant_about_a_program_without_terms(
    client, login_as, session, create_staff_user, termless_program
):
    from platform_core.staff.models import StaffRole

    owner = create_staff_user(
        role=StaffRole.MERCHANT_ADMIN, merchant=termless_program.merchant, email="l@lentz.lu"
    )
    login_as(owner)
    listing = _page(client, "/admin/loyaltyprogram/?lang=en")
    assert "No terms URL" in listing
    edit = _page(client, f"/admin/loyaltyprogram/edit/?id={termless_program.id}&lang=en")
    assert 'id="no-terms-warning"' in edit
    response = client.post(
        f"/admin/loyaltyprogram/edit/?id={termless_program.id}",
        data=_program_form(termless_program, text_de_description="Ein Punkt pro Euro."),
        follow_redirects=True,
    )
    page = htmllib.unescape(response.get_data(as_text=True))
    assert "Lentz Punkte has no terms and conditions URL" in page


def test_merchant_user_cannot_edit_another_merchants_texts(
    client, login_as, session, merchant_admin, termless_program
):
    login_as(merchant_admin)
    assert client.get(f"/admin/loyaltyprogram/edit/?id={termless_program.id}").status_code in (
        302,
        404,
    )
    response = client.post(
        f"/admin/loyaltyprogram/edit/?id={termless_program.id}",
        data=_program_form(termless_program, text_lb_description="Gehackt."),
    )
    assert response.status_code in (302, 404)
    session.expire_all()
    assert own_texts(session.get(LoyaltyProgram, termless_program.id))["lb"]["description"] == ""


def test_terminal_enrolls_without_terms_for_a_program_without_terms(
    client, login_as, session, create_staff_user, termless_program
):
    from platform_core.staff.models import StaffRole

    store = termless_program.merchant.stores[0]
    cashier = create_staff_user(
        role=StaffRole.STORE_STAFF,
        merchant=termless_program.merchant,
        stores=[store],
        email="kasse@lentz.lu",
    )
    login_as(cashier)
    page = _page(client, f"/admin/terminal/{store.id}/enroll/")
    assert 'name="accept_terms"' not in page
    response = client.post(f"/admin/terminal/{store.id}/enroll/", data=FORM)
    assert response.status_code in (200, 302), response.get_data(as_text=True)
    assert _cards_of(session, termless_program) == 1


# --- the demo seed --------------------------------------------------------------------------
def test_demo_programs_are_written_in_all_four_languages():
    from seeds.demo_loyalty import PROGRAMS

    for spec in PROGRAMS:
        assert set(spec.texts) == {"en", "fr", "de", "lb"}
        for code, values in spec.texts.items():
            assert values["name"], (spec.merchant_slug, code)
            assert values["description"], (spec.merchant_slug, code)
        if spec.fields["kind"] is ProgramKind.STAMPS:
            rewards = {code: values["reward_description"] for code, values in spec.texts.items()}
            assert len(set(rewards.values())) == 4, "each language has its own reward"
            assert rewards["de"] == "Ein Kaffee gratis"

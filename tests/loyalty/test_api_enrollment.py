"""The public JSON API: program info and enrollment by store slug."""

from __future__ import annotations

from flask_babel import force_locale
from sqlalchemy import func, select

from loyalty.card_links import load_card_from_token
from loyalty.models import LoyaltyCard
from platform_core.i18n_lazy import _l

BODY = {
    "email": "Jean.Schmit@example.lu",
    "first_name": "Jean",
    "last_name": "Schmit",
    "locale": "lb",
    "marketing_consent": True,
    "accept_terms": True,
    "phone": "+352 691 000 111",
    "birthday": "1985-12-01",
}


def _cards(session) -> int:
    return session.scalar(select(func.count(LoyaltyCard.id)))


def test_program_info_describes_the_active_program(client, session, dummy_store, points_program):
    response = client.get("/api/v1/stores/kirchberg/program")
    assert response.status_code == 200
    assert response.get_json() == {
        "name": "Kirchberg Points",
        "language": "en",
        "kind": "points",
        "description": "",
        "points_per_euro": 1.0,
        "welcome_bonus_points": 50,
        "stamps_target": None,
        "stamps_reward": None,
        "points_expiry_days": 365,
        "logo_url": None,
        "brand_color": "#1f5f8b",
        "terms_url": "https://kirchberg.example/terms",
        "terms_required": True,
        "merchant_name": "Boulangerie Kirchberg",
        "store_name": "Kirchberg",
        "enrollment_open": True,
    }


def test_program_info_of_a_stamps_program(client, stamps_store, stamps_program):
    body = client.get("/api/v1/stores/gare/program").get_json()
    assert body["kind"] == "stamps"
    assert body["stamps_target"] == 10
    assert body["stamps_reward"] == "A free coffee"
    assert body["points_per_euro"] is None


def test_program_info_says_when_enrollment_is_closed(
    client, session, dummy_store, points_program, settings
):
    settings.self_enrollment_enabled = False
    session.flush()
    assert client.get("/api/v1/stores/kirchberg/program").get_json()["enrollment_open"] is False


def test_program_info_404s(client, session, dummy_store):
    unknown = client.get("/api/v1/stores/nowhere/program")
    assert unknown.status_code == 404
    assert unknown.get_json()["error"]["code"] == "store_not_found"
    no_program = client.get("/api/v1/stores/kirchberg/program")
    assert no_program.status_code == 404
    assert no_program.get_json()["error"]["code"] == "program_missing"


def test_enroll_creates_a_card_and_returns_its_page_link(
    client, session, dummy_store, points_program
):
    response = client.post("/api/v1/stores/kirchberg/enroll", json=BODY)
    assert response.status_code == 201
    card_json = response.get_json()["card"]
    card = session.scalar(select(LoyaltyCard))
    assert card_json["number"] == card.card_number
    assert card_json["points_balance"] == 50
    assert card_json["stamp_count"] == 0
    token = card_json["card_page_url"].rsplit("/card/", 1)[1]
    assert load_card_from_token(token).id == card.id
    customer = card.customer
    assert (customer.email, customer.preferred_locale, customer.phone) == (
        "jean.schmit@example.lu",
        "lb",
        "+352 691 000 111",
    )
    assert customer.marketing_consent is True
    assert str(customer.birthday) == "1985-12-01"


def test_enroll_needs_no_csrf_token_even_when_csrf_is_on(
    app, client, session, dummy_store, points_program
):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/api/v1/stores/kirchberg/enroll", json=BODY)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 201


def test_enroll_validation_errors_are_per_field_in_the_request_language(
    app, client, session, dummy_store, points_program
):
    body = dict(
        BODY,
        email="nope",
        first_name="  ",
        accept_terms=False,
        birthday="01.12.1985",
        locale="xx",
        marketing_consent="yes",
    )
    response = client.post("/api/v1/stores/kirchberg/enroll?lang=fr", json=body)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors) == {
        "email",
        "first_name",
        "accept_terms",
        "birthday",
        "locale",
        "marketing_consent",
    }
    with app.test_request_context(), force_locale("fr"):
        assert errors["first_name"] == [str(_l("Enter your first name."))]
        assert errors["accept_terms"] == [str(_l("You need to accept the terms to join."))]
        assert errors["marketing_consent"] == [str(_l("Use true or false."))]
    assert _cards(session) == 0


def test_enroll_language_also_comes_from_accept_language(
    app, client, session, dummy_store, points_program
):
    response = client.post(
        "/api/v1/stores/kirchberg/enroll",
        json=dict(BODY, last_name=""),
        headers={"Accept-Language": "de-LU,de;q=0.9"},
    )
    assert response.status_code == 422
    with app.test_request_context(), force_locale("de"):
        assert response.get_json()["errors"]["last_name"] == [str(_l("Enter your last name."))]


def test_enroll_locale_defaults_to_the_request_language(
    client, session, dummy_store, points_program
):
    body = {k: v for k, v in BODY.items() if k != "locale"}
    assert client.post("/api/v1/stores/kirchberg/enroll?lang=fr", json=body).status_code == 201
    assert session.scalar(select(LoyaltyCard)).customer.preferred_locale == "fr"


def test_already_enrolled_answers_202_without_details(
    client, session, dummy_store, points_program, make_card
):
    card = make_card(dummy_store, email="jean.schmit@example.lu")
    response = client.post("/api/v1/stores/kirchberg/enroll", json=BODY)
    assert response.status_code == 202
    body = response.get_json()
    assert set(body) == {"status", "message"}
    assert card.card_number not in response.get_data(as_text=True)
    assert _cards(session) == 1


def test_enroll_errors_for_unknown_store_missing_program_closed_and_non_json(
    client, session, dummy_store, settings
):
    assert client.post("/api/v1/stores/nowhere/enroll", json=BODY).status_code == 404
    missing = client.post("/api/v1/stores/kirchberg/enroll", json=BODY)
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "program_missing"
    not_json = client.post("/api/v1/stores/kirchberg/enroll", data="email=a@b.lu")
    assert not_json.status_code == 415
    assert not_json.is_json
    broken = client.post(
        "/api/v1/stores/kirchberg/enroll", data="{", content_type="application/json"
    )
    assert broken.status_code == 400


def test_enroll_when_self_enrollment_is_off_is_403(
    client, session, dummy_store, points_program, settings
):
    settings.self_enrollment_enabled = False
    session.flush()
    response = client.post("/api/v1/stores/kirchberg/enroll", json=BODY)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "self_enrollment_disabled"
    assert _cards(session) == 0


def test_ping_is_plain_json(client):
    assert client.get("/api/v1/ping").get_json() == {"ok": True}


def test_program_info_is_cached_for_the_configured_seconds(
    app, client, session, dummy_store, points_program
):
    app.config["PROGRAM_INFO_CACHE_SECONDS"] = 60
    try:
        assert client.get("/api/v1/stores/kirchberg/program").get_json()["name"] == (
            "Kirchberg Points"
        )
        points_program.name = "Renamed"
        session.flush()
        # Within the cache time the worker answers from memory ...
        assert client.get("/api/v1/stores/kirchberg/program").get_json()["name"] == (
            "Kirchberg Points"
        )
    finally:
        app.config["PROGRAM_INFO_CACHE_SECONDS"] = 0
    # ... and with caching off the change shows at once.
    assert client.get("/api/v1/stores/kirchberg/program").get_json()["name"] == "Renamed"

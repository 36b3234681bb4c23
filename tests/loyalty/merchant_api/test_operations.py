"""The merchant API's endpoints: look-ups, every operation, idempotency, localized errors,
and answers valid against the OpenAPI document."""

from __future__ import annotations

import itertools

import jsonschema
import pytest
from openapi_spec_validator import validate
from sqlalchemy import func, select

from loyalty.models import LoyaltyTransaction
from loyalty.services.programs import get_settings
from platform_core import db as dbmod
from tests.loyalty.merchant_api.conftest import bearer

_keys = itertools.count()


def post(client, url, key, body=None, idem=None, **headers):
    idem = idem or f"idem-{next(_keys)}"
    return client.post(
        f"/api/v1/merchant{url}",
        json=body if body is not None else {},
        headers=bearer(key, **{"Idempotency-Key": idem}, **headers),
    )


def rows(session, card) -> int:
    return session.scalar(
        select(func.count())
        .select_from(LoyaltyTransaction)
        .where(LoyaltyTransaction.card_id == card.id)
    )


@pytest.fixture
def spec(client):
    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    return document


def check(spec, path, method, answer):
    documented = spec["paths"][path][method]["responses"]
    assert str(answer.status_code) in documented, answer.status_code
    schema = documented[str(answer.status_code)]["content"]["application/json"]["schema"]
    jsonschema.validate(
        answer.get_json(),
        dict(spec, **schema),
        cls=jsonschema.Draft202012Validator,
        format_checker=jsonschema.FormatChecker(),
    )


def test_look_up_by_number_and_by_email(client, session, spec, card, api_key):
    by_number = client.get(f"/api/v1/merchant/cards/{card.card_number}", headers=bearer(api_key))
    assert by_number.status_code == 200
    check(spec, "/merchant/cards/{number}", "get", by_number)
    body = by_number.get_json()["card"]
    assert body["points_balance"] == 50
    assert [row["type"] for row in body["history"]] == ["welcome_bonus"]
    by_email = client.get(
        "/api/v1/merchant/cards",
        query_string={"email": card.customer.email.upper()},
        headers=bearer(api_key),
    )
    assert by_email.status_code == 200
    check(spec, "/merchant/cards", "get", by_email)
    assert by_email.get_json()["card"]["number"] == card.card_number
    unknown = client.get("/api/v1/merchant/cards/4000000000000002", headers=bearer(api_key))
    assert unknown.status_code == 404
    check(spec, "/merchant/cards/{number}", "get", unknown)
    assert unknown.get_json()["error"]["code"] == "card_not_found"


def test_earn_from_euros_and_points_then_redeem_and_void(client, session, spec, card, api_key):
    n = card.card_number
    earned = post(client, f"/cards/{n}/earn", api_key, {"store": "kirchberg", "amount": "12.90"})
    assert earned.status_code == 201, earned.get_json()
    check(spec, "/merchant/cards/{number}/earn", "post", earned)
    assert earned.get_json()["transaction"]["points_delta"] == 12
    assert earned.get_json()["card"]["points_balance"] == 62
    points = post(client, f"/cards/{n}/earn", api_key, {"store": "kirchberg", "points": 8})
    assert points.get_json()["card"]["points_balance"] == 70
    redeemed = post(client, f"/cards/{n}/redeem", api_key, {"store": "kirchberg", "points": 30})
    assert redeemed.status_code == 201
    check(spec, "/merchant/cards/{number}/redeem", "post", redeemed)
    assert redeemed.get_json()["card"]["points_balance"] == 40
    too_much = post(client, f"/cards/{n}/redeem", api_key, {"store": "kirchberg", "points": 999})
    assert too_much.status_code == 422
    check(spec, "/merchant/cards/{number}/redeem", "post", too_much)
    assert too_much.get_json()["error"]["code"] == "insufficient_points"
    tx = earned.get_json()["transaction"]["id"]
    voided = post(client, f"/transactions/{tx}/void", api_key, {"reason": "till error"})
    assert voided.status_code == 201, voided.get_json()
    check(spec, "/merchant/transactions/{id}/void", "post", voided)
    assert voided.get_json()["card"]["points_balance"] == 28
    again = post(client, f"/transactions/{tx}/void", api_key, {})
    assert again.get_json()["error"]["code"] == "already_voided"


def test_void_follows_the_merchant_settings(client, session, card, api_key, dummy_merchant):
    earned = post(
        client, f"/cards/{card.card_number}/earn", api_key, {"store": "kirchberg", "points": 5}
    )
    tx = earned.get_json()["transaction"]["id"]
    get_settings(dummy_merchant.id).voids_allowed = False
    dbmod.commit()
    refused = post(client, f"/transactions/{tx}/void", api_key, {})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "voids_disabled"


def test_stamps_and_stamp_reward(
    client, session, spec, stamps_store, stamps_program, make_key, make_card, stamps_merchant
):
    key = make_key(stamps_merchant)
    card = make_card(stamps_store)
    n = card.card_number
    stamped = post(client, f"/cards/{n}/stamps", key, {"store": "gare", "count": 10})
    assert stamped.status_code == 201
    check(spec, "/merchant/cards/{number}/stamps", "post", stamped)
    assert stamped.get_json()["card"]["rewards_available"] == 1
    reward = post(client, f"/cards/{n}/stamp-reward", key, {"store": "gare"})
    assert reward.status_code == 201
    check(spec, "/merchant/cards/{number}/stamp-reward", "post", reward)
    none_left = post(client, f"/cards/{n}/stamp-reward", key, {"store": "gare"})
    assert none_left.get_json()["error"]["code"] == "no_reward_available"
    points = post(client, f"/cards/{n}/earn", key, {"store": "gare", "points": 3})
    assert points.get_json()["error"]["code"] == "program_has_no_points"


def test_enroll_creates_a_card_even_with_self_enrollment_off(
    client, session, spec, api_key, dummy_store, dummy_merchant
):
    get_settings(dummy_merchant.id).self_enrollment_enabled = False
    dbmod.commit()
    body = {
        "store": "kirchberg",
        "email": "lea@example.lu",
        "first_name": "Léa",
        "last_name": "Schmit",
        "locale": "lb",
        "accept_terms": True,
    }
    created = post(client, "/enroll", api_key, body)
    assert created.status_code == 201, created.get_json()
    check(spec, "/merchant/enroll", "post", created)
    assert created.get_json()["card"]["points_balance"] == 50
    again = post(client, "/enroll", api_key, body)
    assert again.status_code == 200
    assert again.get_json()["created"] is False
    no_terms = post(
        client, "/enroll", api_key, {**body, "email": "x@example.lu", "accept_terms": False}
    )
    assert no_terms.get_json()["error"]["code"] == "terms_not_accepted"


def test_same_idempotency_key_and_body_replays_without_a_new_row(client, session, card, api_key):
    n = card.card_number
    before = rows(session, card)
    first = post(
        client, f"/cards/{n}/earn", api_key, {"store": "kirchberg", "points": 7}, idem="sale-1"
    )
    # Same body, keys in another order: the same request.
    second = client.post(
        f"/api/v1/merchant/cards/{n}/earn",
        data='{"points": 7, "store": "kirchberg"}',
        content_type="application/json",
        headers=bearer(api_key, **{"Idempotency-Key": "sale-1"}),
    )
    assert first.status_code == second.status_code == 201
    assert first.get_data() == second.get_data()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert rows(session, card) == before + 1


def test_same_idempotency_key_with_another_body_answers_422(client, session, card, api_key):
    n = card.card_number
    post(client, f"/cards/{n}/earn", api_key, {"store": "kirchberg", "points": 7}, idem="sale-2")
    other = post(
        client, f"/cards/{n}/earn", api_key, {"store": "kirchberg", "points": 70}, idem="sale-2"
    )
    assert other.status_code == 422
    assert other.get_json()["error"]["code"] == "idempotency_key_reused"
    path = post(
        client, f"/cards/{n}/redeem", api_key, {"store": "kirchberg", "points": 7}, idem="sale-2"
    )
    assert path.status_code == 422
    session.refresh(card)
    assert card.points_balance == 57


def test_a_refused_request_keeps_no_record_and_may_be_sent_again(client, session, card, api_key):
    n = card.card_number
    refused = post(
        client, f"/cards/{n}/redeem", api_key, {"store": "kirchberg", "points": 60}, idem="r-1"
    )
    assert refused.status_code == 422
    post(client, f"/cards/{n}/earn", api_key, {"store": "kirchberg", "points": 20})
    retried = post(
        client, f"/cards/{n}/redeem", api_key, {"store": "kirchberg", "points": 60}, idem="r-1"
    )
    assert retried.status_code == 201


def test_post_without_idempotency_key_is_refused(client, session, card, api_key):
    answer = client.post(
        f"/api/v1/merchant/cards/{card.card_number}/earn",
        json={"store": "kirchberg", "points": 1},
        headers=bearer(api_key),
    )
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "idempotency_key_required"
    too_long = post(
        client, f"/cards/{card.card_number}/earn", api_key, {"points": 1}, idem="x" * 101
    )
    assert too_long.status_code == 400


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"store": "kirchberg", "points": "5"}, "invalid_field"),
        ({"store": "kirchberg", "points": True}, "invalid_field"),
        ({"store": "kirchberg", "amount": "abc"}, "invalid_field"),
        ({"store": "kirchberg", "amount": "1.999"}, "invalid_field"),
        ({"store": "kirchberg", "amount": "NaN"}, "invalid_field"),
        ({"store": "kirchberg", "amount": [1]}, "invalid_field"),
        ({"store": "kirchberg", "amount": -3}, "invalid_amount"),
        ({"store": "kirchberg", "amount": "1e30"}, "invalid_field"),
        ({"store": "kirchberg", "points": 10**30}, "invalid_field"),
        ({"store": "kirchberg", "note": 5, "points": 1}, "invalid_field"),
        ({"store": "kirchberg", "points": 0}, "invalid_points"),
        ({"store": "kirchberg"}, "amount_or_points"),
        ({"store": "kirchberg", "points": 1, "amount": 1}, "amount_or_points"),
        ({"points": 1}, "store_required"),
        ({"store": 5, "points": 1}, "invalid_field"),
        ({"store": "nowhere", "points": 1}, "store_not_found"),
    ],
)
def test_bad_input_answers_a_clear_error_never_a_500(client, session, card, api_key, body, code):
    answer = post(client, f"/cards/{card.card_number}/earn", api_key, body)
    assert answer.status_code in (404, 422)
    assert answer.get_json()["error"]["code"] == code


def test_non_json_bodies(client, session, card, api_key):
    url = f"/api/v1/merchant/cards/{card.card_number}/earn"
    headers = bearer(api_key, **{"Idempotency-Key": "nj"})
    text = client.post(url, data="points=5", content_type="text/plain", headers=headers)
    assert text.status_code == 415
    broken = client.post(url, data="{", content_type="application/json", headers=headers)
    assert broken.status_code == 400
    array = client.post(url, json=[1], headers=headers)
    assert array.status_code == 400


def test_errors_are_localized_by_accept_language(client, session, card, api_key):
    answer = post(
        client,
        f"/cards/{card.card_number}/redeem",
        api_key,
        {"store": "kirchberg", "points": 999},
        **{"Accept-Language": "fr"},
    )
    assert answer.get_json()["error"]["code"] == "insufficient_points"
    assert "points" in answer.get_json()["error"]["message"]
    assert answer.get_json()["error"]["message"].startswith("Points insuffisants")

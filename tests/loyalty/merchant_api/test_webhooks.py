"""Webhooks end to end: a real receiver on loopback verifies every signature with the
``standardwebhooks`` package. Ordering per card, retries (500s, timeouts), disabling,
replay, rollback, SSRF refusal, the CLI."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from loyalty.services.ledger import earn_points
from loyalty.webhooks.delivery import deliver_due
from loyalty.webhooks.endpoints import create_endpoint, replay_delivery
from loyalty.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from loyalty.webhooks.ssrf import address_allowed
from messaging.models import EmailLog
from platform_core import db as dbmod
from platform_core.models_base import utcnow
from tests.loyalty.merchant_api.conftest import bearer
from tests.support.webhook_receiver import webhook_receiver

ALL = ",".join(
    [
        "card.enrolled",
        "points.earned",
        "points.redeemed",
        "points.voided",
        "stamps.added",
        "reward.ready",
        "reward.redeemed",
    ]
)
_ids = itertools.count()


@pytest.fixture
def receiver(session, dummy_merchant, dummy_store, points_program):
    with webhook_receiver() as rec:
        new = create_endpoint(dummy_merchant, rec.url, ALL)
        rec.secret = new.secret
        rec.endpoint_id = new.endpoint.id
        dbmod.commit()
        yield rec


@pytest.fixture
def card(receiver, dummy_store, make_card):
    """A card whose card.enrolled event is delivered already (and forgotten)."""
    card = make_card(dummy_store)
    dbmod.commit()
    assert receiver.types() == ["card.enrolled"]
    receiver.received.clear()
    return card


def latest_delivery(session):
    return session.scalar(select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(1))


def events(session):
    return session.scalar(select(func.count()).select_from(WebhookEvent))


def earn(client, key, number, points, store="kirchberg"):
    return client.post(
        f"/api/v1/merchant/cards/{number}/earn",
        json={"store": store, "points": points},
        headers=bearer(key, **{"Idempotency-Key": f"w{next(_ids)}"}),
    )


def enroll(client, key, email):
    answer = client.post(
        "/api/v1/merchant/enroll",
        json={
            "store": "kirchberg",
            "email": email,
            "first_name": "A",
            "last_name": "B",
            "accept_terms": True,
        },
        headers=bearer(key, **{"Idempotency-Key": f"e{next(_ids)}"}),
    )
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["card"]["number"]


def test_events_arrive_signed_once_and_in_order(client, session, receiver, api_key):
    number = enroll(client, api_key, "ordered@example.lu")
    for points in (1, 2, 3):
        assert earn(client, api_key, number, points).status_code == 201
    got = receiver.delivered()
    assert [r.type for r in got] == ["card.enrolled", *["points.earned"] * 3]
    assert all(r.verified for r in got)
    assert [r.data["transaction"]["points_delta"] for r in got[1:]] == [1, 2, 3]
    assert got[0].data["welcome_bonus_points"] == 50
    assert len({r.message_id for r in got}) == 4
    statuses = set(session.scalars(select(WebhookDelivery.status)))
    assert statuses == {DeliveryStatus.DELIVERED}


def test_an_idempotent_replay_sends_no_second_event(client, session, receiver, api_key, card):
    headers = bearer(api_key, **{"Idempotency-Key": "same"})
    body = {"store": "kirchberg", "points": 4}
    client.post(f"/api/v1/merchant/cards/{card.card_number}/earn", json=body, headers=headers)
    client.post(f"/api/v1/merchant/cards/{card.card_number}/earn", json=body, headers=headers)
    assert receiver.types() == ["points.earned"]


def test_a_failing_event_holds_back_its_cards_later_events_only(
    client, session, receiver, api_key, dummy_store, make_card
):
    first, second = make_card(dummy_store), make_card(dummy_store)
    dbmod.commit()
    receiver.received.clear()
    down = {"on": True}
    receiver.behaviour = lambda body: (
        (500, 0) if down["on"] and body["data"]["card"]["number"] == first.card_number else (200, 0)
    )
    for points in (1, 2, 3):
        earn(client, api_key, first.card_number, points)
        earn(client, api_key, second.card_number, points)
    # Card two's events all went; card one's first failed and its later ones waited.
    assert [r.data["transaction"]["points_delta"] for r in receiver.delivered()] == [1, 2, 3]
    assert [r.card for r in receiver.received if r.answered == 500] == [first.card_number]
    # Not due yet: nothing is sent before the back-off.
    deliver_due(now=utcnow())
    assert len(receiver.received) == 4
    down["on"] = False
    deliver_due(now=utcnow() + timedelta(minutes=1))
    mine = [r for r in receiver.delivered() if r.card == first.card_number]
    assert [r.data["transaction"]["points_delta"] for r in mine] == [1, 2, 3]
    assert all(r.verified for r in receiver.received)
    first_try = receiver.received[0]
    assert mine[0].message_id == first_try.message_id  # a retry keeps its webhook-id
    delivery = session.scalar(
        select(WebhookDelivery)
        .join(WebhookEvent)
        .where(WebhookEvent.message_id == first_try.message_id)
    )
    assert delivery.attempts == 2
    assert delivery.response_code == 200


def test_retries_after_500s_with_exponential_back_off(client, session, receiver, api_key, card):
    answers = iter([500, 502, 503, 200])
    receiver.behaviour = lambda body: (next(answers), 0)
    earn(client, api_key, card.card_number, 5)
    delivery = latest_delivery(session)
    start = delivery.first_attempt_at
    gaps = []
    moment = utcnow()
    for _ in range(3):
        session.refresh(delivery)
        due = (
            delivery.next_attempt_at
            if delivery.next_attempt_at.tzinfo
            else delivery.next_attempt_at.replace(tzinfo=moment.tzinfo)
        )
        gaps.append(due - moment)
        moment = due + timedelta(seconds=1)
        deliver_due(now=moment)
    session.refresh(delivery)
    assert start is not None
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 4
    assert [r.answered for r in receiver.received] == [500, 502, 503, 200]
    # Each wait is about four times the one before.
    assert gaps[0] < gaps[1] < gaps[2]
    assert gaps[2].total_seconds() > 10 * gaps[0].total_seconds()


def test_retries_after_a_timeout(app, client, session, receiver, api_key, card):
    slow = iter([1.5, 0.0])
    receiver.behaviour = lambda body: (200, next(slow))
    app.config["WEBHOOK_TIMEOUT"] = 0.5
    try:
        earn(client, api_key, card.card_number, 5)
        delivery = latest_delivery(session)
        assert delivery.status == DeliveryStatus.PENDING
        assert "Timeout" in delivery.last_error
        deliver_due(now=utcnow() + timedelta(minutes=1))
    finally:
        app.config["WEBHOOK_TIMEOUT"] = 2.0
    session.refresh(delivery)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 2
    assert len({r.message_id for r in receiver.received}) == 1


def test_an_endpoint_failing_for_24_hours_is_disabled_and_its_merchant_emailed(
    client, session, receiver, api_key, card, dummy_merchant
):
    receiver.behaviour = lambda body: (500, 0)
    earn(client, api_key, card.card_number, 5)
    later = utcnow() + timedelta(hours=12)
    deliver_due(now=later)
    endpoint = session.get(WebhookEndpoint, receiver.endpoint_id)
    assert endpoint.is_active
    deliver_due(now=utcnow() + timedelta(hours=24, minutes=1))
    session.refresh(endpoint)
    assert not endpoint.is_active
    assert endpoint.disabled_at is not None
    delivery = latest_delivery(session)
    assert delivery.status == DeliveryStatus.FAILED
    email = session.scalar(select(EmailLog).where(EmailLog.code == "webhook_endpoint_disabled"))
    assert email is not None
    assert email.recipient == dummy_merchant.contact_email
    # Disabled: new events are not even written for it, nothing more is sent.
    count = len(receiver.received)
    earn(client, api_key, card.card_number, 1)
    deliver_due(now=utcnow() + timedelta(days=2))
    assert len(receiver.received) == count


def test_replay_sends_the_same_event_again(client, session, receiver, api_key, card):
    earn(client, api_key, card.card_number, 5)
    delivery = latest_delivery(session)
    replay_delivery(delivery)
    dbmod.commit()
    got = receiver.delivered()
    assert len(got) == 2
    assert got[0].message_id == got[1].message_id
    assert all(r.verified for r in got)
    assert delivery.id != latest_delivery(session).id


def test_no_event_for_a_rolled_back_transaction(client, session, receiver, card, dummy_store):
    before = events(session)
    earn_points(card, store=dummy_store, points=9)
    assert events(session) == before + 1
    dbmod.rollback()
    assert events(session) == before
    dbmod.commit()
    deliver_due(now=utcnow() + timedelta(hours=1))
    assert receiver.received == []


def test_a_refused_api_request_sends_nothing(client, session, receiver, api_key, card):
    before = events(session)
    answer = client.post(
        f"/api/v1/merchant/cards/{card.card_number}/redeem",
        json={"store": "kirchberg", "points": 9999},
        headers=bearer(api_key, **{"Idempotency-Key": "nope"}),
    )
    assert answer.status_code == 422
    assert receiver.received == []
    assert events(session) == before


def test_stamps_reward_ready_and_redeemed(
    client, session, stamps_merchant, stamps_store, stamps_program, make_key, make_card
):
    key = make_key(stamps_merchant)
    card = make_card(stamps_store)
    dbmod.commit()
    with webhook_receiver() as rec:
        rec.secret = create_endpoint(stamps_merchant, rec.url, ALL).secret
        dbmod.commit()
        n = card.card_number
        h = lambda i: bearer(key, **{"Idempotency-Key": f"st{i}"})  # noqa: E731
        client.post(
            f"/api/v1/merchant/cards/{n}/stamps", json={"store": "gare", "count": 10}, headers=h(1)
        )
        client.post(
            f"/api/v1/merchant/cards/{n}/stamp-reward", json={"store": "gare"}, headers=h(2)
        )
        assert rec.types() == ["stamps.added", "reward.ready", "reward.redeemed"]
        assert all(r.verified for r in rec.received)


def test_private_addresses_are_refused_unless_allowed(
    app, client, session, receiver, api_key, card
):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    try:
        earn(client, api_key, card.card_number, 5)
    finally:
        app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    assert receiver.received == []
    delivery = latest_delivery(session)
    assert delivery.status == DeliveryStatus.PENDING
    assert "not allowed" in delivery.last_error


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("192.168.0.10", False),
        ("172.16.5.5", False),
        ("169.254.169.254", False),
        ("::1", False),
        ("fe80::1", False),
        ("::ffff:127.0.0.1", False),
        ("0.0.0.0", False),
        ("fd00::1", False),
        ("93.184.216.34", True),
        ("2606:4700::1111", True),
    ],
)
def test_address_rule(address, allowed):
    assert address_allowed(address) is allowed


def test_cli_adds_an_endpoint_and_prints_the_secret_last(runner, session, dummy_merchant):
    result = runner.invoke(
        args=[
            "merchants",
            "webhook",
            "add",
            "https://shop.example.lu/hooks",
            "--merchant",
            dummy_merchant.slug,
            "--events",
            "points.earned,reward.ready",
        ]
    )
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert secret.startswith("whsec_")
    endpoint = session.scalar(select(WebhookEndpoint))
    assert endpoint.events == "points.earned reward.ready"
    bad = runner.invoke(
        args=[
            "merchants",
            "webhook",
            "add",
            "ftp://x",
            "--merchant",
            dummy_merchant.slug,
            "--events",
            "points.earned",
        ]
    )
    assert bad.exit_code != 0
    unknown = runner.invoke(
        args=[
            "merchants",
            "webhook",
            "add",
            "https://x.lu",
            "--merchant",
            dummy_merchant.slug,
            "--events",
            "points.stolen",
        ]
    )
    assert unknown.exit_code != 0
    assert "points.stolen" in unknown.output


def test_the_disabled_endpoint_email_is_sent_in_the_merchants_language(
    client, session, receiver, api_key, card, dummy_merchant
):
    from messaging import providers
    from seeds.seed_email_templates_core import upsert_templates
    from seeds.seed_email_templates_webhooks import webhook_templates

    upsert_templates(webhook_templates())
    providers.clear_outbox()
    receiver.behaviour = lambda body: (500, 0)
    earn(client, api_key, card.card_number, 5)
    deliver_due(now=utcnow() + timedelta(hours=24, minutes=1))
    sent = [m for m in providers.outbox if m["To"] == dummy_merchant.contact_email]
    assert len(sent) == 1
    assert sent[0]["Subject"].startswith("Point de terminaison webhook désactivé")  # fr merchant
    assert receiver.url in sent[0].get_body(("plain",)).get_content()

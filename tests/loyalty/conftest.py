"""Loyalty fixtures: programs and enrolled cards, made through the services."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from loyalty.models import LoyaltyCard, LoyaltyProgram, ProgramKind
from loyalty.services.enrollment import EnrollmentData, enroll_customer
from loyalty.services.programs import create_program, get_settings
from platform_core.tenancy.models import Merchant, Store


@pytest.fixture
def points_program(dummy_merchant: Merchant) -> LoyaltyProgram:
    return create_program(
        dummy_merchant,
        kind=ProgramKind.POINTS,
        name="Kirchberg Points",
        points_per_euro=Decimal("1.00"),
        welcome_bonus_points=50,
        points_expiry_days=365,
        expiry_warning_days=14,
        # Customers accept these terms when they join.
        texts={"en": {"terms_url": "https://kirchberg.example/terms"}},
    )


@pytest.fixture
def stamps_merchant(create_merchant: Any) -> Merchant:
    return create_merchant(name="Café Gare", slug="cafe-gare")


@pytest.fixture
def stamps_store(create_store: Any, stamps_merchant: Merchant) -> Store:
    return create_store(merchant=stamps_merchant, name="Gare", slug="gare")


@pytest.fixture
def stamps_program(stamps_merchant: Merchant) -> LoyaltyProgram:
    return create_program(
        stamps_merchant,
        kind=ProgramKind.STAMPS,
        name="Coffee card",
        stamps_target=10,
        texts={
            "en": {
                "reward_description": "A free coffee",
                "terms_url": "https://cafe-gare.example/terms",
            }
        },
    )


@pytest.fixture
def enrollment_data() -> Callable[..., EnrollmentData]:
    counter = iter(range(1, 10_000))

    def make(**overrides: Any) -> EnrollmentData:
        n = next(counter)
        values: dict[str, Any] = {
            "email": f"guest{n}@example.lu",
            "first_name": "Anna",
            "last_name": f"Weber{n}",
            "locale": "fr",
            "marketing_consent": False,
            "accept_terms": True,
        }
        values.update(overrides)
        return EnrollmentData(**values)

    return make


@pytest.fixture
def make_card(enrollment_data: Callable[..., EnrollmentData]) -> Callable[..., LoyaltyCard]:
    """Enroll a customer at ``store`` (the program must exist) and return the card."""

    def make(store: Store, **overrides: Any) -> LoyaltyCard:
        return enroll_customer(store, enrollment_data(**overrides), source="console").card

    return make


@pytest.fixture
def settings(dummy_merchant: Merchant) -> Any:
    return get_settings(dummy_merchant.id)


@pytest.fixture
def card(
    points_program: LoyaltyProgram, dummy_store: Store, make_card: Callable[..., LoyaltyCard]
) -> LoyaltyCard:
    """A points card with the 50-point welcome bonus."""
    return make_card(dummy_store)


class RecordingNotifications:
    """Stands in for the messaging side of ``loyalty_notifications``: records each call as
    *queued* when a service makes it and as *sent* only once the transaction commits,
    which is the contract the messaging implementation keeps (after_commit)."""

    def __init__(self) -> None:
        self.queued: list[tuple] = []
        self.sent: list[tuple] = []

    def _record(self, *call: Any) -> None:
        from platform_core.db import after_commit

        self.queued.append(call)
        after_commit(self.sent.append, call)

    def enrollment(self, card_id: int) -> None:
        self._record("enrollment", card_id)

    def welcome_bonus(self, card_id: int, points: int) -> None:
        self._record("welcome_bonus", card_id, points)

    def points_expiring(self, card_id: int, points: int, expires_on: Any) -> None:
        self._record("points_expiring", card_id, points, expires_on)

    def points_expired(self, card_id: int, points: int) -> None:
        self._record("points_expired", card_id, points)

    def reward_ready(self, card_id: int) -> None:
        self._record("reward_ready", card_id)


@pytest.fixture
def notifications(monkeypatch: pytest.MonkeyPatch) -> RecordingNotifications:
    from loyalty.notifications import loyalty_notifications

    recorder = RecordingNotifications()
    for name in (
        "enrollment",
        "welcome_bonus",
        "points_expiring",
        "points_expired",
        "reward_ready",
    ):
        monkeypatch.setattr(loyalty_notifications, name, getattr(recorder, name))
    return recorder

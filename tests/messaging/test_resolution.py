"""Which template an email uses: store override, recipient's language, store's, English."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from loyalty.models import LoyaltyCard
from loyalty.notifications import loyalty_notifications
from messaging.models import EmailTemplate, StoreEmailTemplate
from messaging.providers import outbox
from messaging.resolution import resolve_template
from platform_core import db as dbmod
from platform_core.tenancy.models import Merchant, Store

CODE = "loyalty_enrollment"


@pytest.fixture
def platform(session: Any) -> Callable[..., EmailTemplate]:
    def make(locale: str, *, active: bool = True) -> EmailTemplate:
        row = EmailTemplate(
            code=CODE,
            locale=locale,
            subject=f"platform {locale}",
            body_html=f"<p>platform {locale}</p>",
            body_text="",
            is_active=active,
        )
        session.add(row)
        session.flush()
        return row

    return make


@pytest.fixture
def override(session: Any) -> Callable[..., StoreEmailTemplate]:
    def make(store: Store, locale: str) -> StoreEmailTemplate:
        row = StoreEmailTemplate(
            merchant_id=store.merchant_id,
            store_id=store.id,
            code=CODE,
            locale=locale,
            subject=f"{store.name} {locale}",
            body_html=f"<p>{store.name} {locale}</p>",
            body_text="",
        )
        session.add(row)
        session.flush()
        return row

    return make


def _subject(store: Store, locale: str) -> str | None:
    found = resolve_template(CODE, locale, store=store)
    return found.subject if found else None


def test_store_override_in_the_recipients_language_wins(
    shop: tuple[Merchant, Store],
    platform: Any,
    override: Any,
) -> None:
    _, store = shop
    platform("de")
    override(store, "de")
    found = resolve_template(CODE, "de", store=store)
    assert found is not None
    assert found.source == "store"
    assert found.subject == "Ettelbréck de"


def test_override_in_another_language_or_store_is_not_used(
    shop: tuple[Merchant, Store],
    create_store: Any,
    platform: Any,
    override: Any,
) -> None:
    merchant, store = shop
    other_store = create_store(merchant=merchant, name="Diekirch", slug="diekirch")
    platform("de")
    override(store, "fr")
    override(other_store, "de")
    assert _subject(store, "de") == "platform de"


def test_platform_template_in_the_recipients_language(
    shop: tuple[Merchant, Store],
    platform: Any,
) -> None:
    _, store = shop
    for locale in ("en", "fr", "lb"):
        platform(locale)
    assert _subject(store, "lb") == "platform lb"


def test_missing_language_falls_back_to_the_stores_language(
    shop: tuple[Merchant, Store],
    platform: Any,
) -> None:
    _, store = shop  # the store speaks French
    platform("en")
    platform("fr")
    assert _subject(store, "lb") == "platform fr"


def test_then_english(shop: tuple[Merchant, Store], platform: Any) -> None:
    _, store = shop
    platform("en")
    assert _subject(store, "de") == "platform en"


def test_inactive_templates_are_skipped(shop: tuple[Merchant, Store], platform: Any) -> None:
    _, store = shop
    platform("en")
    platform("fr")
    platform("de", active=False)
    assert _subject(store, "de") == "platform fr"


def test_no_template_at_all(shop: tuple[Merchant, Store]) -> None:
    _, store = shop
    assert resolve_template(CODE, "de", store=store) is None


def test_the_email_sent_uses_the_resolved_template(
    platform: Any,
    override: Any,
    make_loyalty_card: Callable[..., LoyaltyCard],
    session: Any,
) -> None:
    platform("en")
    platform("fr")
    german = make_loyalty_card("de")
    luxembourgish = make_loyalty_card("lb")
    override(german.enrolled_at_store, "lb")

    loyalty_notifications.enrollment(german.id)
    loyalty_notifications.enrollment(luxembourgish.id)
    dbmod.commit()

    assert [m["Subject"] for m in outbox] == ["platform fr", "Ettelbréck lb"]

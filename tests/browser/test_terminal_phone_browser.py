"""The terminal on a 390 px phone: no horizontal scroll on the card page (with a history of
every kind of row, voids included), the confirmation pages and the search page."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from loyalty.models import ProgramKind
from loyalty.services.enrollment import EnrollmentData, enroll_customer
from loyalty.services.ledger import add_stamps, earn_points, redeem_points, void_transaction
from loyalty.services.programs import create_program
from platform_core.extensions import db
from platform_core.staff.models import StaffRole
from platform_core.staff.services import create_staff_user
from platform_core.tenancy.services import create_merchant, create_store
from tests.browser.conftest import SCREENSHOT_DIR

pytestmark = pytest.mark.browser

PASSWORD = "a long enough password"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Any) -> Any:
    context = browser.new_context(locale="en-GB", viewport=PHONE, device_scale_factor=2)
    page = context.new_page()
    yield page
    context.close()


def _scroll_width(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def _shot(page: Any, name: str) -> None:
    SCREENSHOT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / name), full_page=True)


def test_the_terminal_at_390_px_has_no_horizontal_scroll(live_app, live_server, phone):
    with live_app.app_context():
        merchant = create_merchant("Boulangerie Hoffmann", "hoffmann-phone", "info@hoffmann.lu")
        store = create_store(merchant, "Hoffmann Gare Centrale", "hoffmann-phone-gare")
        create_program(
            merchant,
            kind=ProgramKind.HYBRID,
            name="Hoffmann Rewards",
            points_per_euro=Decimal("1.00"),
            stamps_target=8,
            texts={"en": {"reward_description": "A free coffee"}},
        )
        staff = create_staff_user(
            "kasse@hoffmann.lu",
            PASSWORD,
            StaffRole.STORE_STAFF,
            merchant=merchant,
            stores=[store],
            full_name="Jean-Christophe Wagner-Schmitz",
        )
        card = enroll_customer(
            store,
            EnrollmentData(
                email="ines.goncalves-da-silva@example.lu",
                first_name="Inês",
                last_name="Gonçalves da Silva",
                locale="fr",
                marketing_consent=False,
                accept_terms=True,
            ),
            source="console",
        ).card
        earn_points(card, store=store, amount=Decimal("1234.56"), staff_user=staff)
        redeemed = redeem_points(
            card, 200, store=store, staff_user=staff, note="A birthday cake for the whole office"
        )
        add_stamps(card, 3, store=store, staff_user=staff)
        void_transaction(redeemed, staff_user=staff, store=store, reason="Typed the wrong card")
        card_id, store_id = card.id, store.id
        db.session.commit()

    phone.goto(f"{live_server.url}/login")
    phone.fill("input[name=email]", "kasse@hoffmann.lu")
    phone.fill("input[name=password]", PASSWORD)
    phone.click("button[type=submit]")
    phone.wait_for_url("**/admin/**")

    card_url = f"{live_server.url}/admin/terminal/{store_id}/cards/{card_id}/"
    phone.goto(card_url)
    history = phone.get_by_test_id("history")
    assert history.is_visible()
    _shot(phone, "terminal_card_390.png")
    assert _scroll_width(phone) <= PHONE["width"]
    # Every row of the stacked history fits inside the screen, too.
    widest = phone.evaluate(
        "Math.max(...[...document.querySelectorAll('[data-testid=history] tr')]"
        ".map(r => r.getBoundingClientRect().right))"
    )
    assert widest <= PHONE["width"]
    # The redemption is marked voided, with what the void did, on the phone as well.
    voided = phone.locator("[data-testid=history-row][data-voided='1']")
    assert voided.count() == 1
    assert "Voided" in voided.inner_text()
    assert "points given back" in voided.inner_text()

    phone.fill("input[name=count]", "6")
    phone.get_by_role("button", name="Add stamps").click()
    assert phone.get_by_test_id("stamps-after").inner_text() == "1 of 8"
    _shot(phone, "terminal_confirm_stamps_390.png")
    assert _scroll_width(phone) <= PHONE["width"]

    phone.goto(f"{live_server.url}/admin/terminal/{store_id}/?q=silva")
    results = phone.get_by_test_id("search-results").inner_text()
    assert "ines.goncalves-da-silva@example.lu" in results
    _shot(phone, "terminal_search_390.png")
    assert _scroll_width(phone) <= PHONE["width"]

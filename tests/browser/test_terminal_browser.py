"""A cashier at the counter: log in, find the customer's card, earn points through the
confirmation step, and see the new balance (real chromium, CSRF on)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from loyalty.models import ProgramKind
from loyalty.services.enrollment import EnrollmentData, enroll_customer
from loyalty.services.ledger import earn_points
from loyalty.services.programs import create_program
from platform_core.extensions import db
from platform_core.staff.models import StaffRole
from platform_core.staff.services import create_staff_user
from platform_core.tenancy.services import create_merchant, create_store

pytestmark = pytest.mark.browser

PASSWORD = "a long enough password"


def test_store_staff_finds_a_card_and_earns_points(live_app, live_server, page):
    with live_app.app_context():
        merchant = create_merchant("Bäckerei Muller", "muller-terminal", "info@muller.lu")
        store = create_store(merchant, "Muller Gare", "muller-gare-terminal")
        create_store(merchant, "Muller Belair", "muller-belair-terminal")
        create_program(
            merchant,
            kind=ProgramKind.HYBRID,
            name="Muller Rewards",
            points_per_euro=Decimal("1.00"),
            stamps_target=8,
            texts={
                "en": {
                    "reward_description": "A free coffee",
                    "terms_url": "https://muller.example/terms",
                }
            },
        )
        card = enroll_customer(
            store,
            EnrollmentData(
                email="claire.weber@example.lu",
                first_name="Claire",
                last_name="Weber",
                locale="fr",
                marketing_consent=False,
                accept_terms=True,
            ),
            source="console",
        ).card
        earn_points(card, store=store, amount=Decimal("30.00"))
        create_staff_user(
            "cashier@muller.lu",
            PASSWORD,
            StaffRole.STORE_STAFF,
            merchant=merchant,
            stores=[store],
            full_name="Jos Cashier",
        )
        db.session.commit()

    page.goto(f"{live_server.url}/login")
    page.fill("input[name=email]", "cashier@muller.lu")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/**")

    page.goto(f"{live_server.url}/admin/terminal/")
    # One store: the terminal opens it directly.
    assert page.get_by_test_id("terminal-store").inner_text() == "Muller Gare"
    page.fill("input[name=q]", "weber")
    page.get_by_role("button", name="Search").click()
    results = page.get_by_test_id("search-results")
    assert "claire.weber@example.lu" in results.inner_text()
    results.get_by_role("link", name="Open").click()
    assert page.get_by_test_id("balance").inner_text() == "30"

    page.fill("input[name=amount]", "12,50")
    page.get_by_test_id("earn-submit").click()
    summary = page.get_by_test_id("confirm-summary").inner_text()
    assert "+12" in summary
    assert "42" in summary
    page.screenshot(path=str(_artifact("terminal_confirm.png")), full_page=True)
    page.get_by_test_id("confirm-submit").click()

    assert page.get_by_test_id("balance").inner_text() == "42"
    assert "New balance: 42 points." in page.inner_text("body")
    history = page.get_by_test_id("history").inner_text()
    assert "€12.50" in history
    assert "Jos Cashier" in history


def _artifact(name: str):
    from tests.browser.conftest import SCREENSHOT_DIR

    SCREENSHOT_DIR.mkdir(exist_ok=True)
    return SCREENSHOT_DIR / name

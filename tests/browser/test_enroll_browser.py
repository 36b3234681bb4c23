"""Enroll through the real form in chromium, in French, then open the card page.

Screenshots (phone and desktop) land in test-artifacts/ to be looked at as a person would.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from loyalty.models import ProgramKind
from loyalty.services.programs import create_program
from platform_core.extensions import db
from platform_core.tenancy.services import create_merchant, create_store
from tests.browser.conftest import SCREENSHOT_DIR

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def bakery(live_app):
    with live_app.app_context():
        merchant = create_merchant(
            "Boulangerie Hoffmann", "hoffmann", "info@hoffmann.lu", default_locale="fr"
        )
        create_store(merchant, "Hoffmann Gare", "hoffmann-gare")
        create_program(
            merchant,
            kind=ProgramKind.HYBRID,
            name="Club Hoffmann",
            points_per_euro=Decimal("1.5"),
            welcome_bonus_points=25,
            stamps_target=8,
            points_expiry_days=365,
            brand_color="#8b3a1f",
            texts={
                "fr": {
                    "description": "Des points sur chaque achat et un café offert tous les "
                    "8 tampons.",
                    "reward_description": "un café offert",
                    "terms_url": "https://hoffmann.example/conditions",
                },
                "lb": {
                    "description": "Punkte bei all Akaf an all 8 Stempelen e Kaffi gratis.",
                    "reward_description": "e Kaffi gratis",
                    "terms_url": "https://hoffmann.example/lb/konditiounen",
                },
            },
        )
        db.session.commit()
    return "hoffmann-gare"


def _shoot(page, name: str) -> None:
    SCREENSHOT_DIR.mkdir(exist_ok=True)
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        page.screenshot(path=str(SCREENSHOT_DIR / f"enroll-{name}-{label}.png"), full_page=True)


def test_enroll_in_french_then_open_the_card_page(live_server, bakery, page):
    page.goto(f"{live_server.url}/enroll/{bakery}?lang=fr")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.locator("h1").inner_text() == "Club Hoffmann"
    # The page's language is preselected for the customer.
    assert page.locator("select[name=preferred_locale]").input_value() == "fr"
    _shoot(page, "form")

    # First a mistake: the form answers next to the fields and keeps what was typed.
    page.fill("input[name=email]", "claire.dupont@")
    page.fill("input[name=first_name]", "Claire")
    page.click("button[type=submit]")
    assert page.locator(".field.has-error").count() >= 3
    assert page.locator("input[name=first_name]").input_value() == "Claire"
    assert page.locator("html").get_attribute("lang") == "fr"
    _shoot(page, "errors")

    page.fill("input[name=email]", "claire.dupont@example.lu")
    page.fill("input[name=last_name]", "Dupont")
    page.fill("input[name=phone]", "+352 621 555 010")
    page.check("input[name=accept_terms]")
    page.click("button[type=submit]")

    body = page.locator("main")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert "Claire" in body.inner_text()
    assert page.locator("svg.qr").is_visible()
    number = page.locator(".card-number").inner_text()
    assert len(number.replace(" ", "")) == 16
    assert page.locator(".points").inner_text() == "25"
    _shoot(page, "success")
    # Post/Redirect/Get: the browser is on a GET page, and reloading it shows the same card.
    assert page.url.endswith(f"/enroll/{bakery}/welcome")
    page.reload()
    assert page.locator(".card-number").inner_text() == number

    page.click("a.button.secondary")  # "open my card page"
    page.wait_for_url("**/card/**")
    assert page.locator("html").get_attribute("lang") == "fr"  # Claire's language
    assert page.locator(".card-number").inner_text() == number
    assert page.locator("table.history tbody tr").count() == 1
    assert page.locator(".stamp-row li").count() == 8
    _shoot(page, "card")

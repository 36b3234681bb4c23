"""Program texts in the browser: an lb program description on the lb enrollment page (its
terms link in lb too), the merchant's language for a language without texts, and the
console's program form with the four languages side by side (real chromium, CSRF on).

Screenshots land in test-artifacts/ to be looked at as a person would.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from loyalty.models import ProgramKind
from loyalty.services.programs import create_program
from platform_core.extensions import db
from platform_core.staff.models import StaffRole
from platform_core.staff.services import create_staff_user
from platform_core.tenancy.services import create_merchant, create_store
from tests.browser.conftest import SCREENSHOT_DIR

pytestmark = pytest.mark.browser

PASSWORD = "a long enough password"
LB_DESCRIPTION = "Fir all Euro kritt Dir ee Punkt; mat 100 Punkte kritt Dir e Kuch no Ärer Wiel."
FR_DESCRIPTION = "Un point par euro dépensé ; avec 100 points, le gâteau de votre choix."
EN_DESCRIPTION = "One point per euro; 100 points buy a cake of your choice."


@pytest.fixture(scope="module")
def bakery(live_app):
    with live_app.app_context():
        merchant = create_merchant(
            "Boulangerie Reuter", "reuter", "info@reuter.lu", default_locale="fr"
        )
        create_store(merchant, "Reuter Gare", "reuter-gare")
        program = create_program(
            merchant,
            kind=ProgramKind.POINTS,
            name="Reuter Fidélité",
            points_per_euro=Decimal("1"),
            texts={
                "lb": {
                    "name": "Reuter Treiepunkten",
                    "description": LB_DESCRIPTION,
                    "terms_url": "https://reuter.example/lb/konditiounen",
                },
                "fr": {
                    "description": FR_DESCRIPTION,
                    "terms_url": "https://reuter.example/fr/conditions",
                },
                "en": {"description": EN_DESCRIPTION},
            },
        )
        create_staff_user(
            "anne@reuter.lu",
            PASSWORD,
            StaffRole.MERCHANT_ADMIN,
            merchant=merchant,
            full_name="Anne Reuter",
        )
        db.session.commit()
        return {"slug": "reuter-gare", "program_id": program.id}


def test_an_lb_program_description_shows_on_the_lb_enrollment_page(live_server, bakery, page):
    page.goto(f"{live_server.url}/enroll/{bakery['slug']}?lang=lb")
    assert page.locator("html").get_attribute("lang") == "lb"
    assert page.locator("h1").inner_text() == "Reuter Treiepunkten"
    assert page.locator(".program-description").inner_text() == LB_DESCRIPTION
    assert page.get_by_text(EN_DESCRIPTION).count() == 0
    assert page.get_by_text(FR_DESCRIPTION).count() == 0
    terms = page.locator("a.terms-link")
    assert terms.get_attribute("href") == "https://reuter.example/lb/konditiounen"
    SCREENSHOT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / "program-texts-enroll-lb.png"), full_page=True)

    # German has no texts: the merchant's French shows, never nothing.
    page.goto(f"{live_server.url}/enroll/{bakery['slug']}?lang=de")
    assert page.locator(".program-description").inner_text() == FR_DESCRIPTION
    assert page.locator("a.terms-link").get_attribute("href") == (
        "https://reuter.example/fr/conditions"
    )


def test_the_console_edits_the_four_languages_side_by_side(live_server, bakery, page):
    page.goto(f"{live_server.url}/login?lang=lb")
    page.fill("input[name=email]", "anne@reuter.lu")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/**")
    page.goto(f"{live_server.url}/admin/loyaltyprogram/edit/?id={bakery['program_id']}&lang=lb")
    grid = page.locator("fieldset.program-texts")
    assert grid.is_visible()
    # One column per language, in one row per text.
    boxes = [
        page.locator(f"#text_{code}_description").bounding_box()
        for code in ("en", "fr", "de", "lb")
    ]
    assert all(box is not None for box in boxes)
    assert len({round(box["y"]) for box in boxes}) == 1, "the four languages sit side by side"
    assert [box["x"] for box in boxes] == sorted(box["x"] for box in boxes)
    assert page.locator("#text_lb_description").input_value() == LB_DESCRIPTION
    assert page.locator("#text_de_description").input_value() == ""
    SCREENSHOT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / "program-texts-console.png"), full_page=True)

    page.fill("#text_de_description", "Pro Euro ein Punkt; für 100 Punkte einen Kuchen.")
    page.locator("input[type=submit].btn-primary").first.click()
    page.wait_for_url("**/admin/loyaltyprogram/")
    page.goto(f"{live_server.url}/enroll/{bakery['slug']}?lang=de")
    assert page.locator(".program-description").inner_text() == (
        "Pro Euro ein Punkt; für 100 Punkte einen Kuchen."
    )

"""A merchant admin logs in, switches the console to Luxembourgish, and opens their stores."""

import pytest

from platform_core.extensions import db
from platform_core.staff.models import StaffRole
from platform_core.staff.services import create_staff_user
from platform_core.tenancy.services import create_merchant, create_store

pytestmark = pytest.mark.browser

#: The Luxembourgish menu label of "Stores" (the translators' word for it).
STORES_LB = "Geschäfter"


def test_merchant_admin_logs_in_switches_to_lb_and_sees_only_own_stores(
    live_app, live_server, page
):
    with live_app.app_context():
        mine = create_merchant("Bäckerei Muller", "muller", "info@muller.lu", default_locale="de")
        theirs = create_merchant("Café Rouge", "rouge", "info@rouge.lu")
        create_store(mine, "Muller Gare", "muller-gare")
        create_store(mine, "Muller Belair", "muller-belair")
        create_store(theirs, "Rouge Centre", "rouge-centre")
        create_staff_user(
            "owner@muller.lu", "a long enough password", StaffRole.MERCHANT_ADMIN, merchant=mine
        )
        db.session.commit()

    page.goto(f"{live_server.url}/login")
    page.fill("input[name=email]", "owner@muller.lu")
    page.fill("input[name=password]", "a long enough password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    assert page.locator("html").get_attribute("lang") == "en"

    # The language switcher keeps the current page.
    page.click("#language-switcher")
    page.click("a.dropdown-item[lang=lb]")
    page.wait_for_url("**/admin/?lang=lb")
    assert page.locator("html").get_attribute("lang") == "lb"

    # Open the stores through the (Luxembourgish) navigation, as a person would.
    page.click("nav .dropdown-toggle.nav-link")
    page.click(f"nav a.dropdown-item:text-is('{STORES_LB}')")
    page.wait_for_url("**/admin/store/")
    assert page.locator("html").get_attribute("lang") == "lb", "the choice is remembered"
    rows = page.locator("table.model-list tbody").inner_text()
    assert "Muller Gare" in rows
    assert "Muller Belair" in rows
    assert "Rouge Centre" not in page.content()

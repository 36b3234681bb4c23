import pytest

from platform_core.extensions import db
from platform_core.staff.models import StaffRole
from platform_core.staff.services import create_staff_user
from platform_core.tenancy.services import create_merchant, create_store

pytestmark = pytest.mark.browser


def test_merchant_admin_logs_in_switches_to_lb_and_sees_only_own_stores(live_app, live_server, page):
    with live_app.app_context():
        mine = create_merchant("Bäckerei Muller", "muller", "info@muller.lu", default_locale="de")
        theirs = create_merchant("Café Rouge", "rouge", "info@rouge.lu")
        create_store(mine, "Muller Gare", "muller-gare")
        create_store(mine, "Muller Belair", "muller-belair")
        create_store(theirs, "Rouge Centre", "rouge-centre")
        create_staff_user("owner@muller.lu", "a long enough password", StaffRole.MERCHANT_ADMIN,
                          merchant=mine)
        db.session.commit()

    page.goto(f"{live_server.url}/login")
    page.fill("input[name=email]", "owner@muller.lu")
    page.fill("input[name=password]", "a long enough password")
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/**")
    page.click("a[lang=lb]")
    page.goto(f"{live_server.url}/admin/store/")
    body = page.inner_text("body")
    assert "Muller Gare" in body
    assert "Muller Belair" in body
    assert "Rouge Centre" not in body
    assert page.locator("html").get_attribute("lang") == "lb"

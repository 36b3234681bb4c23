"""The console's date-range picker speaks the console's language (Flask-Admin ships it in
English only)."""

import pytest

from platform_core.extensions import db
from platform_core.staff.models import StaffRole
from platform_core.staff.services import create_staff_user

pytestmark = pytest.mark.browser


def test_date_filter_picker_is_luxembourgish(live_app, live_server, page):
    with live_app.app_context():
        create_staff_user(
            "ops@platform.lu",
            "a long enough password",
            StaffRole.PLATFORM_ADMIN,
            preferred_locale="lb",
        )
        db.session.commit()

    page.goto(f"{live_server.url}/login")
    page.fill("input[name=email]", "ops@platform.lu")
    page.fill("input[name=password]", "a long enough password")
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/**")
    # A date filter on the task runs list (Started between ...).
    page.goto(f"{live_server.url}/admin/taskrun/?flt0_2=2026-11-01+00:00:00+to+2026-11-30+23:59:59")
    page.locator("input.filter-val[name=flt0_2]").click()
    picker = page.locator(".daterangepicker").first
    picker.wait_for(state="visible")
    text = picker.inner_text()
    assert "Uwenden" in text
    assert "Ofbriechen" in text
    assert "Apply" not in text
    # Month names from CLDR's Luxembourgish data, e.g. "Nov." for November.
    months = page.evaluate("moment.monthsShort()")
    assert months[2] == "Mäe."

"""A merchant admin saves two versions of an override and compares them (real chromium)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from loyalty.models import ProgramKind
from loyalty.services.programs import create_program
from platform_core.extensions import db
from platform_core.staff.models import StaffRole
from platform_core.staff.services import create_staff_user
from platform_core.tenancy.services import create_merchant, create_store
from seeds.seed_email_templates_loyalty import seed_email_templates_loyalty
from tests.browser.conftest import SCREENSHOT_DIR

pytestmark = pytest.mark.browser

PASSWORD = "a long enough password"


def test_merchant_admin_compares_two_versions(live_app, live_server, page):
    with live_app.app_context():
        merchant = create_merchant("Bäckerei Diff", "diff", "info@diff.lu", default_locale="de")
        store = create_store(merchant, "Diff Gare", "diff-gare")
        create_program(
            merchant, kind=ProgramKind.POINTS, name="Diff Punkte", points_per_euro=Decimal("1")
        )
        create_staff_user("owner@diff.lu", PASSWORD, StaffRole.MERCHANT_ADMIN, merchant=merchant)
        list(seed_email_templates_loyalty())
        db.session.commit()
        store_id = store.id

    page.goto(f"{live_server.url}/login")
    page.fill("input[name=email]", "owner@diff.lu")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/**")

    page.goto(f"{live_server.url}/admin/email-templates/{store_id}/loyalty_enrollment/de/?lang=en")
    page.fill("#subject", "Willkommen bei {{ program_name }}")
    page.fill("#body_html", "<h1>Moien {{ customer_first_name }}!</h1>\n<p>Alt</p>\n<p>Ende</p>")
    page.click("button[value=save]")
    expect(page.locator("#versions tr[data-version]")).to_have_count(1)
    page.fill("#subject", "Schön, dass Sie da sind, {{ customer_first_name }}")
    page.fill(
        "#body_html",
        "<h1>Moien {{ customer_first_name }}!</h1>\n<p><b>Neu</b></p>\n<p>Ende</p>",
    )
    page.click("button[value=save]")
    expect(page.locator("#versions tr[data-version]")).to_have_count(2)

    page.get_by_test_id("compare-version").click()
    page.wait_for_url(re.compile(r".*/diff\?"))
    body = page.locator("[data-diff-field=body_html]")
    expect(body.locator("[data-line=removed]")).to_have_text("− <p>Alt</p>")
    # The markup of the template is text on this page, not a bold word.
    expect(body.locator("[data-line=added]")).to_have_text("+ <p><b>Neu</b></p>")
    assert body.locator("b").count() == 0
    subject = page.locator("[data-diff-field=subject]")
    expect(subject.locator("[data-line=added]")).to_contain_text("Schön, dass Sie da sind")
    expect(page.locator("[data-diff-field=body_text]")).to_contain_text("No changes.")
    SCREENSHOT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / "template_diff.png"), full_page=True)

"""A merchant admin overrides the German enrollment email and a new enrollment uses it."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from loyalty.models import ProgramKind
from loyalty.services.enrollment import EnrollmentData, enroll_customer
from loyalty.services.programs import create_program
from messaging.models import EmailLog
from messaging.providers import clear_outbox, outbox
from platform_core import db as dbmod
from platform_core.extensions import db
from platform_core.staff.models import StaffRole
from platform_core.staff.services import create_staff_user
from platform_core.tenancy.models import Store
from platform_core.tenancy.services import create_merchant, create_store
from seeds.seed_email_templates_loyalty import seed_email_templates_loyalty
from tests.browser.conftest import SCREENSHOT_DIR

pytestmark = pytest.mark.browser

PASSWORD = "a long enough password"


@pytest.fixture
def world(live_app):
    with live_app.app_context():
        merchant = create_merchant(
            "Bäckerei Muller", "muller", "info@muller.lu", default_locale="de"
        )
        store = create_store(merchant, "Muller Gare", "muller-gare")
        create_program(
            merchant,
            kind=ProgramKind.POINTS,
            name="Muller Punkte",
            points_per_euro=Decimal("1.00"),
            welcome_bonus_points=0,
        )
        create_staff_user("owner@muller.lu", PASSWORD, StaffRole.MERCHANT_ADMIN, merchant=merchant)
        list(seed_email_templates_loyalty())
        db.session.commit()
        return {"store_id": store.id, "merchant_id": merchant.id}


def _login(page, live_server) -> None:
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=email]", "owner@muller.lu")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/**")


def test_merchant_admin_overrides_the_german_enrollment_email(live_app, live_server, page, world):
    _login(page, live_server)
    page.goto(f"{live_server.url}/admin/email-templates/?lang=en")
    expect(page.locator("td[data-code=loyalty_enrollment][data-locale=de]")).to_contain_text(
        "Platform version"
    )
    SCREENSHOT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / "template_overview.png"), full_page=True)
    page.click("td[data-code=loyalty_enrollment][data-locale=de] a")
    page.wait_for_url(re.compile(r".*/loyalty_enrollment/de/$"))
    frame = page.frame_locator("#preview-frame")
    # The merchant's own program (and store), with a sample customer: no sample shop.
    expect(frame.locator("body")).to_contain_text("Muller Punkte")
    expect(frame.locator("body")).not_to_contain_text("Kirchberg")

    # Typing updates the preview (the script posts the draft to the preview endpoint).
    page.fill("#subject", "Hallo {{ customer_first_name }}, schön dass Sie da sind")
    page.fill(
        "#body_html",
        "<h1>Moien {{ customer_first_name }}!</h1>\n<p>Ihre Karte: {{ card_number }}</p>",
    )
    expect(frame.locator("h1")).to_have_text("Moien Anna!")
    expect(page.locator("[data-preview=subject]")).to_have_text(
        "Hallo Anna, schön dass Sie da sind"
    )

    # A mistake shows up next to the field, with its line, before saving.
    page.fill("#body_html", "<h1>Moien {{ customer_first_name }}!</h1>\n<p>{{ kontonummer }}</p>")
    expect(page.locator("[data-problems-for=body_html]")).to_contain_text("Line 2")
    expect(page.locator("#preview-problems")).to_be_visible()
    page.screenshot(path=str(SCREENSHOT_DIR / "template_editor_problem.png"), full_page=True)

    page.fill(
        "#body_html",
        "<h1>Moien {{ customer_first_name }}!</h1>\n<p>Ihre Karte: {{ card_number }}</p>",
    )
    expect(frame.locator("h1")).to_have_text("Moien Anna!")
    # The "Preview" button (the no-script path) renders the same on the server.
    page.click("button[value=preview]")
    expect(page.frame_locator("#preview-frame").locator("h1")).to_have_text("Moien Anna!")
    page.click("button[value=save]")
    expect(page.locator(".alert-success")).to_contain_text("saved")
    expect(page.locator("#versions tr[data-version]")).to_have_count(1)
    expect(page.locator("#override-status")).to_contain_text("Overridden")
    page.screenshot(path=str(SCREENSHOT_DIR / "template_editor_saved.png"), full_page=True)

    clear_outbox()
    with live_app.app_context():
        store = db.session.get(Store, world["store_id"])
        enroll_customer(
            store,
            EnrollmentData(
                email="lena@example.lu",
                first_name="Lena",
                last_name="Schmit",
                locale="de",
                marketing_consent=False,
                accept_terms=True,
            ),
        )
        dbmod.commit()
        row = db.session.scalars(
            db.select(EmailLog).where(EmailLog.code == "loyalty_enrollment")
        ).one()
        assert row.subject == "Hallo Lena, schön dass Sie da sind"
        assert row.locale == "de"
        assert row.status == "sent"
    assert [m["Subject"] for m in outbox] == ["Hallo Lena, schön dass Sie da sind"]

    page.goto(f"{live_server.url}/admin/email-log/")
    expect(page.locator("body")).to_contain_text("lena@example.lu")
    page.screenshot(path=str(SCREENSHOT_DIR / "email_log_list.png"), full_page=True)
    page.click("a[title='View Record']")
    expect(page.frame_locator("#message-frame").locator("h1")).to_have_text("Moien Lena!")

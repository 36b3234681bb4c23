"""The console and the public pages work under the Content-Security-Policy: no violation in
the browser on the pages staff use every day, and the template editor's sandboxed preview
(a srcdoc iframe, which inherits the policy) still renders, inline styles included."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

from loyalty.models import ProgramKind
from loyalty.services.enrollment import EnrollmentData, enroll_customer
from loyalty.services.ledger import earn_points
from loyalty.services.programs import create_program
from platform_core.extensions import db
from platform_core.staff.models import StaffRole
from platform_core.staff.services import create_staff_user
from platform_core.tenancy.services import create_merchant, create_store
from seeds.seed_email_templates_core import core_templates, upsert_templates
from seeds.seed_email_templates_loyalty import seed_email_templates_loyalty

pytestmark = pytest.mark.browser

PASSWORD = "a long enough password"

# Every CSP violation the page sees, recorded as it happens (before any page script runs).
_RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  var where = e.target && e.target.outerHTML ? e.target.outerHTML.slice(0, 120) : "";
  window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + e.sample + " @" + where);
});
"""


@pytest.fixture(scope="module")
def world(live_app) -> dict[str, Any]:
    with live_app.app_context():
        merchant = create_merchant("Café Csp", "cafe-csp", "info@csp.lu", default_locale="en")
        store = create_store(merchant, "Csp Gare", "csp-gare")
        program = create_program(
            merchant,
            kind=ProgramKind.POINTS,
            name="Csp Points",
            points_per_euro=Decimal("1.00"),
            welcome_bonus_points=0,
        )
        create_staff_user("owner@csp.lu", PASSWORD, StaffRole.MERCHANT_ADMIN, merchant=merchant)
        list(seed_email_templates_loyalty())
        upsert_templates(core_templates())
        result = enroll_customer(
            store,
            EnrollmentData(
                email="anna@example.lu",
                first_name="Anna",
                last_name="Muller",
                locale="en",
                marketing_consent=False,
                accept_terms=True,
            ),
        )
        earn_points(result.card, store=store, amount=Decimal("12.00"))
        db.session.commit()
        return {"store_id": store.id, "card_id": result.card.id, "program_id": program.id}


@pytest.fixture
def watched(page) -> tuple[Any, list[str]]:
    """The page, and the console errors and CSP violations it reports."""
    problems: list[str] = []
    page.add_init_script(_RECORD_VIOLATIONS)

    def on_console(msg: Any) -> None:
        url = (msg.location or {}).get("url", "")
        if url.endswith("/favicon.ico"):
            return  # browsers ask for it on their own; the console has none
        if msg.type == "error" or "Content Security Policy" in msg.text:
            problems.append(f"console {msg.type}: {msg.text} ({url})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    return page, problems


def _login(page, live_server) -> None:
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=email]", "owner@csp.lu")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/**")


def _violations(page) -> list[str]:
    return page.evaluate("window.__csp || []")


def test_console_pages_run_without_csp_violations(live_server, watched, world):
    page, problems = watched
    _login(page, live_server)
    store, card, program = world["store_id"], world["card_id"], world["program_id"]
    paths = [
        "/admin/",
        "/admin/loyaltycard/",
        f"/admin/loyaltycard/details/?id={card}",
        f"/admin/loyaltyprogram/edit/?id={program}",
        "/admin/staffuser/",
        "/admin/staffuser/new/",
        "/admin/email-log/",
        "/admin/loyaltytransaction/",
        f"/admin/terminal/{store}/",
        f"/admin/terminal/{store}/cards/{card}/",
        f"/admin/terminal/{store}/enroll/",
        f"/admin/email-templates/{store}/loyalty_enrollment/en/",
        "/enroll/csp-gare?lang=en",
    ]
    seen = {}
    for path in paths:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        assert "frame-ancestors 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
        seen[path] = _violations(page)
    assert {path: v for path, v in seen.items() if v} == {}
    assert problems == []


def test_console_scripts_work_under_the_policy(live_server, watched, world):
    page, problems = watched
    _login(page, live_server)
    # Flask-Admin's filters (jQuery, select2) and the navigation dropdowns are scripts.
    page.goto(f"{live_server.url}/admin/staffuser/")
    page.click("a.dropdown-toggle:has-text('Add Filter')")
    page.click("a.filter:has-text('Role')")
    expect(page.locator("table.filters tr")).to_have_count(1)
    page.click("a.nav-link.active")  # a javascript:void(0) tab: stays, reports nothing
    assert _violations(page) == []

    # A row's delete button asks first (answered "no" here: nothing is deleted).
    dialogs: list[str] = []

    def answer(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss() if "delete this record" in dialog.message else dialog.accept()

    page.on("dialog", answer)
    page.click("form.icon button[data-fa-confirm]")
    assert dialogs == ["Are you sure you want to delete this record?"]
    expect(page.locator("body")).to_contain_text("owner@csp.lu")

    # The bulk actions menu asks through Flask-Admin's actions.js, then posts.
    page.goto(f"{live_server.url}/admin/email-log/")
    page.locator("input.action-checkbox").first.check()
    page.click("a.dropdown-toggle:has-text('With selected')")
    page.click("a[data-fa-action=resend]")
    expect(page.locator(".alert-success, .alert-info")).to_be_visible()
    assert dialogs[-1] == "Send the selected emails again?"
    assert _violations(page) == []
    assert problems == []


def test_template_editor_preview_renders_under_the_policy(live_server, watched, world):
    page, problems = watched
    _login(page, live_server)
    page.goto(f"{live_server.url}/admin/email-templates/{world['store_id']}/loyalty_enrollment/en/")
    frame = page.frame_locator("#preview-frame")
    expect(frame.locator("body")).to_contain_text("Csp Points")
    page.fill(
        "#body_html",
        '<h1 style="color: rgb(200, 0, 0)">Hello {{ customer_first_name }}!</h1>'
        "<script>parent.document.title = 'pwned'</script>",
    )
    heading = frame.locator("h1")
    expect(heading).to_have_text("Hello Anna!")
    # Inline styles of the email apply in the preview; its scripts never run.
    assert heading.evaluate("h => getComputedStyle(h).color") == "rgb(200, 0, 0)"
    assert page.title() != "pwned"
    assert page.locator("#preview-frame").get_attribute("sandbox") is not None
    assert [v for v in _violations(page) if "script" not in v] == []
    assert [p for p in problems if "script" not in p.lower()] == []

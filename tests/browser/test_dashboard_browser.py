"""A merchant admin opens the console in Luxembourgish: the dashboard's charts are drawn,
and its figures are the ledger's (real chromium)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from loyalty.models import LoyaltyCard, ProgramKind
from loyalty.services.enrollment import EnrollmentData, enroll_customer
from loyalty.services.ledger import earn_points, redeem_points
from loyalty.services.programs import create_program
from platform_core.extensions import db
from platform_core.staff.models import StaffRole
from platform_core.staff.services import create_staff_user
from platform_core.tenancy.services import create_merchant, create_store

pytestmark = pytest.mark.browser

PASSWORD = "a long enough password"


def _enroll(store, email: str) -> LoyaltyCard:
    return enroll_customer(
        store,
        EnrollmentData(
            email=email,
            first_name="Test",
            last_name="Client",
            locale="lb",
            marketing_consent=False,
            accept_terms=True,
        ),
        source="console",
    ).card


def test_dashboard_charts_in_luxembourgish_match_the_ledger(live_app, live_server, page):
    with live_app.app_context():
        merchant = create_merchant("Bäckerei Weber", "weber-dash", "info@weber.lu")
        gare = create_store(merchant, "Weber Gare", "weber-dash-gare")
        esch = create_store(merchant, "Weber Esch", "weber-dash-esch")
        create_program(
            merchant,
            kind=ProgramKind.POINTS,
            name="Weber Punkten",
            points_per_euro=Decimal("1.00"),
            point_value=Decimal("0.10"),
        )
        first = _enroll(gare, "eng@example.lu")
        second = _enroll(esch, "zwou@example.lu")
        earn_points(first, store=gare, amount=Decimal("120.00"))
        earn_points(second, store=esch, amount=Decimal("30.00"))
        redeem_points(first, 20, store=gare)
        other = create_merchant("Café Rouge", "rouge-dash", "info@rouge.lu")
        rouge = create_store(other, "Rouge Centre", "rouge-dash-centre")
        create_program(
            other, kind=ProgramKind.POINTS, name="Rouge", points_per_euro=Decimal("1.00")
        )
        earn_points(_enroll(rouge, "rouge@example.lu"), store=rouge, amount=Decimal("999"))
        create_staff_user("anne@weber.lu", PASSWORD, StaffRole.MERCHANT_ADMIN, merchant=merchant)
        db.session.commit()
        outstanding = db.session.scalar(
            select(func.sum(LoyaltyCard.points_balance)).where(
                LoyaltyCard.merchant_id == merchant.id
            )
        )

    page.goto(f"{live_server.url}/login?lang=lb")
    page.fill("input[name=email]", "anne@weber.lu")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/**")
    page.goto(f"{live_server.url}/admin/?lang=lb")

    assert outstanding == 130
    assert page.locator("[data-figure=outstanding-points]").inner_text() == "130"
    assert page.locator("[data-figure=active-cards]").inner_text() == "2"
    assert "13,00" in page.locator("[data-figure=liability]").inner_text()
    assert page.get_by_text("Ausgi, agelëst an ofgelafe Punkten pro Woch").is_visible()
    # Each chart is an image the browser could decode and draw.
    for name in ("enrollments-30", "points"):
        chart = page.locator(f"img[data-chart={name}]")
        assert chart.evaluate("img => img.complete && img.naturalWidth > 0")
        assert chart.get_attribute("alt")
    # The table behind the points chart: this week's figures, Luxembourgish headers.
    page.get_by_text("D’Zuelen als Tabell weisen").nth(1).click()
    table = page.locator("table[data-table=points]")
    header = table.locator("thead").inner_text()
    assert "Ausgi" in header
    assert "Agelëst" in header
    this_week = table.locator("tbody tr").first.inner_text().split()
    assert this_week[-3:] == ["150", "20", "0"]
    assert "Rouge" not in page.inner_text("body")

"""A merchant admin imports a legacy CSV in the console (real chromium): the preview names the
bad row's line, and the good rows are imported."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from loyalty.models import LoyaltyCard, ProgramKind
from loyalty.services.programs import create_program
from platform_core.extensions import db
from platform_core.staff.models import StaffRole
from platform_core.staff.services import create_staff_user
from platform_core.tenancy.services import create_merchant, create_store

pytestmark = pytest.mark.browser

PASSWORD = "a long enough password"

LEGACY = (
    "Courriel;Prénom;Nom;Solde;Date de naissance\n"
    "marie@example.lu;Marie;Weis;250;12.04.1980\n"
    "pas-un-email;Jean;Faber;10;\n"
    "luc@example.lu;Luc;Hansen;90;\n"
).encode("cp1252")


def test_import_reports_the_bad_rows_line_in_french(live_app, live_server, page, tmp_path):
    with live_app.app_context():
        merchant = create_merchant("Épicerie Weis", "weis-import", "info@weis.lu")
        create_store(merchant, "Weis Centre", "weis-import-centre")
        create_program(
            merchant, kind=ProgramKind.POINTS, name="Weis Points", points_per_euro=Decimal("1")
        )
        create_staff_user("marie@weis.lu", PASSWORD, StaffRole.MERCHANT_ADMIN, merchant=merchant)
        db.session.commit()
        merchant_id = merchant.id
    path = tmp_path / "ancien-systeme.csv"
    path.write_bytes(LEGACY)

    page.goto(f"{live_server.url}/login?lang=fr")
    page.fill("input[name=email]", "marie@weis.lu")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/**")
    page.goto(f"{live_server.url}/admin/card-import/?lang=fr")
    page.set_input_files("input[name=file]", str(path))
    page.click("[data-testid=import-preview]")

    problems = page.locator("[data-testid=import-problems] tbody tr")
    assert problems.count() == 1
    cells = problems.first.locator("td").all_inner_texts()
    assert cells[0] == "3"
    assert cells[1] == "Courriel"
    assert "n'est pas une adresse e-mail" in cells[2]
    assert "2 cartes seront créées" in page.locator("[data-testid=import-summary]").inner_text()

    page.click("[data-testid=import-run]")
    assert "2 cartes importées." in page.locator("[data-testid=import-done]").inner_text()
    with live_app.app_context():
        count = db.session.scalar(
            select(func.count()).select_from(LoyaltyCard).filter_by(merchant_id=merchant_id)
        )
    assert count == 2

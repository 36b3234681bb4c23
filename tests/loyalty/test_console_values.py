"""Console values: yes/no in the user's language, one date-time style in lists and details,
ISO 8601 with the local offset in every CSV export (Europe/Luxembourg)."""

from __future__ import annotations

import csv
import html as htmllib
import io
import re
from datetime import UTC, datetime

from sqlalchemy import select

from loyalty.models import LoyaltyTransaction
from platform_core.extensions import db
from tests.loyalty.console_world import build_world

MOMENT = datetime(2026, 12, 2, 14, 3, 24, 123456, tzinfo=UTC)  # 15:03:24 in Luxembourg
ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


def _customer(create_customer, merchant):
    customer = create_customer(merchant=merchant, marketing_consent=False, created_at=MOMENT)
    db.session.commit()
    return customer


def _rows(body: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body)))


def test_lb_details_say_nee_not_false(login_as, platform_admin, dummy_merchant, create_customer):
    customer = _customer(create_customer, dummy_merchant)
    client = login_as(platform_admin)
    page = htmllib.unescape(
        client.get(f"/admin/customer/details/?id={customer.id}&lang=lb").get_data(as_text=True)
    )
    assert re.search(r"Averständnis fir Marketing</b>\s*</td>\s*<td>\s*Nee\s*</td>", page), page
    assert "False" not in page


def test_fr_csv_says_non_not_false(login_as, platform_admin, dummy_merchant, create_customer):
    _customer(create_customer, dummy_merchant)
    client = login_as(platform_admin)
    body = client.get("/admin/customer/export/csv/?lang=fr").get_data(as_text=True)
    rows = _rows(body)
    assert [r["Consentement marketing"] for r in rows] == ["Non"], body
    assert "False" not in body


def test_list_and_details_show_the_same_format(
    login_as, platform_admin, dummy_merchant, create_customer
):
    customer = _customer(create_customer, dummy_merchant)
    client = login_as(platform_admin)
    shown = "Dec 2, 2026, 3:03:24\u202fPM"
    listing = client.get("/admin/customer/?lang=en").get_data(as_text=True)
    details = client.get(f"/admin/customer/details/?id={customer.id}&lang=en").get_data(
        as_text=True
    )
    assert shown in listing
    assert shown in details
    assert "12/2/26" not in listing + details


def test_customer_csv_is_iso_with_offset(login_as, platform_admin, dummy_merchant, create_customer):
    _customer(create_customer, dummy_merchant)
    client = login_as(platform_admin)
    rows = _rows(client.get("/admin/customer/export/csv/?lang=en").get_data(as_text=True))
    assert rows[0]["Created"] == "2026-12-02T15:03:24+01:00"


def test_transaction_csv_is_iso_with_offset(
    login_as,
    platform_admin,
    dummy_merchant,
    dummy_store,
    create_store,
    create_merchant,
    create_staff_user,
):
    build_world(
        dummy_merchant,
        dummy_store,
        {"store": create_store, "merchant": create_merchant, "staff": create_staff_user},
    )
    for row in db.session.scalars(select(LoyaltyTransaction)):
        row.created_at = MOMENT
    db.session.commit()
    client = login_as(platform_admin)
    body = client.get("/admin/loyaltytransaction/export/csv/?lang=en").get_data(as_text=True)
    rows = _rows(body)
    assert rows
    dated = [value for row in rows for value in row.values() if value.startswith("2026-")]
    assert dated, body
    assert all(ISO_WITH_OFFSET.match(v) for v in dated), body
    assert "2026-12-02T15:03:24+01:00" in dated

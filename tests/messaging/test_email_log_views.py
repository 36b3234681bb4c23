"""The email log in the console: scoped list, filters, details, resend, CSV export."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest

from messaging.models import EmailLog, EmailStatus
from messaging.providers import clear_outbox, outbox
from tests.messaging.editor_support import email_log, platform_templates

BASE = "/admin/email-log"


@pytest.fixture
def foreign_log(create_store):
    return email_log(create_store(name="Elsewhere Shop"), recipient="stranger@example.lu")


def test_list_shows_own_rows_with_localized_status_and_truncated_error(
    client, login_as, merchant_admin, dummy_store, foreign_log
):
    email_log(dummy_store, recipient="anna@example.lu")
    email_log(
        dummy_store,
        recipient="ben@example.lu",
        status=EmailStatus.FAILED,
        last_error="SMTP 451 " + "temporary failure " * 20,
    )
    login_as(merchant_admin)
    page = client.get(f"{BASE}/")
    assert page.status_code == 200
    assert "anna@example.lu" in page.text
    assert "ben@example.lu" in page.text
    assert "stranger@example.lu" not in page.text
    assert "Failed" in page.text
    assert "…" in page.text
    fr = client.get(f"{BASE}/?lang=fr")
    assert fr.status_code == 200


def test_filters_by_status_and_store_options_are_scoped(
    client, login_as, merchant_admin, dummy_store, foreign_log
):
    email_log(dummy_store, recipient="anna@example.lu")
    email_log(dummy_store, recipient="ben@example.lu", status=EmailStatus.FAILED)
    login_as(merchant_admin)
    page = client.get(f"{BASE}/")
    # The store filter offers own stores only.
    assert "Elsewhere Shop" not in page.text
    failed = client.get(f"{BASE}/?flt0_0=failed")
    assert "ben@example.lu" in failed.text
    assert "anna@example.lu" not in failed.text
    by_store = client.get(f"{BASE}/?flt0_2={foreign_log.store_id}")
    assert "stranger@example.lu" not in by_store.text


def test_search_by_recipient_and_filter_by_date(client, login_as, merchant_admin, dummy_store):
    email_log(
        dummy_store, recipient="anna@example.lu", created_at=datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
    )
    email_log(
        dummy_store, recipient="ben@example.lu", created_at=datetime(2025, 4, 1, 9, 0, tzinfo=UTC)
    )
    login_as(merchant_admin)
    found = client.get(f"{BASE}/?search=anna")
    assert "anna@example.lu" in found.text
    assert "ben@example.lu" not in found.text
    march = client.get(f"{BASE}/?flt0_3=2025-03-01+to+2025-03-10")
    assert "anna@example.lu" in march.text
    assert "ben@example.lu" not in march.text


def test_details_show_the_rendered_message_in_a_sandboxed_frame(
    client, login_as, merchant_admin, dummy_store
):
    row = email_log(dummy_store, body_html="<p>Anna, <b>welcome</b>.</p><script>x()</script>")
    login_as(merchant_admin)
    page = client.get(f"{BASE}/details/?id={row.id}")
    assert page.status_code == 200
    assert "Welcome to Rewards" in page.text
    assert 'sandbox=""' in page.text
    # The HTML only lives inside the frame's srcdoc, escaped: it never runs in the console.
    assert "<script>x()</script>" not in page.text
    assert "<script>x()</script>" in html.unescape(page.text)
    assert "Anna, welcome." in page.text


def test_another_merchants_log_answers_404(client, login_as, merchant_admin, foreign_log, session):
    login_as(merchant_admin)
    assert client.get(f"{BASE}/details/?id={foreign_log.id}").status_code == 404
    assert client.post(f"{BASE}/resend/", data={"id": foreign_log.id}).status_code == 404
    assert client.post(f"{BASE}/resend/", data={"id": "x"}).status_code == 404
    before = session.query(EmailLog).count()
    client.post(f"{BASE}/action/", data={"action": "resend", "rowid": [str(foreign_log.id)]})
    assert session.query(EmailLog).count() == before


def test_resend_creates_a_new_log_and_the_message_arrives(
    client, login_as, merchant_admin, dummy_store, session
):
    platform_templates()
    original = email_log(dummy_store, recipient="anna@example.lu")
    clear_outbox()
    login_as(merchant_admin)
    response = client.post(f"{BASE}/resend/", data={"id": original.id, "url": f"{BASE}/"})
    assert response.status_code == 302
    copy = session.query(EmailLog).filter(EmailLog.resent_from_id == original.id).one()
    assert copy.id != original.id
    assert copy.status == EmailStatus.SENT
    assert [m["To"] for m in outbox] == ["anna@example.lu"]
    assert outbox[0]["Subject"] == "Welcome to Rewards"


def test_bulk_resend_only_touches_own_rows(
    client, login_as, merchant_admin, dummy_store, foreign_log, session
):
    platform_templates()
    mine = email_log(dummy_store, recipient="anna@example.lu")
    clear_outbox()
    login_as(merchant_admin)
    client.post(
        f"{BASE}/action/", data={"action": "resend", "rowid": [str(mine.id), str(foreign_log.id)]}
    )
    assert session.query(EmailLog).filter(EmailLog.resent_from_id == mine.id).count() == 1
    assert session.query(EmailLog).filter(EmailLog.resent_from_id == foreign_log.id).count() == 0
    assert [m["To"] for m in outbox] == ["anna@example.lu"]


def test_store_staff_see_only_their_stores_rows(
    client, login_as, store_staff, dummy_store, dummy_merchant, create_store
):
    sister = create_store(merchant=dummy_merchant, name="Gare")
    email_log(dummy_store, recipient="anna@example.lu")
    hidden = email_log(sister, recipient="gare@example.lu")
    login_as(store_staff)
    page = client.get(f"{BASE}/")
    assert "anna@example.lu" in page.text
    assert "gare@example.lu" not in page.text
    assert client.get(f"{BASE}/details/?id={hidden.id}").status_code == 404


def test_csv_export_holds_own_rows_only(client, login_as, merchant_admin, dummy_store, foreign_log):
    email_log(dummy_store, recipient="anna@example.lu", status=EmailStatus.FAILED)
    login_as(merchant_admin)
    export = client.get(f"{BASE}/export/csv/")
    assert export.status_code == 200
    assert "anna@example.lu" in export.text
    assert "Failed" in export.text
    assert "Kirchberg" in export.text
    assert "stranger@example.lu" not in export.text


def test_resending_a_test_message_sends_the_same_draft_again(
    client, login_as, merchant_admin, dummy_store, session
):
    platform_templates()
    login_as(merchant_admin)
    client.post(
        f"/admin/email-templates/{dummy_store.id}/loyalty_enrollment/de/",
        data={
            "subject": "Entwurf {{ customer_first_name }}",
            "body_html": "<p>Nur ein Entwurf</p>",
            "action": "send_test",
        },
    )
    test_log = session.query(EmailLog).one()
    clear_outbox()
    client.post(f"{BASE}/resend/", data={"id": test_log.id})
    copy = session.query(EmailLog).filter(EmailLog.resent_from_id == test_log.id).one()
    assert copy.subject == "[Test] Entwurf Anna"  # marked once, as the first send
    assert copy.recipient == merchant_admin.email
    assert [m["Subject"] for m in outbox] == ["[Test] Entwurf Anna"]
    listing = client.get(f"{BASE}/")
    assert ">test</span>" in listing.text

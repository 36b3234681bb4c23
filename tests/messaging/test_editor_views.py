"""The override editor at /admin/email-templates/ as merchant users use it."""

from __future__ import annotations

import html

import pytest

from messaging import editor
from messaging.models import EmailLog, StoreEmailTemplate
from messaging.providers import clear_outbox, outbox
from tests.messaging.editor_support import CODE, draft, platform_templates

BASE = "/admin/email-templates"


@pytest.fixture
def templates(session):
    return platform_templates()


def edit_url(store, locale="de"):
    return f"{BASE}/{store.id}/{CODE}/{locale}/"


def test_overview_lists_codes_and_locales_of_own_stores(
    client, login_as, merchant_admin, dummy_store, create_store, templates
):
    foreign = create_store(name="Elsewhere Shop")
    editor.save_override(
        merchant_admin, dummy_store, CODE, "de", subject="Hallo", body_html="<p>Hallo</p>"
    )
    login_as(merchant_admin)
    page = client.get(f"{BASE}/")
    assert page.status_code == 200
    assert "Kirchberg" in page.text
    assert "Elsewhere Shop" not in page.text
    assert "Overridden" in page.text
    assert "Platform version" in page.text
    assert merchant_admin.full_name in page.text
    assert client.get(f"{BASE}/?store_id={foreign.id}").status_code == 404


def test_editor_shows_platform_version_variables_and_sandboxed_preview(
    client, login_as, merchant_admin, dummy_store, templates
):
    login_as(merchant_admin)
    page = client.get(edit_url(dummy_store))
    assert page.status_code == 200
    text = page.text
    assert "Willkommen bei {{ program_name }}" in html.unescape(text)  # platform version
    assert "customer_first_name" in text
    assert "The customer's first name" in html.unescape(text)
    assert '<iframe id="preview-frame"' in text
    assert 'sandbox=""' in text
    # The preview is rendered with the store's merchant (no program: its name) and a
    # sample customer (tests/messaging/test_editor_preview_values.py has the details).
    assert "Willkommen bei Boulangerie Kirchberg" in text


def test_save_with_a_syntax_error_shows_the_line_and_keeps_the_input(
    client, login_as, merchant_admin, dummy_store, templates, session
):
    login_as(merchant_admin)
    body = "<p>Hallo</p>\n<p>{{ customer_first_name </p>"
    page = client.post(edit_url(dummy_store), data=draft(body_html=body))
    assert page.status_code == 200
    assert "Line 2:" in page.text
    assert "Not saved" in page.text
    assert html.escape(body) in page.text or body in html.unescape(page.text)
    assert session.query(StoreEmailTemplate).count() == 0


@pytest.mark.parametrize(
    "body", ["<p>{{ ''.__class__.__mro__ }}</p>", "<p>{{ config }}</p>", "<p>{{ password }}</p>"]
)
def test_sandbox_escapes_are_refused_at_save(
    client, login_as, merchant_admin, dummy_store, templates, session, body
):
    login_as(merchant_admin)
    page = client.post(edit_url(dummy_store), data=draft(body_html=body))
    assert page.status_code == 200
    assert "Line 1:" in page.text
    assert session.query(StoreEmailTemplate).count() == 0


def test_saves_are_listed_as_versions_and_restore_brings_back_the_older_one(
    client, login_as, merchant_admin, dummy_store, templates, session
):
    login_as(merchant_admin)
    assert client.post(edit_url(dummy_store), data=draft(subject="Eins")).status_code == 302
    assert client.post(edit_url(dummy_store), data=draft(subject="Zwei")).status_code == 302
    page = client.get(edit_url(dummy_store))
    assert page.text.count('data-version="') == 2
    assert "Zwei" in page.text
    assert "Eins" in page.text

    override = session.query(StoreEmailTemplate).one()
    first = override.versions[-1]
    response = client.post(f"{edit_url(dummy_store)}restore/{first.id}")
    assert response.status_code == 302
    session.expire_all()
    assert override.subject == "Eins"
    page = client.get(edit_url(dummy_store))
    assert page.text.count('data-version="') == 3
    assert 'value="Eins"' in page.text


def test_preview_json_renders_the_draft_or_lists_problems(
    client, login_as, merchant_admin, dummy_store, templates
):
    login_as(merchant_admin)
    url = f"{edit_url(dummy_store)}preview"
    ok = client.post(url, data=draft(subject="Hallo {{ customer_first_name }}")).get_json()
    assert ok["ok"] is True
    assert ok["subject"] == "Hallo Anna"
    assert "Willkommen bei Boulangerie Kirchberg" in ok["html"]
    assert "Willkommen bei Boulangerie Kirchberg" in ok["text"]

    bad = client.post(url, data=draft(body_html="<p>\n{{ nope }}</p>")).get_json()
    assert bad["ok"] is False
    assert bad["problems"][0]["field"] == "body_html"
    assert bad["problems"][0]["line"] == 2
    assert "nope" in bad["problems"][0]["message"]


def test_preview_button_without_javascript_renders_the_draft(
    client, login_as, merchant_admin, dummy_store, templates, session
):
    login_as(merchant_admin)
    page = client.post(
        edit_url(dummy_store),
        data=draft(body_html="<p>Neu: {{ store_name }}</p>", action="preview"),
    )
    assert page.status_code == 200
    assert "Neu: Kirchberg" in html.unescape(page.text)
    assert session.query(StoreEmailTemplate).count() == 0


def test_reset_asks_for_confirmation_then_deletes_the_override(
    client, login_as, merchant_admin, dummy_store, templates, session
):
    editor.save_override(
        merchant_admin, dummy_store, CODE, "de", subject="Eigen", body_html="<p>Eigen</p>"
    )
    login_as(merchant_admin)
    url = f"{edit_url(dummy_store)}reset"
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "Delete the override" in confirm.text
    assert session.query(StoreEmailTemplate).count() == 1
    assert client.post(url).status_code == 302
    assert session.query(StoreEmailTemplate).count() == 0
    page = client.get(edit_url(dummy_store))
    assert 'value="Willkommen bei {{ program_name }}"' in page.text


def test_send_me_a_test_mails_the_draft_to_the_editor(
    client, login_as, merchant_admin, dummy_store, templates, session
):
    clear_outbox()
    login_as(merchant_admin)
    page = client.post(
        edit_url(dummy_store),
        data=draft(subject="Test {{ customer_first_name }}", action="send_test"),
    )
    assert page.status_code == 200
    assert "A test message was sent to owner@merchant.example" in page.text
    log = session.query(EmailLog).one()
    assert log.recipient == merchant_admin.email
    assert log.subject == "[Test] Test Anna"
    assert log.store_id == dummy_store.id
    assert editor.is_test_message(log)
    assert log.status == "sent"
    assert [m["Subject"] for m in outbox] == ["[Test] Test Anna"]
    assert outbox[0]["To"] == merchant_admin.email
    # A test sends nothing to customers and saves nothing.
    assert session.query(StoreEmailTemplate).count() == 0


def test_another_merchants_store_override_and_versions_answer_404(
    client, login_as, merchant_admin, platform_admin, create_store, templates
):
    foreign = create_store()
    override = editor.save_override(
        platform_admin, foreign, CODE, "de", subject="Fremd", body_html="<p>Fremd</p>"
    )
    version_id = override.versions[0].id
    login_as(merchant_admin)
    url = edit_url(foreign)
    assert client.get(url).status_code == 404
    assert client.post(url, data=draft()).status_code == 404
    assert client.post(f"{url}preview", data=draft()).status_code == 404
    assert client.get(f"{url}versions/{version_id}").status_code == 404
    assert client.post(f"{url}restore/{version_id}").status_code == 404
    assert client.get(f"{url}reset").status_code == 404
    assert client.post(f"{url}reset").status_code == 404


def test_a_foreign_version_id_under_own_store_answers_404(
    client, login_as, merchant_admin, platform_admin, dummy_store, create_store, templates
):
    foreign = create_store()
    override = editor.save_override(
        platform_admin, foreign, CODE, "de", subject="Fremd", body_html="<p>Fremd</p>"
    )
    login_as(merchant_admin)
    url = f"{edit_url(dummy_store)}restore/{override.versions[0].id}"
    assert client.post(url).status_code == 404


def test_store_staff_edit_only_their_stores(
    client, login_as, store_staff, dummy_store, dummy_merchant, create_store, templates
):
    sister = create_store(merchant=dummy_merchant, name="Gare")
    login_as(store_staff)
    listing = client.get(f"{BASE}/")
    assert "Kirchberg" in listing.text
    assert "Gare" not in listing.text
    assert client.get(edit_url(dummy_store)).status_code == 200
    assert client.post(edit_url(dummy_store), data=draft()).status_code == 302
    assert client.get(edit_url(sister)).status_code == 404
    assert client.post(edit_url(sister), data=draft()).status_code == 404


def test_platform_admin_picks_any_merchants_store(
    client, login_as, platform_admin, dummy_store, create_store, templates
):
    other = create_store(name="Elsewhere Shop")
    login_as(platform_admin)
    listing = client.get(f"{BASE}/?store_id={other.id}")
    assert listing.status_code == 200
    assert "Kirchberg" in listing.text
    assert "Elsewhere Shop" in listing.text
    assert client.get(edit_url(other)).status_code == 200

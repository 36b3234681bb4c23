"""Platform templates: read-only for merchant users, validated edits for platform admins."""

from __future__ import annotations

import html
import re

import pytest

from messaging.models import EmailTemplate
from tests.messaging.editor_support import platform_templates

BASE = "/admin/platform-templates"


@pytest.fixture
def templates(session):
    return platform_templates()


def form(template, **changes):
    data = {
        "subject": template.subject,
        "body_html": template.body_html,
        "body_text": template.body_text,
        "description": template.description,
        "is_active": "y",
    }
    data.update(changes)
    return data


def test_merchant_admin_reads_platform_templates_but_cannot_edit(
    client, login_as, merchant_admin, templates, session
):
    de = templates["de"]
    login_as(merchant_admin)
    listing = client.get(f"{BASE}/")
    assert listing.status_code == 200
    assert "Willkommen bei {{ program_name }}" in html.unescape(listing.text)
    assert "/edit/" not in listing.text
    details = client.get(f"{BASE}/details/?id={de.id}")
    assert details.status_code == 200
    _shows_template(details.text, de)
    assert "/edit/" not in details.text, "no edit link for a merchant user"

    refused = client.post(f"{BASE}/edit/?id={de.id}", data=form(de, subject="Hacked"))
    assert refused.status_code == 302
    session.refresh(de)
    assert de.subject == "Willkommen bei {{ program_name }}"
    assert client.post(f"{BASE}/delete/", data={"id": de.id}).status_code == 302
    session.expire_all()
    assert session.get(EmailTemplate, de.id) is not None


def _shows_template(page: str, template: EmailTemplate) -> None:
    """The details page shows what the template says, with its language and code."""
    text = html.unescape(page)
    assert template.subject in text
    assert template.body_html in text
    assert template.code in text
    assert {"de": "Deutsch", "en": "English", "fr": "Français", "lb": "Lëtzebuergesch"}[
        template.locale
    ] in text


def test_store_staff_neither_see_nor_open_the_platform_templates(
    client, login_as, store_staff, merchant_admin, templates
):
    login_as(store_staff)
    home = client.get("/admin/")
    assert home.status_code == 200
    assert f'href="{BASE}/"' not in home.text
    assert "Platform templates" not in home.text
    assert "Store templates" in home.text  # their own stores' overrides stay reachable
    assert client.get(f"{BASE}/").status_code == 403
    assert client.get(f"{BASE}/details/?id={templates['en'].id}").status_code == 403
    # A merchant admin keeps the entry.
    login_as(merchant_admin)
    assert f'href="{BASE}/"' in client.get("/admin/").text


def test_platform_admin_edit_page_holds_the_current_template(
    client, login_as, platform_admin, templates
):
    fr = templates["fr"]
    login_as(platform_admin)
    page = client.get(f"{BASE}/edit/?id={fr.id}")
    assert page.status_code == 200
    # The form is filled with what the template says now.
    subject = re.search(r'<input[^>]*name="subject"[^>]*value="([^"]*)"', page.text)
    assert subject is not None
    assert html.unescape(subject.group(1)) == fr.subject
    body = re.search(r'<textarea[^>]*name="body_html"[^>]*>\s*([^<]*)</textarea>', page.text)
    assert body is not None
    assert html.unescape(body.group(1)).strip() == fr.body_html


def test_platform_admin_edit_is_validated_inline_with_line_and_input_kept(
    client, login_as, platform_admin, templates, session
):
    de = templates["de"]
    login_as(platform_admin)
    body = "<p>Hallo</p>\n<p>{{ customer_first_name.__class__ }}</p>"
    page = client.post(f"{BASE}/edit/?id={de.id}", data=form(de, body_html=body))
    assert page.status_code == 200
    assert "Line 2:" in page.text
    assert body in html.unescape(page.text)
    session.refresh(de)
    assert "__class__" not in de.body_html

    ok = client.post(f"{BASE}/edit/?id={de.id}", data=form(de, subject="Hallo {{ program_name }}"))
    assert ok.status_code == 302
    session.refresh(de)
    assert de.subject == "Hallo {{ program_name }}"
    assert de.updated_by_id == platform_admin.id

"""The template editor previews with one consistent picture (the merchant's own merchant,
store and program, a sample customer), shows the wallet button only with Google Wallet
configured, marks test emails as tests and shows what changed between versions."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest

from loyalty.email_preview import preview_values
from loyalty.models import ProgramKind
from loyalty.services.programs import create_program
from messaging import editor
from messaging.catalog import CATALOG, sample_context
from messaging.models import EmailLog
from messaging.providers import clear_outbox, outbox
from platform_core.staff.models import StaffRole
from tests.messaging.editor_support import draft, platform_templates

BASE = "/admin/email-templates"
CODE = "loyalty_reward_ready"

#: Every variable the preview fills, so a sample left behind shows up.
EVERYTHING = "|".join(
    "{{ %s }}" % name  # noqa: UP031 - Jinja braces
    for name in (
        "merchant_name",
        "store_name",
        "program_name",
        "brand_color",
        "stamps_reward",
        "stamps_target",
        "customer_first_name",
        "card_url",
    )
)
WALLET = "{% if wallet_url %}WALLET-BUTTON {{ wallet_url }}{% endif %}"


@pytest.fixture
def shop(create_merchant, create_store, create_staff_user, session):
    merchant = create_merchant(name="Bäckerei Schmit", slug="baeckerei-schmit")
    store = create_store(merchant=merchant, name="Schmit Belair", slug="schmit-belair")
    create_program(
        merchant,
        kind=ProgramKind.HYBRID,
        name="Schmit Treuepunkte",
        points_per_euro=Decimal("1.00"),
        stamps_target=7,
        texts={"de": {"reward_description": "ein Gratis-Kaffee"}},
        brand_color="#aa3300",
    )
    admin = create_staff_user(
        role=StaffRole.MERCHANT_ADMIN, merchant=merchant, email="chef@schmit.example"
    )
    platform_templates(CODE)
    session.flush()
    return store, admin


def _url(store, locale="de", code=CODE):
    return f"{BASE}/{store.id}/{code}/{locale}/"


# -- one consistent sample ---------------------------------------------------------------


def test_the_preview_uses_the_merchants_own_store_and_program_with_a_sample_customer(
    client, login_as, shop
):
    store, admin = shop
    login_as(admin)
    ok = client.post(f"{_url(store)}preview", data=draft(body_html=f"<p>{EVERYTHING}</p>"))
    rendered = html.unescape(ok.get_json()["html"])
    assert (
        "Bäckerei Schmit|Schmit Belair|Schmit Treuepunkte|#aa3300|ein Gratis-Kaffee|7|Anna|"
        in rendered
    )
    # Nothing of the catalog's sample shop is left (merchant, store, program, card link).
    assert "Kirchberg" not in rendered
    assert "kirchberg.example.lu" not in rendered
    # The page itself: the preview, and the values listed under the variables.
    page = html.unescape(client.get(_url(store)).text)
    assert "Kirchberg" not in page
    assert re.search(r"<code>\{\{ program_name \}\}</code>.*?Schmit Treuepunkte", page, re.S)


def test_every_declared_variable_has_a_preview_value(app_ctx, shop):
    store, _admin = shop
    for code in editor.template_codes():
        values = preview_values(store, code, "fr")
        assert set(values) == set(sample_context(code, "fr")) == CATALOG[code].variable_names


def test_a_merchant_without_a_program_previews_with_its_own_name(
    app_ctx, create_merchant, create_store
):
    merchant = create_merchant(name="Épicerie Wagner", slug="epicerie-wagner")
    store = create_store(merchant=merchant, name="Wagner Gare", slug="wagner-gare")
    values = preview_values(store, "loyalty_enrollment", "en")
    assert values["program_name"] == "Épicerie Wagner"
    assert values["merchant_name"] == "Épicerie Wagner"
    assert values["store_name"] == "Wagner Gare"


# -- the wallet button -------------------------------------------------------------------


def test_no_wallet_button_in_the_preview_without_google_wallet(client, login_as, shop, app):
    store, admin = shop
    assert not app.config.get("GOOGLE_WALLET_ISSUER_ID")
    login_as(admin)
    ok = client.post(f"{_url(store)}preview", data=draft(body_html=f"<p>{WALLET}</p>"))
    assert ok.get_json()["ok"] is True
    assert "WALLET-BUTTON" not in ok.get_json()["html"]


def test_the_wallet_button_shows_when_google_wallet_is_configured(
    client, login_as, shop, app, monkeypatch
):
    monkeypatch.setitem(app.config, "GOOGLE_WALLET_ISSUER_ID", "3388000000012345678")
    monkeypatch.setitem(app.config, "GOOGLE_WALLET_SERVICE_ACCOUNT_FILE", "/etc/wallet.json")
    store, admin = shop
    login_as(admin)
    ok = client.post(f"{_url(store)}preview", data=draft(body_html=f"<p>{WALLET}</p>"))
    assert "WALLET-BUTTON https://pay.google.com/" in ok.get_json()["html"]


# -- test emails -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "subject"),
    [
        ("en", "[Test] Hello Anna"),
        ("fr", "[Essai] Hello Anna"),
        ("de", "[Test] Hello Anna"),
        ("lb", "[Test] Hello Anna"),
    ],
)
def test_a_test_emails_subject_is_marked_as_a_test_in_its_language(
    client, login_as, shop, session, locale, subject
):
    clear_outbox()
    store, admin = shop
    login_as(admin)
    page = client.post(
        _url(store, locale),
        data=draft(subject="Hello {{ customer_first_name }}", action="send_test"),
    )
    assert page.status_code == 200
    log = session.query(EmailLog).one()
    assert log.subject == subject
    assert [m["Subject"] for m in outbox] == [subject]
    # The test carries the same consistent values as the preview.
    assert "Kirchberg" not in (log.body_html or "")


def test_a_resent_test_keeps_a_single_mark(app_ctx, shop, session):
    store, admin = shop
    log = editor.send_test(admin, store, CODE, "en", subject="Hi", body_html="<p>Hi</p>")
    again = editor.resend_test(admin, log.id)
    assert log.subject == again.subject == "[Test] Hi"


# -- differences between versions -------------------------------------------------------


def _three_versions(store, admin):
    editor.save_override(
        admin, store, CODE, "de", subject="Eins", body_html="<p>Hallo</p>\n<p>Alt</p>\n<p>Ende</p>"
    )
    editor.save_override(
        admin, store, CODE, "de", subject="Zwei", body_html="<p>Hallo</p>\n<p>Neu</p>\n<p>Ende</p>"
    )
    override = editor.save_override(
        admin,
        store,
        CODE,
        "de",
        subject="Zwei",
        body_html='<p>Hallo</p>\n<p>Neu</p>\n<p class="x">Ende</p>',
    )
    return sorted(override.versions, key=lambda v: v.version)


def test_the_diff_page_shows_what_changed_between_two_versions(client, login_as, shop, session):
    store, admin = shop
    v1, _v2, v3 = _three_versions(store, admin)
    login_as(admin)
    edit = client.get(_url(store, "de")).text
    assert edit.count('data-testid="compare-version"') == 2  # the two older versions
    page = client.get(f"{_url(store, 'de')}diff?old={v1.id}&new={v3.id}")
    assert page.status_code == 200
    text = page.text
    subject = re.search(r'data-diff-field="subject".*?</section>', text, re.S).group(0)
    assert 'data-line="removed"' in subject
    assert "− Eins" in subject
    assert 'data-line="added"' in subject
    assert "+ Zwei" in subject
    body = re.search(r'data-diff-field="body_html".*?</section>', text, re.S).group(0)
    # Template markup is shown as text, escaped, never as markup of the page.
    assert "− &lt;p&gt;Alt&lt;/p&gt;" in body
    assert "+ &lt;p&gt;Neu&lt;/p&gt;" in body
    assert "+ &lt;p class=&#34;x&#34;&gt;Ende&lt;/p&gt;" in body or (
        "+ &lt;p class=&quot;x&quot;&gt;Ende&lt;/p&gt;" in body
    )
    assert '<p class="x">' not in text
    assert "  &lt;p&gt;Hallo&lt;/p&gt;" in body  # unchanged context line
    assert 'data-testid="no-changes"' in re.search(
        r'data-diff-field="body_text".*?</section>', text, re.S
    ).group(0)


def test_the_diff_defaults_to_the_last_two_versions(client, login_as, shop):
    store, admin = shop
    _v1, v2, v3 = _three_versions(store, admin)
    login_as(admin)
    page = html.unescape(client.get(f"{_url(store, 'de')}diff").text)
    assert f'<option value="{v2.id}" selected>' in page
    assert f'<option value="{v3.id}" selected>' in page
    subject = re.search(r'data-diff-field="subject".*?</section>', page, re.S).group(0)
    assert "No changes." in subject  # both say "Zwei"


def test_diffs_stay_within_the_users_scope(
    client, login_as, shop, merchant_admin, dummy_store, platform_admin
):
    store, admin = shop
    v1, _v2, v3 = _three_versions(store, admin)
    foreign = editor.save_override(
        platform_admin, dummy_store, CODE, "de", subject="Fremd", body_html="<p>Fremd</p>"
    )
    foreign_id = foreign.versions[0].id
    other_locale = (
        editor.save_override(admin, store, CODE, "fr", subject="Autre", body_html="<p>Autre</p>")
        .versions[0]
        .id
    )
    login_as(admin)
    url = f"{_url(store, 'de')}diff"
    assert client.get(f"{url}?old={foreign_id}&new={v3.id}").status_code == 404
    assert client.get(f"{url}?old={other_locale}&new={v3.id}").status_code == 404
    assert client.get(f"{url}?old=999999&new={v3.id}").status_code == 404
    # Another merchant's admin: the store itself is out of reach.
    login_as(merchant_admin)
    assert client.get(f"{url}?old={v1.id}&new={v3.id}").status_code == 404
    # One version only: nothing to compare.
    login_as(admin)
    assert client.get(f"{_url(store, 'fr')}diff").status_code == 404
    with pytest.raises(editor.NotInScope):
        editor.diff_versions(admin, other_locale, v3.id)


def test_diff_versions_lists_changed_lines_per_field(app_ctx, shop):
    store, admin = shop
    v1, v2, _v3 = _three_versions(store, admin)
    diffs = {d.field: d for d in editor.diff_versions(admin, v1.id, v2.id)}
    assert [(line.kind, line.text) for line in diffs["subject"].lines][1:] == [
        ("removed", "Eins"),
        ("added", "Zwei"),
    ]
    body = [(line.kind, line.text) for line in diffs["body_html"].lines]
    assert ("removed", "<p>Alt</p>") in body
    assert ("added", "<p>Neu</p>") in body
    assert ("context", "<p>Hallo</p>") in body
    assert not diffs["body_text"].changed


def test_the_preview_links_are_on_this_installations_address(app_ctx, shop, app):
    store, _admin = shop
    base = app.config["PUBLIC_BASE_URL"].rstrip("/")
    values = preview_values(store, "loyalty_birthday", "lb")
    assert values["card_url"].startswith(base + "/")
    assert values["unsubscribe_url"] == base + "/unsubscribe/sample"

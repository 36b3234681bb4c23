"""Override services: save with versions, restore, reset, sandbox refusals, scoping."""

from __future__ import annotations

import pytest

from messaging import editor
from messaging.models import StoreEmailTemplate
from messaging.resolution import resolve_template
from platform_core.staff.models import StaffRole
from tests.messaging.editor_support import CODE, platform_templates


@pytest.fixture
def templates(session):
    return platform_templates()


def save(user, store, subject, html="<p>{{ customer_first_name }}</p>", text=""):
    return editor.save_override(
        user, store, CODE, "de", subject=subject, body_html=html, body_text=text
    )


def test_every_save_keeps_a_version_and_restore_brings_back_older_content(
    templates, merchant_admin, dummy_store, session
):
    override = save(merchant_admin, dummy_store, "Erste Fassung")
    save(merchant_admin, dummy_store, "Zweite Fassung")
    assert [v.version for v in override.versions] == [2, 1]
    first = override.versions[-1]
    assert first.subject == "Erste Fassung"
    assert first.created_by == merchant_admin

    editor.restore_version(merchant_admin, first.id)
    session.refresh(override)
    assert override.subject == "Erste Fassung"
    assert [v.version for v in override.versions] == [3, 2, 1]
    assert override.versions[0].subject == "Erste Fassung"
    assert override.updated_by == merchant_admin


def test_merchant_id_follows_the_store(templates, platform_admin, dummy_store):
    override = save(platform_admin, dummy_store, "Hallo")
    assert override.merchant_id == dummy_store.merchant_id
    assert override.versions[0].merchant_id == dummy_store.merchant_id


@pytest.mark.parametrize(
    ("subject", "html"),
    [
        ("Hallo", "<p>{{ ''.__class__.__mro__ }}</p>"),
        ("Hallo", "<p>{{ config }}</p>"),
        ("Hallo {{ secret_key }}", "<p>hi</p>"),
        ("Hallo", "<p>{{ customer_first_name.__init__.__globals__ }}</p>"),
    ],
)
def test_sandbox_escapes_and_unknown_variables_are_refused_at_save(
    templates, merchant_admin, dummy_store, session, subject, html
):
    with pytest.raises(editor.TemplateRejected) as caught:
        save(merchant_admin, dummy_store, subject, html)
    assert caught.value.problems
    assert session.query(StoreEmailTemplate).count() == 0


def test_reset_falls_back_to_the_platform_template(templates, merchant_admin, dummy_store):
    save(merchant_admin, dummy_store, "Nur für Kirchberg")
    assert resolve_template(CODE, "de", store=dummy_store).subject == "Nur für Kirchberg"

    assert editor.reset_override(merchant_admin, dummy_store, CODE, "de") is True
    resolved = resolve_template(CODE, "de", store=dummy_store)
    assert resolved.source == "platform"
    assert resolved.subject == templates["de"].subject


def test_another_merchants_store_and_version_are_out_of_scope(
    templates, merchant_admin, platform_admin, create_store
):
    foreign = create_store()
    with pytest.raises(editor.NotInScope):
        save(merchant_admin, foreign, "Hallo")
    foreign_override = save(platform_admin, foreign, "Fremd")
    with pytest.raises(editor.NotInScope):
        editor.restore_version(merchant_admin, foreign_override.versions[0].id)
    with pytest.raises(editor.NotInScope):
        editor.reset_override(merchant_admin, foreign, CODE, "de")
    with pytest.raises(editor.NotInScope):
        editor.store_for(merchant_admin, foreign.id)


def test_store_staff_edit_only_their_stores(
    templates, store_staff, dummy_store, create_store, create_staff_user, dummy_merchant
):
    sister = create_store(merchant=dummy_merchant, name="Gare")
    assert editor.stores_for(store_staff) == [dummy_store]
    save(store_staff, dummy_store, "Hallo")
    with pytest.raises(editor.NotInScope):
        save(store_staff, sister, "Hallo")
    owner = create_staff_user(role=StaffRole.MERCHANT_ADMIN, merchant=dummy_merchant)
    assert {s.id for s in editor.stores_for(owner)} == {dummy_store.id, sister.id}


def test_unknown_code_or_locale_is_out_of_scope(templates, merchant_admin, dummy_store):
    with pytest.raises(editor.NotInScope):
        editor.save_override(
            merchant_admin, dummy_store, "no_such_code", "de", subject="x", body_html="<p>x</p>"
        )
    with pytest.raises(editor.NotInScope):
        editor.save_override(
            merchant_admin, dummy_store, CODE, "it", subject="x", body_html="<p>x</p>"
        )
    # Staff emails are the platform's: no store overrides them.
    with pytest.raises(editor.NotInScope):
        editor.save_override(
            merchant_admin, dummy_store, "staff_invitation", "de", subject="x", body_html="<p>x</p>"
        )

"""Ajax lookups of related rows (Flask-Admin's ``form_ajax_refs``) see only the user's rows."""

from __future__ import annotations

from flask_login import login_user

from admin_views.base import ScopedAjaxLoader
from platform_core.extensions import db
from platform_core.tenancy.models import Store


def test_ajax_lookup_lists_and_resolves_only_own_stores(
    app, session, merchant_admin, dummy_store, create_store
):
    other = create_store(name="Kirchberg Elsewhere")
    loader = ScopedAjaxLoader("store", db, Store, fields=["name"])
    with app.test_request_context():
        login_user(merchant_admin)
        found = loader.get_list("Kirchberg")
        assert [store.id for store in found] == [dummy_store.id]
        assert loader.get_one(other.id) is None
        assert loader.get_one(dummy_store.id).id == dummy_store.id


def test_platform_admin_lookup_sees_every_store(
    app, session, platform_admin, dummy_store, create_store
):
    other = create_store(name="Kirchberg Elsewhere")
    loader = ScopedAjaxLoader("store", db, Store, fields=["name"])
    with app.test_request_context():
        login_user(platform_admin)
        assert {store.id for store in loader.get_list("Kirchberg")} == {dummy_store.id, other.id}

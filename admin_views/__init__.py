"""The staff console (Flask-Admin at /admin): one ``Admin`` per app, every view registered here."""

from __future__ import annotations

from flask import Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

from platform_core.headers import csp_nonce
from platform_core.i18n import TRANSLATIONS_DIR
from platform_core.i18n_lazy import _l


def register_admin(app: Flask) -> Admin:
    from admin_views.home import HomeView

    admin = Admin(
        name=_l("Loyalty console"),
        url="/admin",
        endpoint="admin",
        index_view=HomeView(name=_l("Home"), url="/admin", endpoint="admin"),
        theme=Bootstrap4Theme(base_template="admin/console_master.html", swatch="default"),
        translations_path=TRANSLATIONS_DIR,
        # The inline scripts of the console carry the CSP nonce (platform_core.headers).
        csp_nonce_generator=csp_nonce,
    )
    from admin_views import (
        audit,
        card_import,
        integrations,
        loyalty,
        messaging,
        task_runs,
        tenancy,
        wallet,
    )

    tenancy.add_views(admin)
    loyalty.add_views(admin)
    card_import.add_views(admin)
    messaging.add_views(admin)
    integrations.add_views(admin)
    task_runs.add_views(admin)
    audit.add_views(admin)
    wallet.add_views(admin)
    admin.init_app(app)
    return admin

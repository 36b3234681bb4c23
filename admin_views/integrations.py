"""Integrations in the console: API keys, webhook endpoints and their deliveries.

Merchant admins manage their own merchant's keys and endpoints, platform admins any
merchant's; both see only what :mod:`platform_core.scoping` lets them (another merchant's id
answers 404). A new key or signing secret is shown once, on the page answering the POST that
created it, and never stored in clear (keys) or shown again (secrets).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request
from flask_admin import Admin, expose
from flask_admin.actions import action
from flask_admin.model.template import TemplateLinkRowAction
from flask_babel import format_datetime
from flask_login import current_user

from admin_views.base import SecureModelView
from admin_views.integrations_forms import ApiKeyForm, WebhookEndpointForm
from loyalty.merchant_api.keys import ApiKeyError, create_api_key, revoke_api_key
from loyalty.merchant_api.models import ApiKey, ApiScope
from loyalty.webhooks.endpoints import (
    WebhookError,
    create_endpoint,
    enable_endpoint,
    replay_delivery,
)
from loyalty.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from platform_core import db as dbmod
from platform_core.audit.models import AuditAction
from platform_core.audit.services import record_audit
from platform_core.extensions import db
from platform_core.i18n_lazy import _, _l, ngettext
from platform_core.scoping import apply_scope
from platform_core.staff.models import StaffRole
from platform_core.tenancy.models import Merchant, Store

CATEGORY = _l("Integrations")
ADMINS = frozenset({StaffRole.PLATFORM_ADMIN, StaffRole.MERCHANT_ADMIN})

DELIVERY_STATUS_LABELS = {
    DeliveryStatus.PENDING: _l("Pending"),
    DeliveryStatus.DELIVERED: _l("Delivered"),
    DeliveryStatus.FAILED: _l("Failed"),
}


def _when(view: Any, context: Any, model: Any, name: str) -> str:
    value = getattr(model, name)
    return format_datetime(value, "short") if value else ""


def _merchant_choices() -> list[tuple[int | None, str]]:
    merchants = apply_scope(db.select(Merchant).order_by(Merchant.name), Merchant, current_user)
    return [(m.id, m.name) for m in db.session.scalars(merchants)]


def _store_choices() -> list[tuple[int | None, str]]:
    stores = apply_scope(db.select(Store).order_by(Store.name), Store, current_user)
    rows = db.session.scalars(stores.options(db.joinedload(Store.merchant)))
    label = (
        (lambda s: f"{s.merchant.name} — {s.name}")
        if current_user.is_platform_admin
        else (lambda s: s.name)
    )
    return [(None, _("Every store")), *((s.id, label(s)) for s in rows)]


def _chosen_merchant(form: Any) -> Merchant:
    """The merchant the new row is for: the user's own, or (platform admins) the chosen one."""
    if not current_user.is_platform_admin:
        own = db.session.get(Merchant, current_user.merchant_id)
        if own is None:
            abort(404)
        return own
    merchant = db.session.get(Merchant, form.merchant_id.data) if form.merchant_id.data else None
    if merchant is None:
        abort(404)
    return merchant


def _audit(action: AuditAction, row: Any, event: str) -> None:
    """An API key's or webhook endpoint's change (its secret is never recorded)."""
    details = {"event": event, "name": getattr(row, "name", None) or getattr(row, "url", None)}
    record_audit(
        action, model=type(row), object_id=row.id, merchant_id=row.merchant_id, changes=details
    )


class _IntegrationAdmin(SecureModelView):
    allowed_roles = ADMINS
    can_create = False
    can_edit = False
    can_view_details = False
    can_export = False


class ApiKeyAdmin(_IntegrationAdmin):
    can_delete = False
    list_template = "admin/integrations/api_key_list.html"
    column_list = [
        "name",
        "merchant",
        "store",
        "scopes",
        "prefix",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    column_labels = {
        "name": _l("Name"),
        "merchant": _l("Merchant"),
        "store": _l("Store"),
        "scopes": _l("Scopes"),
        "prefix": _l("Key starts with"),
        "created_at": _l("Created"),
        "last_used_at": _l("Last used"),
        "revoked_at": _l("Revoked"),
    }
    column_formatters = {
        "prefix": lambda v, c, m, n: f"lk_{m.prefix}_…",
        "created_at": _when,
        "last_used_at": _when,
        "revoked_at": _when,
    }
    column_default_sort = ("created_at", True)
    column_searchable_list = ["name"]
    column_extra_row_actions = [TemplateLinkRowAction("rows.revoke_row", _l("Revoke"))]

    def _form(self) -> ApiKeyForm:
        form = ApiKeyForm()
        form.merchant_id.choices = _merchant_choices()
        form.store_id.choices = _store_choices()
        form.scopes.choices = [(s.value, f"{s.value} — {s.label}") for s in ApiScope]
        if not current_user.is_platform_admin:
            del form.merchant_id
        return form

    @expose("/add/", methods=("GET", "POST"))
    def new_view(self) -> Any:
        form = self._form()
        if request.method == "POST" and form.validate():
            merchant = _chosen_merchant(form)
            store = db.session.get(Store, form.store_id.data) if form.store_id.data else None
            try:
                new = create_api_key(
                    merchant,
                    form.name.data or "",
                    scopes=form.scopes.data or [],
                    store=store,
                    created_by=current_user,
                )
            except ApiKeyError as exc:
                form.name.errors = [str(exc)]
            else:
                _audit(AuditAction.API_KEY, new.api_key, "created")
                dbmod.commit()
                # Shown in this answer only: no redirect, no flash (the session cookie is
                # readable), never stored in clear.
                return self.render(
                    "admin/integrations/secret_once.html",
                    title=_("API key created"),
                    secret=new.key,
                    hint=_(
                        "Copy the key now: it is not shown again. Send it as "
                        "'Authorization: Bearer <key>'."
                    ),
                    back_url=self.get_url(".index_view"),
                )
        return self.render(
            "admin/integrations/new.html",
            form=form,
            title=_("New API key"),
            action_url=self.get_url(".new_view"),
        )

    @expose("/revoke/", methods=("POST",))
    def revoke_view(self) -> Any:
        key_id = request.form.get("id", type=int)
        if key_id is None:
            abort(404)
        row = self.get_one(str(key_id))  # 404 outside the user's merchant
        revoke_api_key(row)
        _audit(AuditAction.API_KEY, row, "revoked")
        dbmod.commit()
        flash(_("The API key %(name)s is revoked.", name=row.name), "success")
        return redirect(self.get_url(".index_view"))


class WebhookEndpointAdmin(_IntegrationAdmin):
    can_delete = True
    list_template = "admin/integrations/endpoint_list.html"
    column_list = [
        "url",
        "merchant",
        "events",
        "is_active",
        "failing_since",
        "disabled_at",
        "created_at",
    ]
    column_labels = {
        "url": _l("Address"),
        "merchant": _l("Merchant"),
        "events": _l("Events"),
        "is_active": _l("Active"),
        "failing_since": _l("Failing since"),
        "disabled_at": _l("Disabled"),
        "created_at": _l("Created"),
    }
    column_formatters = {
        "events": lambda v, c, m, n: ", ".join(m.events.split()),
        "failing_since": _when,
        "disabled_at": _when,
        "created_at": _when,
    }
    column_extra_row_actions = [TemplateLinkRowAction("rows.enable_row", _l("Enable"))]

    def _form(self) -> WebhookEndpointForm:
        form = WebhookEndpointForm()
        form.merchant_id.choices = _merchant_choices()
        if not current_user.is_platform_admin:
            del form.merchant_id
        return form

    @expose("/add/", methods=("GET", "POST"))
    def new_view(self) -> Any:
        form = self._form()
        if request.method == "POST" and form.validate():
            merchant = _chosen_merchant(form)
            try:
                new = create_endpoint(merchant, form.url.data or "", form.events.data or [])
            except WebhookError as exc:
                form.url.errors = [str(exc)]
            else:
                _audit(AuditAction.WEBHOOK, new.endpoint, "created")
                dbmod.commit()
                return self.render(
                    "admin/integrations/secret_once.html",
                    title=_("Webhook endpoint registered"),
                    secret=new.secret,
                    hint=_(
                        "Copy the signing secret now: it is not shown again. Verify each "
                        "request with it (Standard Webhooks: webhook-id, webhook-timestamp, "
                        "webhook-signature)."
                    ),
                    back_url=self.get_url(".index_view"),
                )
        return self.render(
            "admin/integrations/new.html",
            form=form,
            title=_("New webhook endpoint"),
            action_url=self.get_url(".new_view"),
        )

    @expose("/enable/", methods=("POST",))
    def enable_view(self) -> Any:
        endpoint_id = request.form.get("id", type=int)
        if endpoint_id is None:
            abort(404)
        endpoint = self.get_one(str(endpoint_id))
        enable_endpoint(endpoint)
        _audit(AuditAction.WEBHOOK, endpoint, "enabled")
        dbmod.commit()
        flash(_("The endpoint %(url)s is active again.", url=endpoint.url), "success")
        return redirect(self.get_url(".index_view"))


def _delivery_status(view: Any, context: Any, model: WebhookDelivery, name: str) -> str:
    return str(DELIVERY_STATUS_LABELS.get(model.status, model.status))


class WebhookDeliveryAdmin(_IntegrationAdmin):
    can_delete = False
    list_template = "admin/integrations/delivery_list.html"
    column_list = [
        "id",
        "event.type",
        "endpoint",
        "status",
        "attempts",
        "response_code",
        "last_attempt_at",
        "delivered_at",
        "last_error",
    ]
    column_labels = {
        "id": _l("Id"),
        "event.type": _l("Event"),
        "endpoint": _l("Endpoint"),
        "status": _l("Status"),
        "attempts": _l("Attempts"),
        "response_code": _l("Response code"),
        "last_attempt_at": _l("Last attempt"),
        "delivered_at": _l("Delivered"),
        "last_error": _l("Last error"),
    }
    column_formatters = {
        "status": _delivery_status,
        "last_attempt_at": _when,
        "delivered_at": _when,
        "last_error": lambda v, c, m, n: (m.last_error or "")[:120],
    }
    column_default_sort = ("id", True)
    column_extra_row_actions = [TemplateLinkRowAction("rows.replay_row", _l("Replay"))]

    def _replay(self, deliveries: list[WebhookDelivery]) -> int:
        for delivery in deliveries:
            replay_delivery(delivery)
        dbmod.commit()
        return len(deliveries)

    @expose("/replay/", methods=("POST",))
    def replay_view(self) -> Any:
        delivery_id = request.form.get("id", type=int)
        if delivery_id is None:
            abort(404)
        delivery = self.get_one(str(delivery_id))
        self._replay([delivery])
        flash(_("The event was queued for delivery again."), "success")
        return redirect(self.get_url(".index_view"))

    @action("replay", _l("Replay"), _l("Send the selected events again?"))
    def action_replay(self, ids: list[str]) -> None:
        wanted = [int(i) for i in ids if str(i).isdigit()]
        rows = list(self.get_query().filter(WebhookDelivery.id.in_(wanted)))
        count = self._replay(rows)
        flash(
            ngettext("%(num)d event was queued again.", "%(num)d events were queued again.", count),
            "success",
        )


def add_views(admin: Admin) -> None:
    """Add API keys, webhook endpoints and deliveries under Integrations."""
    admin.add_view(
        ApiKeyAdmin(ApiKey, db, name=_l("API keys"), category=CATEGORY, endpoint="api_keys")
    )
    admin.add_view(
        WebhookEndpointAdmin(
            WebhookEndpoint,
            db,
            name=_l("Webhooks"),
            category=CATEGORY,
            endpoint="webhook_endpoints",
        )
    )
    admin.add_view(
        WebhookDeliveryAdmin(
            WebhookDelivery,
            db,
            name=_l("Webhook deliveries"),
            category=CATEGORY,
            endpoint="webhook_deliveries",
        )
    )

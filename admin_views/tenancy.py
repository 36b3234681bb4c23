"""Admin views for merchants, stores, store domains, customers and staff users.

Scoping (which rows a user sees, 404 on foreign ids, scoped relationship choices) comes from
:class:`admin_views.base.SecureModelView`; the rules a row must follow come from the
services, whose errors are shown next to the field at fault.
"""

from __future__ import annotations

from typing import Any

from flask import flash
from flask_admin import Admin
from flask_admin.contrib.sqla import filters
from flask_login import current_user, login_user
from sqlalchemy import select
from wtforms import BooleanField, PasswordField, SelectField, TextAreaField
from wtforms.validators import Email, Length, Optional

from admin_views.base import ScopedOptions, SecureModelView
from admin_views.customer_data_rights import CustomerDataRightsMixin, may_use_data_rights
from admin_views.tenancy_support import (
    LOCALE_CHOICES,
    TenancyModelView,
    add_field_error,
    locale_name,
    mailto,
    role_label,
    role_options,
    store_list,
)
from platform_core.auth.services import invite_staff_user
from platform_core.customers.consent import change_consent, consent_overview
from platform_core.customers.models import ConsentPurpose, ConsentSource, Customer
from platform_core.customers.services import CustomerError, check_customer_email
from platform_core.extensions import db
from platform_core.i18n import current_locale_code
from platform_core.i18n_lazy import _, _l
from platform_core.staff.models import StaffRole, StaffUser
from platform_core.staff.services import StaffUserError, create_staff_user, update_staff_user
from platform_core.tenancy.models import Merchant, Store, StoreDomain
from platform_core.tenancy.services import StoreDomainError, check_store_domain_host

ADMINS = frozenset({StaffRole.PLATFORM_ADMIN, StaffRole.MERCHANT_ADMIN})
PLATFORM = frozenset({StaffRole.PLATFORM_ADMIN})


def _editing_id(form: Any) -> int | None:
    # The base class puts the edited row on ``form._obj`` (None on create).
    return getattr(getattr(form, "_obj", None), "id", None)


def _slug_taken(model: type[Merchant] | type[Store], form: Any, message: str) -> bool:
    """Whether another row has the form's slug; if so the error goes next to the field."""
    if not hasattr(form, "slug") or not form.slug.data:
        return False
    form.slug.data = form.slug.data.strip().lower()
    # Slugs are global (public URLs), so this looks beyond the user's scope on purpose:
    # it answers only "taken or not", never which merchant has it.
    found = db.session.scalar(select(model.id).where(model.slug == form.slug.data))
    if found is None or found == _editing_id(form):
        return False
    add_field_error(form, "slug", message)
    return True


class MerchantAdmin(TenancyModelView):
    """Merchant users see their own merchant, read-only; the platform admin manages them."""

    write_roles = PLATFORM
    column_list = ["name", "slug", "legal_name", "contact_email", "default_locale", "created_at"]
    column_details_list = [*column_list, "updated_at"]
    column_searchable_list = ["name", "slug", "legal_name", "contact_email"]
    column_sortable_list = ["name", "slug", "legal_name", "default_locale", "created_at"]
    column_default_sort = "name"
    column_filters = [
        filters.FilterEqual(Merchant.default_locale, _l("Language"), options=LOCALE_CHOICES),
        "created_at",
    ]
    column_formatters = {"default_locale": locale_name, "contact_email": mailto}
    column_formatters_export = {"default_locale": locale_name}
    form_columns = ["name", "slug", "legal_name", "contact_email", "default_locale"]
    form_choices = {"default_locale": LOCALE_CHOICES}
    form_args = {
        "contact_email": {"validators": [Email(message=_l("Please enter a valid email address."))]},
        "slug": {"validators": [Length(min=2, max=80, message=_l("Between 2 and 80 characters."))]},
    }

    def validate_form(self, form: Any) -> bool:
        ok = super().validate_form(form)
        if ok and _slug_taken(Merchant, form, _("Another merchant already uses this short name.")):
            ok = False
        return ok


class StoreAdmin(TenancyModelView):
    write_roles = ADMINS
    column_list = ["name", "merchant", "slug", "default_locale", "created_at"]
    column_details_list = [
        "name",
        "merchant",
        "slug",
        "address",
        "default_locale",
        "domains",
        "created_at",
        "updated_at",
    ]
    column_searchable_list = ["name", "slug", "address"]
    column_sortable_list = [
        "name",
        "slug",
        ("merchant", "merchant.name"),
        "default_locale",
        "created_at",
    ]
    column_default_sort = "name"
    column_filters = [
        filters.FilterEqual(
            Store.merchant_id, _l("Merchant"), options=ScopedOptions(Merchant, Merchant.name)
        ),
        filters.FilterEqual(Store.default_locale, _l("Language"), options=LOCALE_CHOICES),
    ]
    column_formatters = {"default_locale": locale_name}
    column_labels = {**TenancyModelView.column_labels, "domains": _l("Host names")}
    form_columns = ["merchant", "name", "slug", "address", "default_locale"]
    form_choices = {"default_locale": LOCALE_CHOICES}
    form_overrides = {"address": TextAreaField}
    form_args = {
        "slug": {"validators": [Length(min=2, max=80, message=_l("Between 2 and 80 characters."))]},
    }

    def validate_form(self, form: Any) -> bool:
        ok = super().validate_form(form)
        if ok and _slug_taken(Store, form, _("Another store already uses this short name.")):
            ok = False
        return ok


class StoreDomainAdmin(TenancyModelView):
    write_roles = ADMINS
    column_list = ["host", "store", "created_at"]
    column_details_list = ["host", "store", "created_at", "updated_at"]
    column_searchable_list = ["host"]
    column_sortable_list = ["host", ("store", "store.name"), "created_at"]
    column_default_sort = "host"
    column_filters = [
        filters.FilterEqual(
            StoreDomain.store_id, _l("Store"), options=ScopedOptions(Store, Store.name)
        ),
    ]
    form_columns = ["store", "host"]
    form_args = {
        "host": {
            "description": _l(
                "The host name only, e.g. shop.example.lu (no http://, no port, no path)."
            )
        },
    }

    def validate_form(self, form: Any) -> bool:
        ok = super().validate_form(form)
        if ok and hasattr(form, "host"):
            try:
                form.host.data = check_store_domain_host(form.host.data, _editing_id(form))
            except StoreDomainError as exc:
                add_field_error(form, "host", str(exc))
                ok = False
        return ok


class ConsentCheckbox(BooleanField):
    """Shows the current consent; never written to the row (the consent service does)."""

    def populate_obj(self, obj: Any, name: str) -> None:
        pass


class CustomerAdmin(CustomerDataRightsMixin, TenancyModelView):
    """Consent rows are shown on the details page, read-only: the marketing checkbox of the
    form appends a row when it changes the customer's consent. The details page (the
    data-rights mixin's template, which extends the consent one) adds export and erasure."""

    column_list = [
        "first_name",
        "last_name",
        "email",
        "merchant",
        "preferred_locale",
        "marketing_consent",
        "created_at",
    ]
    column_details_list = [
        "first_name",
        "last_name",
        "email",
        "merchant",
        "phone",
        "birthday",
        "preferred_locale",
        "marketing_consent",
        "created_at",
        "updated_at",
    ]
    column_searchable_list = ["first_name", "last_name", "email", "phone"]
    column_sortable_list = [
        "first_name",
        "last_name",
        "email",
        ("merchant", "merchant.name"),
        "preferred_locale",
        "created_at",
    ]
    column_default_sort = ("created_at", True)
    column_filters = [
        filters.FilterEqual(
            Customer.merchant_id, _l("Merchant"), options=ScopedOptions(Merchant, Merchant.name)
        ),
        filters.FilterEqual(Customer.preferred_locale, _l("Language"), options=LOCALE_CHOICES),
        "marketing_consent",
        "created_at",
    ]
    column_formatters = {"preferred_locale": locale_name}
    form_columns = [
        "merchant",
        "first_name",
        "last_name",
        "email",
        "phone",
        "birthday",
        "preferred_locale",
        "marketing_consent",
    ]
    form_choices = {"preferred_locale": LOCALE_CHOICES}
    form_overrides = {"marketing_consent": ConsentCheckbox}
    form_args = {
        "email": {"validators": [Email(message=_l("Please enter a valid email address."))]},
        "phone": {"validators": [Optional()]},
        "marketing_consent": {"label": _l("The customer wants news and offers by email")},
    }

    may_use_data_rights = staticmethod(may_use_data_rights)

    def on_model_change(self, form: Any, model: Customer, is_created: bool) -> None:
        super().on_model_change(form, model, is_created)
        if hasattr(form, "marketing_consent"):
            db.session.flush()
            change_consent(
                model,
                ConsentPurpose.MARKETING_EMAIL,
                granted=bool(form.marketing_consent.data),
                source=ConsentSource.CONSOLE,
                locale=current_locale_code(),
                wording=str(form.marketing_consent.label.text),
                staff_user_id=current_user.id,
            )

    def consent_overview(self, model: Customer) -> Any:
        """The details page's consent section (current state per purpose, full history)."""
        return consent_overview(model.id)

    # Store staff add and correct customers at the counter; deleting one is for admins.
    @property
    def can_delete(self) -> bool:
        return current_user.is_authenticated and current_user.role in ADMINS

    def validate_form(self, form: Any) -> bool:
        ok = super().validate_form(form)
        if ok and hasattr(form, "email"):
            merchant_id = (
                current_user.merchant_id
                if not current_user.is_platform_admin
                else getattr(form.merchant.data, "id", None)
            )
            if merchant_id is not None:
                try:
                    form.email.data = check_customer_email(
                        merchant_id, form.email.data, _editing_id(form)
                    )
                except CustomerError as exc:
                    add_field_error(form, exc.field, str(exc))
                    ok = False
        return ok


class StaffUserAdmin(TenancyModelView):
    """Accounts are created and changed through the staff services, which hold the rules."""

    allowed_roles = ADMINS
    column_list = [
        "email",
        "full_name",
        "role",
        "merchant",
        "stores",
        "is_active_user",
        "created_at",
    ]
    column_details_list = [
        "email",
        "full_name",
        "role",
        "merchant",
        "stores",
        "preferred_locale",
        "is_active_user",
        "created_at",
        "updated_at",
    ]
    column_export_list = column_details_list
    column_searchable_list = ["email", "full_name"]
    column_sortable_list = [
        "email",
        "full_name",
        "role",
        ("merchant", "merchant.name"),
        "is_active_user",
        "created_at",
    ]
    column_default_sort = "email"
    column_filters = [
        filters.FilterEqual(StaffUser.role, _l("Role"), options=role_options),
        filters.FilterEqual(
            StaffUser.merchant_id, _l("Merchant"), options=ScopedOptions(Merchant, Merchant.name)
        ),
        "is_active_user",
    ]
    column_formatters = {"role": role_label, "stores": store_list, "preferred_locale": locale_name}
    form_columns = [
        "email",
        "full_name",
        "password",
        "role",
        "merchant",
        "stores",
        "preferred_locale",
        "is_active_user",
    ]
    form_overrides = {"role": SelectField, "preferred_locale": SelectField}
    form_args = {
        "email": {"validators": [Email(message=_l("Please enter a valid email address."))]},
        "role": {"choices": role_options, "coerce": str},
        "preferred_locale": {
            "choices": [("", _l("As the browser asks")), *LOCALE_CHOICES],
            "validators": [Optional()],
        },
        "stores": {"description": _l("Only for store staff: the stores they work in.")},
    }
    form_extra_fields = {"password": PasswordField(_l("Password"))}

    def _prepare(self, form: Any, creating: bool) -> Any:
        if not current_user.is_platform_admin:
            # Merchant admins hand out merchant roles only.
            form.role.choices = [c for c in role_options() if c[0] != StaffRole.PLATFORM_ADMIN]
        if creating:
            form.password.description = _(
                "Leave empty to email an invitation: the person then chooses their own password."
            )
        else:
            form.password.label.text = _("New password")
            form.password.description = _("Leave empty to keep the current password.")
        return form

    def create_form(self, obj: Any = None) -> Any:
        return self._prepare(super().create_form(obj), creating=True)

    def edit_form(self, obj: Any = None) -> Any:
        return self._prepare(super().edit_form(obj), creating=False)

    def _values(self, form: Any) -> dict[str, Any]:
        return {
            "email": form.email.data or "",
            "role": form.role.data,
            "merchant": form.merchant.data,
            "stores": list(form.stores.data or []),
            "full_name": (form.full_name.data or "").strip(),
            "preferred_locale": form.preferred_locale.data or None,
            "is_active": bool(form.is_active_user.data),
            "actor": current_user._get_current_object(),
        }

    def create_model(self, form: Any) -> Any:
        try:
            if form.password.data:
                user = create_staff_user(password=form.password.data, **self._values(form))
            else:
                user = invite_staff_user(**self._values(form))
            self._on_model_change(form, user, True)
            db.session.commit()
        except StaffUserError as exc:
            db.session.rollback()
            add_field_error(form, exc.field, str(exc))
            return False
        self.after_model_change(form, user, True)
        if not form.password.data:
            flash(_("An invitation was sent to %(email)s.", email=user.email), "success")
        return user

    def update_model(self, form: Any, model: StaffUser) -> bool:
        try:
            update_staff_user(model, new_password=form.password.data or None, **self._values(form))
            self._on_model_change(form, model, False)
            db.session.commit()
        except StaffUserError as exc:
            db.session.rollback()
            add_field_error(form, exc.field, str(exc))
            return False
        if model.id == current_user.id and model.is_active:
            # Changing your own password ends your other sessions, not this one.
            login_user(model)
        self.after_model_change(form, model, False)
        return True


#: (view class, model, endpoint, menu name, category): the tests walk this list too.
VIEWS: list[tuple[type[SecureModelView], type, str, Any, Any]] = [
    (MerchantAdmin, Merchant, "merchant", _l("Merchants"), _l("Organisation")),
    (StoreAdmin, Store, "store", _l("Stores"), _l("Organisation")),
    (StoreDomainAdmin, StoreDomain, "storedomain", _l("Store domains"), _l("Organisation")),
    (StaffUserAdmin, StaffUser, "staffuser", _l("Staff users"), _l("Organisation")),
    (CustomerAdmin, Customer, "customer", _l("Customers"), None),
]


def add_views(admin: Admin) -> None:
    for view_class, model, endpoint, name, category in VIEWS:
        admin.add_view(view_class(model, db, name=name, category=category, endpoint=endpoint))

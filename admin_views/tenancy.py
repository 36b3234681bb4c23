"""Admin views for merchants, stores, store domains, customers and staff users."""

from __future__ import annotations

from flask_admin import Admin

from admin_views.base import SecureModelView
from platform_core.customers.models import Customer
from platform_core.extensions import db
from platform_core.i18n_lazy import _l
from platform_core.staff.models import StaffRole, StaffUser
from platform_core.tenancy.models import Merchant, Store, StoreDomain

ADMINS = frozenset({StaffRole.PLATFORM_ADMIN, StaffRole.MERCHANT_ADMIN})


class MerchantAdmin(SecureModelView):
    write_roles = frozenset({StaffRole.PLATFORM_ADMIN})
    column_list = ["name", "slug", "legal_name", "contact_email", "default_locale"]
    column_searchable_list = ["name", "slug", "legal_name", "contact_email"]
    column_sortable_list = ["name", "slug", "default_locale"]
    form_columns = ["name", "slug", "legal_name", "contact_email", "default_locale"]


class StoreAdmin(SecureModelView):
    write_roles = ADMINS
    column_list = ["merchant", "name", "slug", "default_locale"]
    column_searchable_list = ["name", "slug", "address"]
    column_sortable_list = ["name", "slug", ("merchant", "merchant.name")]
    form_columns = ["merchant", "name", "slug", "address", "default_locale"]


class StoreDomainAdmin(SecureModelView):
    write_roles = ADMINS
    column_list = ["host", "store"]
    form_columns = ["store", "host"]


class CustomerAdmin(SecureModelView):
    column_list = ["first_name", "last_name", "email", "preferred_locale", "marketing_consent"]
    column_searchable_list = ["first_name", "last_name", "email", "phone"]
    form_columns = ["merchant", "first_name", "last_name", "email", "phone", "birthday",
                    "preferred_locale", "marketing_consent"]


class StaffUserAdmin(SecureModelView):
    allowed_roles = ADMINS
    column_list = ["email", "full_name", "role", "merchant", "is_active_user"]
    column_exclude_list = ["password_hash"]
    form_columns = ["email", "full_name", "role", "merchant", "stores", "preferred_locale",
                    "is_active_user"]


def add_views(admin: Admin) -> None:
    session = db
    admin.add_view(MerchantAdmin(Merchant, session, name=_l("Merchants"), category=_l("Tenancy")))
    admin.add_view(StoreAdmin(Store, session, name=_l("Stores"), category=_l("Tenancy")))
    admin.add_view(StoreDomainAdmin(StoreDomain, session, name=_l("Store domains"),
                                    category=_l("Tenancy")))
    admin.add_view(CustomerAdmin(Customer, session, name=_l("Customers")))
    admin.add_view(StaffUserAdmin(StaffUser, session, name=_l("Staff users")))

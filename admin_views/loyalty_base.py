"""Shared pieces of the loyalty console views: formatters, option lists, the base view."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from flask import has_request_context
from flask_babel.speaklater import LazyString
from flask_login import current_user

from admin_views import loyalty_format as fmt
from admin_views.base import AdminForm, SecureModelView, scoped_choices
from loyalty.models import (
    LoyaltyCard,
    ProgramKind,
    TransactionType,
    WalletSyncStatus,
)
from loyalty.services import cards as card_services
from platform_core.i18n_lazy import _l
from platform_core.staff.models import StaffRole

ADMINS = frozenset({StaffRole.PLATFORM_ADMIN, StaffRole.MERCHANT_ADMIN})
CATEGORY = _l("Loyalty")

WALLET_STATUS_LABELS = {
    WalletSyncStatus.NOT_SYNCED: _l("Not in a wallet"),
    WalletSyncStatus.PENDING: _l("Sync pending"),
    WalletSyncStatus.SYNCED: _l("In the wallet"),
    WalletSyncStatus.FAILED: _l("Sync failed"),
}


# --- formatters (list, details and CSV share them) ---------------------------------------
def column_formatter(helper: Any) -> Any:
    """A Flask-Admin column formatter applying ``helper`` to the column's value."""

    def formatter(view: Any, context: Any, model: Any, name: str) -> str:
        return helper(getattr(model, name))

    return formatter


datetime_column = column_formatter(fmt.when)
integer_column = column_formatter(fmt.number)
signed_column = column_formatter(fmt.signed)
euro_column = column_formatter(fmt.euros)


def label_column(view: Any, context: Any, model: Any, name: str) -> str:
    value = getattr(model, name)
    return value.label if value is not None else ""


def wallet_status_column(view: Any, context: Any, model: Any, name: str) -> str:
    return str(WALLET_STATUS_LABELS[model.wallet_sync_status])


def customer_name_column(view: Any, context: Any, model: Any, name: str) -> str:
    return model.customer.full_name


def card_number_column(view: Any, context: Any, model: Any, name: str) -> str:
    card = model if isinstance(model, LoyaltyCard) else model.card
    return card_services.format_card_number(card.card_number)


def kind_options() -> list[tuple[str, str]]:
    return [(kind.value, kind.label) for kind in ProgramKind]


def type_options() -> list[tuple[str, str]]:
    return [(kind.value, kind.label) for kind in TransactionType]


def wallet_options() -> list[tuple[str, str]]:
    return [(status.value, str(label)) for status, label in WALLET_STATUS_LABELS.items()]


class ScopedOptions:
    """A filter's option list computed per request, for the user looking at it.

    Flask-Admin also evaluates options once when the view is built (no user, no request):
    then there is nothing to offer yet.
    """

    def __init__(self, model: type, label: Any) -> None:
        self.model = model
        self.label = label

    def __call__(self) -> list[tuple[Any, str]]:
        if not has_request_context():
            return []
        return scoped_choices(self.model, self.label)


class LoyaltyAdminForm(AdminForm):
    """Flask-Admin's templates print only errors that are ``str``: our validators' messages
    are lazy strings, so they are turned into text once validation is done."""

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            field.errors = [str(e) if isinstance(e, LazyString) else e for e in field.errors]
        return valid


class LoyaltyModelView(SecureModelView):
    """Shared behaviour: per-request filter options, platform-only columns, readable errors."""

    fmt = fmt.Formats
    form_base_class = LoyaltyAdminForm

    #: Shown to platform admins only (merchant users see one merchant anyway).
    platform_only_columns: tuple[str, ...] = ("merchant",)

    # Flask-Admin caches filter options when the view is built; scoped options depend on
    # who asks, so they are rebuilt for every request (into a new dict: the view instance is
    # shared between threads).
    def _get_filter_groups(self) -> OrderedDict[str, list[dict[str, Any]]] | None:
        if not self._filters:
            return None
        groups: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
        for index, flt in enumerate(self._filters):
            options = flt.get_options(self)
            groups.setdefault(str(flt.name), []).append({
                "index": index,
                "arg": self.get_filter_arg(index, flt),
                "operation": str(flt.operation()),
                "options": [(key, str(label)) for key, label in options] if options else None,
                "type": flt.data_type,
            })
        return groups

    # The column lists are computed once; these properties drop the platform-only columns
    # for merchant users at read time.
    @property
    def _list_columns(self) -> list[tuple[str, Any]]:
        return self._visible(self._all_list_columns)

    @_list_columns.setter
    def _list_columns(self, value: list[tuple[str, Any]]) -> None:
        self._all_list_columns = value

    @property
    def _export_columns(self) -> list[tuple[str, Any]]:
        return self._visible(self._all_export_columns)

    @_export_columns.setter
    def _export_columns(self, value: list[tuple[str, Any]]) -> None:
        self._all_export_columns = value

    @property
    def _details_columns(self) -> list[tuple[str, Any]]:
        return self._visible(self._all_details_columns)

    @_details_columns.setter
    def _details_columns(self, value: list[tuple[str, Any]]) -> None:
        self._all_details_columns = value

    def _visible(self, columns: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
        if has_request_context() and current_user.is_authenticated and (
            current_user.is_platform_admin
        ):
            return columns
        return [col for col in columns if col[0] not in self.platform_only_columns]


def without_merchant_field(form: Any) -> Any:
    # A merchant user's rows are their merchant's (the base class enforces it); a one-option
    # select would only be noise.
    if not current_user.is_platform_admin and "merchant" in form:
        del form["merchant"]
    return form


def target_merchant_id(model: Any) -> int | None:
    if not current_user.is_platform_admin:
        return current_user.merchant_id
    merchant = getattr(model, "merchant", None)
    return merchant.id if merchant is not None else model.merchant_id

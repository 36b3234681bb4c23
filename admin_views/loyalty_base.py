"""Shared pieces of the loyalty console views: formatters, option lists, the base view."""

from __future__ import annotations

from typing import Any

from flask import has_request_context
from flask_login import current_user

from admin_views import loyalty_format as fmt
from admin_views.base import SecureModelView
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
    WalletSyncStatus.REJECTED: _l("Rejected by Google"),
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


class LoyaltyModelView(SecureModelView):
    """Shared behaviour: per-request filter options, platform-only columns, readable errors."""

    fmt = fmt.Formats

    #: Shown to platform admins only (merchant users see one merchant anyway).
    platform_only_columns: tuple[str, ...] = ("merchant",)

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
        if (
            has_request_context()
            and current_user.is_authenticated
            and (current_user.is_platform_admin)
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

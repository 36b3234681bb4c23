"""Console views of the loyalty domain: programs, merchant settings, cards, the ledger.

Balances and the ledger are read-only here: points move through the store terminal
(:mod:`admin_views.terminal`) and the services, never by editing a row.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from flask import has_request_context
from flask_admin import Admin, expose
from flask_admin.contrib.sqla import filters
from flask_babel import format_decimal
from flask_babel.speaklater import LazyString
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload
from wtforms import PasswordField, SelectField, ValidationError
from wtforms.validators import URL, NumberRange, Optional, Regexp

from admin_views import loyalty_format as fmt
from admin_views.base import AdminForm, SecureModelView, scoped_choices
from admin_views.terminal import TerminalView
from loyalty import errors as loyalty_errors
from loyalty.errors import LoyaltyError
from loyalty.models import (
    LoyaltyCard,
    LoyaltyProgram,
    LoyaltyTransaction,
    MerchantLoyaltySettings,
    ProgramKind,
    TransactionType,
    WalletSyncStatus,
)
from loyalty.services import cards as card_services
from loyalty.services import programs as program_services
from platform_core import db as dbmod
from platform_core.customers.models import Customer
from platform_core.extensions import db
from platform_core.i18n_lazy import _, _l
from platform_core.scoping import apply_scope
from platform_core.staff.models import StaffRole
from platform_core.tenancy.models import Merchant, Store

ADMINS = frozenset({StaffRole.PLATFORM_ADMIN, StaffRole.MERCHANT_ADMIN})
CATEGORY = _l("Loyalty")

WALLET_STATUS_LABELS = {
    WalletSyncStatus.NOT_SYNCED: _l("Not in a wallet"),
    WalletSyncStatus.PENDING: _l("Sync pending"),
    WalletSyncStatus.SYNCED: _l("In the wallet"),
    WalletSyncStatus.FAILED: _l("Sync failed"),
}


# --- formatters (list, details and CSV share them) ---------------------------------------
def _column(helper: Any) -> Any:
    """A Flask-Admin column formatter applying ``helper`` to the column's value."""

    def formatter(view: Any, context: Any, model: Any, name: str) -> str:
        return helper(getattr(model, name))

    return formatter


_datetime = _column(fmt.when)
_integer = _column(fmt.number)
_signed = _column(fmt.signed)
_euros = _column(fmt.euros)


def _label(view: Any, context: Any, model: Any, name: str) -> str:
    value = getattr(model, name)
    return value.label if value is not None else ""


def _wallet_status(view: Any, context: Any, model: Any, name: str) -> str:
    return str(WALLET_STATUS_LABELS[model.wallet_sync_status])


def _customer_name(view: Any, context: Any, model: Any, name: str) -> str:
    return model.customer.full_name


def _card_number(view: Any, context: Any, model: Any, name: str) -> str:
    card = model if isinstance(model, LoyaltyCard) else model.card
    return card_services.format_card_number(card.card_number)


def _kind_options() -> list[tuple[str, str]]:
    return [(kind.value, kind.label) for kind in ProgramKind]


def _type_options() -> list[tuple[str, str]]:
    return [(kind.value, kind.label) for kind in TransactionType]


def _wallet_options() -> list[tuple[str, str]]:
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


# --- programs ----------------------------------------------------------------------------
class LoyaltyProgramAdmin(LoyaltyModelView):
    write_roles = ADMINS
    can_delete = False  # cards point at their program: deactivate it instead

    column_list = ["name", "merchant", "kind", "points_per_euro", "welcome_bonus_points",
                   "stamps_target", "points_expiry_days", "is_active", "updated_at"]
    column_details_list = ["name", "merchant", "kind", "description", "points_per_euro",
                           "welcome_bonus_points", "stamps_target", "stamps_reward_description",
                           "points_expiry_days", "expiry_warning_days", "logo_url",
                           "brand_color", "terms_url", "is_active", "created_at", "updated_at"]
    column_searchable_list = ["name", "description"]
    column_sortable_list = ["name", "kind", "points_per_euro", "is_active", "updated_at",
                            ("merchant", "merchant.name")]
    column_default_sort = ("name", False)
    column_filters = [
        filters.FilterEqual(LoyaltyProgram.kind, _l("Kind"), options=_kind_options),
        filters.BooleanEqualFilter(LoyaltyProgram.is_active, _l("Active")),
        filters.IntEqualFilter(LoyaltyProgram.merchant_id, _l("Merchant"),
                               options=ScopedOptions(Merchant, Merchant.name)),
    ]
    column_labels = {
        "name": _l("Name"),
        "merchant": _l("Merchant"),
        "kind": _l("Kind"),
        "description": _l("Description"),
        "points_per_euro": _l("Points per euro"),
        "welcome_bonus_points": _l("Welcome bonus (points)"),
        "stamps_target": _l("Stamps for a reward"),
        "stamps_reward_description": _l("Stamp reward"),
        "points_expiry_days": _l("Points expire after (days)"),
        "expiry_warning_days": _l("Expiry warning (days before)"),
        "logo_url": _l("Logo URL"),
        "brand_color": _l("Brand colour"),
        "terms_url": _l("Terms and conditions URL"),
        "is_active": _l("Active"),
        "created_at": _l("Created"),
        "updated_at": _l("Last changed"),
    }
    column_descriptions = {
        "points_per_euro": _l("May be fractional: 0.5 gives one point per 2 €."),
        "points_expiry_days": _l("Leave empty if points never expire."),
        "brand_color": _l("As #rrggbb, for example #1f5f8b."),
    }
    column_formatters = {
        "kind": _label,
        "points_per_euro": lambda v, c, m, n: format_decimal(m.points_per_euro, "#,##0.##"),
        "created_at": _datetime,
        "updated_at": _datetime,
    }
    column_formatters_export = column_formatters
    column_select_related_list = [LoyaltyProgram.merchant]

    form_columns = ["merchant", "name", "kind", "description", "points_per_euro",
                    "welcome_bonus_points", "stamps_target", "stamps_reward_description",
                    "points_expiry_days", "expiry_warning_days", "logo_url", "brand_color",
                    "terms_url", "is_active"]
    form_overrides = {"kind": SelectField}
    form_args = {
        "kind": {"label": _l("Kind"), "choices": _kind_options, "coerce": ProgramKind},
        "points_per_euro": {"validators": [
            NumberRange(min=0, message=_l("Points per euro cannot be negative."))]},
        "welcome_bonus_points": {"validators": [
            NumberRange(min=0, message=_l("The welcome bonus cannot be negative."))]},
        "stamps_target": {"validators": [
            Optional(), NumberRange(min=1, message=_l("At least one stamp is needed."))]},
        "points_expiry_days": {"validators": [
            Optional(), NumberRange(min=1, message=_l("Enter at least one day."))]},
        "expiry_warning_days": {"validators": [
            NumberRange(min=0, message=_l("The warning cannot be negative."))]},
        "brand_color": {"validators": [
            Regexp(r"^#[0-9a-fA-F]{6}$", message=_l("Enter a colour as #rrggbb."))]},
        "logo_url": {"validators": [
            Optional(), URL(message=_l("Enter a full address starting with https://."))]},
        "terms_url": {"validators": [
            Optional(), URL(message=_l("Enter a full address starting with https://."))]},
    }

    def create_form(self, obj: Any = None) -> Any:
        return _without_merchant_for_merchant_users(super().create_form(obj))

    def edit_form(self, obj: Any = None) -> Any:
        return _without_merchant_for_merchant_users(super().edit_form(obj))

    def on_model_change(self, form: Any, model: LoyaltyProgram, is_created: bool) -> None:
        merchant_id = _target_merchant_id(model)
        # Checked before the base class flushes: the partial unique index would otherwise
        # answer with a bare integrity error.
        with db.session.no_autoflush:
            if model.is_active and merchant_id is not None:
                active = program_services.get_active_program(merchant_id)
                if active is not None and active is not model:
                    raise ValidationError(str(loyalty_errors.program_already_active()))
            if model.uses_stamps and not model.stamps_target:
                raise ValidationError(str(_l("A stamps program needs a stamps target.")))
        super().on_model_change(form, model, is_created)


def _without_merchant_for_merchant_users(form: Any) -> Any:
    # A merchant user's rows are their merchant's (the base class enforces it); a one-option
    # select would only be noise.
    if not current_user.is_platform_admin and "merchant" in form:
        del form["merchant"]
    return form


def _target_merchant_id(model: Any) -> int | None:
    if not current_user.is_platform_admin:
        return current_user.merchant_id
    merchant = getattr(model, "merchant", None)
    return merchant.id if merchant is not None else model.merchant_id


# --- merchant settings -------------------------------------------------------------------
class MerchantLoyaltySettingsAdmin(LoyaltyModelView):
    allowed_roles = ADMINS
    can_delete = False  # nothing to delete: a merchant without a row gets the defaults
    can_export = False

    column_list = ["merchant", "self_enrollment_enabled", "voids_allowed", "void_window_days",
                   "void_requires_pin", "void_pin_set", "min_points_to_redeem",
                   "cross_store_redemption", "updated_at"]
    column_details_list = column_list
    column_sortable_list = [("merchant", "merchant.name"), "updated_at"]
    column_labels = {
        "merchant": _l("Merchant"),
        "self_enrollment_enabled": _l("Online enrollment"),
        "voids_allowed": _l("Voids allowed"),
        "void_window_days": _l("Void window (days)"),
        "void_requires_pin": _l("Voids need the PIN"),
        "void_pin_set": _l("PIN set"),
        "new_pin": _l("New void PIN"),
        "min_points_to_redeem": _l("Minimum points per redemption"),
        "cross_store_redemption": _l("Redeem in any store"),
        "updated_at": _l("Last changed"),
    }
    column_descriptions = {
        "self_enrollment_enabled": _l("Customers may join from the public pages."),
        "void_window_days": _l("A transaction may be voided up to this many days later."),
        "cross_store_redemption": _l(
            "Points earned in one store may be redeemed in the merchant's other stores."),
    }
    column_formatters = {
        "void_pin_set": lambda v, c, m, n: Markup('<span class="fa fa-check-circle"></span>')
        if m.void_pin_hash else Markup('<span class="fa fa-minus-circle"></span>'),
        "updated_at": _datetime,
    }
    column_select_related_list = [MerchantLoyaltySettings.merchant]

    form_columns = ["merchant", "self_enrollment_enabled", "voids_allowed", "void_window_days",
                    "void_requires_pin", "new_pin", "min_points_to_redeem",
                    "cross_store_redemption"]
    form_extra_fields = {
        "new_pin": PasswordField(
            _l("New void PIN"),
            description=_l("4 to 8 digits. Leave empty to keep the current PIN."),
            validators=[Optional(), Regexp(r"^\d{4,8}$",
                                           message=_l("The PIN must be 4 to 8 digits."))],
        ),
    }
    form_args = {
        "void_window_days": {"validators": [
            NumberRange(min=0, message=_l("The void window cannot be negative."))]},
        "min_points_to_redeem": {"validators": [
            NumberRange(min=0, message=_l("The minimum cannot be negative."))]},
    }

    @property
    def can_create(self) -> bool:  # type: ignore[override]
        # A merchant has one settings row, made on first use: only platform admins create
        # one ahead of time for another merchant.
        return bool(current_user.is_authenticated and current_user.is_platform_admin)

    @expose("/")
    def index_view(self) -> Any:
        # A merchant admin always has a row to edit (get-or-create, as the services do).
        if not current_user.is_platform_admin and current_user.merchant_id is not None:
            program_services.get_settings(current_user.merchant_id)
            dbmod.commit()
        return super().index_view()

    def create_form(self, obj: Any = None) -> Any:
        return _without_merchant_for_merchant_users(super().create_form(obj))

    def edit_form(self, obj: Any = None) -> Any:
        form = super().edit_form(obj)
        # Settings stay with their merchant.
        if "merchant" in form:
            del form["merchant"]
        return form

    def on_model_change(self, form: Any, model: MerchantLoyaltySettings, is_created: bool) -> None:
        if is_created:
            merchant_id = _target_merchant_id(model)
            with db.session.no_autoflush:
                existing = db.session.scalar(
                    db.select(MerchantLoyaltySettings.id).where(
                        MerchantLoyaltySettings.merchant_id == merchant_id)
                )
            if existing is not None:
                raise ValidationError(str(_l("This merchant already has loyalty settings.")))
        super().on_model_change(form, model, is_created)
        new_pin = form.new_pin.data if "new_pin" in form else None
        if new_pin:
            try:
                program_services.set_void_pin(model, new_pin)
            except LoyaltyError as exc:
                raise ValidationError(str(exc)) from exc
        if model.void_requires_pin and not model.void_pin_hash:
            raise ValidationError(str(_l("Set a PIN before requiring it for voids.")))


# --- cards -------------------------------------------------------------------------------
class LoyaltyCardAdmin(LoyaltyModelView):
    write_roles = ADMINS
    can_create = False  # customers join through the terminal or the public form
    can_delete = False  # the ledger hangs off the card; deactivate it instead
    details_template = "admin/loyalty/card_details.html"
    export_max_rows = 100_000

    column_list = ["card_number", "customer", "customer.email", "merchant", "points_balance",
                   "stamp_count", "last_activity_at", "wallet_sync_status", "is_active"]
    column_details_list = ["card_number", "customer", "customer.email", "merchant", "program",
                           "enrolled_at_store", "points_balance", "total_points_earned",
                           "total_points_redeemed", "total_points_voided",
                           "total_points_expired", "stamp_count", "stamp_rewards_earned",
                           "stamp_rewards_redeemed", "last_activity_at", "wallet_sync_status",
                           "wallet_sync_error", "wallet_synced_at", "is_active", "created_at"]
    column_export_list = ["card_number", "customer", "customer.email", "merchant",
                          "enrolled_at_store", "points_balance", "total_points_earned",
                          "total_points_redeemed", "stamp_count", "last_activity_at",
                          "wallet_sync_status", "is_active", "created_at"]
    column_searchable_list = ["card_number", "customer.email", "customer.first_name",
                              "customer.last_name"]
    column_sortable_list = ["card_number", "points_balance", "stamp_count", "last_activity_at",
                            ("customer", "customer.last_name"),
                            ("customer.email", "customer.email")]
    column_default_sort = [("last_activity_at", True), ("id", True)]
    column_filters = [
        filters.BooleanEqualFilter(LoyaltyCard.is_active, _l("Active")),
        filters.FilterEqual(LoyaltyCard.wallet_sync_status, _l("Wallet"),
                            options=_wallet_options),
        filters.IntEqualFilter(LoyaltyCard.enrolled_at_store_id, _l("Enrolled at"),
                               options=ScopedOptions(Store, Store.name)),
        filters.IntEqualFilter(LoyaltyCard.merchant_id, _l("Merchant"),
                               options=ScopedOptions(Merchant, Merchant.name)),
    ]
    column_labels = {
        "card_number": _l("Card number"),
        "customer": _l("Customer"),
        "customer.email": _l("Email"),
        "merchant": _l("Merchant"),
        "program": _l("Program"),
        "enrolled_at_store": _l("Enrolled at"),
        "points_balance": _l("Points"),
        "total_points_earned": _l("Points earned"),
        "total_points_redeemed": _l("Points redeemed"),
        "total_points_voided": _l("Points voided"),
        "total_points_expired": _l("Points expired"),
        "stamp_count": _l("Stamps"),
        "stamp_rewards_earned": _l("Stamp rewards earned"),
        "stamp_rewards_redeemed": _l("Stamp rewards redeemed"),
        "last_activity_at": _l("Last activity"),
        "wallet_sync_status": _l("Wallet"),
        "wallet_sync_error": _l("Wallet error"),
        "wallet_synced_at": _l("Wallet synced"),
        "is_active": _l("Active"),
        "created_at": _l("Joined"),
    }
    column_formatters = {
        "card_number": _card_number,
        "customer": _customer_name,
        "points_balance": _integer,
        "total_points_earned": _integer,
        "total_points_redeemed": _integer,
        "total_points_voided": _integer,
        "total_points_expired": _integer,
        "stamp_count": _integer,
        "last_activity_at": _datetime,
        "wallet_synced_at": _datetime,
        "created_at": _datetime,
        "wallet_sync_status": _wallet_status,
    }
    column_formatters_export = column_formatters
    column_formatters_detail = {
        **column_formatters,
        "is_active": lambda v, c, m, n: _("Yes") if m.is_active else _("No"),
    }
    # The list shows the customer on every row: one joined query, not one per row.
    column_select_related_list = [LoyaltyCard.customer, LoyaltyCard.merchant]

    form_columns = ["is_active"]

    def search_placeholder(self) -> str:
        return str(_l("Card number, email or name"))

    def _apply_search(self, query: Any, count_query: Any, joins: Any, count_joins: Any,
                      search: str) -> Any:
        # Flask-Admin's own search casts and ILIKEs every column through outer joins: a scan
        # of 100,000 cards and customers per keystroke. A card number (prefix) uses the
        # unique index; text searches customers once, as a semi-join without row fan-out.
        clause = _card_search_clause(search)
        if clause is None:
            return query, count_query, joins, count_joins
        query = query.filter(clause)
        if count_query is not None:
            count_query = count_query.filter(clause)
        return query, count_query, joins, count_joins

    def card_history(self, card: LoyaltyCard) -> list[LoyaltyTransaction]:
        """The card's latest ledger rows the user may see (the details page shows them)."""
        stmt = (
            db.select(LoyaltyTransaction)
            .where(LoyaltyTransaction.card_id == card.id)
            .options(joinedload(LoyaltyTransaction.store),
                     joinedload(LoyaltyTransaction.staff_user))
            .order_by(LoyaltyTransaction.id.desc())
            .limit(20)
        )
        return list(db.session.scalars(apply_scope(stmt, LoyaltyTransaction, current_user)))


def _card_search_clause(search: str) -> Any:
    text = (search or "").strip()
    if not text:
        return None
    number = card_services.normalize_card_number(text)
    if number.isdigit():
        # Every number starting with these digits sorts between them padded with 0s and 9s.
        padding = max(card_services.CARD_NUMBER_LENGTH - len(number), 0)
        return LoyaltyCard.card_number.between(number, number + "9" * padding)
    needle = text.lower()
    full_name = func.lower(Customer.first_name + " " + Customer.last_name)
    matching = select(Customer.id).where(or_(
        Customer.email.contains(needle, autoescape=True),
        full_name.contains(needle, autoescape=True),
    ))
    return LoyaltyCard.customer_id.in_(matching)


# --- transactions ------------------------------------------------------------------------
class LoyaltyTransactionAdmin(LoyaltyModelView):
    """The ledger, read-only: corrections are new rows made through the terminal."""

    can_create = False
    can_edit = False
    can_delete = False
    export_max_rows = 100_000

    column_list = ["created_at", "card", "type", "points_delta", "stamps_delta",
                   "points_balance_after", "purchase_amount", "store", "staff_user", "merchant"]
    column_details_list = ["created_at", "card", "merchant", "type", "points_delta",
                           "stamps_delta", "points_balance_after", "purchase_amount", "store",
                           "staff_user", "voided_transaction", "note"]
    column_export_list = ["created_at", "card", "type", "points_delta", "stamps_delta",
                          "points_balance_after", "purchase_amount", "store", "staff_user",
                          "merchant", "note"]
    column_sortable_list = ["created_at", "type", "points_delta", "purchase_amount"]
    column_default_sort = [("created_at", True), ("id", True)]
    column_searchable_list = ["card.card_number", "note"]
    column_filters = [
        filters.FilterEqual(LoyaltyTransaction.type, _l("Type"), options=_type_options),
        filters.IntEqualFilter(LoyaltyTransaction.store_id, _l("Store"),
                               options=ScopedOptions(Store, Store.name)),
        filters.DateTimeBetweenFilter(LoyaltyTransaction.created_at, _l("Date")),
        filters.DateTimeGreaterFilter(LoyaltyTransaction.created_at, _l("Date")),
        filters.DateTimeSmallerFilter(LoyaltyTransaction.created_at, _l("Date")),
        filters.IntEqualFilter(LoyaltyTransaction.merchant_id, _l("Merchant"),
                               options=ScopedOptions(Merchant, Merchant.name)),
    ]
    column_labels = {
        "created_at": _l("Date"),
        "card": _l("Card number"),
        "merchant": _l("Merchant"),
        "type": _l("Type"),
        "points_delta": _l("Points"),
        "stamps_delta": _l("Stamps"),
        "points_balance_after": _l("Balance after"),
        "purchase_amount": _l("Amount"),
        "store": _l("Store"),
        "staff_user": _l("Staff"),
        "voided_transaction": _l("Voids"),
        "note": _l("Note"),
        "card.card_number": _l("Card number"),
    }
    column_formatters = {
        "created_at": _datetime,
        "card": _card_number,
        "type": _label,
        "points_delta": _signed,
        "stamps_delta": _signed,
        "points_balance_after": _integer,
        "purchase_amount": _euros,
    }
    column_formatters_export = column_formatters
    column_select_related_list = [LoyaltyTransaction.card, LoyaltyTransaction.store,
                                  LoyaltyTransaction.staff_user, LoyaltyTransaction.merchant]

    def search_placeholder(self) -> str:
        return str(_l("Card number or note"))


def add_views(admin: Admin) -> None:
    """Add the loyalty views and the store terminal to the console."""
    admin.add_view(LoyaltyProgramAdmin(LoyaltyProgram, db, name=_l("Programs"),
                                       category=CATEGORY))
    admin.add_view(MerchantLoyaltySettingsAdmin(
        MerchantLoyaltySettings, db, name=_l("Loyalty settings"), category=CATEGORY))
    admin.add_view(LoyaltyCardAdmin(LoyaltyCard, db, name=_l("Cards"), category=CATEGORY))
    admin.add_view(LoyaltyTransactionAdmin(LoyaltyTransaction, db, name=_l("Transactions"),
                                           category=CATEGORY))
    admin.add_view(TerminalView(name=_l("Store terminal"), category=CATEGORY,
                                endpoint="terminal", url="/admin/terminal"))


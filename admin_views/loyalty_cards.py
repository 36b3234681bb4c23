"""Console views of cards and the ledger: read-only balances, scoped lists, fast search."""

from __future__ import annotations

from typing import Any

from flask import flash
from flask_admin.actions import action
from flask_admin.contrib.sqla import filters, tools
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from admin_views.base import ScopedOptions
from admin_views.loyalty_base import (
    ADMINS,
    LoyaltyModelView,
    card_number_column,
    customer_name_column,
    datetime_column,
    euro_column,
    integer_column,
    label_column,
    signed_column,
    type_options,
    wallet_options,
    wallet_status_column,
)
from loyalty.models import LoyaltyCard, LoyaltyTransaction
from loyalty.services import cards as card_services
from loyalty.wallet.google import wallet_enabled
from loyalty.wallet.service import mark_for_sync
from platform_core import db as dbmod
from platform_core.customers.models import Customer
from platform_core.extensions import db
from platform_core.i18n_lazy import _, _l, ngettext
from platform_core.scoping import apply_scope
from platform_core.search_fold import contains_folded
from platform_core.tenancy.models import Merchant, Store


# --- cards -------------------------------------------------------------------------------
class LoyaltyCardAdmin(LoyaltyModelView):
    write_roles = ADMINS
    can_create = False  # customers join through the terminal or the public form
    can_delete = False  # the ledger hangs off the card; deactivate it instead
    details_template = "admin/loyalty/card_details.html"
    export_max_rows = 100_000

    column_list = [
        "card_number",
        "customer",
        "customer.email",
        "merchant",
        "points_balance",
        "stamp_count",
        "last_activity_at",
        "wallet_sync_status",
        "is_active",
    ]
    column_details_list = [
        "card_number",
        "customer",
        "customer.email",
        "merchant",
        "program",
        "enrolled_at_store",
        "points_balance",
        "total_points_earned",
        "total_points_redeemed",
        "total_points_voided",
        "total_points_expired",
        "stamp_count",
        "stamp_rewards_earned",
        "stamp_rewards_redeemed",
        "last_activity_at",
        "wallet_sync_status",
        "wallet_sync_error",
        "wallet_synced_at",
        "is_active",
        "created_at",
    ]
    column_export_list = [
        "card_number",
        "customer",
        "customer.email",
        "merchant",
        "enrolled_at_store",
        "points_balance",
        "total_points_earned",
        "total_points_redeemed",
        "stamp_count",
        "last_activity_at",
        "wallet_sync_status",
        "is_active",
        "created_at",
    ]
    column_searchable_list = [
        "card_number",
        "customer.email",
        "customer.first_name",
        "customer.last_name",
    ]
    column_sortable_list = [
        "card_number",
        "points_balance",
        "stamp_count",
        "last_activity_at",
        ("customer", "customer.last_name"),
        ("customer.email", "customer.email"),
    ]
    column_default_sort = [("last_activity_at", True), ("id", True)]
    column_filters = [
        filters.BooleanEqualFilter(LoyaltyCard.is_active, _l("Active")),
        filters.FilterEqual(LoyaltyCard.wallet_sync_status, _l("Wallet"), options=wallet_options),
        filters.IntEqualFilter(
            LoyaltyCard.enrolled_at_store_id,
            _l("Enrolled at"),
            options=ScopedOptions(Store, Store.name),
        ),
        filters.IntEqualFilter(
            LoyaltyCard.merchant_id, _l("Merchant"), options=ScopedOptions(Merchant, Merchant.name)
        ),
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
        "card_number": card_number_column,
        "customer": customer_name_column,
        "points_balance": integer_column,
        "total_points_earned": integer_column,
        "total_points_redeemed": integer_column,
        "total_points_voided": integer_column,
        "total_points_expired": integer_column,
        "stamp_count": integer_column,
        "last_activity_at": datetime_column,
        "wallet_synced_at": datetime_column,
        "created_at": datetime_column,
        "wallet_sync_status": wallet_status_column,
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

    def _apply_search(
        self, query: Any, count_query: Any, joins: Any, count_joins: Any, search: str
    ) -> Any:
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

    def is_action_allowed(self, name: str) -> bool:
        if name == "wallet_sync":
            return self._can_write()
        return super().is_action_allowed(name)

    @action(
        "wallet_sync",
        _l("Sync to Google Wallet"),
        _l("Send the selected cards to Google Wallet again?"),
    )
    def action_wallet_sync(self, ids: Any) -> None:
        # For cards whose pass failed to update: staff retry now instead of waiting for the
        # 15-minute job. Only the user's own cards are found (scoped query).
        if not wallet_enabled():
            flash(_("Google Wallet is not configured."), "warning")
            return
        card_ids = [int(value) for value in ids if str(value).strip().isdigit()]
        cards = tools.get_query_for_ids(self.get_query(), self.model, card_ids).all()
        for card in cards:
            mark_for_sync(card)
        dbmod.commit()
        flash(
            ngettext(
                "%(num)d card is being sent to Google Wallet.",
                "%(num)d cards are being sent to Google Wallet.",
                len(cards),
            ),
            "success",
        )

    def card_history(self, card: LoyaltyCard) -> list[LoyaltyTransaction]:
        """The card's latest ledger rows the user may see (the details page shows them)."""
        stmt = (
            db.select(LoyaltyTransaction)
            .where(LoyaltyTransaction.card_id == card.id)
            .options(
                joinedload(LoyaltyTransaction.store), joinedload(LoyaltyTransaction.staff_user)
            )
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
    # Accents and case ignored: "goncalves" finds "Gonçalves".
    full_name = Customer.first_name + " " + Customer.last_name
    matching = select(Customer.id).where(
        or_(contains_folded(Customer.email, text), contains_folded(full_name, text))
    )
    return LoyaltyCard.customer_id.in_(matching)


# --- transactions ------------------------------------------------------------------------
class LoyaltyTransactionAdmin(LoyaltyModelView):
    """The ledger, read-only: corrections are new rows made through the terminal."""

    can_create = False
    can_edit = False
    can_delete = False
    export_max_rows = 100_000

    column_list = [
        "created_at",
        "card",
        "type",
        "points_delta",
        "stamps_delta",
        "points_balance_after",
        "purchase_amount",
        "store",
        "staff_user",
        "merchant",
    ]
    column_details_list = [
        "created_at",
        "card",
        "merchant",
        "type",
        "points_delta",
        "stamps_delta",
        "points_balance_after",
        "purchase_amount",
        "store",
        "staff_user",
        "voided_transaction",
        "note",
    ]
    column_export_list = [
        "created_at",
        "card",
        "type",
        "points_delta",
        "stamps_delta",
        "points_balance_after",
        "purchase_amount",
        "store",
        "staff_user",
        "merchant",
        "note",
    ]
    column_sortable_list = ["created_at", "type", "points_delta", "purchase_amount"]
    column_default_sort = [("created_at", True), ("id", True)]
    column_searchable_list = ["card.card_number", "note"]
    column_filters = [
        filters.FilterEqual(LoyaltyTransaction.type, _l("Type"), options=type_options),
        filters.IntEqualFilter(
            LoyaltyTransaction.store_id, _l("Store"), options=ScopedOptions(Store, Store.name)
        ),
        filters.DateTimeBetweenFilter(LoyaltyTransaction.created_at, _l("Date")),
        filters.DateTimeGreaterFilter(LoyaltyTransaction.created_at, _l("Date")),
        filters.DateTimeSmallerFilter(LoyaltyTransaction.created_at, _l("Date")),
        filters.IntEqualFilter(
            LoyaltyTransaction.merchant_id,
            _l("Merchant"),
            options=ScopedOptions(Merchant, Merchant.name),
        ),
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
        "created_at": datetime_column,
        "card": card_number_column,
        "type": label_column,
        "points_delta": signed_column,
        "stamps_delta": signed_column,
        "points_balance_after": integer_column,
        "purchase_amount": euro_column,
    }
    column_formatters_export = column_formatters
    column_select_related_list = [
        LoyaltyTransaction.card,
        LoyaltyTransaction.store,
        LoyaltyTransaction.staff_user,
        LoyaltyTransaction.merchant,
    ]

    def search_placeholder(self) -> str:
        return str(_l("Card number or note"))

"""Console views of the loyalty domain: programs, merchant settings, cards, the ledger.

Balances and the ledger are read-only here: points move through the store terminal
(:mod:`admin_views.terminal`) and the services, never by editing a row.
"""

from __future__ import annotations

from typing import Any

from flask import flash
from flask_admin import Admin, expose
from flask_admin.contrib.sqla import filters
from flask_admin.helpers import is_form_submitted
from flask_babel import format_decimal
from flask_login import current_user
from markupsafe import Markup
from wtforms import PasswordField, SelectField, ValidationError
from wtforms.validators import URL, Optional, Regexp

from admin_views import program_texts as texts_form
from admin_views.base import ScopedOptions
from admin_views.loyalty_base import (
    ADMINS,
    CATEGORY,
    LoyaltyModelView,
    datetime_column,
    kind_options,
    label_column,
    target_merchant_id,
    without_merchant_field,
)
from admin_views.loyalty_cards import LoyaltyCardAdmin, LoyaltyTransactionAdmin
from admin_views.terminal import TerminalView
from admin_views.terminal_forms import TypedDecimalField, WholeNumberField
from loyalty.bounds import PROGRAM_BOUNDS, SETTINGS_BOUNDS
from loyalty.errors import LoyaltyError
from loyalty.models import (
    LoyaltyCard,
    LoyaltyProgram,
    LoyaltyTransaction,
    MerchantLoyaltySettings,
    ProgramKind,
)
from loyalty.services import program_texts
from loyalty.services import programs as program_services
from loyalty.wallet import service as wallet_service
from platform_core import db as dbmod
from platform_core.extensions import db
from platform_core.i18n_lazy import _, _l
from platform_core.tenancy.models import Merchant


# --- programs ----------------------------------------------------------------------------
def _point_value_in_range(form: Any, field: Any) -> None:
    # TypedDecimalField refused NaN, signs and exponents already; what is left is the range.
    if field.data is not None and not 0 <= field.data <= 1000:
        raise ValidationError(str(_l("Enter a value from 0 to 1,000 €.")))


class LoyaltyProgramAdmin(LoyaltyModelView):
    write_roles = ADMINS
    can_delete = False  # cards point at their program: deactivate it instead

    column_list = [
        "name",
        "merchant",
        "kind",
        "texts",
        "points_per_euro",
        "point_value",
        "welcome_bonus_points",
        "stamps_target",
        "points_expiry_days",
        "is_active",
        "updated_at",
    ]
    column_details_list = [
        "name",
        "merchant",
        "kind",
        "texts",
        "points_per_euro",
        "welcome_bonus_points",
        "stamps_target",
        "points_expiry_days",
        "expiry_warning_days",
        "logo_url",
        "brand_color",
        "is_active",
        "created_at",
        "updated_at",
    ]
    column_searchable_list = ["name"]
    column_sortable_list = [
        "name",
        "kind",
        "points_per_euro",
        "is_active",
        "updated_at",
        ("merchant", "merchant.name"),
    ]
    column_default_sort = ("name", False)
    column_filters = [
        filters.FilterEqual(LoyaltyProgram.kind, _l("Kind"), options=kind_options),
        filters.BooleanEqualFilter(LoyaltyProgram.is_active, _l("Active")),
        filters.IntEqualFilter(
            LoyaltyProgram.merchant_id,
            _l("Merchant"),
            options=ScopedOptions(Merchant, Merchant.name),
        ),
    ]
    column_labels = {
        "name": _l("Name"),
        "merchant": _l("Merchant"),
        "kind": _l("Kind"),
        "texts": _l("Texts for customers"),
        "points_per_euro": _l("Points per euro"),
        "point_value": _l("Value of a point (€)"),
        "welcome_bonus_points": _l("Welcome bonus (points)"),
        "stamps_target": _l("Stamps for a reward"),
        "points_expiry_days": _l("Points expire after (days)"),
        "expiry_warning_days": _l("Expiry warning (days before)"),
        "birthday_emails_enabled": _l("Birthday wishes by email"),
        "birthday_bonus_points": _l("Birthday bonus (points)"),
        "reengagement_days": _l("“We miss you” email after (days without a visit)"),
        "logo_url": _l("Logo URL"),
        "brand_color": _l("Brand colour"),
        "is_active": _l("Active"),
        "created_at": _l("Created"),
        "updated_at": _l("Last changed"),
    }
    column_descriptions = {
        "points_per_euro": _l("May be fractional: 0.5 gives one point per 2 €."),
        "points_expiry_days": _l("Leave empty if points never expire."),
        "point_value": _l(
            "What one point is worth when redeemed, e.g. 0.05 if 100 points buy a 5 € cake. "
            "The dashboard values the outstanding points with it."
        ),
        "brand_color": _l("As #rrggbb, for example #1f5f8b."),
        "birthday_emails_enabled": _l(
            "Sent on the customer's birthday, only to customers who accepted news and offers."
        ),
        "birthday_bonus_points": _l("Credited with the birthday wishes; 0 for none."),
        "reengagement_days": _l(
            "Only to customers who accepted news and offers, once per absence. "
            "Leave empty to send none."
        ),
    }
    column_formatters = {
        "kind": label_column,
        "texts": lambda v, c, m, n: _texts_column(m),
        "points_per_euro": lambda v, c, m, n: format_decimal(m.points_per_euro, "#,##0.##"),
        "created_at": datetime_column,
        "updated_at": datetime_column,
    }
    column_formatters_export = {
        **column_formatters,
        "texts": lambda v, c, m, n: _texts_export(m),
    }
    column_select_related_list = [LoyaltyProgram.merchant]

    form_columns = [
        "merchant",
        "name",
        "kind",
        "points_per_euro",
        "welcome_bonus_points",
        "stamps_target",
        "points_expiry_days",
        "expiry_warning_days",
        "birthday_emails_enabled",
        "birthday_bonus_points",
        "reengagement_days",
        "logo_url",
        "brand_color",
        "is_active",
        *texts_form.extra_fields(),
    ]
    form_extra_fields = texts_form.extra_fields()
    form_rules = [
        texts_form.HiddenFields("csrf_token"),
        texts_form.OptionalField("merchant"),
        "name",
        "kind",
        texts_form.TextsGrid(),
        "points_per_euro",
        "welcome_bonus_points",
        "stamps_target",
        "points_expiry_days",
        "expiry_warning_days",
        "birthday_emails_enabled",
        "birthday_bonus_points",
        "reengagement_days",
        "logo_url",
        "brand_color",
        "is_active",
    ]
    form_overrides = {
        "kind": SelectField,
        "points_per_euro": TypedDecimalField,
        "point_value": TypedDecimalField,
        **dict.fromkeys(PROGRAM_BOUNDS.keys() - {"points_per_euro"}, WholeNumberField),
    }
    form_args = {
        "kind": {"label": _l("Kind"), "choices": kind_options, "coerce": ProgramKind},
        # The ranges of the numeric fields are the programs service's (validate_form).
        "stamps_target": {"validators": [Optional()]},
        "points_expiry_days": {"validators": [Optional()]},
        "reengagement_days": {"validators": [Optional()]},
        "birthday_bonus_points": {"validators": [Optional()], "default": 0},
        "point_value": {"places": 4, "validators": [Optional(), _point_value_in_range]},
        "brand_color": {
            "validators": [Regexp(r"^#[0-9a-fA-F]{6}$", message=_l("Enter a colour as #rrggbb."))]
        },
        "logo_url": {
            "validators": [
                Optional(),
                URL(message=_l("Enter a full address starting with https://.")),
            ]
        },
    }

    def create_form(self, obj: Any = None) -> Any:
        return without_merchant_field(super().create_form(obj))

    def edit_form(self, obj: Any = None) -> Any:
        return without_merchant_field(super().edit_form(obj))

    def validate_form(self, form: Any) -> bool:
        valid = super().validate_form(form)
        if not is_form_submitted():
            return valid
        kind = form.kind.data if "kind" in form else None
        problems = program_services.program_problems(kind, _typed_values(form, PROGRAM_BOUNDS))
        return _show_problems(form, problems) and valid

    def on_model_change(self, form: Any, model: LoyaltyProgram, is_created: bool) -> None:
        merchant_id = target_merchant_id(model)
        if getattr(model, "birthday_bonus_points", None) is None:
            model.birthday_bonus_points = 0  # an empty field: no birthday bonus
        # Checked before the base class flushes: the partial unique index would otherwise
        # answer with a bare integrity error.
        with db.session.no_autoflush:
            try:
                program_services.check_program(model, merchant_id)
            except LoyaltyError as exc:
                raise ValidationError(str(exc)) from exc
        super().on_model_change(form, model, is_created)
        program_texts.set_program_texts(model, texts_form.posted_texts(form))
        if not is_created:
            # Name, logo or colour may be what Google rejected: its cards get another go.
            wallet_service.mark_program_for_sync(model.id)

    def after_model_change(self, form: Any, model: LoyaltyProgram, is_created: bool) -> None:
        super().after_model_change(form, model, is_created)
        if not program_texts.has_terms(model):
            flash(_no_terms_warning(model), "warning")

    def on_form_prefill(self, form: Any, id: Any) -> None:
        # Flask-Admin also calls this after a refused POST: keep what was typed then.
        if is_form_submitted():
            return
        program = self.get_one(id)
        if program is not None:
            texts_form.prefill(form, program_texts.own_texts(program))


def _no_terms_warning(program: LoyaltyProgram) -> str:
    return _(
        "%(program)s has no terms and conditions URL: customers join without accepting any "
        "terms. Add the URL of your terms in at least one language.",
        program=program.name,
    )


def _texts_column(program: LoyaltyProgram) -> Markup:
    """The languages the program is written in, and a warning when it has no terms."""
    written = [
        code for code, values in program_texts.own_texts(program).items() if any(values.values())
    ]
    html = Markup(" ").join(
        Markup('<span class="badge badge-secondary">{}</span>').format(code) for code in written
    )
    if not program_texts.has_terms(program):
        html += Markup(' <span class="badge badge-warning no-terms">{}</span>').format(
            _("No terms URL")
        )
    return html


def _texts_export(program: LoyaltyProgram) -> str:
    written = [
        code for code, values in program_texts.own_texts(program).items() if any(values.values())
    ]
    return ", ".join(written)


# --- merchant settings -------------------------------------------------------------------
class MerchantLoyaltySettingsAdmin(LoyaltyModelView):
    allowed_roles = ADMINS
    can_delete = False  # nothing to delete: a merchant without a row gets the defaults
    can_export = False

    column_list = [
        "merchant",
        "self_enrollment_enabled",
        "voids_allowed",
        "void_window_days",
        "void_requires_pin",
        "void_pin_set",
        "min_points_to_redeem",
        "cross_store_redemption",
        "retention_inactive_months",
        "updated_at",
    ]
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
        "retention_inactive_months": _l("Anonymize inactive customers after (months)"),
        "updated_at": _l("Last changed"),
    }
    column_descriptions = {
        "self_enrollment_enabled": _l("Customers may join from the public pages."),
        "void_window_days": _l("A transaction may be voided up to this many days later."),
        "cross_store_redemption": _l(
            "Points earned in one store may be redeemed in the merchant's other stores."
        ),
        "retention_inactive_months": _l(
            "Customers with no enrollment or transaction for this many months (1 to 240) are "
            "anonymized every night. Leave empty to keep them."
        ),
    }
    column_formatters = {
        "void_pin_set": lambda v, c, m, n: (
            Markup('<span class="fa fa-check-circle"></span>')
            if m.void_pin_hash
            else Markup('<span class="fa fa-minus-circle"></span>')
        ),
        "updated_at": datetime_column,
    }
    column_select_related_list = [MerchantLoyaltySettings.merchant]

    form_columns = [
        "merchant",
        "self_enrollment_enabled",
        "voids_allowed",
        "void_window_days",
        "void_requires_pin",
        "new_pin",
        "min_points_to_redeem",
        "cross_store_redemption",
        "retention_inactive_months",
    ]
    form_overrides = dict.fromkeys(SETTINGS_BOUNDS, WholeNumberField)
    form_extra_fields = {
        "new_pin": PasswordField(
            _l("New void PIN"),
            description=_l("4 to 8 digits. Leave empty to keep the current PIN."),
            validators=[
                Optional(),
                Regexp(r"^\d{4,8}$", message=_l("The PIN must be 4 to 8 digits.")),
            ],
        ),
    }

    @property
    def can_create(self) -> bool:
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
        return without_merchant_field(super().create_form(obj))

    def edit_form(self, obj: Any = None) -> Any:
        form = super().edit_form(obj)
        # Settings stay with their merchant.
        if "merchant" in form:
            del form["merchant"]
        return form

    def validate_form(self, form: Any) -> bool:
        valid = super().validate_form(form)
        if not is_form_submitted():
            return valid
        problems = program_services.settings_problems(_typed_values(form, SETTINGS_BOUNDS))
        return _show_problems(form, problems) and valid

    def on_model_change(self, form: Any, model: MerchantLoyaltySettings, is_created: bool) -> None:
        if is_created:
            try:
                program_services.check_new_settings(target_merchant_id(model))
            except LoyaltyError as exc:
                raise ValidationError(str(exc)) from exc
        super().on_model_change(form, model, is_created)
        new_pin = form.new_pin.data if "new_pin" in form else None
        if new_pin:
            try:
                program_services.set_void_pin(model, new_pin)
            except LoyaltyError as exc:
                raise ValidationError(str(exc)) from exc
        try:
            program_services.check_settings(model)
        except LoyaltyError as exc:
            raise ValidationError(str(exc)) from exc


def _typed_values(form: Any, ranges: dict[str, Any]) -> dict[str, Any]:
    # Fields that could not even be read already carry their own error.
    return {name: form[name].data for name in ranges if name in form and not form[name].errors}


def _show_problems(form: Any, problems: dict[str, Any]) -> bool:
    """Put the service's refusals next to their fields (the typed input stays)."""
    for name, message in problems.items():
        form[name].errors = [*form[name].errors, str(message)]
    return not problems


def add_views(admin: Admin) -> None:
    """Add the loyalty views and the store terminal to the console."""
    admin.add_view(LoyaltyProgramAdmin(LoyaltyProgram, db, name=_l("Programs"), category=CATEGORY))
    admin.add_view(
        MerchantLoyaltySettingsAdmin(
            MerchantLoyaltySettings, db, name=_l("Loyalty settings"), category=CATEGORY
        )
    )
    admin.add_view(LoyaltyCardAdmin(LoyaltyCard, db, name=_l("Cards"), category=CATEGORY))
    admin.add_view(
        LoyaltyTransactionAdmin(LoyaltyTransaction, db, name=_l("Transactions"), category=CATEGORY)
    )
    admin.add_view(
        TerminalView(
            name=_l("Store terminal"), category=CATEGORY, endpoint="terminal", url="/admin/terminal"
        )
    )

"""The store terminal: staff at the counter find a card and earn, redeem, stamp or void.

Every ledger operation takes two posts: the first shows what will happen (a confirmation
page that works without JavaScript), the second records it. The form's idempotency key
travels through both, so a double submit records the operation once. Stores and cards
outside the user's reach answer 404.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from sqlalchemy.orm import joinedload

from admin_views import loyalty_format as fmt
from admin_views.terminal_forms import (
    EarnForm,
    LedgerForm,
    RedeemForm,
    SearchForm,
    StaffEnrollmentForm,
    StampRewardForm,
    StampsForm,
    VoidForm,
)
from loyalty.errors import LoyaltyError
from loyalty.models import LoyaltyCard, LoyaltyTransaction, TransactionType
from loyalty.services import cards as card_services
from loyalty.services import enrollment, ledger
from loyalty.services.program_texts import has_terms, program_texts
from loyalty.services.programs import get_merchant_program, get_settings
from platform_core import db as dbmod
from platform_core.audit.models import AuditAction
from platform_core.audit.services import record_audit
from platform_core.extensions import db
from platform_core.i18n import current_locale_code
from platform_core.i18n_lazy import _, _l
from platform_core.scoping import apply_scope, row_in_scope
from platform_core.staff.models import StaffRole
from platform_core.tenancy.models import Store

HISTORY_ROWS = 10

#: The ledger operations: form class and the confirmation page's title.
OPERATIONS: dict[str, tuple[type[LedgerForm], Any]] = {
    "earn": (EarnForm, _l("Earn points")),
    "redeem": (RedeemForm, _l("Redeem points")),
    "stamps": (StampsForm, _l("Add stamps")),
    "reward": (StampRewardForm, _l("Redeem the stamp reward")),
}


class TerminalView(BaseView):
    fmt = fmt.Formats
    card_number = staticmethod(lambda card: card_services.format_card_number(card.card_number))

    def is_accessible(self) -> bool:
        return bool(
            current_user.is_authenticated
            and current_user.is_active
            and current_user.role in frozenset(StaffRole)
        )

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)

    # --- store ------------------------------------------------------------------------
    @expose("/")
    def index(self) -> Any:
        stores = _my_stores()
        if len(stores) == 1:
            return redirect(url_for(".store", store_id=stores[0].id))
        return self.render("admin/terminal/choose_store.html", stores=stores)

    @expose("/<int:store_id>/")
    def store(self, store_id: int) -> Any:
        store = _store_or_404(store_id)
        form = SearchForm(request.args)
        results: list[LoyaltyCard] | None = None
        if form.q.data and form.validate():
            results = card_services.find_cards(store.merchant_id, form.q.data, limit=20)
            if (
                len(results) == 1
                and card_services.normalize_card_number(form.q.data) == results[0].card_number
            ):
                # A scanned or fully typed card number goes straight to the card.
                return redirect(url_for(".card", store_id=store.id, card_id=results[0].id))
        return self.render(
            "admin/terminal/store.html",
            store=store,
            form=form,
            results=results,
            stores=_my_stores(),
        )

    # --- card -------------------------------------------------------------------------
    @expose("/<int:store_id>/cards/<int:card_id>/")
    def card(self, store_id: int, card_id: int) -> Any:
        store = _store_or_404(store_id)
        card = _card_or_404(store, card_id)
        return self._render_card(store, card)

    def _render_card(
        self, store: Store, card: LoyaltyCard, *, status: int = 200, **bound_forms: LedgerForm
    ) -> Any:
        # A form that failed keeps what was typed; the others start fresh with a new key.
        forms = {
            name: bound_forms.get(name) or cls(formdata=None)
            for name, (cls, _title) in OPERATIONS.items()
        }
        history = _history(card)
        return self.render(
            "admin/terminal/card.html",
            store=store,
            card=card,
            program=card.program,
            texts=program_texts(card.program, current_locale_code()),
            forms=forms,
            history=history,
            voidable=ledger.voidable_ids(history),
            voided=ledger.voided_ids(history),
            void_effect=void_effect,
            rewards_ready=card.rewards_ready(),
        ), status

    @expose("/<int:store_id>/cards/<int:card_id>/<operation>/", methods=["POST"])
    def operate(self, store_id: int, card_id: int, operation: str) -> Any:
        if operation not in OPERATIONS:
            abort(404)
        store = _store_or_404(store_id)
        card = _card_or_404(store, card_id)
        form_class, title = OPERATIONS[operation]
        form = form_class()
        if not form.validate():
            return self._render_card(store, card, status=400, **{operation: form})
        if not form.is_confirmed:
            # The service's own rules, asked before the confirmation page: staff never
            # confirm an operation the ledger would refuse (it decides again on confirm).
            try:
                _check(operation, form, card, store)
            except LoyaltyError as exc:
                _show_refusal(operation, form, exc)
                return self._render_card(store, card, status=400, **{operation: form})
            return self.render(
                "admin/terminal/confirm.html",
                store=store,
                card=card,
                program=card.program,
                texts=program_texts(card.program, current_locale_code()),
                form=form,
                operation=operation,
                title=title,
                preview=_preview(operation, form, card),
            )
        try:
            row = _record(operation, form, card, store)
        except LoyaltyError as exc:
            dbmod.rollback()
            flash(str(exc), "error")
            return self._render_card(store, card, status=400, **{operation: form})
        _audit(operation, store, row=row, card=card)
        dbmod.commit()
        _flash_done(row, card)
        return redirect(url_for(".card", store_id=store.id, card_id=card.id))

    @expose(
        "/<int:store_id>/cards/<int:card_id>/void/<int:transaction_id>/", methods=["GET", "POST"]
    )
    def void(self, store_id: int, card_id: int, transaction_id: int) -> Any:
        store = _store_or_404(store_id)
        card = _card_or_404(store, card_id)
        transaction = db.session.get(LoyaltyTransaction, transaction_id)
        if (
            transaction is None
            or transaction.card_id != card.id
            or not row_in_scope(transaction, current_user)
        ):
            abort(404)
        settings = get_settings(card.merchant_id)
        form = VoidForm()
        status = 200
        if request.method == "POST":
            status = 400
            if form.validate():
                try:
                    row = ledger.void_transaction(
                        transaction,
                        staff_user=current_user._get_current_object(),
                        store=store,
                        pin=form.pin.data or None,
                        reason=form.reason.data or "",
                        idempotency_key=form.idempotency_key.data,
                    )
                except LoyaltyError as exc:
                    # The rows expire with the rollback and reload when the page reads them.
                    dbmod.rollback()
                    flash(str(exc), "error")
                else:
                    _audit("void", store, row=row, card=card)
                    dbmod.commit()
                    _flash_done(row, card)
                    return redirect(url_for(".card", store_id=store.id, card_id=card.id))
        return self.render(
            "admin/terminal/void.html",
            store=store,
            card=card,
            transaction=transaction,
            form=form,
            pin_required=settings.void_requires_pin,
        ), status

    # --- enrollment -------------------------------------------------------------------
    @expose("/<int:store_id>/enroll/", methods=["GET", "POST"])
    def enroll(self, store_id: int) -> Any:
        store = _store_or_404(store_id)
        program = get_merchant_program(store.merchant_id).program
        # A program without terms has no terms for the customer to accept.
        form = StaffEnrollmentForm(terms_required=program is None or has_terms(program))
        if request.method == "GET":
            form.preferred_locale.data = store.default_locale
        status = 200
        if request.method == "POST":
            status = 400
            if form.validate():
                try:
                    result = enrollment.enroll_customer(
                        store,
                        form.to_enrollment_data(),
                        staff_user=current_user._get_current_object(),
                        source="staff",
                    )
                except LoyaltyError as exc:
                    dbmod.rollback()
                    flash(str(exc), "error")
                else:
                    card_id = result.card.id
                    number = card_services.format_card_number(result.card.card_number)
                    _audit("enroll", store, card=result.card, created=result.created)
                    dbmod.commit()
                    if result.created:
                        flash(
                            _(
                                "Card %(number)s created. Balance: %(points)s points.",
                                number=number,
                                points=fmt.number(result.card.points_balance),
                            ),
                            "success",
                        )
                    else:
                        flash(
                            _("This customer already has card %(number)s.", number=number), "info"
                        )
                    return redirect(url_for(".card", store_id=store.id, card_id=card_id))
        return self.render("admin/terminal/enroll.html", store=store, form=form), status


# --- helpers ---------------------------------------------------------------------------
def _my_stores() -> list[Store]:
    stmt = apply_scope(
        db.select(Store).options(joinedload(Store.merchant)).order_by(Store.name),
        Store,
        current_user,
    )
    return list(db.session.scalars(stmt))


def _store_or_404(store_id: int) -> Store:
    store = db.session.get(Store, store_id)
    if store is None or not row_in_scope(store, current_user):
        abort(404)
    return store


def _card_or_404(store: Store, card_id: int) -> LoyaltyCard:
    card = db.session.get(LoyaltyCard, card_id)
    if (
        card is None
        or card.merchant_id != store.merchant_id
        or not row_in_scope(card, current_user)
    ):
        abort(404)
    return card


def _history(card: LoyaltyCard) -> list[LoyaltyTransaction]:
    stmt = (
        db.select(LoyaltyTransaction)
        .where(LoyaltyTransaction.card_id == card.id)
        .options(
            joinedload(LoyaltyTransaction.store),
            joinedload(LoyaltyTransaction.staff_user),
            joinedload(LoyaltyTransaction.voided_transaction),
        )
        .order_by(LoyaltyTransaction.id.desc())
        .limit(HISTORY_ROWS)
    )
    return list(db.session.scalars(apply_scope(stmt, LoyaltyTransaction, current_user)))


def void_effect(row: LoyaltyTransaction) -> str:
    """What voiding ``row`` did for the customer, shown on the voided row and on its void."""
    if row.type == TransactionType.STAMP_REWARD:
        return _("reward given back")
    if row.points_delta < 0:
        return _("points given back")
    if row.points_delta > 0:
        return _("points taken back")
    if row.stamps_delta:
        return _("stamps taken back")
    return ""


def _check(operation: str, form: Any, card: LoyaltyCard, store: Store) -> None:
    """:raises LoyaltyError: what the ledger would refuse for this operation."""
    staff_user = current_user._get_current_object()
    if operation == "redeem":
        ledger.check_redemption(card, form.points.data, store=store, staff_user=staff_user)
    elif operation == "reward":
        ledger.check_stamp_reward(card, store=store, staff_user=staff_user)


def _show_refusal(operation: str, form: Any, exc: LoyaltyError) -> None:
    """The refusal next to the field it is about (the points to redeem), else on top."""
    field = getattr(form, "points", None) if operation == "redeem" else None
    if field is not None and exc.code in {"insufficient_points", "below_minimum_redeem"}:
        field.errors = [*field.errors, str(exc)]
    else:
        flash(str(exc), "error")


def _preview(operation: str, form: Any, card: LoyaltyCard) -> dict[str, Any]:
    """What the confirmation page announces (the service decides for real afterwards)."""
    program = card.program
    if operation == "earn":
        points = form.points.data
        if points is None:
            points = ledger.points_for_amount(form.amount.data, program.points_per_euro)
        return {"points": points, "balance_after": card.points_balance + points}
    if operation == "redeem":
        return {
            "points": -form.points.data,
            "balance_after": card.points_balance - form.points.data,
        }
    if operation == "stamps":
        stamps_after, rewards = ledger.stamps_after(card, form.count.data)
        return {"stamps": form.count.data, "stamps_after": stamps_after, "rewards": rewards}
    return {}


def _record(operation: str, form: Any, card: LoyaltyCard, store: Store) -> LoyaltyTransaction:
    common = {
        "store": store,
        "staff_user": current_user._get_current_object(),
        "idempotency_key": form.idempotency_key.data,
        "note": form.note.data or "",
    }
    if operation == "earn":
        return ledger.earn_points(card, amount=form.amount.data, points=form.points.data, **common)
    if operation == "redeem":
        return ledger.redeem_points(card, form.points.data, **common)
    if operation == "stamps":
        return ledger.add_stamps(card, form.count.data, **common)
    return ledger.redeem_stamp_reward(card, **common)


def _audit(
    operation: str,
    store: Store,
    *,
    card: LoyaltyCard,
    row: LoyaltyTransaction | None = None,
    created: bool | None = None,
) -> None:
    """The audit row of a terminal operation (no customer data: ids and amounts)."""
    details: dict[str, Any] = {"operation": operation, "store_id": store.id, "card_id": card.id}
    if row is not None:
        details.update(
            type=row.type,
            points_delta=row.points_delta,
            stamps_delta=row.stamps_delta,
            purchase_amount=row.purchase_amount,
            points_balance_after=row.points_balance_after,
        )
    if created is not None:
        details["card_created"] = created
    record_audit(
        AuditAction.TERMINAL,
        model=LoyaltyTransaction if row is not None else LoyaltyCard,
        object_id=row.id if row is not None else card.id,
        merchant_id=card.merchant_id,
        changes=details,
    )


def _flash_done(row: LoyaltyTransaction, card: LoyaltyCard) -> None:
    """Say what was recorded and where the card stands now."""
    if row.points_delta:
        parts = [
            _(
                "%(operation)s: %(points)s points.",
                operation=row.type.label,
                points=fmt.signed(row.points_delta),
            )
        ]
    elif row.stamps_delta:
        parts = [
            _(
                "%(operation)s: %(stamps)s stamps.",
                operation=row.type.label,
                stamps=fmt.signed(row.stamps_delta),
            )
        ]
    else:
        parts = [_("%(operation)s: done.", operation=row.type.label)]
    program = card.program
    if program.uses_points:
        parts.append(_("New balance: %(points)s points.", points=fmt.number(card.points_balance)))
    if program.uses_stamps and program.stamps_target:
        parts.append(
            _(
                "Stamps: %(count)s of %(target)s.",
                count=card.stamp_count,
                target=program.stamps_target,
            )
        )
    flash(" ".join(parts), "success")

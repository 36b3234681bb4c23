"""The customer page's data-rights actions: export (JSON download and a readable page) and
erasure (with a confirmation step). Merchant admins for their own customers (another
merchant's id answers 404), platform admins for all; store staff not at all (403).
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, request
from flask_admin import expose
from flask_login import current_user
from wtforms import StringField
from wtforms.validators import DataRequired

from loyalty.data_rights.erasure import AlreadyErased, erase_customer
from loyalty.data_rights.export import export_customer, export_json
from platform_core import db as dbmod
from platform_core.customers.models import Customer
from platform_core.forms import BaseForm
from platform_core.i18n_lazy import _, _l
from platform_core.staff.models import StaffRole

DATA_RIGHTS_ROLES = frozenset({StaffRole.PLATFORM_ADMIN, StaffRole.MERCHANT_ADMIN})

#: Headings of the export's sections on the readable page (a table added later shows its name).
SECTION_TITLES = {
    "customers": _l("Profile"),
    "consent_records": _l("Consent history"),
    "loyalty_cards": _l("Cards"),
    "loyalty_transactions": _l("Transactions"),
    "email_logs": _l("Emails"),
    "email_suppressions": _l("Suppressed addresses"),
    "webhook_events": _l("Webhook events"),
    "merchant_api_idempotency_keys": _l("Stored API answers"),
    "task_runs": _l("Job runs"),
}


class EraseForm(BaseForm):
    confirm_email = StringField(
        _l("Type the customer's email address to confirm"),
        validators=[DataRequired(message=_l("Type the email address to confirm."))],
    )


def may_use_data_rights() -> bool:
    return bool(current_user.is_authenticated and current_user.role in DATA_RIGHTS_ROLES)


class CustomerDataRightsMixin:
    """Mixed into the customer admin view (a :class:`~admin_views.base.SecureModelView`)."""

    details_template = "admin/customers/customer_details.html"

    def _data_rights_customer(self, customer_id: int) -> Customer:
        if not may_use_data_rights():
            abort(403)
        customer: Customer = self.get_one(str(customer_id))  # type: ignore[attr-defined]
        return customer

    @expose("/data/<int:customer_id>/")
    def export_page(self, customer_id: int) -> Any:
        customer = self._data_rights_customer(customer_id)
        data = export_customer(customer, staff_user=current_user)
        dbmod.commit()
        sections = [
            (str(SECTION_TITLES.get(name, name)), rows)
            for name, rows in data["tables"].items()
            if name != "customers"
        ]
        return self.render(  # type: ignore[attr-defined]
            "admin/customers/export.html",
            customer=customer,
            data=data,
            sections=sections,
        )

    @expose("/data/<int:customer_id>/export.json")
    def export_download(self, customer_id: int) -> Any:
        customer = self._data_rights_customer(customer_id)
        data = export_customer(customer, staff_user=current_user)
        dbmod.commit()
        return Response(
            export_json(data),
            mimetype="application/json",
            headers={
                "Content-Disposition": f'attachment; filename="customer-{customer.id}.json"',
                "Cache-Control": "no-store",
            },
        )

    @expose("/erase/<int:customer_id>/", methods=("GET", "POST"))
    def erase(self, customer_id: int) -> Any:
        customer = self._data_rights_customer(customer_id)
        details_url = self.get_url(".details_view", id=customer.id)  # type: ignore[attr-defined]
        if customer.is_erased:
            flash(_("This customer was erased already."), "info")
            return redirect(details_url)
        form = EraseForm()
        if request.method == "POST" and form.validate():
            typed = (form.confirm_email.data or "").strip().lower()
            if typed != customer.email.lower():
                form.confirm_email.errors = [
                    _("This is not the customer's email address: nothing was erased.")
                ]
            else:
                try:
                    erase_customer(customer, staff_user=current_user)
                except AlreadyErased:
                    flash(_("This customer was erased already."), "info")
                    return redirect(details_url)
                dbmod.commit()
                flash(_("The customer's personal data was erased."), "success")
                return redirect(details_url)
        return self.render(  # type: ignore[attr-defined]
            "admin/customers/erase.html", customer=customer, form=form, details_url=details_url
        )

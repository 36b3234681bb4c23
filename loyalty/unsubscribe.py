"""One-click unsubscribe from marketing email: a signed link, no login.

GET shows a confirmation page with a button (mail scanners that follow links must not
unsubscribe anyone); POST withdraws the consent, and so does the one-click POST a mail
client sends from the ``List-Unsubscribe-Post`` header (RFC 8058), which carries no CSRF
token. Doing it twice is harmless: the second withdrawal appends nothing.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import force_locale

from loyalty.models import LoyaltyProgram
from loyalty.public_display import brand_color
from loyalty.services.programs import get_merchant_program
from platform_core import db as dbmod
from platform_core.customers.consent import (
    has_consent,
    read_unsubscribe_token,
    record_consent,
    unsubscribe_token,
    wording_hash,
)
from platform_core.customers.models import ConsentPurpose, ConsentSource, Customer
from platform_core.extensions import csrf, db
from platform_core.i18n import normalise_locale
from platform_core.links import external_url

bp = Blueprint("loyalty_unsubscribe", __name__, template_folder="templates")

#: What the withdrawal is recorded as having shown: the confirmation page's question.
_WORDING = "unsubscribe-page:marketing_email:v1"


def unsubscribe_url(customer: Customer, *, store_host: str | None = None) -> str:
    """The customer's unsubscribe link (also sent as ``List-Unsubscribe``).

    Built on ``PUBLIC_BASE_URL`` or the store's own domain, never on the request's host.
    """
    return external_url(
        "loyalty_unsubscribe.unsubscribe",
        store_host=store_host,
        token=unsubscribe_token(customer.id, ConsentPurpose.MARKETING_EMAIL),
    )


def _program(customer: Customer) -> LoyaltyProgram | None:
    try:
        return get_merchant_program(customer.merchant_id).program
    except LookupError:
        return None


def _render(customer: Customer | None, state: str, status: int = 200) -> tuple[str, int]:
    program = _program(customer) if customer is not None else None
    html = render_template(
        "loyalty/public/unsubscribe.html",
        state=state,
        customer=customer,
        merchant_name=customer.merchant.name if customer is not None else "",
        program=program,
        header_name=program.name if program else None,
        brand_color=brand_color(program),
    )
    return html, status


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str) -> ResponseReturnValue:
    request_ = read_unsubscribe_token(token)
    customer = db.session.get(Customer, request_.customer_id) if request_ else None
    if request_ is None or customer is None:
        return _render(None, "invalid", 404)
    locale = normalise_locale(customer.preferred_locale) or "en"
    with force_locale(locale):
        if request.method == "GET":
            subscribed = has_consent(customer.id, request_.purpose)
            return _render(customer, "confirm" if subscribed else "done")
        record_consent(
            customer,
            request_.purpose,
            granted=False,
            source=ConsentSource.UNSUBSCRIBE,
            locale=locale,
            wording=wording_hash(_WORDING),
        )
        dbmod.commit()
        return _render(customer, "done")

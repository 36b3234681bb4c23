"""Customer-facing pages: the enrollment form and the card page behind a signed link.

No JavaScript anywhere: the QR code is an inline SVG drawn on the server.
"""

from __future__ import annotations

import time
from typing import Any, cast

from flask import Blueprint, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale, format_date, format_decimal

from loyalty.card_links import TokenProblem, card_page_url, resolve_card_token
from loyalty.errors import LoyaltyError
from loyalty.forms import EnrollmentForm
from loyalty.models import LoyaltyCard, LoyaltyProgram
from loyalty.public_display import brand_color, card_view, earn_summary
from loyalty.public_limits import enroll_limit, retry_after_seconds
from loyalty.services.cards import card_history
from loyalty.services.enrollment import enroll_customer
from loyalty.services.program_texts import has_terms, program_texts
from loyalty.services.programs import get_merchant_program
from platform_core import db as dbmod
from platform_core.extensions import db
from platform_core.hosts import is_platform_host
from platform_core.i18n import current_locale_code, normalise_locale
from platform_core.i18n_lazy import _
from platform_core.tenancy.models import Store
from platform_core.tenancy.resolver import current_store
from platform_core.tenancy.services import get_store_by_slug

bp = Blueprint(
    "loyalty_public",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/loyalty/static",
)

#: How many ledger rows the card page lists.
HISTORY_ROWS = 20

#: Session key of the last enrollment's result, read by :func:`enrollment_done` (the page
#: the POST redirects to): ``{"store": id, "card": id or None, "at": epoch seconds}``.
ENROLLMENT_RESULT_KEY = "enrollment_result"
#: How long that result page keeps showing the new card after the enrollment.
ENROLLMENT_RESULT_MAX_AGE_SECONDS = 3600


def _page(
    template: str, status: int = 200, *, program: LoyaltyProgram | None = None, **context: Any
) -> tuple[str, int]:
    # The page's language: the card page renders inside the customer's locale.
    texts = program_texts(program, current_locale_code()) if program is not None else None
    context.setdefault("header_name", texts.name if texts is not None else None)
    html = render_template(
        f"loyalty/public/{template}",
        program=program,
        texts=texts,
        brand_color=brand_color(program),
        **context,
    )
    return html, status


def message_page(
    heading: str,
    message: str,
    status: int,
    *,
    hint: str | None = None,
    program: LoyaltyProgram | None = None,
    link_url: str | None = None,
    link_label: str | None = None,
) -> tuple[str, int]:
    """A friendly page with one message (closed enrollment, unknown store, bad link)."""
    return _page(
        "message.html",
        status,
        program=program,
        heading=heading,
        message=message,
        hint=hint,
        link_url=link_url,
        link_label=link_label,
    )


def _store_not_found() -> tuple[str, int]:
    return message_page(
        _("Page not found"),
        _("We could not find this store. Please check the address or ask in store."),
        404,
    )


@bp.errorhandler(429)
def _too_many_requests(exc: Exception) -> ResponseReturnValue:
    headers = {"Retry-After": str(retry_after_seconds())}
    store = None
    if request.method == "POST" and request.endpoint == "loyalty_public.enroll":
        store = get_store_by_slug((request.view_args or {}).get("slug", ""))
    if store is not None:
        # Refused before the view ran: show the form again with what was typed.
        html, status = cast(
            tuple[str, int],
            enrollment_page(
                store,
                refused=_(
                    "You have tried too often in a short time. Your details are still here: "
                    "please wait a minute and send the form again."
                ),
            ),
        )
        return html, status, headers
    html, status = message_page(
        _("Too many attempts"),
        _("You have tried too often in a short time. Please wait a minute and try again."),
        429,
    )
    return html, status, headers


@bp.route("/")
def store_home() -> ResponseReturnValue:
    """A store's own domain shows its enrollment page; the platform host, the console; any
    other host (a domain not configured yet, a typo in DNS) the localized "unknown store"
    page, never the staff login."""
    store = current_store._get_current_object()
    if store is None:
        if is_platform_host():
            return redirect(url_for("admin.index"))
        return _store_not_found()
    return enrollment_page(store)


@bp.route("/enroll/<slug>", methods=["GET", "POST"])
@enroll_limit
def enroll(slug: str) -> ResponseReturnValue:
    store = get_store_by_slug(slug)
    if store is None:
        return _store_not_found()
    return enrollment_page(store)


def _own_domain(store: Store) -> str | None:
    """The ``StoreDomain`` host this request came in on, when it is ``store``'s own."""
    current = current_store._get_current_object()
    if current is None or current.id != store.id:
        return None
    name = request.host.split(":", 1)[0].strip().lower().rstrip(".")
    return next((domain.host for domain in store.domains if domain.host == name), None)


def enrollment_page(store: Store, refused: str | None = None) -> ResponseReturnValue:
    """The enrollment form of ``store``'s merchant's active program (GET shows, POST joins).

    Also answers ``GET /`` on a host listed in StoreDomain (:func:`store_home`).

    :param refused: the rate limit refused this POST: show the posted form again with this
        message (status 429), without enrolling.
    """
    # Merchant, program and settings with one query.
    setup = get_merchant_program(store.merchant_id)
    program = setup.program
    if program is None:
        return message_page(
            _("No loyalty program here yet"),
            _(
                "%(store)s does not run a loyalty program at the moment. Please come back later.",
                store=store.name,
            ),
            404,
        )
    settings = setup.settings
    dbmod.commit()  # the settings are created with the defaults on first use
    context: dict[str, Any] = {
        "merchant_name": setup.merchant.name,
        "store_name": store.name,
        "earn_lines": earn_summary(program, program_texts(program, current_locale_code())),
    }
    if not settings.self_enrollment_enabled:
        return message_page(
            _("Join us in store"),
            _(
                "Online enrollment is closed for %(program)s. Please ask at the till: we will "
                "be happy to give you a card.",
                program=program_texts(program, current_locale_code()).name,
            ),
            200,
            program=program,
        )

    form = EnrollmentForm(preferred_locale=current_locale_code(), terms_required=has_terms(program))
    form_error = None
    status = 200
    if refused is not None:
        form_error, status = refused, 429
    elif form.validate_on_submit():
        try:
            result = enroll_customer(store, form.to_enrollment_data(), source="web")
            dbmod.commit()
        except LoyaltyError as err:
            dbmod.rollback()
            form_error = str(err)
            status = 422
        else:
            # Post/Redirect/Get: reloading the result page neither posts nor emails again.
            # The result rides in this browser's signed session, never in the URL, so no
            # other visitor can open it. A known address keeps no card id: the visitor
            # may not be its owner (the owner gets an email).
            session[ENROLLMENT_RESULT_KEY] = {
                "store": store.id,
                "card": result.card.id if result.created else None,
                "at": int(time.time()),
            }
            return redirect(url_for("loyalty_public.enrollment_done", slug=store.slug), 303)
    elif request.method == "POST":
        status = 422
        csrf_field = getattr(form, "csrf_token", None)
        if csrf_field is not None and csrf_field.errors:
            form_error = _("This form had expired. Please check your details and send it again.")

    action = url_for("loyalty_public.enroll", slug=store.slug)
    return _page(
        "enroll.html",
        status,
        program=program,
        form=form,
        form_error=form_error,
        action=action,
        **context,
    )


@bp.route("/enroll/<slug>/welcome")
def enrollment_done(slug: str) -> ResponseReturnValue:
    """The result of this browser's enrollment at ``slug`` (the target of the POST's redirect).

    Shows the new card (or the neutral "check your email" page) for
    ``ENROLLMENT_RESULT_MAX_AGE_SECONDS`` after the enrollment, as often as it is reloaded;
    without a result of this browser for this store, a friendly page links to the form.
    """
    store = get_store_by_slug(slug)
    if store is None:
        return _store_not_found()
    program = get_merchant_program(store.merchant_id).program
    result = session.get(ENROLLMENT_RESULT_KEY)
    card: LoyaltyCard | None = None
    known = (
        program is not None
        and isinstance(result, dict)
        and result.get("store") == store.id
        and isinstance(result.get("at"), int)
        and 0 <= time.time() - result["at"] <= ENROLLMENT_RESULT_MAX_AGE_SECONDS
    )
    if known and isinstance(result, dict) and result.get("card") is not None:
        card_id = result.get("card")
        card = db.session.get(LoyaltyCard, card_id) if isinstance(card_id, int) else None
        if card is None or not card.is_active or card.merchant_id != store.merchant_id:
            known = False
    if not known or program is None:
        return message_page(
            _("Nothing to show here"),
            _(
                "This page only shows a new card to the browser that just joined, for a "
                "short while. Your card page link is in your welcome email."
            ),
            200,
            program=program,
            link_url=url_for("loyalty_public.enroll", slug=store.slug),
            link_label=_("Join the program"),
        )
    context: dict[str, Any] = {
        "merchant_name": store.merchant.name,
        "store_name": store.name,
    }
    if card is None:
        # Same answer whether or not we knew the address: the owner gets an email.
        return _page("check_email.html", program=program, **context)
    return _page(
        "enrolled.html",
        program=program,
        card=card_view(card),
        card_page_url=card_page_url(card, store_host=_own_domain(store)),
        first_name=card.customer.first_name,
        **context,
    )


@bp.route("/card/<token>")
def card_page(token: str) -> ResponseReturnValue:
    card, problem = resolve_card_token(token)
    if card is None:
        if problem is TokenProblem.EXPIRED:
            return message_page(
                _("This link has expired"),
                _(
                    "For your security, card links only work for a while. Open the latest email "
                    "about your card, or ask in store for a new link."
                ),
                410,
            )
        return message_page(
            _("Card not found"),
            _("This link is not valid. Please use the link from your email as it was sent."),
            404,
        )
    chosen = normalise_locale(request.args.get("lang"))
    customer_locale = normalise_locale(card.customer.preferred_locale)
    if chosen or not customer_locale:
        return _card_page(card)
    # The customer's own language, even if this browser picked another one earlier.
    g.customer_locale = customer_locale
    with force_locale(customer_locale):
        return _card_page(card)


def _card_page(card: LoyaltyCard) -> tuple[str, int]:
    program = card.program
    rows = [_history_row(row) for row in card_history(card, HISTORY_ROWS)]
    expiry = None
    expires_at = card.points_expire_at()
    if expires_at is not None:
        expiry = {
            "points": card.points_balance,
            "num": format_decimal(card.points_balance),
            "date": format_date(expires_at, "long"),
        }
    return _page(
        "card.html",
        program=program,
        card=card_view(card),
        first_name=card.customer.first_name,
        merchant_name=card.merchant.name,
        history=rows,
        expiry=expiry,
    )


def _signed(value: int) -> str:
    if not value:
        return ""
    return format_decimal(value, format="+#,##0;-#,##0")


def _history_row(row: Any) -> dict[str, str]:
    return {
        "date": format_date(row.created_at, "medium"),
        "label": row.type.label,
        "store": row.store.name if row.store else "",
        "points": _signed(row.points_delta),
        "stamps": _signed(row.stamps_delta),
    }

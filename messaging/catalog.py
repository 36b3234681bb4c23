"""Every email template code and the variables its templates may use.

The catalog is the contract between the code that sends an email and the people who edit its
template: validation refuses any variable not declared here, the editor lists them with their
descriptions, and the live preview fills them with the sample values.

Every value handed to a template is a string already formatted for the recipient's locale
(numbers, dates, names), so a template cannot get formatting wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import force_locale, format_date, format_decimal
from flask_babel.speaklater import LazyString

from platform_core.i18n_lazy import _l


@dataclass(frozen=True)
class TemplateVariable:
    """One variable a template may use."""

    name: str
    description: LazyString
    #: Raw sample for the preview: ``int`` is shown as a number and ``date`` as a long date,
    #: both in the preview's locale; strings are used as they are.
    sample: str | int | date


@dataclass(frozen=True)
class TemplateSpec:
    """A template code: what the email is for, and which variables it receives."""

    code: str
    title: LazyString
    description: LazyString
    variables: tuple[TemplateVariable, ...]

    @property
    def variable_names(self) -> frozenset[str]:
        return frozenset(v.name for v in self.variables)


def _var(name: str, description: LazyString, sample: str | int | date) -> TemplateVariable:
    return TemplateVariable(name=name, description=description, sample=sample)


_CUSTOMER_AND_CARD = (
    _var("customer_first_name", _l("The customer's first name"), "Anna"),
    _var("customer_name", _l("The customer's full name"), "Anna Muller"),
    _var("merchant_name", _l("The merchant's trading name"), "Boulangerie Kirchberg"),
    _var("store_name", _l("The store where the customer joined"), "Kirchberg"),
    _var("program_name", _l("The loyalty program's name"), "Kirchberg Rewards"),
    _var("card_number", _l("The loyalty card number"), "4000 1234 5678 9"),
    _var("points_balance", _l("The card's points balance, formatted"), 1250),
    _var("stamp_count", _l("Stamps collected on the card, formatted"), 10),
    _var(
        "card_url",
        _l("Link to the customer's card page (signed, expires)"),
        "https://kirchberg.example.lu/card/sample",
    ),
    _var(
        "wallet_url",
        _l("Link that adds the card to Google Wallet; empty when not set up"),
        "https://pay.google.com/gp/v/save/sample",
    ),
    _var("brand_color", _l("The program's brand colour, as #rrggbb"), "#1f5f8b"),
)

_POINTS = _var("points", _l("Points concerned by this email, formatted"), 150)

_STAFF = (
    _var("recipient_name", _l("The staff member's name"), "Marc Weber"),
    _var(
        "merchant_name",
        _l("The merchant's trading name (empty for platform staff)"),
        "Boulangerie Kirchberg",
    ),
)

_UNSUBSCRIBE = _var(
    "unsubscribe_url",
    _l("Link that withdraws the marketing consent (signed, one click); marketing emails only"),
    "https://admin.example.lu/unsubscribe/sample",
)

CATALOG: dict[str, TemplateSpec] = {
    spec.code: spec
    for spec in (
        TemplateSpec(
            "staff_invitation",
            _l("Staff invitation"),
            _l("Sent to a new staff member with the link to choose a password."),
            (
                *_STAFF,
                _var("inviter_name", _l("Who sent the invitation"), "Claire Schmit"),
                _var(
                    "invitation_url",
                    _l("Link to accept the invitation"),
                    "https://admin.example.lu/invitation/sample",
                ),
                _var("expiry_date", _l("Last day the link works, formatted"), date(2025, 3, 14)),
            ),
        ),
        TemplateSpec(
            "staff_password_reset",
            _l("Staff password reset"),
            _l("Sent when a staff member asks to reset their password."),
            (
                *_STAFF,
                _var(
                    "reset_url",
                    _l("Link to choose a new password"),
                    "https://admin.example.lu/reset/sample",
                ),
                _var("valid_hours", _l("How many hours the link works, formatted"), 2),
            ),
        ),
        TemplateSpec(
            "webhook_endpoint_disabled",
            _l("Webhook endpoint disabled"),
            _l("Sent to a merchant when one of its webhook endpoints failed for 24 hours."),
            (
                _var("merchant_name", _l("The merchant's trading name"), "Boulangerie Kirchberg"),
                _var(
                    "endpoint_url",
                    _l("The address of the disabled endpoint"),
                    "https://shop.example.lu/hooks",
                ),
                _var("disabled_at", _l("When it was disabled, formatted"), "2 Dec 2026, 08:15"),
            ),
        ),
        TemplateSpec(
            "loyalty_enrollment",
            _l("Loyalty: enrollment"),
            _l("Sent when a customer joins the loyalty program."),
            _CUSTOMER_AND_CARD,
        ),
        TemplateSpec(
            "loyalty_welcome_bonus",
            _l("Loyalty: welcome bonus"),
            _l("Sent when a welcome bonus was credited at enrollment."),
            (*_CUSTOMER_AND_CARD, _POINTS),
        ),
        TemplateSpec(
            "loyalty_points_expiring",
            _l("Loyalty: points expiring soon"),
            _l("Sent a few days before the points of an inactive card expire."),
            (
                *_CUSTOMER_AND_CARD,
                _POINTS,
                _var("expiry_date", _l("The day the points expire, formatted"), date(2025, 3, 14)),
            ),
        ),
        TemplateSpec(
            "loyalty_points_expired",
            _l("Loyalty: points expired"),
            _l("Sent after the points of an inactive card expired."),
            (*_CUSTOMER_AND_CARD, _POINTS),
        ),
        TemplateSpec(
            "loyalty_reward_ready",
            _l("Loyalty: reward ready"),
            _l("Sent when the card reached the stamps target."),
            (
                *_CUSTOMER_AND_CARD,
                _var("stamps_reward", _l("What the stamps unlock"), "a free coffee"),
                _var("stamps_target", _l("Stamps needed for the reward, formatted"), 10),
            ),
        ),
        TemplateSpec(
            "loyalty_birthday",
            _l("Loyalty: birthday wishes (marketing)"),
            _l(
                "Sent on the customer's birthday, only with their marketing consent; carries "
                "the unsubscribe link."
            ),
            (
                *_CUSTOMER_AND_CARD,
                _var(
                    "bonus_points",
                    _l("The birthday bonus credited, formatted; empty when there is none"),
                    100,
                ),
                _UNSUBSCRIBE,
            ),
        ),
        TemplateSpec(
            "loyalty_we_miss_you",
            _l("Loyalty: we miss you (marketing)"),
            _l(
                "Sent after the program's number of days without activity, only with the "
                "customer's marketing consent; carries the unsubscribe link."
            ),
            (
                *_CUSTOMER_AND_CARD,
                _var(
                    "last_visit",
                    _l("The day of the card's last activity, formatted"),
                    date(2025, 3, 14),
                ),
                _UNSUBSCRIBE,
            ),
        ),
    )
}

CORE_CODES = ("staff_invitation", "staff_password_reset", "webhook_endpoint_disabled")
LOYALTY_CODES = (
    "loyalty_enrollment",
    "loyalty_welcome_bonus",
    "loyalty_points_expiring",
    "loyalty_points_expired",
    "loyalty_reward_ready",
    "loyalty_birthday",
    "loyalty_we_miss_you",
)
#: Marketing emails: need the customer's marketing consent and carry an unsubscribe link.
MARKETING_CODES = ("loyalty_birthday", "loyalty_we_miss_you")


class UnknownTemplateCode(KeyError):
    """Code that is not declared in the catalog."""


def get_spec(code: str) -> TemplateSpec:
    """The spec of ``code``; raises :class:`UnknownTemplateCode` for an undeclared code."""
    try:
        return CATALOG[code]
    except KeyError:
        raise UnknownTemplateCode(code) from None


def variable_names(code: str) -> frozenset[str]:
    return get_spec(code).variable_names


def format_sample(value: Any) -> str:
    """A sample value as the preview shows it, in the current locale."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return format_decimal(value)
    if isinstance(value, date):
        return format_date(value, format="long")
    return str(value)


def sample_context(code: str, locale: str) -> dict[str, str]:
    """The sample variables of ``code``, formatted for ``locale`` (needs an app context).

    Dates are moved into the future, so a preview never shows a deadline that has passed.
    """
    today = date.today()
    values: dict[str, str] = {}
    with force_locale(locale):
        for var in get_spec(code).variables:
            sample = var.sample
            if isinstance(sample, date):
                # A last visit lies in the past, every deadline in the future.
                days = -60 if var.name == "last_visit" else 14
                sample = today + timedelta(days=days)
            values[var.name] = format_sample(sample)
    return values

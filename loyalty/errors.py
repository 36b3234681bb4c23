"""Why a loyalty operation was refused: a localized message and a stable machine code.

Views show ``str(error)`` (translated in the current locale when it is rendered); API
responses and tests use ``error.code``, which never changes with the wording.
"""

from __future__ import annotations

from typing import Any

from flask_babel import format_decimal

from platform_core.i18n_lazy import _l


class LoyaltyError(Exception):
    """A loyalty rule refused the operation.

    :param message: a lazy translated string (``_l``) shown to the user.
    :param code: a stable machine code such as ``insufficient_points``.
    :param field: the input field concerned, if any.
    """

    def __init__(self, message: Any, code: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        #: The input field the refusal is about, when there is one (forms show it there).
        self.field = field

    def __str__(self) -> str:
        return str(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r})"


class LoyaltyPermissionError(LoyaltyError):
    """The staff user may not act here (views answer 403 or 404)."""


class LoyaltyNotFoundError(LoyaltyError):
    """Something the operation needs does not exist (no active program, no card)."""


# -- constructors, one per refusal, so each message is written once ---------------------


def program_missing() -> LoyaltyNotFoundError:
    return LoyaltyNotFoundError(
        _l("This merchant has no active loyalty program."), "program_missing"
    )


def program_already_active() -> LoyaltyError:
    return LoyaltyError(
        _l("This merchant already has an active loyalty program. Deactivate it first."),
        "program_already_active",
    )


def invalid_program(message: Any, field: str | None = None) -> LoyaltyError:
    return LoyaltyError(message, "invalid_program", field)


def invalid_settings(message: Any, field: str | None = None) -> LoyaltyError:
    return LoyaltyError(message, "invalid_settings", field)


def self_enrollment_disabled() -> LoyaltyError:
    return LoyaltyError(
        _l("Online enrollment is closed. Please ask in store to join the program."),
        "self_enrollment_disabled",
    )


def terms_not_accepted() -> LoyaltyError:
    return LoyaltyError(
        _l("Please accept the program's terms and conditions to join."), "terms_not_accepted"
    )


def invalid_email() -> LoyaltyError:
    return LoyaltyError(_l("Please enter a valid email address."), "invalid_email")


def name_required() -> LoyaltyError:
    return LoyaltyError(_l("Please enter your first and last name."), "name_required")


def store_not_allowed() -> LoyaltyPermissionError:
    return LoyaltyPermissionError(
        _l("You are not allowed to act for this store."), "store_not_allowed"
    )


def wrong_merchant() -> LoyaltyPermissionError:
    return LoyaltyPermissionError(_l("This card belongs to another merchant."), "wrong_merchant")


def admin_only() -> LoyaltyPermissionError:
    return LoyaltyPermissionError(
        _l("Only platform administrators may adjust balances."), "admin_only"
    )


def staff_required() -> LoyaltyPermissionError:
    return LoyaltyPermissionError(
        _l("A staff member must be named for this operation."), "staff_required"
    )


def card_inactive() -> LoyaltyError:
    return LoyaltyError(_l("This card is deactivated."), "card_inactive")


def program_has_no_points() -> LoyaltyError:
    return LoyaltyError(_l("This program does not collect points."), "program_has_no_points")


def program_has_no_stamps() -> LoyaltyError:
    return LoyaltyError(_l("This program does not collect stamps."), "program_has_no_stamps")


def amount_or_points() -> LoyaltyError:
    return LoyaltyError(
        _l("Enter either the purchase amount or the number of points, not both."),
        "amount_or_points",
    )


def invalid_amount() -> LoyaltyError:
    return LoyaltyError(_l("The purchase amount must be more than zero."), "invalid_amount")


def amount_too_large(maximum: Any) -> LoyaltyError:
    return LoyaltyError(
        _l("One purchase can be at most %(maximum)s €.", maximum=format_decimal(maximum)),
        "invalid_amount",
    )


def invalid_points() -> LoyaltyError:
    return LoyaltyError(_l("The number of points must be more than zero."), "invalid_points")


def no_points_for_amount() -> LoyaltyError:
    return LoyaltyError(
        _l("This purchase amount is too small to earn any points."), "no_points_for_amount"
    )


def invalid_stamp_count() -> LoyaltyError:
    return LoyaltyError(_l("The number of stamps must be at least 1."), "invalid_stamp_count")


def insufficient_points(balance: int) -> LoyaltyError:
    return LoyaltyError(
        _l("Not enough points: the card has %(balance)d points.", balance=balance),
        "insufficient_points",
    )


def below_minimum_redeem(minimum: int) -> LoyaltyError:
    return LoyaltyError(
        _l("At least %(minimum)d points must be redeemed at once.", minimum=minimum),
        "below_minimum_redeem",
    )


def cross_store_redemption_disabled() -> LoyaltyError:
    return LoyaltyError(
        _l("Points can only be redeemed in the store where the customer joined."),
        "cross_store_not_allowed",
    )


def no_reward_available() -> LoyaltyError:
    return LoyaltyError(_l("This card has no stamp reward ready to redeem."), "no_reward_available")


def voids_disabled() -> LoyaltyError:
    return LoyaltyError(_l("Voiding transactions is disabled for this merchant."), "voids_disabled")


def void_window_passed(days: int) -> LoyaltyError:
    return LoyaltyError(
        _l("Transactions can only be voided within %(days)d days.", days=days),
        "void_window_passed",
    )


def pin_required() -> LoyaltyError:
    return LoyaltyError(_l("The void PIN is required."), "pin_required")


def pin_incorrect() -> LoyaltyError:
    return LoyaltyError(_l("The void PIN is incorrect."), "pin_incorrect")


def pin_locked(minutes: int) -> LoyaltyError:
    return LoyaltyError(
        _l(
            "Too many wrong PINs. Voids with a PIN are locked for you; try again in "
            "%(minutes)d min.",
            minutes=minutes,
        ),
        "pin_locked",
    )


def invalid_pin() -> LoyaltyError:
    return LoyaltyError(_l("The PIN must be 4 to 8 digits."), "invalid_pin")


def settings_already_exist() -> LoyaltyError:
    return LoyaltyError(_l("This merchant already has loyalty settings."), "settings_already_exist")


def pin_not_set() -> LoyaltyError:
    return LoyaltyError(_l("Set a PIN before requiring it for voids."), "pin_not_set")


def already_voided() -> LoyaltyError:
    return LoyaltyError(_l("This transaction has already been voided."), "already_voided")


def cannot_void_type() -> LoyaltyError:
    return LoyaltyError(_l("Voids and expiries cannot be voided."), "cannot_void_type")


def void_would_go_negative(balance: int, points: int) -> LoyaltyError:
    return LoyaltyError(
        _l(
            "This transaction cannot be voided: it would remove %(points)d points but the "
            "card only has %(balance)d left.",
            points=points,
            balance=balance,
        ),
        "void_would_go_negative",
    )


def reward_already_redeemed() -> LoyaltyError:
    return LoyaltyError(
        _l("These stamps cannot be voided: the reward they completed was already redeemed."),
        "reward_already_redeemed",
    )


def reason_required() -> LoyaltyError:
    return LoyaltyError(_l("Please give a reason for the adjustment."), "reason_required")


def adjustment_would_go_negative(balance: int) -> LoyaltyError:
    return LoyaltyError(
        _l("The balance cannot go below zero: the card has %(balance)d points.", balance=balance),
        "negative_balance",
    )

"""Programs and the per-merchant loyalty settings."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import format_decimal
from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError

from loyalty import bounds, errors
from loyalty.bounds import Bound
from loyalty.models import LoyaltyProgram, MerchantLoyaltySettings, ProgramKind
from loyalty.services.program_texts import set_program_texts
from platform_core.extensions import db
from platform_core.i18n_lazy import _l
from platform_core.tenancy.models import Merchant

_hasher = PasswordHasher()
_PIN_RE = re.compile(r"^\d{4,8}$")


def get_active_program(merchant_id: int) -> LoyaltyProgram | None:
    """The merchant's active program, or ``None``.

    :param merchant_id: the merchant's id.
    """
    return db.session.scalar(
        select(LoyaltyProgram).where(
            LoyaltyProgram.merchant_id == merchant_id, LoyaltyProgram.is_active.is_(True)
        )
    )


def get_settings(merchant_id: int) -> MerchantLoyaltySettings:
    """The merchant's loyalty settings, created with the defaults on first use.

    :param merchant_id: the merchant's id.
    """
    settings = db.session.scalar(
        select(MerchantLoyaltySettings).where(MerchantLoyaltySettings.merchant_id == merchant_id)
    )
    if settings is not None:
        return settings
    settings = MerchantLoyaltySettings(
        merchant_id=merchant_id,
        self_enrollment_enabled=True,
        voids_allowed=True,
        void_window_days=30,
        void_requires_pin=False,
        min_points_to_redeem=0,
        cross_store_redemption=True,
    )
    # A concurrent request may create the same row: the unique merchant_id decides, and the
    # savepoint keeps the caller's transaction usable.
    try:
        with db.session.begin_nested():
            db.session.add(settings)
    except IntegrityError:
        settings = db.session.scalars(
            select(MerchantLoyaltySettings).where(
                MerchantLoyaltySettings.merchant_id == merchant_id
            )
        ).one()
    return settings


@dataclass
class MerchantProgram:
    """A merchant with its active program and its loyalty settings."""

    merchant: Merchant
    #: ``None`` when the merchant runs no active program.
    program: LoyaltyProgram | None
    settings: MerchantLoyaltySettings


def get_merchant_program(merchant_id: int) -> MerchantProgram:
    """The merchant, its active program and its settings, read with one query.

    The public endpoints need all three on every request; the settings are created with
    the defaults on first use, as :func:`get_settings` does.

    :param merchant_id: the merchant's id.
    :raises LookupError: there is no such merchant.
    """
    row = db.session.execute(
        select(Merchant, LoyaltyProgram, MerchantLoyaltySettings)
        .outerjoin(
            LoyaltyProgram,
            and_(LoyaltyProgram.merchant_id == Merchant.id, LoyaltyProgram.is_active.is_(True)),
        )
        .outerjoin(MerchantLoyaltySettings, MerchantLoyaltySettings.merchant_id == Merchant.id)
        .where(Merchant.id == merchant_id)
        .limit(1)
    ).first()
    if row is None:
        raise LookupError(f"no merchant {merchant_id}")
    merchant, program = row[0], row[1]
    # Outer-joined: None until the merchant's settings are first used.
    settings: MerchantLoyaltySettings | None = row[2]
    if settings is None:
        settings = get_settings(merchant_id)
    return MerchantProgram(merchant=merchant, program=program, settings=settings)


def _range_problem(value: Any, bound: Bound) -> Any:
    """The localized refusal of ``value`` for ``bound``, or ``None`` when it fits."""
    if bound.places is not None:
        number = _as_decimal(value)
        if number is None:
            return _l("Enter a number such as 0.5 or 1,25.")
        if number.as_tuple().exponent < -bound.places:  # type: ignore[operator]
            return _l("Use at most %(places)d decimal places.", places=bound.places)
    else:
        if isinstance(value, bool) or not isinstance(value, int):
            return _l("Enter a whole number.")
        number = Decimal(value)
    if not bound.minimum <= number <= bound.maximum:
        return _l(
            "Enter a value from %(minimum)s to %(maximum)s.",
            minimum=format_decimal(bound.minimum),
            maximum=format_decimal(bound.maximum),
        )
    return None


def _as_decimal(value: Any) -> Decimal | None:
    # NaN, sNaN and infinities are decimals too, but no rate: refuse them before comparing
    # (comparing a signalling NaN raises).
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    number = Decimal(value)
    return number if number.is_finite() else None


def _problems(values: Mapping[str, Any], ranges: Mapping[str, Bound]) -> dict[str, Any]:
    problems = {}
    for name, bound in ranges.items():
        value = values.get(name)
        if value is None:
            continue  # required fields are the form's and the column's business
        problem = _range_problem(value, bound)
        if problem is not None:
            problems[name] = problem
    return problems


def program_problems(kind: ProgramKind | str | None, values: Mapping[str, Any]) -> dict[str, Any]:
    """Why each field of a program would be refused: field name → localized message.

    Every numeric field has its documented range (:mod:`loyalty.bounds`); the expiry
    warning must also be shorter than the expiry, and stamps programs need a target.

    :param kind: the program's kind.
    :param values: column values of :class:`LoyaltyProgram` (missing ones are not checked).
    """
    problems = _problems(values, bounds.PROGRAM_BOUNDS)
    if kind in (ProgramKind.STAMPS, ProgramKind.HYBRID) and not values.get("stamps_target"):
        problems.setdefault("stamps_target", _l("A stamps program needs a stamps target."))
    expiry, warning = values.get("points_expiry_days"), values.get("expiry_warning_days")
    if (
        "points_expiry_days" not in problems
        and "expiry_warning_days" not in problems
        and expiry is not None
        and warning is not None
        and warning >= expiry
    ):
        problems["expiry_warning_days"] = _l(
            "The warning must come before the points expire: use fewer days than the expiry."
        )
    return problems


def settings_problems(values: Mapping[str, Any]) -> dict[str, Any]:
    """Why each numeric field of merchant settings would be refused (field → message).

    :param values: column values of :class:`MerchantLoyaltySettings`.
    """
    return _problems(values, bounds.SETTINGS_BOUNDS)


def _raise_first(problems: dict[str, Any]) -> None:
    for field, message in problems.items():
        raise errors.invalid_program(message, field=field)


def create_program(
    merchant: Merchant,
    texts: Mapping[str, Mapping[str, str | None]] | None = None,
    **fields: Any,
) -> LoyaltyProgram:
    """Create the merchant's program and flush it.

    :param merchant: the program's merchant.
    :param texts: its customer-facing texts per language, as
        :func:`loyalty.services.program_texts.set_program_texts` takes them.
    :param fields: column values of :class:`LoyaltyProgram` (``kind`` and ``name`` at least).
    :raises LoyaltyError: ``program_already_active`` when the merchant already has an active
        program and this one would be active too; ``invalid_program`` on bad values.
    """
    kind = ProgramKind(fields.pop("kind", ProgramKind.POINTS))
    _raise_first(program_problems(kind, fields))
    fields.setdefault("is_active", True)
    if fields["is_active"] and get_active_program(merchant.id) is not None:
        raise errors.program_already_active()
    program = LoyaltyProgram(merchant=merchant, kind=kind, **fields)
    db.session.add(program)
    db.session.flush()
    if texts:
        set_program_texts(program, texts)
    return program


def check_program(program: LoyaltyProgram, merchant_id: int | None) -> None:
    """The rules of :func:`create_program`, for a program edited in place (the console).

    :raises LoyaltyError: ``program_already_active``, or ``invalid_program`` with the
        ``field`` it is about.
    """
    _raise_first(program_problems(program.kind, _column_values(program, bounds.PROGRAM_BOUNDS)))
    if program.is_active and merchant_id is not None:
        active = get_active_program(merchant_id)
        if active is not None and active is not program:
            raise errors.program_already_active()


def check_new_settings(merchant_id: int | None) -> None:
    """A merchant has one settings row: refuse to create a second one.

    :raises LoyaltyError: ``settings_already_exist``.
    """
    with db.session.no_autoflush:
        existing = db.session.scalar(
            select(MerchantLoyaltySettings.id).where(
                MerchantLoyaltySettings.merchant_id == merchant_id
            )
        )
    if existing is not None:
        raise errors.settings_already_exist()


def _column_values(row: Any, ranges: Mapping[str, Bound]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in ranges}


def check_settings(settings: MerchantLoyaltySettings) -> None:
    """Settings must be usable as saved: every number within its range, and voids cannot
    require a PIN that was never set.

    :raises LoyaltyError: ``invalid_settings`` (with its ``field``) or ``pin_not_set``.
    """
    for field, message in settings_problems(
        _column_values(settings, bounds.SETTINGS_BOUNDS)
    ).items():
        raise errors.invalid_settings(message, field=field)
    if settings.void_requires_pin and not settings.void_pin_hash:
        raise errors.pin_not_set()


def set_void_pin(settings: MerchantLoyaltySettings, pin: str | None) -> None:
    """Store the void PIN's Argon2 hash (``None`` or empty clears it).

    :param settings: the merchant's settings.
    :param pin: 4 to 8 digits.
    :raises LoyaltyError: ``invalid_pin`` when it is not 4 to 8 digits.
    """
    if not pin:
        settings.void_pin_hash = None
    else:
        if not _PIN_RE.match(pin):
            raise errors.invalid_pin()
        settings.void_pin_hash = _hasher.hash(pin)
    db.session.flush()


def check_void_pin(settings: MerchantLoyaltySettings, pin: str | None) -> bool:
    """Whether ``pin`` matches the stored hash (``False`` when no PIN is set)."""
    if not pin or not settings.void_pin_hash:
        return False
    try:
        return _hasher.verify(settings.void_pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return False

"""Programs and the per-merchant loyalty settings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError

from loyalty import errors
from loyalty.models import LoyaltyProgram, MerchantLoyaltySettings, ProgramKind
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


def _validate_program_fields(kind: ProgramKind, fields: dict[str, Any]) -> None:
    if kind in (ProgramKind.STAMPS, ProgramKind.HYBRID) and not fields.get("stamps_target"):
        raise errors.invalid_program(_l("A stamps program needs a stamps target."))
    if fields.get("points_per_euro") is not None and fields["points_per_euro"] < 0:
        raise errors.invalid_program(_l("Points per euro cannot be negative."))
    if (fields.get("welcome_bonus_points") or 0) < 0:
        raise errors.invalid_program(_l("The welcome bonus cannot be negative."))


def create_program(merchant: Merchant, **fields: Any) -> LoyaltyProgram:
    """Create the merchant's program and flush it.

    :param merchant: the program's merchant.
    :param fields: column values of :class:`LoyaltyProgram` (``kind`` and ``name`` at least).
    :raises LoyaltyError: ``program_already_active`` when the merchant already has an active
        program and this one would be active too; ``invalid_program`` on bad values.
    """
    kind = ProgramKind(fields.pop("kind", ProgramKind.POINTS))
    _validate_program_fields(kind, fields)
    fields.setdefault("is_active", True)
    if fields["is_active"] and get_active_program(merchant.id) is not None:
        raise errors.program_already_active()
    program = LoyaltyProgram(merchant=merchant, kind=kind, **fields)
    db.session.add(program)
    db.session.flush()
    return program


def check_program(program: LoyaltyProgram, merchant_id: int | None) -> None:
    """The rules of :func:`create_program`, for a program edited in place (the console).

    :param merchant_id: the program's merchant; None while a platform admin has not chosen
        one yet (the form's required field answers that).

    :raises LoyaltyError: ``program_already_active`` or ``invalid_program``.
    """
    _validate_program_fields(
        ProgramKind(program.kind),
        {
            "stamps_target": program.stamps_target,
            "points_per_euro": program.points_per_euro,
            "welcome_bonus_points": program.welcome_bonus_points,
        },
    )
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


def check_settings(settings: MerchantLoyaltySettings) -> None:
    """Settings must be usable as saved: voids cannot require a PIN that was never set.

    :raises LoyaltyError: ``pin_not_set``.
    """
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

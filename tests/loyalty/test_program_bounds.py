"""Every numeric field of programs and settings stays within its documented range: the
service refuses with a localized message next to the field (typed input kept), and the
database's CHECK constraints refuse what slips past (loyalty/bounds.py)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from loyalty.errors import LoyaltyError
from loyalty.models import LoyaltyProgram, MerchantLoyaltySettings, ProgramKind
from loyalty.services.amounts import parse_amount, parse_decimal
from loyalty.services.programs import (
    check_program,
    check_settings,
    create_program,
    get_settings,
    program_problems,
    settings_problems,
)
from tests.loyalty.console_world import World, build_world
from tests.loyalty.test_console_programs import PROGRAMS, SETTINGS, _program_form, _settings_form

#: field → (lowest allowed, highest allowed)
PROGRAM_RANGES = {
    "welcome_bonus_points": (0, 100_000),
    "stamps_target": (1, 100),
    "points_expiry_days": (1, 3_650),
    "expiry_warning_days": (1, 90),
}


@pytest.fixture
def world(dummy_merchant, dummy_store, create_store, create_merchant, create_staff_user):
    return build_world(
        dummy_merchant,
        dummy_store,
        {"store": create_store, "merchant": create_merchant, "staff": create_staff_user},
    )


def _valid_program(**overrides):
    values = {
        "points_per_euro": Decimal("1.00"),
        "welcome_bonus_points": 0,
        "stamps_target": 10,
        "points_expiry_days": 365,
        "expiry_warning_days": 14,
    }
    values.update(overrides)
    return values


@pytest.mark.parametrize(("field", "edges"), PROGRAM_RANGES.items())
def test_program_integer_ranges_are_inclusive(app_ctx, field, edges):
    low, high = edges
    others = {"points_expiry_days": 3_650} if field == "expiry_warning_days" else {}
    for value in (low, high):
        values = _valid_program(**others, **{field: value})
        if field == "points_expiry_days":
            values["expiry_warning_days"] = None  # 1 day leaves no room for a warning
        assert program_problems(ProgramKind.HYBRID, values) == {}, (field, value)
    for value in (low - 1, high + 1, 99_999_999_999, 10**30):
        problems = program_problems(ProgramKind.HYBRID, _valid_program(**{field: value}))
        assert field in problems, (field, value)


@pytest.mark.parametrize(
    "rate", ["-0.01", "1000.01", "1E+309", "Infinity", "-Infinity", "NaN", "sNaN", "0.005"]
)
def test_points_per_euro_outside_the_range_is_refused(app_ctx, rate):
    problems = program_problems(ProgramKind.POINTS, _valid_program(points_per_euro=Decimal(rate)))
    assert set(problems) == {"points_per_euro"}


def test_points_per_euro_edges_are_accepted(app_ctx):
    for rate in ("0", "0.01", "0.5", "1000", "999.99"):
        assert (
            program_problems(ProgramKind.POINTS, _valid_program(points_per_euro=Decimal(rate)))
            == {}
        )


def test_warning_must_be_shorter_than_the_expiry(app_ctx):
    problems = program_problems(
        ProgramKind.POINTS, _valid_program(points_expiry_days=30, expiry_warning_days=30)
    )
    assert "fewer days than the expiry" in str(problems["expiry_warning_days"])
    assert program_problems(ProgramKind.POINTS, _valid_program(points_expiry_days=None)) == {}


def test_create_program_names_the_field(session, dummy_merchant):
    with pytest.raises(LoyaltyError) as exc:
        create_program(
            dummy_merchant, kind=ProgramKind.POINTS, name="Huge", points_expiry_days=99_999_999_999
        )
    assert (exc.value.code, exc.value.field) == ("invalid_program", "points_expiry_days")


def test_check_program_and_settings_refuse_rows_edited_in_place(session, points_program):
    points_program.points_per_euro = Decimal("NaN")
    with pytest.raises(LoyaltyError) as exc, session.no_autoflush:
        check_program(points_program, points_program.merchant_id)
    assert exc.value.field == "points_per_euro"
    points_program.points_per_euro = Decimal("1.00")
    settings = get_settings(points_program.merchant_id)
    settings.void_window_days = 366
    with pytest.raises(LoyaltyError) as exc:
        check_settings(settings)
    assert (exc.value.code, exc.value.field) == ("invalid_settings", "void_window_days")
    assert settings_problems({"min_points_to_redeem": 1_000_001}).keys() == {"min_points_to_redeem"}
    session.rollback()


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("points_expiry_days", 99_999_999),
        ("points_expiry_days", 0),
        ("expiry_warning_days", 0),
        ("expiry_warning_days", 400),  # longer than the expiry, and over 90
        ("welcome_bonus_points", 100_001),
        ("points_per_euro", Decimal("1000.5")),
        ("points_per_euro", Decimal("-1")),
    ],
)
def test_database_refuses_out_of_range_programs(session, points_program, column, value):
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(
            update(LoyaltyProgram)
            .where(LoyaltyProgram.id == points_program.id)
            .values({column: value})
        )


@pytest.mark.parametrize(
    ("column", "value"), [("void_window_days", 366), ("min_points_to_redeem", -1)]
)
def test_database_refuses_out_of_range_settings(session, dummy_merchant, column, value):
    settings = get_settings(dummy_merchant.id)
    session.flush()
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(
            update(MerchantLoyaltySettings)
            .where(MerchantLoyaltySettings.id == settings.id)
            .values({column: value})
        )


# --- the console -------------------------------------------------------------------------
def _field_error(html: str, field: str) -> str:
    """The error text Flask-Admin shows under ``field`` (empty when there is none)."""
    match = re.search(
        rf'name="{field}"[^>]*>\s*<div class="invalid-feedback">(.*?)</div>', html, flags=re.S
    )
    return re.sub(r"<[^>]+>", " ", match.group(1)).strip() if match else ""


@pytest.mark.parametrize(
    ("field", "typed"),
    [
        ("points_expiry_days", "99999999999"),
        ("points_per_euro", "1e309"),
        ("points_per_euro", "sNaN"),
        ("points_per_euro", "NaN"),
        ("points_per_euro", "1.005"),
        ("points_per_euro", "1_000"),
        ("welcome_bonus_points", "100001"),
        ("welcome_bonus_points", "1_000"),
        ("stamps_target", "١٢"),
        ("points_expiry_days", "9" * 5000),
        ("stamps_target", "101"),
        ("expiry_warning_days", "0"),
    ],
)
def test_console_refuses_out_of_range_program_next_to_the_field(
    client, login_as, merchant_admin, session, world: World, field, typed
):
    login_as(merchant_admin)
    response = client.post(
        f"{PROGRAMS}edit/?id={world.program.id}",
        data=_program_form(name="Kirchberg Rewards", kind="hybrid", **{field: typed}),
    )
    assert response.status_code == 200
    assert _field_error(response.text, field).strip()
    assert f'value="{typed}"' in response.text  # what was typed stays
    session.expire_all()
    program = session.get(LoyaltyProgram, world.program.id)
    assert program.points_per_euro == Decimal("1.00")
    assert program.points_expiry_days is None


def test_console_message_is_localized(client, login_as, merchant_admin, world: World):
    login_as(merchant_admin)
    response = client.post(
        f"{PROGRAMS}edit/?id={world.program.id}&lang=de",
        data=_program_form(name="Kirchberg Rewards", kind="hybrid", points_expiry_days="5000"),
    )
    assert "1 bis 3.650" in _field_error(response.text, "points_expiry_days")


def test_console_accepts_a_decimal_comma_for_points_per_euro(
    client, login_as, merchant_admin, session, world: World
):
    login_as(merchant_admin)
    response = client.post(
        f"{PROGRAMS}edit/?id={world.program.id}",
        data=_program_form(name="Kirchberg Rewards", kind="hybrid", points_per_euro="0,5"),
    )
    assert response.status_code == 302
    session.expire_all()
    assert session.get(LoyaltyProgram, world.program.id).points_per_euro == Decimal("0.50")


@pytest.mark.parametrize(
    ("field", "typed"), [("void_window_days", "366"), ("min_points_to_redeem", "99999999999")]
)
def test_console_refuses_out_of_range_settings(
    client, login_as, merchant_admin, session, world: World, field, typed
):
    login_as(merchant_admin)
    settings = get_settings(world.merchant.id)
    response = client.post(
        f"{SETTINGS}edit/?id={settings.id}", data=_settings_form(**{field: typed})
    )
    assert response.status_code == 200
    assert _field_error(response.text, field).strip()
    assert f'value="{typed}"' in response.text
    session.expire_all()
    assert (
        session.scalar(
            select(MerchantLoyaltySettings.void_window_days).where(
                MerchantLoyaltySettings.id == settings.id
            )
        )
        == 30
    )


# --- amounts -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "amount"),
    [("12,50", "12.50"), ("12.50", "12.50"), (" 12 ", "12.00"), ("0,5", "0.50"), (",99", "0.99")],
)
def test_amounts_accept_comma_and_point(app_ctx, typed, amount):
    assert parse_amount(typed) == Decimal(amount)


@pytest.mark.parametrize(
    "typed",
    [
        "1_000",
        "١٢",  # Arabic-Indic digits
        "１２",  # full-width digits
        "€12",
        "12 €",
        "12€",
        "$12",
        "NaN",
        "sNaN",
        "inf",
        "Infinity",
        "1e3",
        "1,000.50",
        "12,505",
        "-5",
        "0",
        "100000.01",
        "",
    ],
)
def test_amounts_refuse_what_nobody_means(app_ctx, typed):
    with pytest.raises(LoyaltyError) as exc:
        parse_amount(typed)
    assert exc.value.code in {"invalid_number", "too_many_places", "invalid_amount"}
    assert str(exc.value)


def test_parse_decimal_places(app_ctx):
    assert parse_decimal("0,125", places=3) == Decimal("0.125")
    with pytest.raises(LoyaltyError):
        parse_decimal("0,125", places=2)


@pytest.mark.parametrize("typed", ["sNaN", "1_000", "12€", "١٢", "1e309", "Infinity"])
def test_terminal_refuses_amounts_nobody_means(
    client, login_as, store_staff, session, world: World, typed
):
    login_as(store_staff)
    url = f"/admin/terminal/{world.store.id}/cards/{world.card.id}/earn/"
    response = client.post(
        url, data={"amount": typed, "points": "", "note": "", "idempotency_key": "k" * 32}
    )
    assert response.status_code == 400
    assert "Enter the amount in digits, such as 12.50 or 12,50 (no € sign)." in response.text
    assert f'value="{typed}"' in response.text


def test_terminal_refuses_whole_numbers_with_underscores(
    client, login_as, store_staff, world: World
):
    login_as(store_staff)
    url = f"/admin/terminal/{world.store.id}/cards/{world.card.id}/earn/"
    response = client.post(
        url, data={"amount": "", "points": "1_000", "note": "", "idempotency_key": "k" * 32}
    )
    assert response.status_code == 400
    assert "Enter a whole number." in response.text

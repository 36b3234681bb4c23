"""Programs and merchant loyalty settings in the console."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from loyalty.models import LoyaltyProgram, MerchantLoyaltySettings, ProgramKind
from loyalty.services.programs import check_void_pin, get_settings
from tests.loyalty.console_world import World, build_world, filter_options

PROGRAMS = "/admin/loyaltyprogram/"
SETTINGS = "/admin/merchantloyaltysettings/"


@pytest.fixture
def world(dummy_merchant, dummy_store, create_store, create_merchant, create_staff_user):
    return build_world(
        dummy_merchant,
        dummy_store,
        {"store": create_store, "merchant": create_merchant, "staff": create_staff_user},
    )


def _program_form(**overrides: str) -> dict[str, str]:
    data = {
        "name": "Summer stamps",
        "kind": "stamps",
        "points_per_euro": "1",
        "welcome_bonus_points": "0",
        "stamps_target": "8",
        "text_en_reward_description": "A free ice cream",
        "points_expiry_days": "",
        "expiry_warning_days": "14",
        "logo_url": "",
        "brand_color": "#1f5f8b",
        "text_en_terms_url": "https://example.lu/terms",
        "is_active": "y",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_programs_list_is_scoped_with_localized_kind(
    client, login_as, merchant_admin, world: World
):
    login_as(merchant_admin)
    page = client.get(PROGRAMS)
    assert page.status_code == 200
    assert "Kirchberg Rewards" in page.text
    assert "Points and stamps" in page.text  # the kind's label, not "hybrid"
    assert "Rouge Points" not in page.text
    assert filter_options(page.text, "Merchant") == ["Boulangerie Kirchberg"]
    # Another merchant's id as filter value shows nothing of theirs.
    foreign = client.get(PROGRAMS, query_string={"flt0_2": str(world.other_merchant.id)})
    assert "Rouge Points" not in foreign.text


def test_other_merchants_program_is_not_found(
    client, login_as, merchant_admin, session, world: World
):
    login_as(merchant_admin)
    theirs = session.scalar(
        select(LoyaltyProgram).where(LoyaltyProgram.merchant_id == world.other_merchant.id)
    )
    assert client.get(f"{PROGRAMS}details/?id={theirs.id}").status_code == 404
    assert client.get(f"{PROGRAMS}edit/?id={theirs.id}").status_code == 404
    response = client.post(f"{PROGRAMS}edit/?id={theirs.id}", data=_program_form())
    assert response.status_code == 404


def test_second_active_program_is_refused_with_a_clear_message(
    client, login_as, merchant_admin, session, world: World
):
    login_as(merchant_admin)
    response = client.post(f"{PROGRAMS}new/", data=_program_form())
    assert response.status_code == 200
    assert "already has an active loyalty program" in response.text
    assert 'value="Summer stamps"' in response.text  # what was typed stays
    count = session.scalar(select(LoyaltyProgram.id).where(LoyaltyProgram.name == "Summer stamps"))
    assert count is None


def test_inactive_program_is_created_for_the_users_merchant(
    client, login_as, merchant_admin, session, world: World
):
    login_as(merchant_admin)
    response = client.post(f"{PROGRAMS}new/", data=_program_form(is_active=None))
    assert response.status_code == 302
    program = session.scalar(select(LoyaltyProgram).where(LoyaltyProgram.name == "Summer stamps"))
    assert program.merchant_id == world.merchant.id
    assert program.kind is ProgramKind.STAMPS
    assert program.is_active is False


def test_stamps_program_needs_a_target(client, login_as, platform_admin, session, world: World):
    login_as(platform_admin)
    response = client.post(
        f"{PROGRAMS}new/",
        data=_program_form(is_active=None, stamps_target="", merchant=str(world.merchant.id)),
    )
    assert "A stamps program needs a stamps target." in response.text


def test_bad_colour_is_shown_next_to_the_field(client, login_as, merchant_admin, world: World):
    login_as(merchant_admin)
    response = client.post(f"{PROGRAMS}new/", data=_program_form(is_active=None, brand_color="red"))
    assert "Enter a colour as #rrggbb." in response.text


def test_store_staff_may_read_programs_but_not_change_them(
    client, login_as, store_staff, world: World
):
    login_as(store_staff)
    assert client.get(PROGRAMS).status_code == 200
    assert client.get(f"{PROGRAMS}new/").status_code == 302
    assert client.get(f"{PROGRAMS}edit/?id={world.program.id}").status_code == 302


def test_platform_admin_sees_every_program(client, login_as, platform_admin, world: World):
    login_as(platform_admin)
    page = client.get(PROGRAMS)
    assert "Kirchberg Rewards" in page.text
    assert "Rouge Points" in page.text


# --- settings ----------------------------------------------------------------------------
def _settings_form(**overrides: str) -> dict[str, str]:
    data = {
        "self_enrollment_enabled": "y",
        "voids_allowed": "y",
        "void_window_days": "30",
        "min_points_to_redeem": "0",
        "cross_store_redemption": "y",
        "new_pin": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_merchant_admin_gets_and_edits_own_settings(
    client, login_as, merchant_admin, session, world: World
):
    login_as(merchant_admin)
    page = client.get(SETTINGS)
    assert page.status_code == 200
    settings = get_settings(world.merchant.id)
    response = client.post(
        f"{SETTINGS}edit/?id={settings.id}",
        data=_settings_form(void_requires_pin="y", new_pin="4321"),
    )
    assert response.status_code == 302
    session.refresh(settings)
    assert settings.void_requires_pin is True
    assert check_void_pin(settings, "4321")
    assert "4321" not in settings.void_pin_hash
    # The edit page never shows the PIN or its hash.
    edit = client.get(f"{SETTINGS}edit/?id={settings.id}")
    assert settings.void_pin_hash not in edit.text
    assert 'name="new_pin" type="password" value=""' in edit.text


def test_empty_pin_keeps_the_current_one(client, login_as, merchant_admin, session, world: World):
    login_as(merchant_admin)
    settings = get_settings(world.merchant.id)
    client.post(f"{SETTINGS}edit/?id={settings.id}", data=_settings_form(new_pin="2468"))
    client.post(f"{SETTINGS}edit/?id={settings.id}", data=_settings_form(void_window_days="7"))
    session.refresh(settings)
    assert settings.void_window_days == 7
    assert check_void_pin(settings, "2468")


def test_pin_rules_are_explained(client, login_as, merchant_admin, world: World):
    login_as(merchant_admin)
    settings = get_settings(world.merchant.id)
    bad = client.post(f"{SETTINGS}edit/?id={settings.id}", data=_settings_form(new_pin="12a"))
    assert "The PIN must be 4 to 8 digits." in bad.text
    no_pin = client.post(
        f"{SETTINGS}edit/?id={settings.id}", data=_settings_form(void_requires_pin="y")
    )
    assert "Set a PIN before requiring it for voids." in no_pin.text


def test_settings_are_scoped(client, login_as, merchant_admin, store_staff, session, world: World):
    theirs = get_settings(world.other_merchant.id)
    mine = get_settings(world.merchant.id)
    login_as(merchant_admin)
    page = client.get(SETTINGS)
    assert f"id={mine.id}" in page.text
    assert f"id={theirs.id}" not in page.text
    assert client.get(f"{SETTINGS}edit/?id={theirs.id}").status_code == 404
    assert client.get(f"{SETTINGS}details/?id={theirs.id}").status_code == 404
    assert client.get(f"{SETTINGS}new/").status_code == 302  # one row per merchant, made for them
    login_as(store_staff)
    assert client.get(SETTINGS).status_code == 403
    assert (
        session.scalar(
            select(MerchantLoyaltySettings.void_window_days).where(
                MerchantLoyaltySettings.id == theirs.id
            )
        )
        == 30
    )

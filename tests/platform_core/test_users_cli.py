"""``flask users create`` / ``users create-admin``: the service's rules reach the console."""

from __future__ import annotations

import pytest

from platform_core.staff.models import StaffRole
from platform_core.staff.services import authenticate, get_staff_user_by_email

PASSWORD = "a long enough password"


def _create(runner, *args, password=PASSWORD):
    return runner.invoke(args=["users", "create", *args, "--password-stdin"], input=password + "\n")


def test_create_store_staff_with_password_from_stdin(runner, dummy_store, session):
    result = _create(
        runner,
        "Cashier@Example.lu",
        "--role",
        "store_staff",
        "--merchant",
        dummy_store.merchant.slug,
        "--store",
        dummy_store.slug,
    )
    assert result.exit_code == 0, result.output
    assert "cashier@example.lu" in result.output
    user = authenticate("cashier@example.lu", PASSWORD)
    assert user.role == StaffRole.STORE_STAFF
    assert user.stores == [dummy_store]
    assert user.password_hash.startswith("$argon2")


def test_create_with_prompt_asks_twice(runner, dummy_merchant, session):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "boss@example.lu",
            "--role",
            "merchant_admin",
            "--merchant",
            dummy_merchant.slug,
        ],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Repeat the password" in result.output
    assert authenticate("boss@example.lu", PASSWORD).merchant == dummy_merchant


def test_create_admin(runner, session):
    result = runner.invoke(
        args=["users", "create-admin", "root@example.lu", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    assert get_staff_user_by_email("root@example.lu").is_platform_admin


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--role", "merchant_admin", "--merchant", "nope"],
            "There is no merchant with the slug nope.",
        ),
        (
            ["--role", "store_staff", "--merchant", "{m}", "--store", "nope"],
            "There is no store with the slug nope.",
        ),
        (["--role", "merchant_admin"], "needs a merchant"),
        (["--role", "store_staff", "--merchant", "{m}"], "Store staff need at least one store."),
        (
            ["--role", "store_staff", "--merchant", "{m}", "--store", "{other}"],
            "does not belong to the merchant",
        ),
        (
            ["--role", "merchant_admin", "--merchant", "{m}", "--store", "{s}"],
            "leave the stores empty",
        ),
        (["--role", "platform_admin", "--merchant", "{m}"], "belongs to no merchant"),
    ],
)
def test_wrong_combinations_are_refused(runner, dummy_store, create_store, session, args, message):
    other = create_store(slug="other-shop")
    values = {"m": dummy_store.merchant.slug, "s": dummy_store.slug, "other": other.slug}
    result = _create(runner, "new@example.lu", *[a.format(**values) for a in args])
    assert result.exit_code == 1
    assert message in result.output
    assert get_staff_user_by_email("new@example.lu") is None


def test_duplicate_email_is_refused(runner, merchant_admin, session):
    result = _create(runner, merchant_admin.email.upper(), "--role", "platform_admin")
    assert result.exit_code == 1
    assert "already exists" in result.output


def test_short_password_is_refused(runner, session):
    result = runner.invoke(
        args=["users", "create-admin", "root@example.lu", "--password-stdin"], input="short\n"
    )
    assert result.exit_code == 1
    assert "at least 10 characters" in result.output
    assert get_staff_user_by_email("root@example.lu") is None


def test_unknown_role_is_refused_by_click(runner, session):
    result = _create(runner, "x@example.lu", "--role", "owner")
    assert result.exit_code == 2
    assert "owner" in result.output

"""CLI groups: ``flask --app wsgi users ...``, ``seed NAME``; each package adds its own."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

from platform_core import db as dbmod
from platform_core.auth.services import invite_staff_user
from platform_core.i18n_lazy import _
from platform_core.staff.models import StaffRole
from platform_core.staff.services import StaffUserError, create_staff_user
from platform_core.tenancy.models import Merchant, Store
from platform_core.tenancy.services import get_merchant_by_slug, get_store_by_slug

users_cli = AppGroup("users", help="Manage staff users.")


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt(
        _("Password"),
        hide_input=True,
        confirmation_prompt=_("Repeat the password"),
    )


def _merchant_and_stores(
    merchant_slug: str | None, store_slugs: tuple[str, ...]
) -> tuple[Merchant | None, list[Store]]:
    merchant = None
    if merchant_slug:
        merchant = get_merchant_by_slug(merchant_slug)
        if merchant is None:
            raise click.ClickException(
                _("There is no merchant with the slug %(slug)s.", slug=merchant_slug)
            )
    stores = []
    for slug in store_slugs:
        store = get_store_by_slug(slug)
        if store is None:
            raise click.ClickException(_("There is no store with the slug %(slug)s.", slug=slug))
        stores.append(store)
    if merchant is None and stores:
        merchant = stores[0].merchant
    return merchant, stores


def _create(
    email: str,
    role: str,
    merchant_slug: str | None,
    store_slugs: tuple[str, ...],
    password_stdin: bool,
    full_name: str,
) -> None:
    merchant, stores = _merchant_and_stores(merchant_slug, store_slugs)
    password = _read_password(password_stdin)
    try:
        user = create_staff_user(
            email, password, role, merchant=merchant, stores=stores, full_name=full_name
        )
    except StaffUserError as exc:
        raise click.ClickException(str(exc)) from exc
    dbmod.commit()
    click.echo(_("Created %(role)s %(email)s.", role=user.role.label, email=user.email))


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in StaffRole]), required=True)
@click.option("--merchant", "merchant_slug", help="Slug of the user's merchant.")
@click.option("--store", "store_slugs", multiple=True, help="Slug of a store (repeatable).")
@click.option("--name", "full_name", default="", help="Full name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_command(
    email: str,
    role: str,
    merchant_slug: str | None,
    store_slugs: tuple[str, ...],
    full_name: str,
    password_stdin: bool,
) -> None:
    """Create a staff user."""
    _create(email, role, merchant_slug, store_slugs, password_stdin, full_name)


@users_cli.command("create-admin")
@click.argument("email")
@click.option("--name", "full_name", default="", help="Full name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_admin_command(email: str, full_name: str, password_stdin: bool) -> None:
    """Create a platform admin (short for ``create EMAIL --role platform_admin``)."""
    _create(email, StaffRole.PLATFORM_ADMIN.value, None, (), password_stdin, full_name)


@users_cli.command("invite")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in StaffRole]), required=True)
@click.option("--merchant", "merchant_slug", help="Slug of the user's merchant.")
@click.option("--store", "store_slugs", multiple=True, help="Slug of a store (repeatable).")
@click.option("--name", "full_name", default="", help="Full name.")
@click.option(
    "--locale",
    type=click.Choice(["en", "fr", "de", "lb"]),
    help="Language of the account (and of the invitation email).",
)
def invite_user_command(
    email: str,
    role: str,
    merchant_slug: str | None,
    store_slugs: tuple[str, ...],
    full_name: str,
    locale: str | None,
) -> None:
    """Create a staff user and email an invitation to choose a password."""
    merchant, stores = _merchant_and_stores(merchant_slug, store_slugs)
    try:
        user = invite_staff_user(
            email,
            role,
            merchant=merchant,
            stores=stores,
            full_name=full_name,
            preferred_locale=locale,
        )
    except StaffUserError as exc:
        raise click.ClickException(str(exc)) from exc
    dbmod.commit()  # the invitation email is queued only once the account exists
    click.echo(
        _(
            "Invited %(role)s %(email)s; the invitation email is on its way.",
            role=user.role.label,
            email=user.email,
        )
    )


@click.command("seed")
@click.argument("name")
def seed_command(name: str) -> None:
    """Run the idempotent seed NAME (see ``seeds/``)."""
    from seeds.run import SEEDS, run_seed

    if name not in SEEDS:
        raise click.ClickException(
            _(
                "Unknown seed %(name)s; known seeds: %(known)s.",
                name=name,
                known=", ".join(sorted(SEEDS)),
            )
        )
    for line in run_seed(name):
        click.echo(line)


def register_cli(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(seed_command)
    for module in (
        "loyalty.cli",
        "loyalty.wallet.cli",
        "loyalty.merchant_api.cli",
        "loyalty.data_rights.cli",
        "messaging.cli",
    ):
        try:
            mod = __import__(module, fromlist=["register_cli"])
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        mod.register_cli(app)

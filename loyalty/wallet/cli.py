"""``flask loyalty wallet-check``: tell the operator what Google Wallet still needs."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from loyalty.wallet.credentials import validate_config
from platform_core.i18n_lazy import _


@click.command("wallet-check")
@with_appcontext
def wallet_check_command() -> None:
    """Check the Google Wallet settings: issuer id, key file, key."""
    problems = validate_config()
    if not problems:
        click.echo(_("Google Wallet is configured: passes can be issued."))
        return
    for problem in problems:
        click.echo(f"- {problem}", err=True)
    raise click.ClickException(
        _("Google Wallet is not ready (%(count)s problem(s)).", count=len(problems))
    )


def register_cli(app: Flask) -> None:
    """Add ``wallet-check`` to the ``loyalty`` group (created here if the loyalty package
    has not registered it yet)."""
    group = app.cli.commands.get("loyalty")
    if not isinstance(group, click.Group):
        group = AppGroup("loyalty", help="Loyalty programs and cards.")
        app.cli.add_command(group)
    group.add_command(wallet_check_command)

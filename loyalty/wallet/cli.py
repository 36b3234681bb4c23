"""``flask loyalty wallet-check``: tell the operator what Google Wallet still needs.
``flask loyalty wallet-retry``: hand out the waiting card syncs now (a recorded run)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from loyalty.wallet.checks import run_checks
from platform_core.i18n_lazy import _, ngettext


@click.command("wallet-check")
@with_appcontext
def wallet_check_command() -> None:
    """Check the Google Wallet settings: issuer id, key, and the logo of every active program."""
    checks = run_checks()
    for check in checks:
        mark = "ok  " if check.ok else "FAIL"
        click.echo(f"[{mark}] {check.name}: {check.message}", err=not check.ok)
    problems = [check for check in checks if not check.ok]
    if not problems:
        click.echo(_("Google Wallet is configured: passes can be issued."))
        return
    raise click.ClickException(
        ngettext(
            "Google Wallet is not ready (%(num)s problem).",
            "Google Wallet is not ready (%(num)s problems).",
            len(problems),
        )
    )


@click.command("wallet-retry")
@with_appcontext
def wallet_retry_command() -> None:
    """Queue a sync for every card waiting for one now (what the 15-minute job does)."""
    from loyalty.wallet.service import wallet_enabled
    from loyalty.wallet.tasks import run_wallet_retry
    from platform_core.task_runs.models import TaskRunSource

    if not wallet_enabled():
        raise click.ClickException(_("Google Wallet is not configured."))
    report = run_wallet_retry(source=TaskRunSource.CLI)
    click.echo(
        ngettext(
            "Queued %(num)s card sync; %(failed)s of them had failed before.",
            "Queued %(num)s card syncs; %(failed)s of them had failed before.",
            len(report.queued),
            failed=len(report.failed),
        )
    )


def register_cli(app: Flask) -> None:
    """Add the wallet commands to the ``loyalty`` group (created here if the loyalty
    package has not registered it yet)."""
    group = app.cli.commands.get("loyalty")
    if not isinstance(group, click.Group):
        group = AppGroup("loyalty", help="Loyalty programs and cards.")
        app.cli.add_command(group)
    group.add_command(wallet_check_command)
    group.add_command(wallet_retry_command)

"""``flask messaging ...``: the email outbox from the command line."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from platform_core.i18n_lazy import _

messaging_cli = AppGroup("messaging", help="Email templates, the outbox and its log.")


@messaging_cli.command("requeue-stale")
def requeue_stale_command() -> None:
    """Enqueue again, now, the emails whose send task was lost (what the sweeper does)."""
    from messaging.tasks import run_requeue_stale

    report = run_requeue_stale()
    click.echo(
        _(
            "%(queued)d queued and %(sending)d interrupted emails enqueued again.",
            queued=report.queued,
            sending=report.sending,
        )
    )


def register_cli(app: Flask) -> None:
    app.cli.add_command(messaging_cli)

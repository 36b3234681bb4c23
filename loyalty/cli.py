"""``flask --app wsgi loyalty ...``: ledger verification and the periodic jobs on demand."""

from __future__ import annotations

import time

import click
from flask import Flask
from flask.cli import AppGroup

from platform_core.tenancy.services import get_merchant_by_slug

loyalty_cli = AppGroup("loyalty", help="Loyalty programs, cards and the ledger.")


@loyalty_cli.command("verify-ledger")
@click.option("--merchant", "merchant_slug", help="Only this merchant's cards (slug).")
def verify_ledger_command(merchant_slug: str | None) -> None:
    """Check every card's balance, totals and stamps against its ledger.

    Prints each difference and exits with status 1 when there is any.
    """
    from loyalty.services.verify import verify_ledger

    merchant_id = None
    if merchant_slug:
        merchant = get_merchant_by_slug(merchant_slug)
        if merchant is None:
            raise click.ClickException(f"no merchant with slug {merchant_slug!r}")
        merchant_id = merchant.id
    started = time.perf_counter()
    report = verify_ledger(merchant_id)
    elapsed = time.perf_counter() - started
    for difference in report.differences:
        click.echo(f"DIFFERENCE {difference}")
    if not report.ok:
        click.echo(
            f"Ledger NOT consistent: {len(report.differences)} difference(s) in "
            f"{report.cards} cards ({report.transactions} transactions, {elapsed:.2f} s)."
        )
        raise SystemExit(1)
    click.echo(
        f"Ledger consistent: {report.cards} cards, {report.transactions} transactions "
        f"checked in {elapsed:.2f} s."
    )


@loyalty_cli.command("expire-points")
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    default=None,
    help="Cards per transaction (default 500).",
)
def expire_points_command(chunk_size: int | None) -> None:
    """Expire due points now (what the nightly job does)."""
    from loyalty.tasks import recorded_expiry
    from platform_core.task_runs.models import TaskRunSource

    report = recorded_expiry(TaskRunSource.CLI, chunk_size=chunk_size)
    click.echo(
        f"Expired {report.points} points on {report.cards} cards in {report.chunks} chunk(s)."
    )


@loyalty_cli.command("send-expiry-warnings")
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    default=None,
    help="Cards per transaction (default 500).",
)
def send_expiry_warnings_command(chunk_size: int | None) -> None:
    """Queue the "points expiring soon" emails now (what the daily job does)."""
    from loyalty.tasks import recorded_expiry_warnings
    from platform_core.task_runs.models import TaskRunSource

    report = recorded_expiry_warnings(TaskRunSource.CLI, chunk_size=chunk_size)
    click.echo(f"Warned {report.cards} cards in {report.chunks} chunk(s).")


def register_cli(app: Flask) -> None:
    app.cli.add_command(loyalty_cli)

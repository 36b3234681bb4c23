"""``flask --app wsgi loyalty ...``: ledger verification and the periodic jobs on demand."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup

from platform_core.i18n_lazy import ngettext
from platform_core.tenancy.services import get_merchant_by_slug


def _cards(count: int) -> str:
    return ngettext("%(num)s card", "%(num)s cards", count)


def _chunks(count: int) -> str:
    return ngettext("%(num)s chunk", "%(num)s chunks", count)


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
            "Ledger NOT consistent: "
            + ngettext("%(num)s difference", "%(num)s differences", len(report.differences))
            + f" in {_cards(report.cards)} ({report.transactions} transactions, {elapsed:.2f} s)."
        )
        raise SystemExit(1)
    click.echo(
        f"Ledger consistent: {report.cards} cards, {report.transactions} transactions "
        f"checked in {elapsed:.2f} s."
    )


def _merchant_id(merchant_slug: str | None) -> int | None:
    if not merchant_slug:
        return None
    merchant = get_merchant_by_slug(merchant_slug)
    if merchant is None:
        raise click.ClickException(f"no merchant with slug {merchant_slug!r}")
    return merchant.id


def _print_preview(figures: list[Any], verb: str) -> int:
    total_cards = sum(f.cards for f in figures)
    for f in figures:
        click.echo(f"{f.merchant_slug}: {f.cards} cards, {f.points} points {verb}")
        for error in f.errors:
            click.echo(f"{f.merchant_slug}: CANNOT RUN {error}")
    click.echo(
        f"Dry run, nothing changed: {total_cards} cards, "
        f"{sum(f.points for f in figures)} points {verb} in total."
    )
    return total_cards


def _run_with_progress(
    run_job: Callable[..., Any], task_name: str, total: int, label: str, **kwargs: Any
) -> Any:
    """Run a job in a task run, with a progress bar showing cards per second."""
    from loyalty.tasks import ProgramsFailed, recorded_expiry
    from platform_core.task_runs.models import TaskRunSource

    started = time.perf_counter()
    done = 0

    def rate(_item: object) -> str:
        elapsed = time.perf_counter() - started
        return f"{done / elapsed:,.0f} cards/s" if elapsed > 0 and done else ""

    with click.progressbar(
        length=max(total, 1), label=label, show_pos=True, item_show_func=rate
    ) as bar:

        def progress(cards: int) -> None:
            nonlocal done
            done += cards
            bar.update(cards, current_item=done)

        try:
            report = recorded_expiry(
                run_job, task_name, progress=progress, source=TaskRunSource.CLI, **kwargs
            )
        except ProgramsFailed as exc:
            bar.render_finish()
            for failure in exc.report.failures:
                click.echo(f"FAILED {failure}", err=True)
            report = exc.report
            _summary(report, time.perf_counter() - started)
            raise SystemExit(1) from exc
    _summary(report, time.perf_counter() - started)
    return report


def _summary(report: Any, elapsed: float) -> None:
    rate = report.cards / elapsed if elapsed > 0 else 0
    click.echo(f"{report.cards} cards in {elapsed:.1f} s ({rate:,.0f} cards/s).")
    if report.left_locked:
        click.echo(
            ngettext(
                "%(num)s due card was locked; the next run takes it.",
                "%(num)s due cards were locked; the next run takes them.",
                report.left_locked,
            )
        )


_CHUNK_SIZE = click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    default=None,
    help="Cards per transaction (default EXPIRY_CHUNK_SIZE, 500).",
)
_DRY_RUN = click.option(
    "--dry-run", is_flag=True, help="Print per merchant what would change; change nothing."
)
_MERCHANT = click.option("--merchant", "merchant_slug", help="Only this merchant (slug).")


@loyalty_cli.command("expire-points")
@_CHUNK_SIZE
@_DRY_RUN
@_MERCHANT
def expire_points_command(chunk_size: int | None, dry_run: bool, merchant_slug: str | None) -> None:
    """Expire due points now (what the nightly job does), recorded as a task run."""
    from loyalty.services.expiry import preview_expiry
    from loyalty.tasks import EXPIRE_TASK, run_expiry

    merchant_id = _merchant_id(merchant_slug)
    figures = preview_expiry(merchant_id=merchant_id)
    if dry_run:
        _print_preview(figures, "would expire")
        return
    report = _run_with_progress(
        run_expiry,
        EXPIRE_TASK,
        sum(f.cards for f in figures),
        "Expiring points",
        points=True,
        chunk_size=chunk_size,
        merchant_id=merchant_id,
    )
    click.echo(
        f"Expired {report.points} points on {_cards(report.cards)} in {_chunks(report.chunks)}."
    )


@loyalty_cli.command("send-expiry-warnings")
@_CHUNK_SIZE
@_DRY_RUN
@_MERCHANT
def send_expiry_warnings_command(
    chunk_size: int | None, dry_run: bool, merchant_slug: str | None
) -> None:
    """Queue the "points expiring soon" emails now (what the daily job does)."""
    from loyalty.services.expiry import preview_warnings
    from loyalty.tasks import WARNINGS_TASK, run_expiry_warnings

    merchant_id = _merchant_id(merchant_slug)
    figures = preview_warnings(merchant_id=merchant_id)
    if dry_run:
        _print_preview(figures, "would be warned")
        return
    report = _run_with_progress(
        run_expiry_warnings,
        WARNINGS_TASK,
        sum(f.cards for f in figures),
        "Warning cards",
        points=False,
        chunk_size=chunk_size,
        merchant_id=merchant_id,
    )
    click.echo(f"Warned {_cards(report.cards)} in {_chunks(report.chunks)}.")


def _marketing(task: str, dry_run: bool, chunk_size: int | None, merchant_slug: str | None) -> Any:
    from loyalty.services.marketing import send_birthday_emails, send_reengagement_emails
    from loyalty.tasks import BIRTHDAY_TASK, run_marketing
    from platform_core.task_runs.models import TaskRunSource

    job = send_birthday_emails if task == BIRTHDAY_TASK else send_reengagement_emails
    kwargs: dict[str, Any] = {"chunk_size": chunk_size, "merchant_id": _merchant_id(merchant_slug)}
    if dry_run:
        from platform_core import db as dbmod

        report = job(commit=dbmod.rollback, dry_run=True, **kwargs)
        click.echo(f"Dry run, nothing changed: {report.cards} cards would get the email.")
        return None
    started = time.perf_counter()
    report = run_marketing(job, task, source=TaskRunSource.CLI, **kwargs)
    elapsed = time.perf_counter() - started
    click.echo(
        f"Queued {report.emails} emails to {report.cards} cards"
        f"{f', credited {report.points} points' if report.points else ''}"
        f" in {report.chunks} chunk(s), {elapsed:.1f} s."
    )
    return report


@loyalty_cli.command("send-birthday-emails")
@_CHUNK_SIZE
@_DRY_RUN
@_MERCHANT
def send_birthday_emails_command(
    chunk_size: int | None, dry_run: bool, merchant_slug: str | None
) -> None:
    """Send today's birthday emails now (what the daily job does), with the bonus.

    Only to customers with marketing consent, at most once per card and year.
    """
    from loyalty.tasks import BIRTHDAY_TASK

    _marketing(BIRTHDAY_TASK, dry_run, chunk_size, merchant_slug)


@loyalty_cli.command("send-reengagement-emails")
@_CHUNK_SIZE
@_DRY_RUN
@_MERCHANT
def send_reengagement_emails_command(
    chunk_size: int | None, dry_run: bool, merchant_slug: str | None
) -> None:
    """Send the "we miss you" emails now (what the daily job does).

    Only to customers with marketing consent, once per period of inactivity.
    """
    from loyalty.tasks import REENGAGEMENT_TASK

    _marketing(REENGAGEMENT_TASK, dry_run, chunk_size, merchant_slug)


@loyalty_cli.command("rollup-ledger")
def rollup_ledger_command() -> None:
    """Sum the ledger's closed days for the dashboard now (what the nightly job does)."""
    from loyalty.tasks import run_ledger_rollup
    from platform_core.task_runs.models import TaskRunSource

    report = run_ledger_rollup(source=TaskRunSource.CLI)
    if report.first_day is None or report.last_day is None:
        click.echo("The daily totals are up to date.")
    else:
        click.echo(f"Summed {report.first_day} to {report.last_day}: {report.rows} rows.")


def register_cli(app: Flask) -> None:
    from loyalty import import_cli  # noqa: F401  (adds ``import-cards`` to the group)

    app.cli.add_command(loyalty_cli)

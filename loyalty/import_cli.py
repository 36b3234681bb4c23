"""``flask --app wsgi loyalty import-cards FILE --merchant SLUG [--store SLUG] [--dry-run]``."""

from __future__ import annotations

import time
from typing import BinaryIO

import click

from loyalty.cli import loyalty_cli
from loyalty.services.card_import import ImportFileError, import_file, read_import_file
from platform_core import db as dbmod
from platform_core.tenancy.services import get_merchant_by_slug, get_store_by_slug


@loyalty_cli.command("import-cards")
@click.argument("path", type=click.File("rb"))
@click.option("--merchant", "merchant_slug", required=True, help="The merchant (slug).")
@click.option("--store", "store_slug", help="Where the cards count as enrolled (slug).")
@click.option("--dry-run", is_flag=True, help="Check the file and report; change nothing.")
def import_cards_command(
    path: BinaryIO, merchant_slug: str, store_slug: str | None, dry_run: bool
) -> None:
    """Import customers and cards with opening balances from a CSV file.

    Columns are found by their header (email, first_name, last_name, points, stamps,
    birthday, phone, locale, marketing_consent, card_number, store). Bad rows are reported
    with their line and skipped; importing the same file again changes nothing.
    """
    merchant = get_merchant_by_slug(merchant_slug)
    if merchant is None:
        raise click.ClickException(f"no merchant with slug {merchant_slug!r}")
    store = None
    if store_slug:
        store = get_store_by_slug(store_slug)
        if store is None or store.merchant_id != merchant.id:
            raise click.ClickException(f"{merchant_slug} has no store with slug {store_slug!r}")
    try:
        parsed = read_import_file(path.read())
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"{len(parsed.rows) + len(parsed.problems)} rows, {parsed.encoding}, "
        f"separated by {parsed.delimiter!r}; columns: "
        + ", ".join(f"{header} → {name}" for name, header in parsed.columns.items())
    )
    if parsed.ignored:
        click.echo("Ignored columns: " + ", ".join(parsed.ignored))
    started = time.perf_counter()
    with click.progressbar(length=max(len(parsed.rows), 1), label="Importing") as bar:

        def after_chunk(rows: int) -> None:
            if not dry_run:
                dbmod.commit()
            bar.update(rows)

        try:
            report = import_file(
                merchant, parsed, store=store, dry_run=dry_run, after_chunk=after_chunk
            )
        except ImportFileError as exc:
            raise click.ClickException(str(exc)) from exc
    elapsed = time.perf_counter() - started
    for problem in report.problems:
        column = f" [{problem.column}]" if problem.column else ""
        click.echo(f"line {problem.line}{column}: {problem.message}")
    verb = "would be imported" if dry_run else "imported"
    click.echo(
        f"{report.created} cards {verb} ({report.opening_points} opening points), "
        f"{report.existing} already there, {len(report.problems)} rows refused "
        f"in {elapsed:.1f} s." + (" Dry run: nothing changed." if dry_run else "")
    )
    if report.problems:
        raise SystemExit(1)

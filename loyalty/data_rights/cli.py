"""``flask --app wsgi customers ...``: a customer's data export and erasure, and retention."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from loyalty.data_rights.erasure import erase_customer
from loyalty.data_rights.export import export_csv, export_customer, export_json
from loyalty.data_rights.retention import purge_inactive_customers
from platform_core import db as dbmod
from platform_core.customers.models import Customer
from platform_core.customers.services import get_customer_by_email
from platform_core.i18n_lazy import _, ngettext
from platform_core.task_runs.models import TaskRunSource
from platform_core.tenancy.models import Merchant
from platform_core.tenancy.services import get_merchant_by_slug

customers_cli = AppGroup("customers", help="Customers' data: export, erasure, retention.")


def _merchant(slug: str) -> Merchant:
    merchant = get_merchant_by_slug(slug)
    if merchant is None:
        raise click.ClickException(_("There is no merchant with the slug %(slug)s.", slug=slug))
    return merchant


def _customer(email: str, merchant_slug: str) -> Customer:
    merchant = _merchant(merchant_slug)
    customer = get_customer_by_email(merchant.id, email)
    if customer is None:
        raise click.ClickException(
            _(
                "The merchant %(slug)s has no customer with the email %(email)s.",
                slug=merchant.slug,
                email=email,
            )
        )
    return customer


@customers_cli.command("export")
@click.argument("email")
@click.option("--merchant", "merchant_slug", required=True, help="The customer's merchant (slug).")
@click.option(
    "--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True
)
def export_command(email: str, merchant_slug: str, fmt: str) -> None:
    """Write everything held about the customer EMAIL to standard output."""
    data = export_customer(_customer(email, merchant_slug))
    dbmod.commit()
    click.echo(export_csv(data) if fmt == "csv" else export_json(data), nl=fmt == "json")


@customers_cli.command("erase")
@click.argument("email")
@click.option("--merchant", "merchant_slug", required=True, help="The customer's merchant (slug).")
@click.option("--yes", is_flag=True, help="Confirm: erasure cannot be undone.")
def erase_command(email: str, merchant_slug: str, yes: bool) -> None:
    """Anonymize the customer EMAIL (cannot be undone; the ledger stays)."""
    customer = _customer(email, merchant_slug)
    if not yes:
        raise click.ClickException(
            _(
                "Erasure cannot be undone. Run the command again with --yes to erase %(email)s.",
                email=email,
            )
        )
    customer_id = customer.id
    report = erase_customer(customer)
    dbmod.commit()
    click.echo(
        _(
            "Customer %(id)s erased: cards deactivated: %(cards)s, emails scrubbed: %(emails)s.",
            id=customer_id,
            cards=report.cards,
            emails=report.email_logs,
        )
    )


@customers_cli.command("purge-inactive")
@click.option("--dry-run", is_flag=True, help="Only count, change nothing.")
@click.option("--merchant", "merchant_slug", help="Only this merchant (slug).")
def purge_inactive_command(dry_run: bool, merchant_slug: str | None) -> None:
    """Anonymize the customers inactive for longer than their merchant's retention period."""
    merchant_id = _merchant(merchant_slug).id if merchant_slug else None
    if dry_run:
        report = purge_inactive_customers(dry_run=True, merchant_id=merchant_id)
        dbmod.rollback()
    else:
        from loyalty.data_rights.tasks import run_retention

        report = run_retention(TaskRunSource.CLI, merchant_id=merchant_id)
    if not report.merchants:
        click.echo(_("No merchant has a retention period set."))
    for merchant in report.merchants:
        if dry_run:
            message = ngettext(
                "%(slug)s: %(num)d customer inactive for %(months)s months would be anonymized.",
                "%(slug)s: %(num)d customers inactive for %(months)s months would be anonymized.",
                merchant.customers,
                slug=merchant.slug,
                months=merchant.months,
            )
        else:
            message = ngettext(
                "%(slug)s: %(num)d customer inactive for %(months)s months was anonymized.",
                "%(slug)s: %(num)d customers inactive for %(months)s months were anonymized.",
                merchant.customers,
                slug=merchant.slug,
                months=merchant.months,
            )
        click.echo(message)


def register_cli(app: Flask) -> None:
    app.cli.add_command(customers_cli)

"""``flask --app wsgi merchants api-key create|revoke`` and ``merchants webhook add``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from loyalty.merchant_api.keys import ApiKeyError, create_api_key, revoke_api_key
from loyalty.merchant_api.models import ApiKey, ApiScope
from platform_core import db as dbmod
from platform_core.extensions import db
from platform_core.i18n_lazy import _
from platform_core.tenancy.models import Merchant, Store
from platform_core.tenancy.services import get_merchant_by_slug, get_store_by_slug

merchants_cli = AppGroup("merchants", help="Merchant integrations: API keys and webhooks.")
api_key_cli = AppGroup("api-key", help="API keys of the merchant API.")
merchants_cli.add_command(api_key_cli)


def merchant_or_fail(slug: str) -> Merchant:
    merchant = get_merchant_by_slug(slug)
    if merchant is None:
        raise click.ClickException(_("There is no merchant with the slug %(slug)s.", slug=slug))
    return merchant


def _store_or_fail(slug: str) -> Store:
    store = get_store_by_slug(slug)
    if store is None:
        raise click.ClickException(_("There is no store with the slug %(slug)s.", slug=slug))
    return store


@api_key_cli.command("create")
@click.option("--merchant", "merchant_slug", required=True, help="Slug of the merchant.")
@click.option("--store", "store_slug", help="Limit the key to this store (slug).")
@click.option("--name", required=True, help="What the key is for (e.g. 'Till 1').")
@click.option(
    "--scopes",
    default=",".join(s.value for s in ApiScope),
    show_default=True,
    help="Comma-separated scopes.",
)
def create_key_command(merchant_slug: str, store_slug: str | None, name: str, scopes: str) -> None:
    """Create an API key; the key is printed once, alone on the last line."""
    merchant = merchant_or_fail(merchant_slug)
    store = _store_or_fail(store_slug) if store_slug else None
    try:
        new = create_api_key(merchant, name, scopes=scopes, store=store)
    except ApiKeyError as exc:
        raise click.ClickException(str(exc)) from exc
    dbmod.commit()
    click.echo(
        _(
            "Created API key %(name)s for %(merchant)s (scopes: %(scopes)s). "
            "Keep it now: it is not shown again.",
            name=new.api_key.name,
            merchant=merchant.name,
            scopes=new.api_key.scopes,
        )
    )
    click.echo(new.key)


@api_key_cli.command("revoke")
@click.argument("prefix")
def revoke_key_command(prefix: str) -> None:
    """Revoke the key whose prefix (the part after ``lk_``) is PREFIX."""
    row = db.session.scalar(db.select(ApiKey).where(ApiKey.prefix == prefix))
    if row is None:
        raise click.ClickException(_("There is no API key with this prefix."))
    revoke_api_key(row)
    dbmod.commit()
    click.echo(_("Revoked API key %(name)s.", name=row.name))


def register_cli(app: Flask) -> None:
    app.cli.add_command(merchants_cli)


webhook_cli = AppGroup("webhook", help="Webhook endpoints of a merchant.")
merchants_cli.add_command(webhook_cli)


@webhook_cli.command("add")
@click.argument("url")
@click.option("--merchant", "merchant_slug", required=True, help="Slug of the merchant.")
@click.option("--events", required=True, help="Comma-separated events, e.g. points.earned.")
def add_webhook_command(url: str, merchant_slug: str, events: str) -> None:
    """Register a webhook endpoint; its secret is printed once, alone on the last line."""
    from loyalty.webhooks.endpoints import WebhookError, create_endpoint

    merchant = merchant_or_fail(merchant_slug)
    try:
        new = create_endpoint(merchant, url, events)
    except WebhookError as exc:
        raise click.ClickException(str(exc)) from exc
    dbmod.commit()
    click.echo(
        _(
            "Registered %(url)s for %(merchant)s (events: %(events)s). "
            "Keep the signing secret now: it is not shown again.",
            url=new.endpoint.url,
            merchant=merchant.name,
            events=", ".join(new.endpoint.events.split()),
        )
    )
    click.echo(new.secret)

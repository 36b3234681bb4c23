"""The template editor's preview: unsaved sources rendered with the catalog's samples."""

from __future__ import annotations

from messaging.catalog import sample_context
from messaging.rendering import RenderedEmail, render_email
from platform_core.tenancy.models import Store


def render_preview(
    code: str,
    locale: str,
    subject: str,
    body_html: str,
    body_text: str = "",
    store: Store | None = None,
) -> RenderedEmail:
    """Render unsaved template sources with the catalog's sample values (the editor's preview).

    The store, when given, supplies its own and its merchant's names instead of the samples.

    :raises TemplateRenderError: the sources cannot be rendered; validate them first to get
        every problem with its line.
    """
    values = sample_context(code, locale)
    if store is not None:
        if "store_name" in values:
            values["store_name"] = store.name
        if "merchant_name" in values:
            values["merchant_name"] = store.merchant.name
    return render_email(subject, body_html, body_text, values)

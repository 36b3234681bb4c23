"""The template editor's preview: unsaved sources rendered with the catalog's samples."""

from __future__ import annotations

from collections.abc import Mapping

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
    values: Mapping[str, str] | None = None,
) -> RenderedEmail:
    """Render unsaved template sources with the catalog's sample values (the editor's preview).

    :param store: supplies its own and its merchant's names instead of the samples.
    :param values: the preview's variables, complete (the console passes the store's
        merchant, store and program with a sample customer); they replace the samples.

    :raises TemplateRenderError: the sources cannot be rendered; validate them first to get
        every problem with its line.
    """
    if values is not None:
        return render_email(subject, body_html, body_text, dict(values))
    samples = sample_context(code, locale)
    if store is not None:
        if "store_name" in samples:
            samples["store_name"] = store.name
        if "merchant_name" in samples:
            samples["merchant_name"] = store.merchant.name
    return render_email(subject, body_html, body_text, samples)

"""The editor's live preview: sample values in the previewed language."""

from __future__ import annotations

import pytest

from messaging.previews import render_preview
from messaging.rendering import TemplateRenderError
from platform_core.tenancy.models import Merchant, Store

SUBJECT = "{{ points }} / {{ points_balance }} / {{ expiry_date }}"


@pytest.mark.usefixtures("app_ctx")
@pytest.mark.parametrize(
    ("locale", "balance"),
    [
        ("en", "1,250"),
        ("de", "1.250"),
        ("fr", "1\u202f250"),
        ("lb", "1.250"),
    ],
)
def test_samples_are_formatted_for_the_language(locale: str, balance: str) -> None:
    rendered = render_preview("loyalty_points_expiring", locale, SUBJECT, "<p>{{ card_url }}</p>")
    points, shown_balance, expiry = rendered.subject.split(" / ")
    assert points == "150"
    assert shown_balance == balance
    assert expiry[-4:].isdigit(), "a long date with the year"
    assert "https://" in rendered.body_text


def test_preview_uses_the_store_and_merchant_names(shop: tuple[Merchant, Store]) -> None:
    _, store = shop
    rendered = render_preview(
        "loyalty_enrollment", "en", "{{ merchant_name }}", "<p>{{ store_name }}</p>", store=store
    )
    assert rendered.subject == "Pâtisserie Ëlsa & Fils"
    assert rendered.body_html == "<p>Ettelbréck</p>"


@pytest.mark.usefixtures("app_ctx")
def test_preview_of_a_broken_template_raises_a_render_error() -> None:
    with pytest.raises(TemplateRenderError):
        render_preview("loyalty_enrollment", "en", "x", "{{ ''.__class__ }}")

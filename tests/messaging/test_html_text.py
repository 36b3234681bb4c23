"""The text part derived from the HTML part when a template has no text body."""

from __future__ import annotations

from messaging.html_text import html_to_text
from messaging.rendering import render_email


def test_paragraphs_breaks_and_links() -> None:
    html = (
        "<html><head><title>x</title><style>p {color: red}</style></head><body>"
        "<h1>Welcome, Anna!</h1>"
        "<p>Thank you for joining.<br>See you soon.</p>"
        '<p><a href="https://shop.example.lu/card/abc">Open my card</a></p>'
        '<p>Visit <a href="https://shop.example.lu">https://shop.example.lu</a></p>'
        "<ul><li>one</li><li>two</li></ul>"
        "<p>Caf&eacute; &amp; bakery</p>"
        "</body></html>"
    )
    assert html_to_text(html) == (
        "Welcome, Anna!\n"
        "\n"
        "Thank you for joining.\n"
        "See you soon.\n"
        "\n"
        "Open my card (https://shop.example.lu/card/abc)\n"
        "\n"
        "Visit https://shop.example.lu\n"
        "\n"
        "- one\n"
        "- two\n"
        "\n"
        "Café & bakery\n"
    )


def test_table_layout_email_reads_as_lines() -> None:
    html = (
        '<table><tr><td style="x">Boulangerie</td></tr>'
        "<tr><td><p>Hello Léa,</p><p>Your points expire.</p>"
        '<table><tr><td><a href="https://x.lu/c">Open my card</a></td></tr></table>'
        "</td></tr></table>"
    )
    assert html_to_text(html) == (
        "Boulangerie\n\nHello Léa,\n\nYour points expire.\n\nOpen my card (https://x.lu/c)\n"
    )


def test_empty_text_body_is_derived_from_the_rendered_html() -> None:
    rendered = render_email(
        "Hi",
        '<p>Hello {{ name }}</p><p><a href="{{ url }}">Card</a></p>',
        "",
        {"name": "Léa", "url": "https://x.lu/c?a=1&b=2"},
    )
    assert rendered.body_text == "Hello Léa\n\nCard (https://x.lu/c?a=1&b=2)\n"

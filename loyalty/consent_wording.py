"""The consent wording customers are shown when they join, and what the records keep of it.

A consent row keeps the locale and the SHA-256 of the exact text shown (see
:func:`platform_core.customers.consent.wording_hash`): for the marketing email checkbox its
label; for the terms, the label as the page renders it (without the link markup) and the
terms' address, so a changed address is a changed wording.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import force_locale

from platform_core.customers.consent import wording_hash
from platform_core.i18n_lazy import _, _l

#: The public form's checkboxes (also what the public and merchant APIs document).
MARKETING_LABEL = _l("Send me news and offers by email")
TERMS_LABEL = _l("I accept the terms and conditions")


@dataclass(frozen=True)
class ConsentWording:
    """The checkbox texts as shown, in ``locale`` (already translated)."""

    locale: str
    marketing: str
    terms: str


def public_wording(locale: str, *, terms_url: str | None = None) -> ConsentWording:
    """The public enrollment form's texts in ``locale``, as the page shows them."""
    with force_locale(locale):
        if terms_url:
            # The page turns "terms and conditions" into a link; the text read is the same.
            terms = _(
                "I accept the %(link_start)sterms and conditions%(link_end)s",
                link_start="",
                link_end="",
            )
        else:
            terms = str(TERMS_LABEL)
        return ConsentWording(locale=locale, marketing=str(MARKETING_LABEL), terms=terms)


def marketing_hash(wording: ConsentWording) -> str:
    return wording_hash(wording.marketing)


def terms_hash(wording: ConsentWording, terms_url: str | None) -> str:
    """The terms' label and the terms' address (empty when the program has none)."""
    return wording_hash(wording.terms, terms_url or "")

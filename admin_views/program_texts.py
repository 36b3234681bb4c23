"""The program form's texts in four languages, side by side (one column per language).

Fields are named ``text_<locale>_<field>``; the programs view prefills them from
:func:`loyalty.services.program_texts.own_texts` and saves them with
:func:`~loyalty.services.program_texts.set_program_texts`.
"""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_admin.form import rules
from markupsafe import Markup
from wtforms import Field, StringField, TextAreaField
from wtforms.validators import URL, Length, Optional

from loyalty.models import PROGRAM_TEXT_LOCALES
from loyalty.services.program_texts import TEXT_FIELDS
from platform_core.i18n import LANGUAGE_NAMES
from platform_core.i18n_lazy import _l

FIELD_LABELS = {
    "name": _l("Name"),
    "description": _l("Description"),
    "reward_description": _l("Stamp reward"),
    "terms_url": _l("Terms and conditions URL"),
}


def field_name(locale: str, field: str) -> str:
    return f"text_{locale}_{field}"


def _field(field: str) -> Field:
    label = FIELD_LABELS[field]
    if field == "description":
        return TextAreaField(label, validators=[Optional()], render_kw={"rows": 4})
    if field == "terms_url":
        return StringField(
            label,
            validators=[
                Optional(),
                Length(max=500, message=_l("Use at most 500 characters.")),
                URL(message=_l("Enter a full address starting with https://.")),
            ],
        )
    if field == "name":
        return StringField(
            label, validators=[Length(max=120, message=_l("Use at most 120 characters."))]
        )
    return StringField(
        label, validators=[Length(max=200, message=_l("Use at most 200 characters."))]
    )


def extra_fields() -> dict[str, Field]:
    """The unbound fields to add to the program form."""
    return {
        field_name(code, field): _field(field)
        for code in PROGRAM_TEXT_LOCALES
        for field in TEXT_FIELDS
    }


def prefill(form: Any, texts: dict[str, dict[str, str]]) -> None:
    for code, values in texts.items():
        for field, value in values.items():
            name = field_name(code, field)
            if name in form:
                form[name].data = value


def posted_texts(form: Any) -> dict[str, dict[str, str | None]]:
    """locale → field → value, as the form holds them."""
    return {
        code: {
            field: form[field_name(code, field)].data
            for field in TEXT_FIELDS
            if field_name(code, field) in form
        }
        for code in PROGRAM_TEXT_LOCALES
    }


class OptionalField(rules.Field):
    """A field rule that renders nothing when the form has no such field (the merchant
    select is removed for merchant users)."""

    def __call__(self, form: Any, form_opts: Any = None, field_args: Any = None) -> str:
        if getattr(form, self.field_name, None) is None:
            return ""
        return super().__call__(form, form_opts, field_args)


class HiddenFields(rules.BaseRule):
    """Fields the form template renders itself (``form.hidden_tag()``: the CSRF token).

    Named in the rules so Flask-Admin does not drop them from a form with rules (it removes
    every field no rule names, which would drop the CSRF token and refuse every save).
    """

    def __init__(self, *names: str) -> None:
        super().__init__()
        self.names = list(names)

    @property
    def visible_fields(self) -> list[str]:
        return self.names

    def __call__(self, form: Any, form_opts: Any = None, field_args: Any = None) -> str:
        return ""


class TextsGrid(rules.BaseRule):
    """The four languages side by side: one row per text, one column per language."""

    @property
    def visible_fields(self) -> list[str]:
        return list(extra_fields())

    def __call__(self, form: Any, form_opts: Any = None, field_args: Any = None) -> str:
        rows = [
            (
                field,
                FIELD_LABELS[field],
                [(code, form[field_name(code, field)]) for code in PROGRAM_TEXT_LOCALES],
            )
            for field in TEXT_FIELDS
        ]
        has_terms = any(
            (form[field_name(code, "terms_url")].data or "").strip()
            for code in PROGRAM_TEXT_LOCALES
        )
        return Markup(  # noqa: S704 - our own template, autoescaped
            render_template(
                "admin/loyalty/program_texts.html",
                rows=rows,
                locales=[(code, LANGUAGE_NAMES[code]) for code in PROGRAM_TEXT_LOCALES],
                has_terms=has_terms,
            )
        )

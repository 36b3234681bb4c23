"""A program's customer-facing texts in four languages, and their one fallback rule.

Each field (name, description, reward, terms URL) is taken from the first language that has
it among: the asked language, the merchant's default language, English, then any other
language that has it (terms written in one language only are still linked, never hidden).
The name finally falls back to the program's console name. Every surface (public pages,
JSON API, emails, Google Wallet) asks :func:`program_texts`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from loyalty.models import PROGRAM_TEXT_LOCALES, LoyaltyProgram, ProgramText
from platform_core.extensions import db

#: The translatable fields of :class:`ProgramText`.
TEXT_FIELDS = ("name", "description", "reward_description", "terms_url")


@dataclass(frozen=True)
class ProgramTexts:
    """The texts of a program as one language shows them (fallbacks resolved)."""

    #: The language asked for.
    locale: str
    name: str
    description: str
    reward_description: str
    terms_url: str


def fallback_locales(program: LoyaltyProgram, locale: str | None) -> list[str]:
    """The languages tried, in order, for ``locale``: itself, the merchant's default, en,
    then the others."""
    default = program.merchant.default_locale if program.merchant is not None else None
    order: list[str] = []
    for candidate in (locale, default, "en", *PROGRAM_TEXT_LOCALES):
        if candidate in PROGRAM_TEXT_LOCALES and candidate not in order:
            order.append(candidate)
    return order


def program_texts(program: LoyaltyProgram, locale: str | None) -> ProgramTexts:
    """The program's texts in ``locale``, each field falling back on its own.

    :param program: the program (its ``texts`` are loaded with it).
    :param locale: ``en``, ``fr``, ``de`` or ``lb``; anything else counts as missing.
    """
    rows = {row.locale: row for row in program.texts}
    order = fallback_locales(program, locale)

    def pick(field: str) -> str:
        for code in order:
            row = rows.get(code)
            value = (getattr(row, field) or "").strip() if row is not None else ""
            if value:
                return value
        return ""

    return ProgramTexts(
        locale=locale if locale in PROGRAM_TEXT_LOCALES else order[0],
        name=pick("name") or program.name,
        description=pick("description"),
        reward_description=pick("reward_description"),
        terms_url=pick("terms_url"),
    )


def own_texts(program: LoyaltyProgram) -> dict[str, dict[str, str]]:
    """What was written in each language, without fallbacks: locale → field → value
    (empty strings for what is missing); the console edits these."""
    rows = {row.locale: row for row in program.texts}
    return {
        code: {
            field: (getattr(rows[code], field) or "") if code in rows else ""
            for field in TEXT_FIELDS
        }
        for code in PROGRAM_TEXT_LOCALES
    }


def has_terms(program: LoyaltyProgram) -> bool:
    """Whether the program has a terms URL in any language (then customers accept them,
    and :func:`program_texts` links one in every language)."""
    return any((row.terms_url or "").strip() for row in program.texts)


def set_program_texts(
    program: LoyaltyProgram, texts: Mapping[str, Mapping[str, str | None]]
) -> None:
    """Write the program's texts for the given languages and flush.

    A language whose fields are all empty loses its row; languages not in ``texts`` are
    left as they are.

    :param program: the program.
    :param texts: locale → field (``name``, ``description``, ``reward_description``,
        ``terms_url``) → value; missing fields count as empty.
    :raises ValueError: a locale or field we do not know.
    """
    rows = {row.locale: row for row in program.texts}
    for code, values in texts.items():
        if code not in PROGRAM_TEXT_LOCALES:
            raise ValueError(f"unsupported locale {code!r}")
        unknown = set(values) - set(TEXT_FIELDS)
        if unknown:
            raise ValueError(f"unknown program text fields {sorted(unknown)}")
        cleaned = {field: (values.get(field) or "").strip() for field in TEXT_FIELDS}
        row = rows.get(code)
        if not any(cleaned.values()):
            if row is not None:
                program.texts.remove(row)
            continue
        if row is None:
            row = ProgramText(locale=code)
            program.texts.append(row)
        for field, value in cleaned.items():
            setattr(row, field, value)
    db.session.flush()

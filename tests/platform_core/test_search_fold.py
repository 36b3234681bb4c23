"""The search fold: one rule, the same answer from Python and from the database."""

from __future__ import annotations

import unicodedata

import pytest
from sqlalchemy import literal, null, select

from platform_core.search_fold import (
    FOLD_FROM,
    FOLD_MULTI,
    contains_folded,
    equals_folded,
    fold,
    fold_sql,
    startswith_folded,
)

#: Every character the table maps, ASCII, digits, punctuation LIKE cares about, and
#: letters of other scripts, left to lower(): on PostgreSQL that follows the database's
#: LC_CTYPE (C.UTF-8 here and in ``scripts/pg-throwaway.sh``; a plain "C" would not lowercase
#: them, the table's letters do not depend on it).
EVERYTHING = (
    FOLD_FROM
    + "".join(source for source, _ in FOLD_MULTI)
    + "abcxyz 0123456789 .@-'%_/\\ Ĳssel þorn ĸ"
    + "ΑΒΓ αβγ ЖИЛ жил"
)

_LATIN = [chr(cp) for cp in range(0xC0, 0x180)] + ["Ș", "ș", "Ț", "ț"]


@pytest.mark.parametrize(
    ("value", "folded"),
    [
        ("Inês Gonçalves", "ines goncalves"),
        ("Müller", "muller"),
        ("JOSÉ", "jose"),
        ("François", "francois"),
        ("Łukasz Wąsik", "lukasz wasik"),
        ("Søren Ærø", "soren aero"),
        ("Straße", "strasse"),
        ("Œuvre", "oeuvre"),
        ("Ștefan Țurcanu", "stefan turcanu"),
        ("İlkay Iğdır", "ilkay igdir"),
        ("anna.muller@example.lu", "anna.muller@example.lu"),
        ("", ""),
        (None, None),
    ],
)
def test_fold(value: str | None, folded: str | None) -> None:
    assert fold(value) == folded


@pytest.mark.parametrize("char", [c for c in _LATIN if c.isalpha()])
def test_every_latin_letter_folds_to_lowercase_ascii_or_its_own_lowercase(char: str) -> None:
    folded = fold(char)
    assert folded is not None
    base = unicodedata.normalize("NFD", char)[0]
    if base.isascii():
        assert folded == base.lower(), char
    else:
        # Ø, Ł, Đ, ß, Æ...: no decomposition; a letter of the mapping or its own lowercase.
        assert folded.isascii() or folded == char.lower(), char
    assert folded == folded.lower(), char


def test_the_database_folds_exactly_like_python(session) -> None:
    assert session.scalar(select(fold_sql(literal(EVERYTHING)))) == fold(EVERYTHING)
    for char in EVERYTHING:
        assert session.scalar(select(fold_sql(literal(char)))) == fold(char), char
    assert session.scalar(select(fold_sql(null()))) is None


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        (contains_folded(literal("Inês Gonçalves"), "GONCALVES"), True),
        (contains_folded(literal("Ines Goncalves"), "gonçalves"), True),
        (contains_folded(literal("Inês"), "ines x"), False),
        # LIKE's wildcards are characters like any other.
        (contains_folded(literal("Bio 50%"), "50%"), True),
        (contains_folded(literal("Bio 500"), "50%"), False),
        (contains_folded(literal("a_b"), "a_b"), True),
        (contains_folded(literal("axb"), "a_b"), False),
        (contains_folded(literal("ab"), "%"), False),
        (contains_folded(literal("a/b"), "a/b"), True),
        (contains_folded(literal("a\\b"), "a\\b"), True),
        (startswith_folded(literal("Éloïse"), "elo"), True),
        (startswith_folded(literal("Éloïse"), "loi"), False),
        (startswith_folded(literal("xyz"), "_y"), False),
        (equals_folded(literal("Zoë"), "ZOE"), True),
        (equals_folded(literal("Zoë"), "zo"), False),
    ],
)
def test_matching_in_sql(session, clause, expected: bool) -> None:
    assert bool(session.scalar(select(clause))) is expected

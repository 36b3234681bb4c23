"""Accent- and case-insensitive search: one folding rule, in Python and in SQL.

``fold("Inês Gonçalves") == "ines goncalves"``. Searches compare ``loyalty_fold(column)``
with the folded term, so "muller" finds "Müller" and "JOSE" finds "José".

The database computes the same fold with a function named :data:`FUNCTION_NAME`:

* PostgreSQL: a plain SQL function (``translate`` and ``replace``, no extension), created by
  a migration and, for schemas built with ``create_all`` (the tests), by the DDL event below;
* SQLite: :func:`fold` itself, registered on every connection (:func:`register_sqlite`).

It is a function and not a stored "search" column on purpose: erasure, retention and the
card import's ``COPY`` write names without the ORM, and a folded copy of an erased name
must not survive anywhere.

Every letter of Latin-1 Supplement and Latin Extended-A (plus Romanian Ș/Ț) is mapped to
its lowercase base letter, ASCII A-Z to a-z; the mapping alone lowercases them, whatever
the database's locale. ``lower()`` then handles the other scripts (as ``ILIKE`` did).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import DDL, Unicode, event, func
from sqlalchemy.sql.elements import ColumnElement

#: The SQL function's name, on both databases.
FUNCTION_NAME = "loyalty_fold"

#: Single letters and what they fold to, position by position (``translate`` in SQL).
FOLD_FROM = (
    "ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞàáâãäåçèéêëìíîïðñòóôõöøùúûüýÿ"
    "ĀāĂăĄąĆćĈĉĊċČčĎďĐđĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĦħĨĩĪīĬĭĮįİıĴĵĶķĹĺĻļĽľĿŀŁł"
    "ŃńŅņŇňŉŊŋŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŦŧŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžſ"
    "ȘșȚț"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
FOLD_TO = (
    "aaaaaaceeeeiiiidnoooooouuuuyþaaaaaaceeeeiiiidnoooooouuuuyy"
    "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiijjkkllllllllll"
    "nnnnnnnnnoooooorrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs"
    "sstt"
    "abcdefghijklmnopqrstuvwxyz"
)
#: Letters that fold to two (``replace`` in SQL, applied before ``translate``).
FOLD_MULTI = (
    ("ß", "ss"),
    ("Æ", "ae"),
    ("æ", "ae"),
    ("Œ", "oe"),
    ("œ", "oe"),
    ("Ĳ", "ij"),
    ("ĳ", "ij"),
)

_TABLE = str.maketrans(
    {**dict(zip(FOLD_FROM, FOLD_TO, strict=True)), **{a: b for a, b in FOLD_MULTI}}
)


def fold(value: str | None) -> str | None:
    """``value`` without accents, lowercase (``None`` stays ``None``, as in SQL)."""
    if value is None:
        return None
    return value.translate(_TABLE).lower()


def fold_sql(expression: Any) -> ColumnElement[str]:
    """``expression`` folded by the database: ``loyalty_fold(expression)``."""
    folded: ColumnElement[str] = getattr(func, FUNCTION_NAME)(expression, type_=Unicode())
    return folded


def contains_folded(expression: Any, term: str) -> ColumnElement[bool]:
    """Whether ``expression`` contains ``term``, both folded; ``%`` and ``_`` are literal."""
    return fold_sql(expression).contains(fold(term), autoescape=True)


def startswith_folded(expression: Any, term: str) -> ColumnElement[bool]:
    """Whether ``expression`` starts with ``term``, both folded; ``%`` and ``_`` are literal."""
    return fold_sql(expression).startswith(fold(term), autoescape=True)


def equals_folded(expression: Any, term: str) -> ColumnElement[bool]:
    """Whether ``expression`` equals ``term``, both folded."""
    return fold_sql(expression) == fold(term)


def _postgres_body() -> str:
    text = "$1"
    for source, target in FOLD_MULTI:
        text = f"replace({text}, '{source}', '{target}')"
    return f"SELECT lower(translate({text}, '{FOLD_FROM}', '{FOLD_TO}'))"


#: The PostgreSQL function; the migration that creates it holds a copy of this text.
POSTGRES_CREATE = (
    f"CREATE OR REPLACE FUNCTION {FUNCTION_NAME}(text) RETURNS text\n"
    "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE\n"
    f"AS $$ {_postgres_body()} $$"
)
POSTGRES_DROP = f"DROP FUNCTION IF EXISTS {FUNCTION_NAME}(text)"


def install_postgres_function(metadata: Any) -> None:
    """Create the function with the tables when a schema is built with ``create_all``."""
    create = DDL(POSTGRES_CREATE)  # type: ignore[no-untyped-call]
    drop = DDL(POSTGRES_DROP)  # type: ignore[no-untyped-call]
    # Before the tables: an index or a check may one day use the function.
    event.listen(metadata, "before_create", create.execute_if(dialect="postgresql"))
    event.listen(metadata, "after_drop", drop.execute_if(dialect="postgresql"))


def register_sqlite(dbapi_connection: Any) -> None:
    """Make :func:`fold` available as ``loyalty_fold`` on a new sqlite3 connection."""
    dbapi_connection.create_function(FUNCTION_NAME, 1, fold, deterministic=True)

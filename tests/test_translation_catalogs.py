"""Our gettext catalogs for fr, de and lb: complete, not fuzzy, placeholders intact, in use.

Besides our own ``messages`` domain, ``translations/`` holds catalogs for two library domains
(see ``platform_core/i18n.py``): Flask-Admin's ``admin`` and WTForms' ``wtforms``. Neither
library ships Luxembourgish, so ``lb`` must cover every message they can show; the msgids
Flask-Admin uses are extracted from the installed package at test time, so an upgrade that adds
strings fails here instead of showing English in the console.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flask_admin
import pytest
import wtforms
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

from platform_core.i18n import TRANSLATIONS_DIR

TRANSLATIONS = Path(TRANSLATIONS_DIR)
LOCALES = ("fr", "de", "lb")
PO_FILES = sorted(
    path for locale in LOCALES for path in (TRANSLATIONS / locale / "LC_MESSAGES").glob("*.po")
)
FLASK_ADMIN_DIR = Path(flask_admin.__file__).parent
WTFORMS_POT = Path(wtforms.__file__).parent / "locale" / "wtforms.pot"

# How Flask-Admin marks its strings: gettext/lazy_gettext/ngettext in Python, _gettext and
# _ngettext in the bootstrap4 templates (the theme the console uses).
FLASK_ADMIN_KEYWORDS = {
    "gettext": None,
    "lazy_gettext": None,
    "ngettext": (1, 2),
    "_gettext": None,
    "_ngettext": (1, 2),
    "_": None,
}
FLASK_ADMIN_METHODS = [
    ("**/tests/**", "ignore"),
    ("**.py", "python"),
    ("**/templates/bootstrap4/**.html", "jinja2"),
]
# Flask-Admin's fields and validators call ``field.gettext(...)``: those go through the form's
# translations, i.e. the wtforms domain, not the admin domain.
FIELD_GETTEXT = re.compile(r"""(?:self|field)\.n?gettext\(\s*(?P<q>["'])(?P<msg>.+?)(?P=q)""")

PERCENT_NAMED = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]")
PERCENT_POSITIONAL = re.compile(r"%(?!\()[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]")
BRACES = re.compile(r"(?<!\{)\{(\w*)\}(?!\})")


def _read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=path.parents[1].name)


def _key(message: Message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def _translated(message: Message) -> bool:
    forms = message.string if isinstance(message.string, tuple | list) else (message.string,)
    return bool(forms) and all(forms) and not message.fuzzy


def _placeholders(text: str) -> Counter[str]:
    found = Counter(f"%({name})" for name in PERCENT_NAMED.findall(text))
    found.update("%" for _ in PERCENT_POSITIONAL.findall(text))
    found.update(f"{{{name}}}" for name in BRACES.findall(text))
    return found


@functools.cache
def _flask_admin_msgids() -> frozenset[str]:
    messages = extract_from_dir(
        str(FLASK_ADMIN_DIR), FLASK_ADMIN_METHODS, keywords=FLASK_ADMIN_KEYWORDS
    )
    return frozenset(msg if isinstance(msg, str) else msg[0] for _, _, msg, _, _ in messages)


def _flask_admin_field_msgids() -> set[str]:
    found = set()
    for source in FLASK_ADMIN_DIR.rglob("*.py"):
        if "tests" not in source.relative_to(FLASK_ADMIN_DIR).parts:
            found.update(m["msg"] for m in FIELD_GETTEXT.finditer(source.read_text("utf-8")))
    return found


def _shipped_admin_catalog(locale: str) -> Catalog:
    return _read(FLASK_ADMIN_DIR / "translations" / locale / "LC_MESSAGES" / "admin.po")


@pytest.fixture(scope="module", autouse=True)
def _compiled_catalogs() -> None:
    """Compile every .po whose .mo is missing or older (``make install`` does the same)."""
    compiled = False
    for po_path in PO_FILES:
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with mo_path.open("wb") as handle:
            write_mo(handle, _read(po_path), use_fuzzy=False)
        compiled = True
    if compiled:
        # Flask-Admin's domain keeps loaded catalogs for the whole process: forget any
        # loaded before the .mo existed.
        from flask_admin.babel import domain

        domain.cache.clear()


def test_there_are_catalogs_for_the_libraries_in_lb() -> None:
    names = {path.relative_to(TRANSLATIONS).as_posix() for path in PO_FILES}
    assert {"lb/LC_MESSAGES/admin.po", "lb/LC_MESSAGES/wtforms.po"} <= names


@pytest.mark.parametrize("po_path", PO_FILES, ids=lambda p: p.relative_to(TRANSLATIONS).as_posix())
def test_every_message_is_translated_and_not_fuzzy(po_path: Path) -> None:
    catalog = _read(po_path)
    problems = [
        f"{po_path.relative_to(TRANSLATIONS)}: {'fuzzy' if m.fuzzy else 'empty'} {m.id!r}"
        for m in catalog
        if m.id and not _translated(m)
    ]
    assert not problems, "\n".join(problems)
    assert not catalog.fuzzy, f"{po_path}: the header is marked fuzzy"


@pytest.mark.parametrize("po_path", PO_FILES, ids=lambda p: p.relative_to(TRANSLATIONS).as_posix())
def test_placeholders_survive_translation(po_path: Path) -> None:
    problems = []
    for message in _read(po_path):
        if not message.id:
            continue
        if isinstance(message.id, str):
            pairs = [(message.id, message.string)]
        else:
            singular, plural = message.id[0], message.id[1]
            pairs = [(singular if i == 0 else plural, s) for i, s in enumerate(message.string)]
        for source, translation in pairs:
            if _placeholders(source) != _placeholders(translation):
                problems.append(
                    f"{po_path.relative_to(TRANSLATIONS)}: {source!r} -> {translation!r}"
                )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("domain", ["admin", "wtforms"])
def test_lb_catalogs_use_luxembourgish_plural_forms(domain: str) -> None:
    catalog = _read(TRANSLATIONS / "lb" / "LC_MESSAGES" / f"{domain}.po")
    assert catalog.plural_forms == "nplurals=2; plural=(n != 1);"
    plural = [m for m in catalog if m.id and m.pluralizable]
    assert plural
    assert all(len(m.string) == 2 for m in plural)


def test_lb_admin_catalog_covers_every_flask_admin_string() -> None:
    used = _flask_admin_msgids()
    assert len(used) > 100  # the extraction found Flask-Admin's strings at all
    catalog = _read(TRANSLATIONS / "lb" / "LC_MESSAGES" / "admin.po")
    ours = {_key(m) for m in catalog if m.id}
    assert not sorted(used - ours)


@pytest.mark.parametrize("locale", ["fr", "de"])
def test_fr_and_de_console_strings_are_all_translated(locale: str) -> None:
    """Ours (if any) merged with Flask-Admin's own catalog leave nothing in English."""
    translated = {_key(m) for m in _shipped_admin_catalog(locale) if m.id and _translated(m)}
    ours = TRANSLATIONS / locale / "LC_MESSAGES" / "admin.po"
    if ours.exists():
        translated |= {_key(m) for m in _read(ours) if m.id and _translated(m)}
    assert not sorted(_flask_admin_msgids() - translated)


def test_lb_wtforms_catalog_covers_wtforms_and_flask_admin_fields() -> None:
    with WTFORMS_POT.open("rb") as handle:
        used = {_key(m) for m in read_po(handle) if m.id}
    used |= _flask_admin_field_msgids()
    catalog = _read(TRANSLATIONS / "lb" / "LC_MESSAGES" / "wtforms.po")
    assert not sorted(used - {_key(m) for m in catalog if m.id})


@pytest.fixture
def admin_client(login_as: Callable[[Any], FlaskClient], platform_admin: Any) -> FlaskClient:
    return login_as(platform_admin)


def test_console_list_page_is_in_luxembourgish(admin_client: FlaskClient, dummy_store: Any) -> None:
    page = admin_client.get("/admin/store/?lang=lb").get_data(as_text=True)
    for word in (
        "Lëscht",
        "Uleeën",
        "Sichen",
        "Filter derbäisetzen",
        "Mat der Auswiel",
        "Datesaz änneren",
        "50 Elementer",
    ):
        assert word in page
    for english in (">List", ">Create<", ">Search<", "Add Filter", "With selected", "50 items"):
        assert english not in page


def test_invalid_console_form_shows_validation_messages_in_luxembourgish(
    admin_client: FlaskClient, dummy_merchant: Any
) -> None:
    admin_client.get("/admin/?lang=lb")
    response = admin_client.post(
        "/admin/store/new/", data={"merchant": str(dummy_merchant.id), "name": "", "slug": ""}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Dëst Feld muss ausgefëllt ginn." in page
    assert "This field is required." not in page
    assert "Den Datesaz konnt net ugeluecht ginn." in page
    assert "Späicheren" in page


# -- our own strings: every message the code marks is in every catalog ----------------------
OUR_PACKAGES = ("platform_core", "loyalty", "messaging", "admin_views", "seeds")
OUR_KEYWORDS = {
    "_": None,
    "_l": None,
    "gettext": None,
    "lazy_gettext": None,
    "ngettext": (1, 2),
    "lazy_ngettext": (1, 2),
}
OUR_METHODS = [
    ("**.py", "python"),
    ("**/templates/**.html", "jinja2"),
    ("**/templates/**.txt", "jinja2"),
]


@functools.cache
def _our_msgids() -> frozenset[str]:
    root = TRANSLATIONS.parent
    found: set[str] = set()
    for package in OUR_PACKAGES:
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(root / package), method_map=OUR_METHODS, keywords=OUR_KEYWORDS
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return frozenset(found)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_string_in_the_code_is_in_the_catalog(locale: str) -> None:
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    translated = {
        (message.id[0] if isinstance(message.id, tuple) else message.id)
        for message in catalog
        if message.id and message.string and not message.fuzzy
    }
    missing = sorted(_our_msgids() - translated)
    assert not missing, f"{len(missing)} strings without a {locale} translation: {missing[:15]}"

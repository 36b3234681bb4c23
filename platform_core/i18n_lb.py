"""Luxembourgish n-rule (Eifeler Regel) for words placed before an inserted name.

A final -n of short words such as "vun", "un", "den", "een", "hien" is dropped before a word
that starts with a consonant other than n, d, t, z, h: "vun Hoffmann", "vun Inês",
"vu Boulangerie", "vu Kirchberg". Catalog entries are written with the full form ("vun
%(name)s"); :func:`lb_gettext` picks the right form once the name is known.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import get_locale, gettext

#: The words the rule applies to, full form -> reduced form.
N_WORDS = {"vun": "vu", "un": "u", "den": "de", "een": "ee", "hien": "hie", "wann": "wa"}
_REDUCED = {short: full for full, short in N_WORDS.items()}
#: A following word starting with one of these keeps the -n (vowels too).
_KEEPS_N = set("ndtzh")
_PLACEHOLDER = re.compile(r"(\S+)(\s+)(%\((\w+)\)s)")


def _keeps_n(next_word: str) -> bool:
    first = next_word.lstrip("\"'„“«‹([").strip()[:1].lower()
    if not first:
        return True
    return not first.isalpha() or first in _KEEPS_N or first in "aeiouäëéèöüàâêîôûyæœ"


def lb_n_rule(word: str, next_word: str) -> str:
    """``word`` in the form the n-rule asks for before ``next_word`` (capitals kept)."""
    lower = word.lower()
    if lower in N_WORDS:
        full, short = lower, N_WORDS[lower]
    elif lower in _REDUCED:
        full, short = _REDUCED[lower], lower
    else:
        return word
    chosen = full if _keeps_n(next_word) else short
    return chosen.capitalize() if word[:1].isupper() else chosen


def apply_n_rule(template: str, values: dict[str, Any]) -> str:
    """Fix every n-word of ``template`` that stands before a ``%(name)s`` placeholder."""

    def fix(match: re.Match[str]) -> str:
        word, space, placeholder, key = match.groups()
        value = str(values.get(key, ""))
        return lb_n_rule(word, value) + space + placeholder

    return _PLACEHOLDER.sub(fix, template)


def lb_gettext(msgid: str, **values: Any) -> str:
    """``gettext`` for a sentence that inserts a name after a word like "vun"."""
    if str(get_locale() or "") != "lb":
        return gettext(msgid, **values)
    template = gettext(msgid)
    return apply_n_rule(template, values) % values if values else template

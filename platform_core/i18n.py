"""Locale selection and the translation domains of the libraries we show to users.

Locale order: ``?lang=`` (remembered in the session), the logged-in staff user's or the
current customer's preference, ``Accept-Language``, then English.

Flask-Admin and WTForms ship their own catalogs (``admin`` and ``wtforms`` domains) but no
Luxembourgish. Our ``translations/`` folder holds those two domains for ``lb``; the loaders
below look there first and fall back to the libraries' own catalogs.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from babel import support
from flask import Flask, current_app, g, request, session
from flask_babel import Babel, get_locale
from werkzeug.datastructures import MultiDict
from wtforms.i18n import messages_path

from platform_core.config import PROJECT_ROOT
from platform_core.i18n_lb import lb_gettext

TRANSLATIONS_DIR = str(PROJECT_ROOT / "translations")
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "de": "Deutsch", "lb": "Lëtzebuergesch"}


def supported_locales() -> tuple[str, ...]:
    return tuple(current_app.config["LANGUAGES"])


def normalise_locale(value: str | None) -> str | None:
    """``'fr-LU'`` → ``'fr'``; anything we do not support → ``None``."""
    if not value:
        return None
    code = value.strip().replace("-", "_").split("_")[0].lower()
    return code if code in supported_locales() else None


def select_locale() -> str:
    if request:
        chosen = normalise_locale(request.args.get("lang"))
        if chosen:
            session["lang"] = chosen
            return chosen
        remembered = normalise_locale(session.get("lang"))
        if remembered:
            return remembered
    preferred = normalise_locale(_preferred_locale_of_current_person())
    if preferred:
        return preferred
    if request:
        best = request.accept_languages.best_match(supported_locales())
        if best:
            return best
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "en")


def _preferred_locale_of_current_person() -> str | None:
    # A public page that identified its customer (card page) sets g.customer_locale.
    customer_locale = g.get("customer_locale") if g else None
    if customer_locale:
        return customer_locale
    try:
        from flask_login import current_user
    except ImportError:  # pragma: no cover - flask-login is a hard dependency
        return None
    if current_user and getattr(current_user, "is_authenticated", False):
        return getattr(current_user, "preferred_locale", None)
    return None


def current_locale_code() -> str:
    return str(get_locale() or "en")


def lang_switch_url(code: str) -> str:
    """The current page in language ``code``: same path, same query (filters, page), new lang."""
    args = MultiDict(request.args)
    args.setlist("lang", [code])
    return f"{request.path}?{urlencode(list(args.items(multi=True)))}"


class _MergedDomainTranslations:
    """gettext for a library domain: our ``translations/`` first, then the library's."""

    def __init__(self, domain: str, library_dir: str) -> None:
        self.domain = domain
        self.library_dir = library_dir

    def _translations(self) -> Any:
        locale = current_locale_code()
        cache = g.setdefault("_domain_translations", {}) if g else {}
        key = (self.domain, locale)
        if key not in cache:
            ours = support.Translations.load(TRANSLATIONS_DIR, [locale], domain=self.domain)
            theirs = support.Translations.load(self.library_dir, [locale], domain=self.domain)
            if isinstance(ours, support.Translations):
                ours.add_fallback(theirs)
                cache[key] = ours
            else:
                cache[key] = theirs
        return cache[key]

    def gettext(self, string: str) -> str:
        return self._translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._translations().ungettext(singular, plural, n)


#: WTForms' validation messages, with our Luxembourgish catalog in front.
wtforms_translations = _MergedDomainTranslations("wtforms", messages_path())


def remember_requested_locale() -> None:
    """Keep ``?lang=`` in the session even when the request never renders text.

    The locale selector runs lazily, on the first translation; a view that only redirects
    (the terminal picking the user's store, a login) would otherwise forget the choice.
    """
    chosen = normalise_locale(request.args.get("lang"))
    if chosen and session.get("lang") != chosen:
        session["lang"] = chosen


def datepicker_locale() -> dict[str, Any]:
    """Month and day names and button labels for the console's date-range pickers.

    Flask-Admin's bundled moment.js and daterangepicker know only English; the console
    template hands them these (from Babel's CLDR data and our catalog).
    """
    from babel.dates import get_day_names, get_month_names

    from platform_core.i18n_lazy import _

    locale = current_locale_code()
    days = get_day_names("abbreviated", locale=locale)
    months = get_month_names("abbreviated", locale=locale)
    # moment and daterangepicker count days from Sunday; CLDR from Monday (0).
    return {
        "code": locale,
        "months": [get_month_names("wide", locale=locale)[m] for m in range(1, 13)],
        "monthsShort": [months[m] for m in range(1, 13)],
        "weekdaysMin": [days[(d + 6) % 7] for d in range(7)],
        "labels": {
            "applyLabel": _("Apply"),
            "cancelLabel": _("Cancel"),
            "fromLabel": _("From"),
            "toLabel": _("To"),
            "weekLabel": _("Wk"),
            "customRangeLabel": _("Custom range"),
        },
    }


def init_i18n(app: Flask, babel: Babel) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.before_request(remember_requested_locale)
    # ``_n("Logo of %(name)s", name=...)``: gettext that applies the lb n-rule before names.
    app.jinja_env.globals["_n"] = lb_gettext

    @app.context_processor
    def _i18n_context() -> dict[str, Any]:
        return {
            "current_locale": current_locale_code(),
            "language_names": LANGUAGE_NAMES,
            "supported_locales": supported_locales(),
            "lang_switch_url": lang_switch_url,
            "datepicker_locale": datepicker_locale,
        }

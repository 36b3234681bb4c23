"""Which template serves a send, and the in-process cache of resolved templates.

:func:`resolve_template` walks the fallbacks (store override, platform template in the
recipient's locale, in the store's or merchant's default locale, in English);
:func:`cached_template` returns one template as saved at a given ``updated_at``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, bindparam, literal, select, union_all

from messaging.models import EmailTemplate, StoreEmailTemplate
from platform_core.extensions import db
from platform_core.tenancy.models import Merchant, Store

FALLBACK_LOCALE = "en"


@dataclass(frozen=True)
class ResolvedTemplate:
    """The template chosen for one send, and where it came from."""

    code: str
    locale: str
    subject: str
    body_html: str
    body_text: str
    #: ``"store"`` for a store override, ``"platform"`` for a platform template.
    source: str
    template_id: int


class _TemplateCache:
    """Resolved templates of this process, keyed by (source, id, ``updated_at``).

    Every send still asks the database which templates are candidates and when each was
    last changed (one small query of ids and timestamps), so an edit, a deactivation or a
    new override is used by the very next send; only the bodies, which are large and rarely
    change, come from memory. A saved edit bumps ``updated_at``, so it gets a new key.
    """

    def __init__(self, maxsize: int = 512) -> None:
        self.maxsize = maxsize
        self._items: dict[tuple[str, int, Any], ResolvedTemplate] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int, Any]) -> ResolvedTemplate | None:
        return self._items.get(key)

    def put(self, key: tuple[str, int, Any], template: ResolvedTemplate) -> None:
        with self._lock:
            if len(self._items) >= self.maxsize:
                # Old versions of edited templates pile up here; starting over is cheap.
                self._items.clear()
            self._items[key] = template

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


resolved_templates = _TemplateCache()


# Built once: a send only binds values (building the statement cost as much as running it).
_PLATFORM_CANDIDATES = select(
    literal("platform").label("source"),
    EmailTemplate.id,
    EmailTemplate.locale,
    EmailTemplate.updated_at,
).where(
    EmailTemplate.code == bindparam("code"),
    EmailTemplate.locale.in_(bindparam("locales", expanding=True)),
    EmailTemplate.is_active.is_(True),
)
_ALL_CANDIDATES = union_all(
    select(
        literal("store").label("source"),
        StoreEmailTemplate.id,
        StoreEmailTemplate.locale,
        StoreEmailTemplate.updated_at,
    ).where(
        StoreEmailTemplate.store_id == bindparam("store_id"),
        StoreEmailTemplate.code == bindparam("code"),
        StoreEmailTemplate.locale == bindparam("locale"),
    ),
    _PLATFORM_CANDIDATES,
)


def _candidates(code: str, locale: str, locales: list[str], store_id: int | None) -> list[Row[Any]]:
    """(source, id, locale, updated_at) of every template that could serve this send."""
    if store_id is None:
        return list(db.session.execute(_PLATFORM_CANDIDATES, {"code": code, "locales": locales}))
    return list(
        db.session.execute(
            _ALL_CANDIDATES,
            {"code": code, "locales": locales, "store_id": store_id, "locale": locale},
        )
    )


def _load(code: str, source: str, template_id: int) -> ResolvedTemplate | None:
    model = StoreEmailTemplate if source == "store" else EmailTemplate
    found = db.session.execute(
        select(model.locale, model.subject, model.body_html, model.body_text).where(
            model.id == template_id
        )
    ).first()
    if found is None:
        return None
    return ResolvedTemplate(
        code,
        found.locale,
        found.subject,
        found.body_html,
        found.body_text or "",
        source,
        template_id,
    )


def resolve_template(
    code: str, locale: str, *, store: Store | None = None, merchant: Merchant | None = None
) -> ResolvedTemplate | None:
    """The template to render for ``code`` in ``locale``.

    Order: the store's override in ``locale``; the platform template in ``locale``; the
    platform template in the store's default locale (the merchant's without a store); the
    platform template in English. Inactive platform templates are skipped.

    :param code: the template code.
    :param locale: the recipient's locale.
    :param store: the store the email is sent for, if any.
    :param merchant: the merchant, when there is no store.
    :return: the template, or ``None`` when none of them exists.
    """
    default_locale = (
        store.default_locale
        if store is not None
        else merchant.default_locale
        if merchant is not None
        else None
    )
    locales: list[str] = []
    for candidate in (locale, default_locale, FALLBACK_LOCALE):
        if candidate and candidate not in locales:
            locales.append(candidate)
    if not locales:
        return None
    found = {
        (row.source, row.locale): row
        for row in _candidates(code, locale, locales, store.id if store is not None else None)
    }
    order = [("store", locale)] + [("platform", candidate) for candidate in locales]
    for source, candidate in order:
        row = found.get((source, candidate))
        template = (
            cached_template(code, source, row.id, row.updated_at) if row is not None else None
        )
        if template is not None:
            return template
    return None


def cached_template(
    code: str, source: str, template_id: int, updated_at: Any
) -> ResolvedTemplate | None:
    """The template ``template_id`` as saved at ``updated_at``, from memory when it can be."""
    key = (source, template_id, updated_at)
    template = resolved_templates.get(key)
    if template is None:
        template = _load(code, source, template_id)
        if template is not None:  # None: deleted since its timestamp was read
            resolved_templates.put(key, template)
    return template

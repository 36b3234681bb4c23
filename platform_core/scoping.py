"""Which rows a staff user may see: the one place merchant scoping is decided.

Every model a merchant user can reach has a rule here. Admin views, relationship choices,
ajax lookups, exports, actions, and the store terminal all ask :func:`scope_clause`.

* platform admins: everything (``None``: no restriction);
* merchant admins: rows of their merchant;
* store staff: rows of their merchant and, where a row belongs to a store, of their stores.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import false
from sqlalchemy.sql.elements import ColumnElement

from platform_core.staff.models import StaffRole, StaffUser

MerchantRule = Callable[[int], ColumnElement[bool]]
StoreRule = Callable[[set[int]], ColumnElement[bool]]


@dataclass(frozen=True)
class ScopeRule:
    #: Clause restricting the model to one merchant's rows.
    merchant: MerchantRule | None
    #: Clause restricting the model to a set of stores (store staff); ``None`` = not per store.
    store: StoreRule | None = None


_RULES: dict[type, ScopeRule] = {}


def register_scope(
    model: type, merchant: MerchantRule | None, store: StoreRule | None = None
) -> None:
    """Declare how ``model`` is scoped. Call it next to the model's definition."""
    _RULES[model] = ScopeRule(merchant=merchant, store=store)


def default_rule(model: type) -> ScopeRule | None:
    merchant_col = getattr(model, "merchant_id", None)
    store_col = getattr(model, "store_id", None)
    if merchant_col is None and store_col is None:
        return None
    return ScopeRule(
        merchant=(lambda mid: merchant_col == mid) if merchant_col is not None else None,
        store=(lambda ids: store_col.in_(ids)) if store_col is not None else None,
    )


def rule_for(model: type) -> ScopeRule | None:
    return _RULES.get(model) or default_rule(model)


def scope_clause(model: type, user: StaffUser | Any) -> ColumnElement[bool] | None:
    """The WHERE clause limiting ``model`` to what ``user`` may see; ``None`` means all rows.

    A model with no rule is visible to platform admins only.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return false()
    if user.role == StaffRole.PLATFORM_ADMIN:
        return None
    rule = rule_for(model)
    if rule is None or rule.merchant is None or user.merchant_id is None:
        return false()
    clause = rule.merchant(user.merchant_id)
    if user.role == StaffRole.STORE_STAFF and rule.store is not None:
        clause = clause & rule.store(user.store_ids or {-1})
    return clause


def apply_scope(query: Any, model: type, user: StaffUser | Any) -> Any:
    """Filter a legacy ``Query`` or a 2.0 ``Select`` to the user's rows."""
    clause = scope_clause(model, user)
    return query if clause is None else query.filter(clause)


def row_in_scope(row: Any, user: StaffUser | Any) -> bool:
    """Whether ``user`` may see ``row`` (evaluated in Python, no query)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.role == StaffRole.PLATFORM_ADMIN:
        return True
    checker = _ROW_CHECKS.get(type(row))
    if checker is not None:
        return checker(row, user)
    merchant_id = getattr(row, "merchant_id", None)
    if merchant_id is None or merchant_id != user.merchant_id:
        return False
    store_id = getattr(row, "store_id", None)
    if user.role == StaffRole.STORE_STAFF and store_id is not None:
        return store_id in user.store_ids
    return True


_ROW_CHECKS: dict[type, Callable[[Any, Any], bool]] = {}


def register_row_check(model: type, check: Callable[[Any, Any], bool]) -> None:
    _ROW_CHECKS[model] = check


def _register_core_rules() -> None:
    from platform_core.tenancy.models import Merchant, Store, StoreDomain

    register_scope(Merchant, merchant=lambda mid: Merchant.id == mid)
    register_scope(
        Store,
        merchant=lambda mid: Store.merchant_id == mid,
        store=lambda ids: Store.id.in_(ids),
    )
    register_row_check(Merchant, lambda row, user: row.id == user.merchant_id)
    register_row_check(
        Store,
        lambda row, user: (
            row.merchant_id == user.merchant_id
            and (user.role != StaffRole.STORE_STAFF or row.id in user.store_ids)
        ),
    )
    register_scope(
        StoreDomain,
        merchant=lambda mid: StoreDomain.store.has(Store.merchant_id == mid),
        store=lambda ids: StoreDomain.store_id.in_(ids),
    )
    register_row_check(
        StoreDomain,
        lambda row, user: (
            row.store.merchant_id == user.merchant_id
            and (user.role != StaffRole.STORE_STAFF or row.store_id in user.store_ids)
        ),
    )


_register_core_rules()

__all__ = [
    "apply_scope",
    "register_row_check",
    "register_scope",
    "row_in_scope",
    "rule_for",
    "scope_clause",
]

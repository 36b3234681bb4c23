"""Who may see which messaging rows (registered with :mod:`platform_core.scoping`).

* platform templates (``EmailTemplate``): every staff user may read all of them; only
  platform admins may change them (the admin view decides that, not the scope);
* store overrides and their versions: the merchant's rows, store staff only their stores;
* the email log: the merchant's rows, store staff only their stores' rows;
* the suppression list: the merchant's rows (an address is suppressed for every store).
"""

from __future__ import annotations

from sqlalchemy import true

from messaging.models import (
    EmailLog,
    EmailSuppression,
    EmailTemplate,
    StoreEmailTemplate,
    StoreEmailTemplateVersion,
)
from platform_core.scoping import register_row_check, register_scope
from platform_core.staff.models import StaffRole


def _in_merchant_and_stores(merchant_id: int | None, store_id: int | None, user: object) -> bool:
    if merchant_id is None or merchant_id != getattr(user, "merchant_id", None):
        return False
    if getattr(user, "role", None) == StaffRole.STORE_STAFF:
        return store_id is not None and store_id in user.store_ids  # type: ignore[attr-defined]
    return True


def register_messaging_scopes() -> None:
    """Register the rules; importing this module does it once."""
    # Platform templates are shared reading for every merchant: the editor shows them next
    # to the override, and the list view lets merchants see what their customers get.
    register_scope(EmailTemplate, merchant=lambda mid: true())
    register_row_check(EmailTemplate, lambda row, user: True)

    register_scope(
        StoreEmailTemplate,
        merchant=lambda mid: StoreEmailTemplate.merchant_id == mid,
        store=lambda ids: StoreEmailTemplate.store_id.in_(ids),
    )
    register_row_check(
        StoreEmailTemplate,
        lambda row, user: _in_merchant_and_stores(row.merchant_id, row.store_id, user),
    )

    register_scope(
        StoreEmailTemplateVersion,
        merchant=lambda mid: StoreEmailTemplateVersion.merchant_id == mid,
        store=lambda ids: StoreEmailTemplateVersion.override.has(
            StoreEmailTemplate.store_id.in_(ids)
        ),
    )
    register_row_check(
        StoreEmailTemplateVersion,
        lambda row, user: _in_merchant_and_stores(row.merchant_id, row.override.store_id, user),
    )

    # A log row without a store (a merchant-wide message) is visible to the merchant's
    # admins but not to store staff: the ``IN`` never matches NULL.
    register_scope(
        EmailLog,
        merchant=lambda mid: EmailLog.merchant_id == mid,
        store=lambda ids: EmailLog.store_id.in_(ids),
    )
    register_row_check(
        EmailLog, lambda row, user: _in_merchant_and_stores(row.merchant_id, row.store_id, user)
    )

    register_scope(EmailSuppression, merchant=lambda mid: EmailSuppression.merchant_id == mid)
    register_row_check(
        EmailSuppression, lambda row, user: row.merchant_id == getattr(user, "merchant_id", None)
    )


register_messaging_scopes()

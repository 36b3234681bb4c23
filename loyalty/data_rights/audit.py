"""The one call site of the audit log for data-rights actions (exports and erasures).

Both export and erasure call :func:`audit` and nothing else. An erasure also blanks the
values recorded in the customer's earlier audit entries (console edits carry old → new
values), the one change the audit log allows. Never pass the erased values: the customer
id, the merchant and figures only.
"""

from __future__ import annotations

from typing import Any

from platform_core.audit.services import record_audit, redact_audit_values

_ACTIONS = {"customer.exported": "export", "customer.erased": "erasure"}


def audit(
    action: str, *, customer_id: int, merchant_id: int, staff_user_id: int | None, **details: Any
) -> None:
    """Record ``action`` (``customer.exported``, ``customer.erased``) on a customer."""
    if action == "customer.erased":
        redact_audit_values("Customer", customer_id)
    record_audit(
        _ACTIONS[action],
        model="Customer",
        object_id=customer_id,
        merchant_id=merchant_id,
        changes=details or None,
    )

"""The one call site of the audit log for data-rights actions (exports and erasures).

The audit log (``record_audit`` in ``platform_core.audit.services``) is being built on
another branch. Until it is wired in here, each action is written to this module's logger;
both export and erasure call :func:`audit` and nothing else, so wiring it is one change.
Never pass the erased values: the customer id, the merchant and figures only.
"""

from __future__ import annotations

import json
import logging
from typing import Any

log = logging.getLogger(__name__)


def audit(
    action: str, *, customer_id: int, merchant_id: int, staff_user_id: int | None, **details: Any
) -> None:
    """Record ``action`` (``customer.exported``, ``customer.erased``) on a customer."""
    log.info(
        "data rights: %s customer=%s merchant=%s staff=%s %s",
        action,
        customer_id,
        merchant_id,
        staff_user_id,
        json.dumps(details, sort_keys=True, default=str),
    )

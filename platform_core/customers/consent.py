"""Consent: every grant and withdrawal is appended; the current state is the latest row.

Joining a program needs the ``terms`` consent (where the program has terms) and never the
``marketing_email`` one. Marketing email goes only to customers whose latest
``marketing_email`` row grants it; each such email carries an unsubscribe link signed with
:func:`unsubscribe_token`, which works without a login and never expires (a withdrawal must
stay as easy as the grant was).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from platform_core.customers.models import (
    ConsentPurpose,
    ConsentRecord,
    ConsentSource,
    Customer,
)
from platform_core.extensions import db
from platform_core.models_base import utcnow
from platform_core.staff.models import StaffUser

_UNSUBSCRIBE_SALT = "consent-unsubscribe"


def wording_hash(*parts: str) -> str:
    """The fingerprint of the wording a customer was shown (label, terms address, …)."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def latest_consent(customer_id: int, purpose: ConsentPurpose) -> ConsentRecord | None:
    """The customer's latest row for ``purpose``, or ``None`` when none was ever recorded."""
    return db.session.scalar(
        select(ConsentRecord)
        .where(ConsentRecord.customer_id == customer_id, ConsentRecord.purpose == purpose)
        .order_by(ConsentRecord.id.desc())
        .limit(1)
    )


def has_consent(customer_id: int, purpose: ConsentPurpose) -> bool:
    """Whether the customer's latest row for ``purpose`` grants it (no row: no consent)."""
    row = latest_consent(customer_id, purpose)
    return row is not None and row.granted


def consent_history(customer_id: int) -> list[ConsentRecord]:
    """Every row of the customer, oldest first."""
    return list(
        db.session.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.customer_id == customer_id)
            .order_by(ConsentRecord.id)
        )
    )


def record_consent(
    customer: Customer,
    purpose: ConsentPurpose,
    *,
    granted: bool,
    source: ConsentSource,
    locale: str,
    wording: str,
    staff_user_id: int | None = None,
    at: datetime | None = None,
) -> ConsentRecord | None:
    """Append a grant or a withdrawal of ``purpose`` for ``customer`` and flush it.

    A repeat of the current state with the same wording appends nothing (a second click on
    an unsubscribe link, a form saved again): the history then shows changes, not saves.

    :param wording: the exact wording shown, already hashed with :func:`wording_hash` or
        as text (it is hashed here when it is not a 64-character hex digest).
    :return: the new row, or ``None`` when it would repeat the current state.
    """
    digest = wording if _is_digest(wording) else wording_hash(wording)
    if customer.id is not None:
        current = latest_consent(customer.id, purpose)
        if current is not None and current.granted == granted and current.wording_hash == digest:
            return None
        if current is None and not granted and purpose is ConsentPurpose.MARKETING_EMAIL:
            # Never granted: a withdrawal would only say what the absence of rows says.
            return None
    row = ConsentRecord(
        customer=customer,
        merchant_id=customer.merchant_id,
        purpose=purpose,
        granted=granted,
        source=source,
        locale=locale,
        wording_hash=digest,
        staff_user_id=staff_user_id,
        recorded_at=at or utcnow(),
    )
    db.session.add(row)
    if purpose is ConsentPurpose.MARKETING_EMAIL:
        customer.marketing_consent = granted
    db.session.flush()
    return row


def change_consent(
    customer: Customer,
    purpose: ConsentPurpose,
    *,
    granted: bool,
    source: ConsentSource,
    locale: str,
    wording: str,
    staff_user_id: int | None = None,
) -> ConsentRecord | None:
    """Record ``granted`` only when it differs from the customer's current state.

    For forms that show the current state as a checkbox (the console): saving the form
    with the box as it was records nothing, whatever language the staff member reads.
    """
    current = latest_consent(customer.id, purpose) if customer.id is not None else None
    if (current is not None and current.granted) == granted:
        return None
    return record_consent(
        customer,
        purpose,
        granted=granted,
        source=source,
        locale=locale,
        wording=wording,
        staff_user_id=staff_user_id,
    )


def _is_digest(value: str) -> bool:
    return len(value) == 64 and all(c in "0123456789abcdef" for c in value)


@dataclass(frozen=True)
class ConsentLine:
    """A consent row as the console shows it, with the staff member's name."""

    record: ConsentRecord
    staff_name: str | None


@dataclass(frozen=True)
class ConsentOverview:
    #: The latest row per purpose (``None``: never asked), in :class:`ConsentPurpose` order.
    current: list[tuple[ConsentPurpose, ConsentRecord | None]]
    #: Every row, newest first.
    history: list[ConsentLine]


def consent_overview(customer_id: int) -> ConsentOverview:
    """The customer's current consent per purpose and the whole history (one query)."""
    rows = db.session.execute(
        select(ConsentRecord, StaffUser.full_name, StaffUser.email)
        .outerjoin(StaffUser, StaffUser.id == ConsentRecord.staff_user_id)
        .where(ConsentRecord.customer_id == customer_id)
        .order_by(ConsentRecord.id.desc())
    ).all()
    history = [ConsentLine(row[0], (row[1] or row[2]) if row[2] else None) for row in rows]
    latest: dict[ConsentPurpose, ConsentRecord] = {}
    for line in history:
        latest.setdefault(line.record.purpose, line.record)
    return ConsentOverview(
        current=[(purpose, latest.get(purpose)) for purpose in ConsentPurpose],
        history=history,
    )


@dataclass(frozen=True)
class UnsubscribeRequest:
    customer_id: int
    purpose: ConsentPurpose


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_UNSUBSCRIBE_SALT)


def unsubscribe_token(
    customer_id: int, purpose: ConsentPurpose = ConsentPurpose.MARKETING_EMAIL
) -> str:
    """A signed token naming the customer and the consent an unsubscribe link withdraws."""
    return str(_serializer().dumps([customer_id, purpose.value]))


def read_unsubscribe_token(token: str) -> UnsubscribeRequest | None:
    """What ``token`` asks to withdraw, or ``None`` when it was not signed by us."""
    try:
        customer_id, purpose = _serializer().loads(token)
        return UnsubscribeRequest(int(customer_id), ConsentPurpose(purpose))
    except (BadSignature, ValueError, TypeError):
        return None

"""Writing the audit log.

Other code calls :func:`record_audit` (it adds and flushes, in the caller's transaction, so
the audit row commits or rolls back with the change it describes)::

    record_audit("export", model="Customer", object_id=customer.id,
                 merchant_id=customer.merchant_id, changes={"format": ["", "json"]})

The console's model views collect each row's old → new values with :func:`start_tracking`
(before any flush of the request) and :func:`changes_of`; :func:`snapshot` gives the values
of a row being created or deleted.
"""

from __future__ import annotations

import decimal
import enum
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import event, func, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from platform_core.audit.models import AuditLog
from platform_core.extensions import db

#: A column (or relationship) whose name contains one of these is never written in clear.
SECRET_MARKERS = ("password", "secret", "token", "pin", "key_hash")
MASK = "***"

_TRACK_KEY = "audit_track"
_HISTORY_KEY = "audit_history"


def is_secret(name: str) -> bool:
    lowered = name.lower()
    return any(marker in lowered for marker in SECRET_MARKERS)


def mask_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """``changes`` with the value of every secret-named key (at any depth) replaced by ``***``.

    A secret that was or becomes empty stays ``None``, so the row still tells "set" from
    "cleared"; a yes/no flag (``void_requires_pin``) holds no secret and stays as it is.
    """
    masked: dict[str, Any] = {}
    for key, value in changes.items():
        if is_secret(str(key)):
            if isinstance(value, list | tuple):
                masked[key] = [_masked(v) for v in value]
            else:
                masked[key] = _masked(value)
        elif isinstance(value, Mapping):
            masked[key] = mask_changes(value)
        else:
            masked[key] = _plain(value)
    return masked


def _masked(value: Any) -> Any:
    return value if value is None or isinstance(value, bool) else MASK


def record_audit(
    action: str,
    *,
    model: str | type | None = None,
    object_id: int | str | None = None,
    merchant_id: int | None = None,
    changes: Mapping[str, Any] | None = None,
    actor: Any = None,
    actor_email: str | None = None,
    client_address: str | None = None,
) -> AuditLog:
    """Append one audit row (add and flush; the caller commits).

    :param action: an :class:`~platform_core.audit.models.AuditAction` value (``create``,
        ``update``, ``delete``, ``terminal``, ``export``, ``erasure``, ``consent``, ``login``,
        ``login_failed``, ``api_key``, ``webhook``).
    :param model: the model concerned, as a class or its name (``"Customer"``).
    :param object_id: that row's id.
    :param merchant_id: the merchant the row concerns (``None``: platform-level); merchant
        admins see the rows of their merchant.
    :param changes: ``{field: [old, new]}`` (or any JSON-able details); secret-named keys
        are masked here, whatever the caller passed. Never pass erased values.
    :param actor: the staff user who acted; defaults to the request's logged-in user
        (``None`` on the command line).
    :param actor_email: the email to record when there is no actor (a failed login's typed
        email); defaults to the actor's.
    :param client_address: defaults to ``request.remote_addr`` (after the trusted proxies,
        ``TRUSTED_PROXY_COUNT``); ``None`` outside a request.
    """
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    if client_address is None and has_request_context():
        client_address = request.remote_addr
    model_name = model.__name__ if isinstance(model, type) else model
    row = AuditLog(
        action=str(action),
        actor_id=actor.id if actor is not None else None,
        actor_email=(actor_email or (actor.email if actor is not None else None) or None),
        actor_role=str(actor.role) if actor is not None else None,
        client_address=(client_address or "")[:45] or None,
        merchant_id=merchant_id,
        model=model_name,
        object_id=None if object_id is None else str(object_id)[:64],
        changes=mask_changes(changes) if changes else None,
    )
    if row.actor_email:
        row.actor_email = row.actor_email[:254]
    db.session.add(row)
    db.session.flush()
    return row


def redact_audit_values(model: str, object_id: int | str) -> int:
    """Replace every recorded value of one row's audit entries by ``***`` (an erasure).

    The entries stay (who did what, when); the values go. The one change to audit rows the
    database allows: on PostgreSQL the trigger lets it through for this transaction only.
    Returns the number of entries redacted.
    """
    found = db.session.execute(
        select(AuditLog.id, AuditLog.changes).where(
            AuditLog.model == model, AuditLog.object_id == str(object_id)
        )
    ).all()
    rows: list[tuple[int, dict[str, Any]]] = [(i, changes) for i, changes in found if changes]
    if not rows:
        return 0
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if postgres:
        db.session.execute(select(func.set_config("loyalty.audit_redaction", "on", True)))
    for row_id, changes in rows:
        redacted = {key: _redacted(value) for key, value in changes.items()}
        db.session.execute(update(AuditLog).where(AuditLog.id == row_id).values(changes=redacted))
    if postgres:
        db.session.execute(select(func.set_config("loyalty.audit_redaction", "off", True)))
    return len(rows)


def _redacted(value: Any) -> Any:
    if isinstance(value, list):
        return [None if v is None else MASK for v in value]
    return None if value is None else MASK


# --- the console's old → new values ---------------------------------------------------------


def start_tracking() -> None:
    """From now on, each flush of this session keeps the old → new values it writes."""
    db.session.info[_TRACK_KEY] = True


def changes_of(obj: Any) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` of ``obj`` since tracking started: flushed and pending changes."""
    history: dict[Any, dict[str, list[Any]]] = db.session.info.get(_HISTORY_KEY, {})
    state = sa_inspect(obj)
    merged = {key: list(pair) for key, pair in history.get(state, {}).items()}
    _merge(merged, _pending_changes(state))
    return {key: pair for key, pair in merged.items() if pair[0] != pair[1]}


def snapshot(obj: Any, *, created: bool) -> dict[str, list[Any]]:
    """Every non-empty column of ``obj``: ``[None, value]`` if created, ``[value, None]`` if
    deleted."""
    state = sa_inspect(obj)
    values: dict[str, list[Any]] = {}
    for attr in state.mapper.column_attrs:
        value = _plain(getattr(obj, attr.key))
        if value is None or value == "":
            continue
        values[attr.key] = [None, value] if created else [value, None]
    return values


def _pending_changes(state: Any) -> dict[str, list[Any]]:
    changes: dict[str, list[Any]] = {}
    for attr in state.mapper.column_attrs:
        hist = state.attrs[attr.key].history
        if hist.added or hist.deleted:
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            changes[attr.key] = [_plain(old), _plain(new)]
    for rel in state.mapper.relationships:
        hist = state.attrs[rel.key].history
        if not hist.has_changes():
            continue
        if rel.uselist:
            before = sorted(str(v) for v in [*hist.unchanged, *hist.deleted])
            after = sorted(str(v) for v in [*hist.unchanged, *hist.added])
            changes[rel.key] = [before, after]
        else:
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            changes[rel.key] = [_plain(old), _plain(new)]
    return changes


def _merge(into: dict[str, list[Any]], more: Mapping[str, list[Any]]) -> None:
    """Keep the first old value and the last new one of each field."""
    for key, (old, new) in more.items():
        if key in into:
            into[key][1] = new
        else:
            into[key] = [old, new]


@event.listens_for(Session, "before_flush")
def _keep_history(session: Session, flush_context: Any, instances: Any) -> None:
    if not session.info.get(_TRACK_KEY):
        return
    history = session.info.setdefault(_HISTORY_KEY, {})
    for obj in list(session.dirty):
        if isinstance(obj, AuditLog):
            continue
        state = sa_inspect(obj)
        pending = _pending_changes(state)
        if pending:
            _merge(history.setdefault(state, {}), pending)


def _plain(value: Any) -> Any:
    """A JSON-able form of a column value (a related row: its text)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes):
        return MASK
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)

"""The audit log table: one append-only row per staff action.

The row copies who acted (id, email and role at that time), so it keeps its meaning after the
staff user changes or is deleted; ``actor_id`` and ``merchant_id`` are therefore plain
integers, not foreign keys (a cascade or ``SET NULL`` would have to change audit rows).

Append-only: the mapper refuses to update or delete a row (both databases), and on
PostgreSQL a trigger refuses ``UPDATE`` and ``DELETE`` whatever the client. The one
exception is :func:`platform_core.audit.services.redact_audit_values` (a customer's erasure),
which sets ``loyalty.audit_redaction`` for its transaction.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import DDL, JSON, DateTime, Index, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from platform_core.extensions import Model
from platform_core.i18n_lazy import _l
from platform_core.models_base import utcnow


class AuditAction(enum.StrEnum):
    """The actions the product records. ``record_audit`` accepts these values."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    TERMINAL = "terminal"
    EXPORT = "export"
    ERASURE = "erasure"
    CONSENT = "consent"
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    API_KEY = "api_key"
    WEBHOOK = "webhook"
    #: A CSV import of customers and cards (one row per import, with its counts).
    IMPORT = "import"

    @property
    def label(self) -> str:
        return str(ACTION_LABELS[self])


ACTION_LABELS = {
    AuditAction.CREATE: _l("Created"),
    AuditAction.UPDATE: _l("Changed"),
    AuditAction.DELETE: _l("Deleted"),
    AuditAction.TERMINAL: _l("Terminal operation"),
    AuditAction.EXPORT: _l("Data export"),
    AuditAction.ERASURE: _l("Erasure"),
    AuditAction.CONSENT: _l("Consent change"),
    AuditAction.LOGIN: _l("Login"),
    AuditAction.LOGIN_FAILED: _l("Failed login"),
    AuditAction.API_KEY: _l("API key"),
    AuditAction.WEBHOOK: _l("Webhook endpoint"),
    AuditAction.IMPORT: _l("Card import"),
}


class AuditLog(Model):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_merchant_id_id", "merchant_id", "id"),
        Index("ix_audit_log_model_object", "model", "object_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: When it happened (UTC).
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    #: The staff user who acted; ``None`` for the command line and anonymous requests.
    actor_id: Mapped[int | None] = mapped_column(Integer)
    #: The actor's email at that time (for a failed login: the email typed).
    actor_email: Mapped[str | None] = mapped_column(String(254))
    #: The actor's role at that time.
    actor_role: Mapped[str | None] = mapped_column(String(20))
    #: The client address as the app sees it (after the trusted proxies).
    client_address: Mapped[str | None] = mapped_column(String(45))
    #: The merchant the row concerns; ``None`` for platform-level rows.
    merchant_id: Mapped[int | None] = mapped_column(Integer)
    #: One of :class:`AuditAction` (stored as text).
    action: Mapped[str] = mapped_column(String(20), index=True)
    #: The model's class name (``Customer``), if the action concerns a row.
    model: Mapped[str | None] = mapped_column(String(64))
    #: That row's id, as text.
    object_id: Mapped[str | None] = mapped_column(String(64))
    #: ``{field: [old, new]}``, secrets masked; or the operation's details.
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    @property
    def action_label(self) -> str:
        try:
            return AuditAction(self.action).label
        except ValueError:
            return self.action

    def __str__(self) -> str:
        return f"{self.action} {self.model or ''} {self.object_id or ''}".strip()


#: PostgreSQL refuses to change or remove audit rows, whatever the client (also built by
#: ``create_all`` for the tests; the migration creates the same).
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('loyalty.audit_redaction', true) = 'on' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION USING MESSAGE = 'audit_log is append-only, ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege';
END
$$
"""
PG_TRIGGER = """
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
"""

for _statement in (PG_FUNCTION, PG_TRIGGER):
    _ddl = DDL(_statement)  # type: ignore[no-untyped-call]
    event.listen(AuditLog.__table__, "after_create", _ddl.execute_if(dialect="postgresql"))


class AuditLogIsAppendOnly(RuntimeError):
    pass


@event.listens_for(AuditLog, "before_update")
def _refuse_update(mapper: Any, connection: Any, target: AuditLog) -> None:
    raise AuditLogIsAppendOnly("audit_log rows cannot be changed")


@event.listens_for(AuditLog, "before_delete")
def _refuse_delete(mapper: Any, connection: Any, target: AuditLog) -> None:
    raise AuditLogIsAppendOnly("audit_log rows cannot be deleted")

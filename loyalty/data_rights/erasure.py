"""``erase_customer``: replace a customer's personal data everywhere, keep the ledger.

What changes (all in the caller's transaction, flushed, never committed):

- the customer: name, email (``erased-<id>@erased.invalid``, unique and never routable),
  phone and birthday replaced, ``erased_at`` set, marketing consent withdrawn (a consent row
  with the customer id only); the consent history stays as it is (nothing in it identifies
  the person beyond the customer id);
- the cards: deactivated, and their Google Wallet objects synced as ``EXPIRED`` (the sync
  task is queued after the commit);
- the ledger: amounts, balances and totals stay (``verify-ledger`` stays clean); notes that
  quote the customer are scrubbed;
- the email log: recipients, subjects, bodies and template variables removed; emails not
  sent yet are not sent;
- the suppression list: the address is removed;
- webhook events (delivered or not) and the stored answers of the merchant API: the
  customer's values in their JSON are replaced, and the stored request fingerprints dropped;
- task runs: the address is removed from their summaries and errors;
- with the file mail backend, the ``.eml`` copies of their emails are deleted after the commit.

A ``customer.erased`` webhook event (the customer id and card numbers only) is emitted, and
the erasure is recorded for the audit log by :func:`loyalty.data_rights.audit.audit`,
without the erased values.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import delete, select, update

from loyalty.data_rights.audit import audit
from loyalty.data_rights.holdings import (
    Identity,
    email_log_clause,
    idempotency_clause,
    suppression_clause,
    task_run_clause,
    webhook_event_clause,
)
from loyalty.merchant_api.models import IdempotencyRecord
from loyalty.models import LoyaltyCard, LoyaltyTransaction
from loyalty.wallet.service import mark_for_sync
from loyalty.webhooks.events import emit
from loyalty.webhooks.models import WebhookEvent
from messaging.models import EmailLog, EmailStatus, EmailSuppression
from platform_core import db as dbmod
from platform_core.customers.consent import record_consent
from platform_core.customers.models import ConsentPurpose, ConsentSource, Customer
from platform_core.extensions import db
from platform_core.models_base import utcnow
from platform_core.staff.models import StaffUser
from platform_core.task_runs.models import TaskRun

log = logging.getLogger(__name__)

ERASED_DOMAIN = "erased.invalid"
ERASED_FIRST_NAME = "Erased"
ERASED_LAST_NAME = "Customer"
#: What replaces a quoted value in free text (ledger notes, errors).
REDACTED = "[erased]"
_ERASURE_WORDING = "erasure of the customer's personal data"


def erased_email(customer_id: int) -> str:
    """The placeholder address of an erased customer: unique per id, never deliverable
    (``.invalid`` is reserved by RFC 2606)."""
    return f"erased-{customer_id}@{ERASED_DOMAIN}"


class AlreadyErased(ValueError):
    """The customer was erased before."""


@dataclass
class ErasureReport:
    customer_id: int
    cards: int = 0
    email_logs: int = 0
    suppressions: int = 0
    webhook_events: int = 0
    idempotency_records: int = 0
    task_runs: int = 0


class _Scrubber:
    """Replaces the customer's values in free text and in JSON copies."""

    def __init__(self, who: Identity, new_email: str) -> None:
        self.who = who
        self.new_email = new_email
        self.by_key = {
            "email": (who.email, new_email),
            "first_name": (who.first_name, ERASED_FIRST_NAME),
            "last_name": (who.last_name, ERASED_LAST_NAME),
            "phone": (who.phone, None),
        }
        full = f"{who.first_name} {who.last_name}".strip()
        quoted = [who.email, full, who.phone or ""]
        self._pattern = re.compile(
            "|".join(re.escape(v) for v in sorted({q for q in quoted if q}, key=len, reverse=True)),
            re.IGNORECASE,
        )

    def text(self, value: str | None) -> str | None:
        """``value`` with the address, the full name and the phone number replaced."""
        if not value:
            return value
        return self._pattern.sub(
            lambda m: self.new_email if m.group(0).lower() == self.who.email else REDACTED,
            value,
        )

    def _walk(self, value: Any) -> Any:
        if isinstance(value, dict):
            is_them = str(value.get("email", "")).lower() == self.who.email
            out = {}
            for key, item in value.items():
                if is_them and key in self.by_key:
                    out[key] = self.by_key[key][1]
                elif is_them and key == "birthday":
                    out[key] = None
                else:
                    out[key] = self._walk(item)
            return out
        if isinstance(value, list):
            return [self._walk(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def json_text(self, value: str | None) -> str | None:
        """A JSON document with the customer's values replaced (any other text: as text)."""
        if not value:
            return value
        try:
            document = json.loads(value)
        except ValueError:
            return self.text(value)
        return json.dumps(self._walk(document), separators=(",", ":"))


def _scrub_email_log(who: Identity, scrub: _Scrubber) -> int:
    rows = list(db.session.scalars(select(EmailLog).where(email_log_clause(who))))
    for row in rows:
        row.recipient = scrub.new_email
        row.subject = None
        row.body_html = None
        row.body_text = None
        row.context_json = "{}"
        row.last_error = scrub.text(row.last_error)
        if row.status in (EmailStatus.QUEUED, EmailStatus.SENDING):
            # Never send it: the send task leaves a row that is not queued alone.
            row.status = EmailStatus.SUPPRESSED
            row.claim_token = None
            row.lease_expires_at = None
    return len(rows)


def _scrub_webhook_events(who: Identity, scrub: _Scrubber) -> int:
    events = list(db.session.scalars(select(WebhookEvent).where(webhook_event_clause(who))))
    for event in events:
        event.payload = scrub.json_text(event.payload) or "{}"
    return len(events)


def _scrub_idempotency(who: Identity, scrub: _Scrubber) -> int:
    records = list(db.session.scalars(select(IdempotencyRecord).where(idempotency_clause(who))))
    for record in records:
        record.response_body = scrub.json_text(record.response_body)
        # The fingerprint hashes the request body, which may hold the old address: drop it
        # (a replay of that key now answers 422 rather than the stored answer).
        record.request_hash = hashlib.sha256(f"erased:{record.id}".encode()).hexdigest()
    return len(records)


def _scrub_task_runs(who: Identity, scrub: _Scrubber) -> int:
    runs = list(db.session.scalars(select(TaskRun).where(task_run_clause(who))))
    for run in runs:
        run.summary = scrub.text(run.summary) or ""
        run.error = scrub.text(run.error)
    return len(runs)


def _scrub_ledger_notes(who: Identity, scrub: _Scrubber) -> None:
    if not who.card_ids:
        return
    rows = db.session.scalars(
        select(LoyaltyTransaction).where(
            LoyaltyTransaction.card_id.in_(who.card_ids), LoyaltyTransaction.note != ""
        )
    )
    for row in rows:
        row.note = scrub.text(row.note) or ""


def _delete_outbox_files(directory: str, address: str) -> None:
    """After the commit, with the file mail backend: delete the ``.eml`` files sent to
    ``address`` (a development and test backend, but its files are copies all the same)."""
    folder = Path(directory)
    if not folder.is_dir():
        return
    needle = address.encode()
    for path in folder.glob("*.eml"):
        try:
            if needle in path.read_bytes().lower():
                path.unlink()
        except OSError:
            log.warning("could not delete %s", path)


def erase_customer(
    customer: Customer, *, staff_user: StaffUser | None = None, reason: str = "request"
) -> ErasureReport:
    """Anonymize ``customer`` everywhere (see the module docstring) and flush.

    :param staff_user: who asked (``None``: the command line or the retention job).
    :param reason: ``request`` (the customer asked) or ``retention`` (inactive too long).
    :raises AlreadyErased: when the customer was erased before.
    """
    if customer.erased_at is not None:
        raise AlreadyErased(str(customer.id))
    who = Identity.of(customer)
    new_email = erased_email(customer.id)
    scrub = _Scrubber(who, new_email)
    report = ErasureReport(customer_id=customer.id, cards=len(who.card_ids))

    report.email_logs = _scrub_email_log(who, scrub)
    report.suppressions = (
        db.session.execute(delete(EmailSuppression).where(suppression_clause(who))).rowcount or 0  # type: ignore[attr-defined]
    )
    report.webhook_events = _scrub_webhook_events(who, scrub)
    report.idempotency_records = _scrub_idempotency(who, scrub)
    report.task_runs = _scrub_task_runs(who, scrub)
    _scrub_ledger_notes(who, scrub)

    record_consent(
        customer,
        ConsentPurpose.MARKETING_EMAIL,
        granted=False,
        source=ConsentSource.ERASURE,
        locale=customer.preferred_locale,
        wording=_ERASURE_WORDING,
        staff_user_id=staff_user.id if staff_user is not None else None,
    )
    customer.email = new_email
    customer.first_name = ERASED_FIRST_NAME
    customer.last_name = ERASED_LAST_NAME
    customer.phone = None
    customer.birthday = None
    customer.marketing_consent = False
    customer.erased_at = utcnow()
    db.session.flush()

    cards = list(db.session.scalars(select(LoyaltyCard).where(LoyaltyCard.id.in_(who.card_ids))))
    if cards:
        db.session.execute(
            update(LoyaltyCard)
            .where(LoyaltyCard.id.in_(who.card_ids))
            .values(is_active=False)
            .execution_options(synchronize_session="fetch")
        )
    for card in cards:
        mark_for_sync(card)  # the pass becomes EXPIRED at Google, after the commit

    emit(
        customer.merchant_id,
        "customer.erased",
        card_id=who.card_ids[0] if who.card_ids else None,
        data={
            "customer": {"id": customer.id},
            "cards": who.card_numbers,
            "reason": reason,
            "erased_at": customer.erased_at.isoformat(),
        },
    )
    if current_app.config.get("MAIL_BACKEND") == "file":
        dbmod.after_commit(
            _delete_outbox_files, str(current_app.config.get("MAIL_OUTBOX_DIR", "")), who.email
        )
    audit(
        "customer.erased",
        customer_id=customer.id,
        merchant_id=customer.merchant_id,
        staff_user_id=staff_user.id if staff_user is not None else None,
        reason=reason,
        cards=report.cards,
        email_logs=report.email_logs,
    )
    db.session.flush()
    return report

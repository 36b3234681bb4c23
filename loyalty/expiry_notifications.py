"""The emails of the expiry and warning jobs, queued a chunk at a time.

Inside a chunk's transaction (while its cards are locked) only the log rows go in, with the
raw facts of each email (card, points, date) under :data:`PENDING_KEY` and the recipient's
address and locale, read by one joined query. After the chunk commits, one task per chunk
(:func:`loyalty.tasks.prepare_expiry_emails_task`) turns the facts into the template's
variables, formatted in the recipient's locale, with the signed card link and the wallet
link, then enqueues the sends. Formatting and link signing therefore never extend a row
lock; a run killed between the two steps leaves rows that the next run prepares
(:func:`requeue_unprepared`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, cast

from flask_babel import force_locale, format_date, format_decimal
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import joinedload

from loyalty.card_links import card_page_url
from loyalty.models import LoyaltyCard
from loyalty.notifications import _COLOR, _DEFAULT_COLOR, _LOCALES, _format_card_number, _wallet_url
from loyalty.services.program_texts import program_texts
from messaging.bulk import (
    QueuedEmail,
    enqueue_sends_after_commit,
    insert_queued_emails,
    release_for_sending,
)
from messaging.models import EmailLog, EmailStatus
from platform_core import db as dbmod
from platform_core.customers.models import Customer
from platform_core.extensions import db
from platform_core.tenancy.models import Merchant, Store

log = logging.getLogger(__name__)

#: How long the outbox sweeper leaves a row holding raw facts alone: it is completed by its
#: chunk's task right after the commit, or by the next run (``requeue_unprepared``) if the
#: process died in between; sent unprepared it would reach the customer with no variables.
UNPREPARED_HOLD = timedelta(days=2)

EXPIRED = "loyalty_points_expired"
EXPIRING = "loyalty_points_expiring"
#: context_json of a row whose variables are not formatted yet holds only this key.
PENDING_KEY = "_pending"
_PENDING_PREFIX = '{"' + PENDING_KEY + '"'


def id_in(column: Any, ids: list[int]) -> Any:
    from loyalty.services.expiry import id_in as _id_in

    return _id_in(column, ids)


def _locale(*candidates: str | None) -> str:
    return next((c for c in candidates if c in _LOCALES), "en")


def queue_chunk_emails(code: str, facts: dict[int, dict[str, Any]]) -> list[int]:
    """Insert the log rows of one chunk's emails; the caller commits.

    :param code: :data:`EXPIRED` or :data:`EXPIRING`.
    :param facts: per card id, the raw values of its email (``points``, ``expiry_date``).
    :returns: the rows' ids; pass them to :func:`prepare_after_commit`.
    """
    if not facts:
        return []
    rows = db.session.execute(
        select(
            LoyaltyCard.id,
            LoyaltyCard.merchant_id,
            LoyaltyCard.enrolled_at_store_id,
            Customer.email,
            Customer.preferred_locale,
            Store.default_locale.label("store_locale"),
            Merchant.default_locale.label("merchant_locale"),
        )
        .join(Customer, Customer.id == LoyaltyCard.customer_id)
        .join(Merchant, Merchant.id == LoyaltyCard.merchant_id)
        .outerjoin(Store, Store.id == LoyaltyCard.enrolled_at_store_id)
        .where(id_in(LoyaltyCard.id, list(facts)))
        .order_by(LoyaltyCard.id)
    ).all()
    emails = [
        QueuedEmail(
            code=code,
            recipient=row.email,
            locale=_locale(row.preferred_locale, row.store_locale, row.merchant_locale),
            context={PENDING_KEY: {"card_id": row.id, **facts[row.id]}},
            merchant_id=row.merchant_id,
            store_id=row.enrolled_at_store_id,
        )
        for row in rows
    ]
    return insert_queued_emails(emails, hold=UNPREPARED_HOLD)


def _enqueue_prepare(email_log_ids: list[int]) -> None:
    from loyalty.tasks import prepare_expiry_emails_task

    prepare_expiry_emails_task(email_log_ids)


def prepare_after_commit(email_log_ids: Sequence[int]) -> None:
    """Once the chunk commits, enqueue one task that prepares and sends its emails."""
    if email_log_ids:
        dbmod.after_commit(_enqueue_prepare, list(email_log_ids))


def _context(card: LoyaltyCard, locale: str, facts: dict[str, Any]) -> dict[str, str]:
    customer, program, merchant = card.customer, card.program, card.merchant
    store = card.enrolled_at_store
    with force_locale(locale):
        context = {
            "customer_first_name": customer.first_name,
            "customer_name": customer.full_name,
            "merchant_name": merchant.name,
            "store_name": store.name if store is not None else merchant.name,
            "program_name": program_texts(program, locale).name,
            "card_number": _format_card_number(card.card_number),
            "points_balance": format_decimal(card.points_balance),
            "stamp_count": format_decimal(card.stamp_count),
            "card_url": card_page_url(card),
            "wallet_url": _wallet_url(card),
            "brand_color": program.brand_color
            if _COLOR.match(program.brand_color or "")
            else _DEFAULT_COLOR,
            "points": format_decimal(int(facts["points"])),
        }
        if "expiry_date" in facts:
            expires_on = date.fromisoformat(facts["expiry_date"])
            context["expiry_date"] = format_date(expires_on, format="long")
    return context


def prepare_emails(email_log_ids: Sequence[int]) -> list[int]:
    """Format the variables of queued rows still holding raw facts, and enqueue their sends
    after the caller's commit. Rows already prepared (by a concurrent or earlier call) are
    left alone, so preparing twice never sends twice.

    :returns: the ids prepared by this call.
    """
    if not email_log_ids:
        return []
    table = cast(Table, EmailLog.__table__)
    rows = db.session.execute(
        select(table.c.id, table.c.locale, table.c.context_json)
        .where(
            table.c.id.in_(list(email_log_ids)),
            table.c.status == EmailStatus.QUEUED,
            table.c.context_json.startswith(_PENDING_PREFIX, autoescape=True),
        )
        .order_by(table.c.id)
        # Two preparers (a task and a rerun's sweep) never take the same row.
        .with_for_update(skip_locked=True)
    ).all()
    if not rows:
        return []
    facts = {row.id: json.loads(row.context_json)[PENDING_KEY] for row in rows}
    cards = {
        card.id: card
        for card in db.session.scalars(
            select(LoyaltyCard)
            .where(LoyaltyCard.id.in_({f["card_id"] for f in facts.values()}))
            .options(
                joinedload(LoyaltyCard.customer),
                joinedload(LoyaltyCard.program),
                joinedload(LoyaltyCard.merchant),
                joinedload(LoyaltyCard.enrolled_at_store),
            )
        ).unique()
    }
    updates: list[dict[str, Any]] = []
    gone: list[int] = []
    for row in rows:
        card = cards.get(facts[row.id]["card_id"])
        if card is None:
            gone.append(row.id)
            continue
        context = _context(card, row.locale, facts[row.id])
        updates.append(
            {"b_id": row.id, "b_context": json.dumps(context, ensure_ascii=False, sort_keys=True)}
        )
    if updates:
        db.session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(context_json=bindparam("b_context")),
            updates,
            execution_options={"synchronize_session": False},
        )
    if gone:
        log.warning("expiry emails %s not sent: their cards no longer exist", gone)
        db.session.execute(
            update(table)
            .where(table.c.id.in_(gone))
            .values(status=EmailStatus.FAILED, last_error="card deleted before sending"),
            execution_options={"synchronize_session": False},
        )
    prepared = [u["b_id"] for u in updates]
    release_for_sending(prepared)
    enqueue_sends_after_commit(prepared)
    return prepared


def requeue_unprepared(chunk_size: int = 500) -> int:
    """Enqueue the preparation of rows left with raw facts (a run killed after a chunk's
    commit, before its task was enqueued). Safe when their task is only late: preparing
    twice does nothing the second time.

    :returns: how many rows were found.
    """
    table = cast(Table, EmailLog.__table__)
    found = 0
    after_id = 0
    while True:
        ids = list(
            db.session.scalars(
                select(table.c.id)
                .where(
                    table.c.status == EmailStatus.QUEUED,
                    table.c.code.in_([EXPIRED, EXPIRING]),
                    table.c.context_json.startswith(_PENDING_PREFIX, autoescape=True),
                    table.c.id > after_id,
                )
                .order_by(table.c.id)
                .limit(chunk_size)
            )
        )
        if not ids:
            return found
        found += len(ids)
        after_id = ids[-1]
        prepare_after_commit(ids)

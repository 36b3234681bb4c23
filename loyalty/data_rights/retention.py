"""Retention: a merchant's customers with no activity for N months are anonymized.

Each merchant chooses N (``MerchantLoyaltySettings.retention_inactive_months``, empty by
default: never). A customer's last activity is the latest of their creation, the enrollment
of any of their cards and any ledger row of those cards. Inactive customers are found in
keyset chunks (``id > :last ORDER BY id LIMIT n``; on PostgreSQL ``FOR UPDATE SKIP
LOCKED``, so two runs at once share the work instead of doing it twice), erased with
:func:`~loyalty.data_rights.erasure.erase_customer`, and each chunk is committed by the
caller's ``commit`` before the next is read.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, exists, func, select

from loyalty.data_rights.erasure import AlreadyErased, erase_customer
from loyalty.models import LoyaltyCard, LoyaltyTransaction, MerchantLoyaltySettings
from platform_core.customers.models import Customer
from platform_core.extensions import db
from platform_core.models_base import utcnow
from platform_core.tenancy.models import Merchant

#: Customers erased per transaction (an erasure is a dozen statements).
DEFAULT_CHUNK_SIZE = 100


def months_before(moment: datetime, months: int) -> datetime:
    """``moment`` minus ``months`` calendar months (the 31st becomes the month's last day)."""
    years, month0 = divmod(moment.month - 1 - months, 12)
    year, month = moment.year + years, month0 + 1
    return moment.replace(
        year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1])
    )


@dataclass
class MerchantRetention:
    merchant_id: int
    slug: str
    months: int
    cutoff: datetime
    customers: int = 0


@dataclass
class RetentionReport:
    dry_run: bool
    merchants: list[MerchantRetention] = field(default_factory=list)
    chunks: int = 0

    @property
    def customers(self) -> int:
        return sum(m.customers for m in self.merchants)


def _inactive(merchant_id: int, cutoff: datetime) -> Select[int]:
    """Ids of the merchant's customers, not erased, without activity since ``cutoff``."""
    recent_card = exists().where(
        LoyaltyCard.customer_id == Customer.id, LoyaltyCard.created_at >= cutoff
    )
    recent_ledger = exists().where(
        LoyaltyCard.customer_id == Customer.id,
        LoyaltyTransaction.card_id == LoyaltyCard.id,
        LoyaltyTransaction.created_at >= cutoff,
    )
    return select(Customer.id).where(
        Customer.merchant_id == merchant_id,
        Customer.erased_at.is_(None),
        Customer.created_at < cutoff,
        ~recent_card,
        ~recent_ledger,
    )


def retention_merchants(now: datetime | None = None) -> list[MerchantRetention]:
    """The merchants whose retention is on, with their cutoff, by slug."""
    moment = now or utcnow()
    rows = db.session.execute(
        select(Merchant.id, Merchant.slug, MerchantLoyaltySettings.retention_inactive_months)
        .join(MerchantLoyaltySettings, MerchantLoyaltySettings.merchant_id == Merchant.id)
        .where(MerchantLoyaltySettings.retention_inactive_months.is_not(None))
        .order_by(Merchant.slug)
    )
    return [
        MerchantRetention(
            row.id,
            row.slug,
            row.retention_inactive_months,
            months_before(moment, row.retention_inactive_months),
        )
        for row in rows
    ]


def purge_inactive_customers(
    *,
    dry_run: bool = False,
    commit: Callable[[], None] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    merchant_id: int | None = None,
    now: datetime | None = None,
) -> RetentionReport:
    """Anonymize (or, with ``dry_run``, count) every inactive customer of the merchants
    whose retention is on.

    :param commit: called after each chunk (the job's commit point); a dry run changes
        nothing and never calls it.
    :param merchant_id: only this merchant.
    """
    report = RetentionReport(dry_run=dry_run)
    for merchant in retention_merchants(now):
        if merchant_id is not None and merchant.merchant_id != merchant_id:
            continue
        report.merchants.append(merchant)
        stmt = _inactive(merchant.merchant_id, merchant.cutoff)
        if dry_run:
            merchant.customers = (
                db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
            )
            continue
        postgres = db.session.get_bind().dialect.name == "postgresql"
        last = 0
        while True:
            chunk = stmt.where(Customer.id > last).order_by(Customer.id).limit(chunk_size)
            if postgres:
                chunk = chunk.with_for_update(skip_locked=True, of=Customer)
            ids = list(db.session.scalars(chunk))
            if not ids:
                break
            for customer in db.session.scalars(select(Customer).where(Customer.id.in_(ids))):
                try:
                    erase_customer(customer, reason="retention")
                except AlreadyErased:
                    continue
                merchant.customers += 1
            report.chunks += 1
            last = ids[-1]
            if commit is not None:
                commit()
    return report

"""Prove the cards' stored balances and totals agree with the ledger.

The card columns are a cache of the ledger's sums; this recomputes them in SQL (one
aggregate query and one window query, whatever the number of cards) and lists every
difference. What each total means:

* ``points_balance``: the sum of all points deltas;
* ``total_points_earned``: earn and welcome-bonus rows, plus positive adjustments;
* ``total_points_redeemed``: redemptions, plus negative adjustments (as positive numbers);
* ``total_points_voided``: the points moved by void rows, in either direction;
* ``total_points_expired``: the points removed by expiry rows;
* stamps: ``stamp_count + stamps_target x stamp_rewards_earned`` equals the stamps added
  (net of voids), ``stamp_rewards_redeemed`` equals the reward rows not voided, and no
  more rewards are redeemed than earned;
* each row's ``points_balance_after`` is the running sum up to that row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, SQLColumnExpression, case, func, select
from sqlalchemy.orm import aliased

from loyalty.models import LoyaltyCard, LoyaltyProgram, LoyaltyTransaction, TransactionType
from platform_core.extensions import db


@dataclass(frozen=True)
class LedgerDifference:
    card_number: str
    #: The card column (or ``points_balance_after of #id``) that disagrees.
    field: str
    #: What the ledger says.
    expected: int
    #: What is stored.
    actual: int

    def __str__(self) -> str:
        return f"{self.card_number}: {self.field} expected {self.expected}, found {self.actual}"


@dataclass
class LedgerReport:
    cards: int = 0
    transactions: int = 0
    differences: list[LedgerDifference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def _sum_where(
    condition: ColumnElement[bool], value: SQLColumnExpression[int] | int
) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def verify_ledger(merchant_id: int | None = None) -> LedgerReport:
    """Compare every card (of one merchant, or all) with its ledger.

    :param merchant_id: limit the check to this merchant's cards.
    :returns: the counts and every difference found (empty when consistent).
    """
    tx = LoyaltyTransaction
    voided = aliased(LoyaltyTransaction)
    delta = tx.points_delta
    adjustment = tx.type == TransactionType.ADJUSTMENT
    aggregate = (
        select(
            tx.card_id.label("card_id"),
            func.count(tx.id).label("rows"),
            func.coalesce(func.sum(delta), 0).label("balance"),
            _sum_where(
                tx.type.in_(
                    [
                        TransactionType.EARN,
                        TransactionType.WELCOME_BONUS,
                        TransactionType.OPENING_BALANCE,
                        TransactionType.BIRTHDAY_BONUS,
                    ]
                )
                | (adjustment & (delta > 0)),
                delta,
            ).label("earned"),
            _sum_where(
                (tx.type == TransactionType.REDEEM) | (adjustment & (delta < 0)), -delta
            ).label("redeemed"),
            _sum_where(tx.type == TransactionType.VOID, func.abs(delta)).label("voided"),
            _sum_where(tx.type == TransactionType.EXPIRY, -delta).label("expired"),
            func.coalesce(func.sum(tx.stamps_delta), 0).label("stamps"),
            _sum_where(tx.type == TransactionType.STAMP_REWARD, 1).label("rewards_taken"),
            _sum_where(voided.type == TransactionType.STAMP_REWARD, 1).label("rewards_voided"),
        )
        .outerjoin(voided, voided.id == tx.voided_transaction_id)
        .group_by(tx.card_id)
    )
    if merchant_id is not None:
        # Sum only that merchant's rows: without this, the check of one merchant aggregated
        # the whole ledger, and a plan made on stale statistics (right after a bulk load)
        # could run that aggregate again for every card.
        aggregate = aggregate.where(tx.merchant_id == merchant_id)
    sums = aggregate.subquery()
    stmt = (
        select(LoyaltyCard, LoyaltyProgram.stamps_target, sums)
        .join(LoyaltyProgram, LoyaltyProgram.id == LoyaltyCard.program_id)
        .outerjoin(sums, sums.c.card_id == LoyaltyCard.id)
        .order_by(LoyaltyCard.id)
        # Compare with what is stored, not with cards this session already holds.
        .execution_options(populate_existing=True)
    )
    if merchant_id is not None:
        stmt = stmt.where(LoyaltyCard.merchant_id == merchant_id)

    report = LedgerReport()
    for row in db.session.execute(stmt):
        card: LoyaltyCard = row[0]
        report.cards += 1
        report.transactions += row.rows or 0
        _compare_card(card, row, report.differences)
    report.differences.extend(_running_balance_differences(merchant_id))
    return report


def _compare_card(card: LoyaltyCard, row: object, out: list[LedgerDifference]) -> None:
    def value(name: str) -> int:
        return int(getattr(row, name) or 0)

    expected = {
        "points_balance": value("balance"),
        "total_points_earned": value("earned"),
        "total_points_redeemed": value("redeemed"),
        "total_points_voided": value("voided"),
        "total_points_expired": value("expired"),
        "stamp_rewards_redeemed": value("rewards_taken") - value("rewards_voided"),
    }
    for name, ledger_value in expected.items():
        stored = getattr(card, name)
        if stored != ledger_value:
            out.append(LedgerDifference(card.card_number, name, ledger_value, stored))
    target = getattr(row, "stamps_target", None) or 0
    stamps_from_card = card.stamp_count + target * card.stamp_rewards_earned
    if stamps_from_card != value("stamps"):
        out.append(
            LedgerDifference(
                card.card_number,
                "stamps (count + target x rewards)",
                value("stamps"),
                stamps_from_card,
            )
        )
    if target and not 0 <= card.stamp_count < target:
        out.append(
            LedgerDifference(
                card.card_number,
                "stamp_count (0 to target - 1)",
                card.stamp_count % target,
                card.stamp_count,
            )
        )
    if card.stamp_rewards_redeemed > card.stamp_rewards_earned:
        out.append(
            LedgerDifference(
                card.card_number,
                "stamp_rewards_redeemed (<= earned)",
                card.stamp_rewards_earned,
                card.stamp_rewards_redeemed,
            )
        )


def _running_balance_differences(merchant_id: int | None) -> list[LedgerDifference]:
    tx = LoyaltyTransaction
    running = select(
        tx.id.label("id"),
        tx.card_id.label("card_id"),
        tx.points_balance_after.label("after"),
        func.sum(tx.points_delta).over(partition_by=tx.card_id, order_by=tx.id).label("running"),
    )
    if merchant_id is not None:
        running = running.where(tx.merchant_id == merchant_id)
    sub = running.subquery()
    stmt = (
        select(LoyaltyCard.card_number, sub.c.id, sub.c.running, sub.c.after)
        .join(LoyaltyCard, LoyaltyCard.id == sub.c.card_id)
        .where(sub.c.running != sub.c.after)
        .order_by(sub.c.card_id, sub.c.id)
    )
    return [
        LedgerDifference(number, f"points_balance_after of #{row_id}", int(expected), int(actual))
        for number, row_id, expected, actual in db.session.execute(stmt)
    ]

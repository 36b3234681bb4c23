"""The append-only ledger: every change of a card's points or stamps is one row here.

Each operation locks the card row (``SELECT ... FOR UPDATE``; SQLite serialises writers
anyway), checks the merchant's rules, writes exactly one :class:`LoyaltyTransaction` carrying
the running balance, updates the card's totals and flushes. Nothing here commits.

An ``idempotency_key`` (sent by terminals and API clients that may retry) makes a repeated
call return the first call's row and change nothing, also when two calls race: the unique
``(card_id, idempotency_key)`` constraint decides and a savepoint keeps the caller's
transaction usable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from loyalty import errors
from loyalty.models import (
    LoyaltyCard,
    LoyaltyTransaction,
    MerchantLoyaltySettings,
    TransactionType,
)
from loyalty.notifications import loyalty_notifications
from loyalty.services.amounts import check_amount
from loyalty.services.programs import check_void_pin, get_settings
from loyalty.wallet.service import mark_for_sync
from loyalty.webhooks.events import emit_for_transaction
from platform_core.attempts import FailureLimit
from platform_core.extensions import db
from platform_core.models_base import utcnow
from platform_core.staff.models import StaffRole, StaffUser
from platform_core.tenancy.models import Store

log = logging.getLogger(__name__)

#: Ledger rows that cannot be voided themselves.
NOT_VOIDABLE = frozenset({TransactionType.VOID, TransactionType.EXPIRY})


# -- permission and rule helpers ----------------------------------------------------------


def check_store_access(staff_user: StaffUser | None, store: Store) -> None:
    """Refuse when ``staff_user`` may not act for ``store``.

    ``None`` stands for the customer themself or the system (public enrollment, jobs).
    Platform admins act anywhere, merchant admins in their merchant's stores, store staff
    in their own stores only.
    """
    if staff_user is None or staff_user.role == StaffRole.PLATFORM_ADMIN:
        return
    if staff_user.merchant_id != store.merchant_id:
        raise errors.store_not_allowed()
    if staff_user.role == StaffRole.STORE_STAFF and store.id not in staff_user.store_ids:
        raise errors.store_not_allowed()


def _check_merchant_access(staff_user: StaffUser, merchant_id: int) -> None:
    # Operations with no store (a void of a store-less row) need merchant-wide rights.
    if staff_user.role == StaffRole.PLATFORM_ADMIN:
        return
    if staff_user.role != StaffRole.MERCHANT_ADMIN or staff_user.merchant_id != merchant_id:
        raise errors.store_not_allowed()


def _check_card_at_store(card: LoyaltyCard, store: Store, staff_user: StaffUser | None) -> None:
    if card.merchant_id != store.merchant_id:
        raise errors.wrong_merchant()
    check_store_access(staff_user, store)
    if not card.is_active:
        raise errors.card_inactive()


def _lock_card(card: LoyaltyCard) -> LoyaltyCard:
    # Reload under a row lock: a concurrent operation may have changed the totals since the
    # caller loaded the card, and computing from stale values would lose its update.
    db.session.refresh(card, with_for_update=True)
    return card


def _find_by_key(card_id: int, key: str | None) -> LoyaltyTransaction | None:
    if not key:
        return None
    return db.session.scalar(
        select(LoyaltyTransaction).where(
            LoyaltyTransaction.card_id == card_id, LoyaltyTransaction.idempotency_key == key
        )
    )


def _as_aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _run(
    card: LoyaltyCard,
    idempotency_key: str | None,
    operation: Callable[[LoyaltyCard], LoyaltyTransaction],
    *,
    savepoint: bool = False,
) -> LoyaltyTransaction:
    """Lock the card, apply ``operation`` once, or return the row already made for the key."""
    existing = _find_by_key(card.id, idempotency_key)
    if existing is not None:
        return existing
    _lock_card(card)
    # Checked again under the lock: the first call may have committed while we waited.
    existing = _find_by_key(card.id, idempotency_key)
    if existing is not None:
        return existing
    if not idempotency_key and not savepoint:
        # No key, no race to lose: the operations check their rules before changing
        # anything, so a refusal leaves the session clean without a savepoint.
        row = operation(card)
        db.session.flush()
        emit_for_transaction(row, card)
        mark_for_sync(card)
        return row
    try:
        with db.session.begin_nested():
            row = operation(card)
            db.session.flush()
            # In the savepoint: a row refused by the unique key leaves no webhook event.
            emit_for_transaction(row, card)
    except IntegrityError:
        existing = _find_by_key(card.id, idempotency_key)
        if existing is None:
            raise
        return existing
    # The pass in the customer's Google Wallet shows the new balance after the commit.
    mark_for_sync(card)
    return row


def add_ledger_row(
    card: LoyaltyCard,
    type_: TransactionType,
    *,
    points_delta: int = 0,
    stamps_delta: int = 0,
    store: Store | None = None,
    staff_user: StaffUser | None = None,
    idempotency_key: str | None = None,
    note: str = "",
    now: datetime | None = None,
    **extra: object,
) -> LoyaltyTransaction:
    """Add the ledger row for a change already applied to ``card``."""
    row = LoyaltyTransaction(
        merchant_id=card.merchant_id,
        card_id=card.id,
        type=type_,
        points_delta=points_delta,
        stamps_delta=stamps_delta,
        points_balance_after=card.points_balance,
        store_id=store.id if store is not None else None,
        staff_user_id=staff_user.id if staff_user is not None else None,
        idempotency_key=idempotency_key or None,
        note=note or "",
        created_at=now or utcnow(),
        **extra,
    )
    if not sa_inspect(card).has_identity:
        # A card not flushed yet (enrollment): through the relationship, one flush inserts
        # the card first and fills in this row's card_id.
        row.card = card
    db.session.add(row)
    return row


def _touch(card: LoyaltyCard, now: datetime | None) -> None:
    card.last_activity_at = now or utcnow()


# -- points ----------------------------------------------------------------------------


def points_for_amount(amount: Decimal, points_per_euro: Decimal) -> int:
    """Points earned for ``amount`` euros, rounded down."""
    return int((Decimal(amount) * Decimal(points_per_euro)).to_integral_value(ROUND_FLOOR))


def credit_welcome_bonus(
    card: LoyaltyCard,
    points: int,
    *,
    store: Store | None,
    now: datetime | None = None,
    new_card: bool = False,
) -> LoyaltyTransaction:
    """Credit the enrollment bonus (called by enrollment; no staff rules apply).

    :param card: the card to credit; at most one bonus per card (key ``welcome-bonus``).
    :param points: the bonus (above 0).
    :param store: where the customer enrolled.
    :param now: the enrollment time (default: now).
    :param new_card: the card was created in the current transaction, flushed or not. No
        other transaction can see it yet, so there is nothing to lock and no earlier bonus
        to look for; a second bonus would still be refused by the unique
        ``(card_id, idempotency_key)``. An unflushed card is inserted with the bonus
        already on it, by the same flush as its ledger row.
    """
    if points <= 0:
        raise errors.invalid_points()

    def apply(card: LoyaltyCard) -> LoyaltyTransaction:
        card.points_balance += points
        card.total_points_earned += points
        _touch(card, now)
        return add_ledger_row(
            card,
            TransactionType.WELCOME_BONUS,
            points_delta=points,
            store=store,
            idempotency_key="welcome-bonus",
            now=now,
        )

    if new_card:
        row = apply(card)
        db.session.flush()
        mark_for_sync(card)
        return row
    return _run(card, "welcome-bonus", apply)


def credit_birthday_bonus(card: LoyaltyCard, points: int, *, year: int) -> LoyaltyTransaction:
    """Credit the birthday bonus of ``year`` (the birthday job; no staff rules apply).

    At most once per card and year: the key ``birthday-bonus-<year>`` makes a second call,
    also a concurrent one from another process, return the first row. It is not customer
    activity: ``last_activity_at`` (expiry, re-engagement) does not move.
    """
    if points <= 0:
        raise errors.invalid_points()
    key = f"birthday-bonus-{year}"

    def apply(card: LoyaltyCard) -> LoyaltyTransaction:
        card.points_balance += points
        card.total_points_earned += points
        return add_ledger_row(
            card, TransactionType.BIRTHDAY_BONUS, points_delta=points, idempotency_key=key
        )

    return _run(card, key, apply)


def earn_points(
    card: LoyaltyCard,
    *,
    store: Store,
    staff_user: StaffUser | None = None,
    amount: Decimal | None = None,
    points: int | None = None,
    idempotency_key: str | None = None,
    note: str = "",
    now: datetime | None = None,
) -> LoyaltyTransaction:
    """Credit points for a purchase (``amount`` x the program's points per euro, rounded
    down) or a given number of ``points``.

    :param card: the customer's card.
    :param store: where the purchase happened.
    :param staff_user: who records it (store staff only for their stores).
    :param amount: the purchase amount in euros; exactly one of ``amount``/``points``.
    :param points: points to credit directly.
    :param idempotency_key: the same key twice for a card returns the first row.
    :param note: free text kept on the row.
    :param now: the operation's time (seeds backdate; default: now).
    :raises LoyaltyError: on any refused rule (``.code`` says which).
    """
    _check_card_at_store(card, store, staff_user)
    program = card.program
    if not program.uses_points:
        raise errors.program_has_no_points()
    if (amount is None) == (points is None):
        raise errors.amount_or_points()
    if amount is not None:
        amount = Decimal(amount)
        check_amount(amount)
        points = points_for_amount(amount, program.points_per_euro)
        if points <= 0:
            raise errors.no_points_for_amount()
    elif points is None or points <= 0:
        raise errors.invalid_points()
    credited = int(points)

    def apply(card: LoyaltyCard) -> LoyaltyTransaction:
        card.points_balance += credited
        card.total_points_earned += credited
        _touch(card, now)
        return add_ledger_row(
            card,
            TransactionType.EARN,
            points_delta=credited,
            store=store,
            staff_user=staff_user,
            idempotency_key=idempotency_key,
            note=note,
            now=now,
            purchase_amount=amount,
        )

    return _run(card, idempotency_key, apply)


def _check_redemption_store(card: LoyaltyCard, store: Store) -> None:
    settings = get_settings(card.merchant_id)
    if (
        not settings.cross_store_redemption
        and card.enrolled_at_store_id is not None
        and card.enrolled_at_store_id != store.id
    ):
        raise errors.cross_store_redemption_disabled()


def check_redemption(
    card: LoyaltyCard,
    points: int | None,
    *,
    store: Store,
    staff_user: StaffUser | None = None,
) -> None:
    """Refuse a redemption of ``points`` that :func:`redeem_points` would refuse.

    The same rules, in the same order: staff rights on ``store``, an active card of the
    store's merchant, a program with points, a positive number, the merchant's minimum and
    cross-store setting, and the balance as loaded. Nothing is locked or changed: the
    terminal asks this before its confirmation page, and :func:`redeem_points` checks the
    balance once more under the card's row lock.

    :raises LoyaltyError: ``insufficient_points``, ``below_minimum_redeem``,
        ``cross_store_not_allowed``, ``invalid_points``, ``store_not_allowed``...
    """
    _check_redemption_rules(card, points, store, staff_user)
    if card.points_balance < (points or 0):
        raise errors.insufficient_points(card.points_balance)


def _check_redemption_rules(
    card: LoyaltyCard, points: int | None, store: Store, staff_user: StaffUser | None
) -> None:
    # The rules a retry with the same idempotency key passes again (the balance is not one
    # of them: after the first call it may be too low, and the retry returns the first row).
    _check_card_at_store(card, store, staff_user)
    if not card.program.uses_points:
        raise errors.program_has_no_points()
    if points is None or points <= 0:
        raise errors.invalid_points()
    settings = get_settings(card.merchant_id)
    if points < settings.min_points_to_redeem:
        raise errors.below_minimum_redeem(settings.min_points_to_redeem)
    _check_redemption_store(card, store)


def check_stamp_reward(
    card: LoyaltyCard, *, store: Store, staff_user: StaffUser | None = None
) -> None:
    """Refuse a stamp reward :func:`redeem_stamp_reward` would refuse (nothing locked).

    :raises LoyaltyError: ``no_reward_available``, ``cross_store_not_allowed``...
    """
    _check_stamp_reward_rules(card, store, staff_user)
    if card.rewards_ready() <= 0:
        raise errors.no_reward_available()


def _check_stamp_reward_rules(
    card: LoyaltyCard, store: Store, staff_user: StaffUser | None
) -> None:
    _check_card_at_store(card, store, staff_user)
    if not card.program.uses_stamps:
        raise errors.program_has_no_stamps()
    _check_redemption_store(card, store)


def redeem_points(
    card: LoyaltyCard,
    points: int,
    *,
    store: Store,
    staff_user: StaffUser | None = None,
    idempotency_key: str | None = None,
    note: str = "",
    now: datetime | None = None,
) -> LoyaltyTransaction:
    """Take ``points`` off the card for a reward.

    :param card: the customer's card.
    :param points: how many points (at least the merchant's minimum, at most the balance).
    :param store: where the reward is handed out (only the enrollment store when the
        merchant does not allow cross-store redemption).
    :param staff_user: who records it.
    :param idempotency_key: the same key twice for a card returns the first row.
    :param note: free text kept on the row.
    :param now: the operation's time (default: now).
    :raises LoyaltyError: ``insufficient_points``, ``below_minimum_redeem``,
        ``cross_store_not_allowed``, ``store_not_allowed``...
    """
    _check_redemption_rules(card, points, store, staff_user)

    def apply(card: LoyaltyCard) -> LoyaltyTransaction:
        # The balance is read under the row lock, so two redemptions cannot both pass.
        if card.points_balance < points:
            raise errors.insufficient_points(card.points_balance)
        card.points_balance -= points
        card.total_points_redeemed += points
        _touch(card, now)
        return add_ledger_row(
            card,
            TransactionType.REDEEM,
            points_delta=-points,
            store=store,
            staff_user=staff_user,
            idempotency_key=idempotency_key,
            note=note,
            now=now,
        )

    return _run(card, idempotency_key, apply)


# -- stamps ----------------------------------------------------------------------------


def stamps_after(card: LoyaltyCard, count: int) -> tuple[int, int]:
    """The card's stamp count after adding ``count`` stamps, and the rewards that completes.

    Each time the program's target is reached a reward is earned and the count restarts
    from the remainder (a target of 5: 3 stamps + 4 = 2 stamps and one reward).
    """
    target = card.program.stamps_target or 0
    total = card.stamp_count + count
    if target <= 0:
        return total, 0
    return total % target, total // target


def add_stamps(
    card: LoyaltyCard,
    count: int = 1,
    *,
    store: Store,
    staff_user: StaffUser | None = None,
    idempotency_key: str | None = None,
    note: str = "",
    now: datetime | None = None,
) -> LoyaltyTransaction:
    """Add ``count`` stamps; each time the program's target is reached a reward is earned
    (the count restarts from the remainder) and the customer is told it is ready.

    :param card: the customer's card.
    :param count: stamps to add (at least 1).
    :param store: where the purchase happened.
    :param staff_user: who records it.
    :param idempotency_key: the same key twice for a card returns the first row.
    :param note: free text kept on the row.
    :param now: the operation's time (default: now).
    :raises LoyaltyError: ``program_has_no_stamps``, ``invalid_stamp_count``...
    """
    _check_card_at_store(card, store, staff_user)
    program = card.program
    if not program.uses_stamps or not program.stamps_target:
        raise errors.program_has_no_stamps()
    if count is None or count < 1:
        raise errors.invalid_stamp_count()

    def apply(card: LoyaltyCard) -> LoyaltyTransaction:
        card.stamp_count, rewards = stamps_after(card, count)
        if rewards:
            card.stamp_rewards_earned += rewards
            # Queued inside the transaction; the email goes out only after the commit.
            loyalty_notifications.reward_ready(card.id)
        _touch(card, now)
        row = add_ledger_row(
            card,
            TransactionType.STAMP,
            stamps_delta=count,
            store=store,
            staff_user=staff_user,
            idempotency_key=idempotency_key,
            note=note,
            now=now,
        )
        # Not a column: tells the webhook events that this row completed rewards.
        setattr(row, "completed_rewards", rewards)  # noqa: B010 - not a mapped column
        return row

    return _run(card, idempotency_key, apply)


def redeem_stamp_reward(
    card: LoyaltyCard,
    *,
    store: Store,
    staff_user: StaffUser | None = None,
    idempotency_key: str | None = None,
    note: str = "",
    now: datetime | None = None,
) -> LoyaltyTransaction:
    """Hand out one earned stamp reward.

    :raises LoyaltyError: ``no_reward_available`` when no earned reward is left.
    """
    _check_stamp_reward_rules(card, store, staff_user)

    def apply(card: LoyaltyCard) -> LoyaltyTransaction:
        if card.rewards_ready() <= 0:
            raise errors.no_reward_available()
        card.stamp_rewards_redeemed += 1
        _touch(card, now)
        return add_ledger_row(
            card,
            TransactionType.STAMP_REWARD,
            store=store,
            staff_user=staff_user,
            idempotency_key=idempotency_key,
            note=note,
            now=now,
        )

    return _run(card, idempotency_key, apply)


# -- corrections -----------------------------------------------------------------------


def _reverse_stamps(card: LoyaltyCard, stamps: int) -> None:
    """Take back ``stamps`` added by a voided row, un-earning a reward they completed."""
    target = card.program.stamps_target or 0
    card.stamp_count -= stamps
    while card.stamp_count < 0 and target:
        if card.rewards_ready() <= 0:
            raise errors.reward_already_redeemed()
        card.stamp_rewards_earned -= 1
        card.stamp_count += target
    if card.stamp_count < 0:
        raise errors.reward_already_redeemed()


def voidable_ids(
    transactions: list[LoyaltyTransaction], *, now: datetime | None = None
) -> set[int]:
    """Which of ``transactions`` (rows of one merchant) a void could still cancel.

    The same rules as :func:`void_transaction` that depend only on the rows: voids allowed,
    within the window, a voidable type, not voided yet. Staff rights, PIN and balance are
    checked when the void is made.
    """
    candidates = [row for row in transactions if row.type not in NOT_VOIDABLE]
    if not candidates:
        return set()
    settings = get_settings(candidates[0].merchant_id)
    if not settings.voids_allowed:
        return set()
    moment = now or utcnow()
    window = timedelta(days=settings.void_window_days)
    in_window = [row for row in candidates if _as_aware(row.created_at) + window >= moment]
    voided = voided_ids(in_window)
    return {row.id for row in in_window if row.id not in voided}


def voided_ids(transactions: Iterable[LoyaltyTransaction]) -> set[int]:
    """Which of ``transactions`` a void row cancels (one query, whatever the count)."""
    ids = [row.id for row in transactions]
    if not ids:
        return set()
    return {
        row_id
        for row_id in db.session.scalars(
            select(LoyaltyTransaction.voided_transaction_id).where(
                LoyaltyTransaction.voided_transaction_id.in_(ids)
            )
        )
        if row_id is not None
    }


#: Wrong void PINs per staff user (``RATELIMIT_VOID_PIN``, e.g. 5 per 15 minutes), counted in
#: the shared rate-limit storage so all workers see one count.
_pin_failures = FailureLimit("RATELIMIT_VOID_PIN", scope="void-pin")


def _check_pin(
    settings: MerchantLoyaltySettings, pin: str | None, staff_user: StaffUser | None
) -> None:
    """:raises LoyaltyError: ``pin_required``, ``pin_incorrect`` or ``pin_locked``.

    Wrong PINs are counted per staff user; a void through the merchant API (no staff user)
    counts against the merchant's integration as one.
    """
    if not pin:
        raise errors.pin_required()
    key = str(staff_user.id) if staff_user is not None else f"merchant-api:{settings.merchant_id}"
    # Locked first: once the allowance is used up, even the right PIN is refused.
    if _pin_failures.locked(key):
        raise errors.pin_locked(_pin_failures.minutes_left(key))
    if check_void_pin(settings, pin):
        return
    if _pin_failures.fail(key):
        log.warning(
            "void PIN locked for staff user %s (merchant %s) after too many wrong PINs",
            key,
            settings.merchant_id,
        )
        raise errors.pin_locked(_pin_failures.minutes_left(key))
    raise errors.pin_incorrect()


def void_transaction(
    transaction: LoyaltyTransaction,
    *,
    staff_user: StaffUser | None,
    store: Store | None = None,
    pin: str | None = None,
    reason: str = "",
    idempotency_key: str | None = None,
    now: datetime | None = None,
    integration: bool = False,
) -> LoyaltyTransaction:
    """Cancel ``transaction`` with a new VOID row that reverses its points and stamps.

    :param transaction: the row to cancel (not a void or an expiry, not voided yet).
    :param staff_user: who voids it (needs rights on ``store``).
    :param store: where the void is made; default: the transaction's store.
    :param pin: the merchant's void PIN, when the settings require one.
    :param reason: why; kept as the void row's note.
    :param idempotency_key: the same key twice for a card returns the first row.
    :param now: the operation's time (default: now).
    :param integration: made by the merchant's API key (no staff user); the caller has
        checked the key's merchant and store, and ``store`` must be given.
    :raises LoyaltyError: ``voids_disabled``, ``void_window_passed``, ``pin_required``,
        ``pin_incorrect``, ``already_voided``, ``cannot_void_type``,
        ``void_would_go_negative``, ``reward_already_redeemed``, ``store_not_allowed``.
    """
    if staff_user is None and not (integration and store is not None):
        raise errors.staff_required()
    card = transaction.card
    store = store if store is not None else transaction.store
    if store is not None:
        _check_card_at_store(card, store, staff_user)
    elif staff_user is not None:
        _check_merchant_access(staff_user, card.merchant_id)
    if transaction.type in NOT_VOIDABLE:
        raise errors.cannot_void_type()
    settings = get_settings(card.merchant_id)
    if not settings.voids_allowed:
        raise errors.voids_disabled()
    moment = now or utcnow()
    if _as_aware(transaction.created_at) + timedelta(days=settings.void_window_days) < moment:
        raise errors.void_window_passed(settings.void_window_days)
    if settings.void_requires_pin:
        _check_pin(settings, pin, staff_user)

    def apply(card: LoyaltyCard) -> LoyaltyTransaction:
        already = db.session.scalar(
            select(LoyaltyTransaction.id).where(
                LoyaltyTransaction.voided_transaction_id == transaction.id
            )
        )
        if already is not None:
            raise errors.already_voided()
        points = -transaction.points_delta
        if card.points_balance + points < 0:
            raise errors.void_would_go_negative(card.points_balance, -points)
        card.points_balance += points
        card.total_points_voided += abs(points)
        if transaction.stamps_delta:
            _reverse_stamps(card, transaction.stamps_delta)
        if transaction.type == TransactionType.STAMP_REWARD:
            card.stamp_rewards_redeemed -= 1
        return add_ledger_row(
            card,
            TransactionType.VOID,
            points_delta=points,
            stamps_delta=-transaction.stamps_delta,
            store=store,
            staff_user=staff_user,
            idempotency_key=idempotency_key,
            note=reason,
            now=now,
            voided_transaction_id=transaction.id,
        )

    try:
        # Always in a savepoint: a concurrent void of the same row is refused by the unique
        # voided_transaction_id, and un-earning stamps may refuse after changing the card.
        return _run(card, idempotency_key, apply, savepoint=True)
    except IntegrityError:
        # Two voids of the same row raced: the unique voided_transaction_id refused one.
        raise errors.already_voided() from None


def adjust_points(
    card: LoyaltyCard,
    delta: int,
    *,
    staff_user: StaffUser,
    reason: str,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> LoyaltyTransaction:
    """Correct a balance by ``delta`` points (platform administrators only).

    :param card: the card to correct.
    :param delta: points to add (positive) or remove (negative); never below zero.
    :param staff_user: a platform administrator.
    :param reason: why; required, kept as the row's note.
    :raises LoyaltyError: ``admin_only``, ``reason_required``, ``invalid_points``,
        ``negative_balance``.
    """
    if staff_user is None or staff_user.role != StaffRole.PLATFORM_ADMIN:
        raise errors.admin_only()
    reason = (reason or "").strip()
    if not reason:
        raise errors.reason_required()
    if not delta:
        raise errors.invalid_points()

    def apply(card: LoyaltyCard) -> LoyaltyTransaction:
        if card.points_balance + delta < 0:
            raise errors.adjustment_would_go_negative(card.points_balance)
        card.points_balance += delta
        if delta > 0:
            card.total_points_earned += delta
        else:
            card.total_points_redeemed += -delta
        return add_ledger_row(
            card,
            TransactionType.ADJUSTMENT,
            points_delta=delta,
            staff_user=staff_user,
            idempotency_key=idempotency_key,
            note=reason,
            now=now,
        )

    return _run(card, idempotency_key, apply)

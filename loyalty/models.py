"""Loyalty programs, merchant settings, cards and the append-only ledger."""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loyalty import bounds
from platform_core.customers.models import Customer
from platform_core.extensions import Model, db
from platform_core.i18n_lazy import _l
from platform_core.models_base import TimestampMixin, utcnow
from platform_core.staff.models import StaffUser
from platform_core.tenancy.models import Merchant, Store


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings with a CHECK: portable, and readable in SQL.
    return Enum(
        cls, name=name, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]
    )


class ProgramKind(enum.StrEnum):
    POINTS = "points"
    STAMPS = "stamps"
    HYBRID = "hybrid"

    @property
    def label(self) -> str:
        return str(
            {
                ProgramKind.POINTS: _l("Points"),
                ProgramKind.STAMPS: _l("Stamps"),
                ProgramKind.HYBRID: _l("Points and stamps"),
            }[self]
        )


class TransactionType(enum.StrEnum):
    WELCOME_BONUS = "welcome_bonus"
    EARN = "earn"
    REDEEM = "redeem"
    STAMP = "stamp"
    STAMP_REWARD = "stamp_reward"
    VOID = "void"
    ADJUSTMENT = "adjustment"
    EXPIRY = "expiry"
    #: The balance a card brought from a legacy system (CSV import): counts as earned.
    OPENING_BALANCE = "opening_balance"
    BIRTHDAY_BONUS = "birthday_bonus"

    @property
    def label(self) -> str:
        return str(TRANSACTION_TYPE_LABELS[self])


TRANSACTION_TYPE_LABELS = {
    TransactionType.WELCOME_BONUS: _l("Welcome bonus"),
    TransactionType.EARN: _l("Points earned"),
    TransactionType.REDEEM: _l("Points redeemed"),
    TransactionType.STAMP: _l("Stamps added"),
    TransactionType.STAMP_REWARD: _l("Stamp reward redeemed"),
    TransactionType.VOID: _l("Void"),
    TransactionType.ADJUSTMENT: _l("Adjustment"),
    TransactionType.EXPIRY: _l("Points expired"),
    TransactionType.OPENING_BALANCE: _l("Opening balance"),
    TransactionType.BIRTHDAY_BONUS: _l("Birthday bonus"),
}


class WalletSyncStatus(enum.StrEnum):
    NOT_SYNCED = "not_synced"
    PENDING = "pending"
    SYNCED = "synced"
    FAILED = "failed"
    #: Google refused the card for good (400, 401, other 403s, 404 on update, a 409 that a
    #: read and a patch cannot resolve); the retry job leaves it alone until something
    #: changes (see ``loyalty.wallet.service``).
    REJECTED = "rejected"


class LoyaltyProgram(TimestampMixin, Model):
    """A merchant's program. At most one is active per merchant (partial unique index)."""

    __tablename__ = "loyalty_programs"
    __table_args__ = (
        Index(
            "uq_loyalty_programs_one_active_per_merchant",
            "merchant_id",
            unique=True,
            sqlite_where=db.text("is_active"),
            postgresql_where=db.text("is_active"),
        ),
        # The documented ranges (loyalty/bounds.py), also enforced by the programs service.
        CheckConstraint(
            bounds.POINTS_PER_EURO.check_sql("points_per_euro"), name="points_per_euro_in_range"
        ),
        CheckConstraint(
            bounds.WELCOME_BONUS_POINTS.check_sql("welcome_bonus_points"),
            name="welcome_bonus_in_range",
        ),
        CheckConstraint(
            bounds.STAMPS_TARGET.check_sql("stamps_target", nullable=True),
            name="stamps_target_in_range",
        ),
        CheckConstraint(
            bounds.POINTS_EXPIRY_DAYS.check_sql("points_expiry_days", nullable=True),
            name="expiry_days_in_range",
        ),
        CheckConstraint(
            bounds.EXPIRY_WARNING_DAYS.check_sql("expiry_warning_days"),
            name="warning_days_in_range",
        ),
        CheckConstraint(
            "points_expiry_days IS NULL OR expiry_warning_days < points_expiry_days",
            name="warning_shorter_than_expiry",
        ),
        CheckConstraint(
            "point_value IS NULL OR (point_value >= 0 AND point_value <= 1000)",
            name="point_value_in_range",
        ),
        CheckConstraint(
            bounds.BIRTHDAY_BONUS_POINTS.check_sql("birthday_bonus_points"),
            name="birthday_bonus_in_range",
        ),
        CheckConstraint(
            bounds.REENGAGEMENT_DAYS.check_sql("reengagement_days", nullable=True),
            name="reengagement_days_in_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ProgramKind] = mapped_column(_enum(ProgramKind, "program_kind"))
    #: The console's name of the program, and the last fallback of the customer-facing
    #: name (the texts per language are :class:`ProgramText` rows).
    name: Mapped[str] = mapped_column(String(120))
    #: Points credited per euro spent (may be fractional: 0.5 = one point per 2 €).
    points_per_euro: Mapped[Decimal] = mapped_column(Numeric(8, 2), default=Decimal("1.00"))
    #: What one point is worth in euros when redeemed (100 points for a 5 € cake: 0.05);
    #: the dashboard values the outstanding points, the merchant's liability, with it.
    point_value: Mapped[Decimal | None] = mapped_column(Numeric(10, 4))
    #: Points credited at enrollment; 0 = none.
    welcome_bonus_points: Mapped[int] = mapped_column(Integer, default=0)
    #: Stamps needed for a reward (stamps and hybrid programs).
    stamps_target: Mapped[int | None] = mapped_column(Integer)
    #: Points expire after this many days without activity; empty = never.
    points_expiry_days: Mapped[int | None] = mapped_column(Integer)
    #: Customers are warned this many days before their points expire.
    expiry_warning_days: Mapped[int] = mapped_column(Integer, default=14)
    logo_url: Mapped[str] = mapped_column(String(500), default="")
    #: Brand colour as #rrggbb.
    brand_color: Mapped[str] = mapped_column(String(7), default="#1f5f8b")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Marketing: birthday wishes to consenting customers, with an optional bonus.
    birthday_emails_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    birthday_bonus_points: Mapped[int] = mapped_column(Integer, default=0)
    #: Marketing: the "we miss you" email after this many days without activity; empty or
    #: 0 = never (the default).
    reengagement_days: Mapped[int | None] = mapped_column(Integer)

    merchant: Mapped[Merchant] = relationship()
    #: Name, description, reward and terms in each language that has them (at most one row
    #: per language); :mod:`loyalty.services.program_texts` resolves the fallbacks.
    texts: Mapped[list[ProgramText]] = relationship(
        back_populates="program",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="ProgramText.locale",
    )

    @property
    def uses_points(self) -> bool:
        return self.kind in (ProgramKind.POINTS, ProgramKind.HYBRID)

    @property
    def uses_stamps(self) -> bool:
        return self.kind in (ProgramKind.STAMPS, ProgramKind.HYBRID)

    def __str__(self) -> str:
        return self.name


#: The languages a program's texts are written in (the public pages' languages).
PROGRAM_TEXT_LOCALES = ("en", "fr", "de", "lb")


class ProgramText(Model):
    """A program's customer-facing texts in one language; an empty field falls back to the
    merchant's default language, then English (:mod:`loyalty.services.program_texts`)."""

    __tablename__ = "program_texts"
    __table_args__ = (
        UniqueConstraint("program_id", "locale"),
        CheckConstraint("locale IN ('en', 'fr', 'de', 'lb')", name="locale_supported"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(
        ForeignKey("loyalty_programs.id", ondelete="CASCADE"), index=True
    )
    #: ``en``, ``fr``, ``de`` or ``lb``.
    locale: Mapped[str] = mapped_column(String(5))
    name: Mapped[str] = mapped_column(String(120), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    #: What the stamps target unlocks, shown to customers ("a free coffee").
    reward_description: Mapped[str] = mapped_column(String(200), default="")
    #: The program's terms and conditions in this language; a program without any asks no
    #: customer to accept terms.
    terms_url: Mapped[str] = mapped_column(String(500), default="")

    program: Mapped[LoyaltyProgram] = relationship(back_populates="texts")

    def __str__(self) -> str:
        return f"{self.program_id}:{self.locale}"


class MerchantLoyaltySettings(TimestampMixin, Model):
    """Rules the loyalty services enforce for one merchant."""

    __tablename__ = "merchant_loyalty_settings"
    __table_args__ = (
        CheckConstraint(
            bounds.VOID_WINDOW_DAYS.check_sql("void_window_days"), name="void_window_in_range"
        ),
        CheckConstraint(
            bounds.MIN_POINTS_TO_REDEEM.check_sql("min_points_to_redeem"),
            name="min_redeem_in_range",
        ),
        CheckConstraint(
            bounds.RETENTION_INACTIVE_MONTHS.check_sql("retention_inactive_months", nullable=True),
            name="retention_months_in_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), unique=True
    )
    #: Customers may join from the public pages and API.
    self_enrollment_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    voids_allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    #: A transaction may be voided up to this many days after it was made.
    void_window_days: Mapped[int] = mapped_column(Integer, default=30)
    #: Voids need the staff PIN (hashed here).
    void_requires_pin: Mapped[bool] = mapped_column(Boolean, default=False)
    void_pin_hash: Mapped[str | None] = mapped_column(String(255))
    #: A redemption must use at least this many points.
    min_points_to_redeem: Mapped[int] = mapped_column(Integer, default=0)
    #: Points earned in one store may be redeemed in the merchant's other stores.
    cross_store_redemption: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Customers with no activity for this many months are anonymized by the retention job
    #: (``loyalty.data_rights.retention``); empty: never (the default).
    retention_inactive_months: Mapped[int | None] = mapped_column(Integer)

    merchant: Mapped[Merchant] = relationship()

    def __str__(self) -> str:
        return str(self.merchant)


class LoyaltyCard(TimestampMixin, Model):
    """One card per customer per merchant. Balances are derived from the ledger and kept
    here for speed; ``flask loyalty verify-ledger`` proves they never drift."""

    __tablename__ = "loyalty_cards"
    __table_args__ = (
        UniqueConstraint("merchant_id", "customer_id"),
        CheckConstraint("points_balance >= 0", name="points_balance_not_negative"),
        CheckConstraint("stamp_count >= 0", name="stamp_count_not_negative"),
        Index("ix_loyalty_cards_merchant_last_activity", "merchant_id", "last_activity_at"),
        # The console's card list for platform admins: newest activity first, id as tie-break.
        Index("ix_loyalty_cards_last_activity_id", "last_activity_at", "id"),
        # The dashboard's enrollments per day: a range scan over the last 90 days.
        Index(
            "ix_loyalty_cards_created",
            "created_at",
            postgresql_include=["merchant_id", "enrolled_at_store_id"],
        ),
        # The dashboard: the points expiring soon are a range per program (index-only on
        # PostgreSQL), and the few deactivated cards are counted without reading the others.
        Index(
            "ix_loyalty_cards_program_expiring",
            "program_id",
            "last_activity_at",
            postgresql_include=["points_balance"],
            sqlite_where=db.text("points_balance > 0"),
            postgresql_where=db.text("points_balance > 0"),
        ),
        Index(
            "ix_loyalty_cards_program_inactive",
            "program_id",
            sqlite_where=db.text("NOT is_active"),
            postgresql_where=db.text("NOT is_active"),
        ),
        # The expiry and warning jobs page through a program's cards that still have points
        # by id; last_activity_at in the index filters the due ones without a heap fetch.
        # Expired cards leave the index, so later chunks never scan them again.
        Index(
            "ix_loyalty_cards_program_with_points",
            "program_id",
            "id",
            "last_activity_at",
            sqlite_where=db.text("points_balance > 0"),
            postgresql_where=db.text("points_balance > 0"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    program_id: Mapped[int] = mapped_column(ForeignKey("loyalty_programs.id"), index=True)
    #: Printed on the card and encoded in its QR code; the last digit is a Luhn check digit.
    card_number: Mapped[str] = mapped_column(String(20), unique=True)
    #: The store where the customer joined.
    enrolled_at_store_id: Mapped[int | None] = mapped_column(
        ForeignKey("stores.id", ondelete="SET NULL"), index=True
    )
    points_balance: Mapped[int] = mapped_column(Integer, default=0)
    total_points_earned: Mapped[int] = mapped_column(Integer, default=0)
    total_points_redeemed: Mapped[int] = mapped_column(Integer, default=0)
    total_points_voided: Mapped[int] = mapped_column(Integer, default=0)
    total_points_expired: Mapped[int] = mapped_column(Integer, default=0)
    stamp_count: Mapped[int] = mapped_column(Integer, default=0)
    stamp_rewards_earned: Mapped[int] = mapped_column(Integer, default=0)
    stamp_rewards_redeemed: Mapped[int] = mapped_column(Integer, default=0)
    last_activity_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: When the last "points expiring" warning went out (no second warning for the same
    #: period of inactivity).
    last_expiration_warning_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The year of the last birthday email (and bonus): at most one per year.
    last_birthday_year: Mapped[int | None] = mapped_column(Integer)
    #: The ``last_activity_at`` the last "we miss you" email was sent for: one email per
    #: period of inactivity, a new activity starts a new one.
    reengagement_sent_for: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    wallet_object_id: Mapped[str | None] = mapped_column(String(200))
    wallet_sync_status: Mapped[WalletSyncStatus] = mapped_column(
        _enum(WalletSyncStatus, "wallet_sync_status"), default=WalletSyncStatus.NOT_SYNCED
    )
    wallet_sync_error: Mapped[str | None] = mapped_column(Text)
    #: Fingerprint of the Wallet configuration a rejection was received under: the retry job
    #: tries a rejected card again once the configuration (issuer, key, API) has changed.
    wallet_rejected_config: Mapped[str | None] = mapped_column(String(64))
    wallet_synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    merchant: Mapped[Merchant] = relationship()
    customer: Mapped[Customer] = relationship()
    program: Mapped[LoyaltyProgram] = relationship()
    enrolled_at_store: Mapped[Store | None] = relationship()
    transactions: Mapped[list[LoyaltyTransaction]] = relationship(
        back_populates="card",
        order_by="LoyaltyTransaction.id",
        foreign_keys="LoyaltyTransaction.card_id",
        viewonly=True,
    )

    def points_expire_at(self) -> datetime | None:
        """When the current balance expires if nothing happens, or ``None``."""
        days = self.program.points_expiry_days if self.program else None
        if not days or self.points_balance <= 0:
            return None
        return _aware(self.last_activity_at) + timedelta(days=days)

    def rewards_ready(self) -> int:
        """Stamp rewards earned and not redeemed yet; never below 0.

        The one place this rule lives: the terminal, the ledger (redeem, void) and the public
        card page all ask the card.
        """
        return max(0, (self.stamp_rewards_earned or 0) - (self.stamp_rewards_redeemed or 0))

    def expire_points(self) -> int:
        """Zero the balance as expired; return how many points expired.

        The caller writes the ledger row (the expiry service does both under a row lock).
        """
        expired = self.points_balance
        if expired <= 0:
            return 0
        self.points_balance = 0
        self.total_points_expired += expired
        return expired

    def __str__(self) -> str:
        return self.card_number


class LoyaltyTransaction(Model):
    """Append-only ledger row. Corrections are new rows (void, adjustment), never edits."""

    __tablename__ = "loyalty_transactions"
    __table_args__ = (
        UniqueConstraint("card_id", "idempotency_key"),
        CheckConstraint("points_balance_after >= 0", name="balance_after_not_negative"),
        Index("ix_loyalty_transactions_card_created", "card_id", "created_at"),
        Index("ix_loyalty_transactions_merchant_created", "merchant_id", "created_at"),
        # The dashboard's points per week for platform admins: an index-only range scan.
        Index(
            "ix_loyalty_transactions_created_points",
            "created_at",
            postgresql_include=["type", "points_delta"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    card_id: Mapped[int] = mapped_column(ForeignKey("loyalty_cards.id", ondelete="CASCADE"))
    type: Mapped[TransactionType] = mapped_column(
        _enum(TransactionType, "loyalty_transaction_type"), index=True
    )
    points_delta: Mapped[int] = mapped_column(Integer, default=0)
    stamps_delta: Mapped[int] = mapped_column(Integer, default=0)
    #: The card's points balance right after this row: the ledger's running sum.
    points_balance_after: Mapped[int] = mapped_column(Integer)
    store_id: Mapped[int | None] = mapped_column(
        ForeignKey("stores.id", ondelete="SET NULL"), index=True
    )
    staff_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    #: Amount spent, in euros, for earn-from-purchase rows.
    purchase_amount: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    #: Sent by the client (terminal form, API); the same key twice changes nothing.
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    #: For a void: the row it cancels.
    voided_transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("loyalty_transactions.id", ondelete="SET NULL"), unique=True
    )
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    merchant: Mapped[Merchant] = relationship()
    card: Mapped[LoyaltyCard] = relationship(back_populates="transactions", foreign_keys=[card_id])
    store: Mapped[Store | None] = relationship()
    staff_user: Mapped[StaffUser | None] = relationship()
    voided_transaction: Mapped[LoyaltyTransaction | None] = relationship(
        remote_side=[id], foreign_keys=[voided_transaction_id]
    )

    def __str__(self) -> str:
        return f"#{self.id} {self.type.label}"


class LedgerDailyTotal(Model):
    """The ledger of one closed local day, summed per merchant, program and store.

    Written once per day by :func:`loyalty.services.ledger_rollup.refresh_ledger_rollup`
    for days that are over, which the append-only ledger never changes again; the console
    dashboard reads these few rows instead of millions of ledger rows, and adds the ledger
    rows written since the last rolled-up day.
    """

    __tablename__ = "ledger_daily_totals"
    __table_args__ = (Index("ix_ledger_daily_totals_merchant_day", "merchant_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The local day (``BABEL_DEFAULT_TIMEZONE``, Europe/Luxembourg).
    day: Mapped[date] = mapped_column(Date, index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    program_id: Mapped[int] = mapped_column(
        ForeignKey("loyalty_programs.id", ondelete="CASCADE"), index=True
    )
    store_id: Mapped[int | None] = mapped_column(
        ForeignKey("stores.id", ondelete="SET NULL"), index=True
    )
    #: Points credited (earns, bonuses, positive adjustments; voids excluded).
    issued: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Points spent on rewards (positive).
    redeemed: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Points expired (positive).
    expired: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Sum of every row's ``points_delta``: the change of the outstanding points.
    net: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Cards enrolled that day (``store_id`` is then the store they joined at).
    enrolled: Mapped[int] = mapped_column(Integer, default=0)


class LedgerRollupState(Model):
    """How far :class:`LedgerDailyTotal` goes: every local day up to ``through_day``."""

    __tablename__ = "ledger_rollup_state"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    through_day: Mapped[date] = mapped_column(Date)


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; every timestamp we store is UTC.
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)

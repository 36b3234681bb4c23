"""The documented range of every numeric field of programs and merchant settings.

One table, read by the models (CHECK constraints), the programs service (localized
refusals next to the field), the console forms and the OpenAPI document, so the four never
disagree. A value outside these ranges once made one merchant's pages and everyone's nightly
jobs fail (``timedelta(days=99999999999)`` overflows); docs/architecture.md lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Bound:
    """An inclusive range; ``places`` is set for decimals (digits after the point)."""

    minimum: int | Decimal
    maximum: int | Decimal
    places: int | None = None

    def check_sql(self, column: str, *, nullable: bool = False) -> str:
        """The CHECK constraint's SQL for ``column`` (``NULL`` allowed when ``nullable``)."""
        rule = f"{column} >= {self.minimum} AND {column} <= {self.maximum}"
        return f"{column} IS NULL OR ({rule})" if nullable else rule


#: Points per euro spent: 0 to 1,000, two decimal places (0.5 = one point per 2 €).
POINTS_PER_EURO = Bound(Decimal("0"), Decimal("1000"), places=2)
#: Points given at enrollment.
WELCOME_BONUS_POINTS = Bound(0, 100_000)
#: Stamps needed for a reward.
STAMPS_TARGET = Bound(1, 100)
#: Days without activity after which points expire (about ten years at most).
POINTS_EXPIRY_DAYS = Bound(1, 3_650)
#: Days before expiry that customers are warned; also shorter than the expiry itself.
EXPIRY_WARNING_DAYS = Bound(1, 90)
#: Points credited on the customer's birthday (0 = no bonus).
BIRTHDAY_BONUS_POINTS = Bound(0, 100_000)
#: Days without activity after which the "we miss you" email goes out (empty or 0 = never).
REENGAGEMENT_DAYS = Bound(0, 3_650)
#: Days after which a transaction can no longer be voided.
VOID_WINDOW_DAYS = Bound(0, 365)
#: Smallest redemption, in points.
MIN_POINTS_TO_REDEEM = Bound(0, 1_000_000)
#: Months without activity after which a merchant's customers are anonymized (empty: never).
RETENTION_INACTIVE_MONTHS = Bound(1, 240)

PROGRAM_BOUNDS: dict[str, Bound] = {
    "points_per_euro": POINTS_PER_EURO,
    "welcome_bonus_points": WELCOME_BONUS_POINTS,
    "stamps_target": STAMPS_TARGET,
    "points_expiry_days": POINTS_EXPIRY_DAYS,
    "expiry_warning_days": EXPIRY_WARNING_DAYS,
    "birthday_bonus_points": BIRTHDAY_BONUS_POINTS,
    "reengagement_days": REENGAGEMENT_DAYS,
}
SETTINGS_BOUNDS: dict[str, Bound] = {
    "void_window_days": VOID_WINDOW_DAYS,
    "min_points_to_redeem": MIN_POINTS_TO_REDEEM,
    "retention_inactive_months": RETENTION_INACTIVE_MONTHS,
}
#: One purchase, in euros (terminal and services).
PURCHASE_AMOUNT = Bound(Decimal("0.01"), Decimal("100000"), places=2)

"""Loyalty lifecycle emails: one method per event (the messaging issue implements them).

Loyalty services call these *inside* their transaction, passing ids. Each method resolves
customer, card, program, merchant and store into the template's variables, records a queued
``EmailLog`` row and registers the send task with ``platform_core.db.after_commit``: nothing
is sent unless the loyalty change commits, and no request waits on SMTP.
"""

from __future__ import annotations

from datetime import date


class LoyaltyNotificationService:
    def enrollment(self, card_id: int) -> None:
        """loyalty_enrollment: the customer joined (also sent to an already enrolled email)."""

    def welcome_bonus(self, card_id: int, points: int) -> None:
        """loyalty_welcome_bonus: only called when the bonus is above 0."""

    def points_expiring(self, card_id: int, points: int, expires_on: date) -> None:
        """loyalty_points_expiring: called by the warning job, ``warning_days`` ahead."""

    def points_expired(self, card_id: int, points: int) -> None:
        """loyalty_points_expired: called by the expiry job after the points were zeroed."""

    def reward_ready(self, card_id: int) -> None:
        """loyalty_reward_ready: the stamps target was reached."""


#: The instance loyalty services use.
loyalty_notifications = LoyaltyNotificationService()

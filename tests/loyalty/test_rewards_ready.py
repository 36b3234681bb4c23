"""Rewards ready is one rule on the card, clamped at 0, used by terminal, ledger and page."""

from loyalty.models import LoyaltyCard


def test_rewards_ready_is_earned_minus_redeemed():
    assert LoyaltyCard(stamp_rewards_earned=3, stamp_rewards_redeemed=1).rewards_ready() == 2


def test_rewards_ready_never_goes_below_zero():
    # A void that un-earns a redeemed reward must not show "-1 rewards" anywhere.
    assert LoyaltyCard(stamp_rewards_earned=1, stamp_rewards_redeemed=3).rewards_ready() == 0

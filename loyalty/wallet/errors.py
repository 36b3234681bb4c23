"""What can go wrong when talking to Google Wallet, split by whether trying again can help."""

from __future__ import annotations


class WalletError(Exception):
    """Base of every Google Wallet failure; ``str(error)`` is what staff see on the card."""


class WalletRetryableError(WalletError):
    """Transient: timeouts, connection errors, HTTP 429 and 5xx. Worth another attempt."""


class WalletPermanentError(WalletError):
    """The request itself is wrong (HTTP 4xx other than 429, including 409): retrying sends
    the same request and gets the same answer, so the sync is marked failed at once."""


class WalletNotConfiguredError(WalletPermanentError):
    """The issuer id or the service account key is missing or unusable."""

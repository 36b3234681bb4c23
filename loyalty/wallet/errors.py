"""What can go wrong when talking to Google Wallet, split by whether trying again can help."""

from __future__ import annotations


class WalletError(Exception):
    """Base of every Google Wallet failure; ``str(error)`` is what staff see on the card."""


class WalletRetryableError(WalletError):
    """Transient: timeouts, connection errors, HTTP 429, 5xx, and a 403 whose reason is a
    quota or rate limit. Worth another attempt, after ``retry_after`` seconds when Google
    said so (its ``Retry-After`` header)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class WalletPermanentError(WalletError):
    """Retrying sends the same request and gets the same answer, so the sync stops at once."""


class WalletRejectedError(WalletPermanentError):
    """Google refused the card: 400, 401, a 403 other than quota, 404 on update, or a 409
    that a read and a patch cannot resolve. The card is left ``rejected`` until it, its
    program or the Wallet configuration changes, or staff retry it."""


class WalletNotConfiguredError(WalletPermanentError):
    """The issuer id or the service account key is missing or unusable."""

"""Google Wallet: the "Add to Google Wallet" link and a small Wallet Objects API client.

We talk to the REST API with ``google-auth``'s :class:`AuthorizedSession` (service account
token, refreshed as needed) instead of ``google-api-python-client``: two resources and four
methods do not justify that dependency. Every failure is raised as
:class:`WalletRetryableError` (worth another attempt) or :class:`WalletPermanentError`.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import requests
from flask import current_app
from google.auth import exceptions as auth_exceptions
from google.auth import jwt
from google.auth.transport.requests import AuthorizedSession

from loyalty.models import LoyaltyCard, LoyaltyProgram
from loyalty.wallet.credentials import load_service_account, validate_config
from loyalty.wallet.errors import (
    WalletError,
    WalletNotConfiguredError,
    WalletPermanentError,
    WalletRetryableError,
)
from loyalty.wallet.payloads import loyalty_class_body, loyalty_object_body

__all__ = [
    "WalletClient",
    "WalletError",
    "WalletNotConfiguredError",
    "WalletPermanentError",
    "WalletRetryableError",
    "validate_config",
    "wallet_enabled",
    "wallet_save_url",
]

log = logging.getLogger(__name__)

#: Seconds to wait for Google before calling the attempt a (retryable) timeout.
DEFAULT_TIMEOUT = 10.0


def wallet_enabled() -> bool:
    """Whether Google Wallet is configured (issuer id and key file set)."""
    config = current_app.config
    return bool(
        (config.get("GOOGLE_WALLET_ISSUER_ID") or "").strip()
        and config.get("GOOGLE_WALLET_SERVICE_ACCOUNT_FILE")
    )


def wallet_save_url(card: LoyaltyCard) -> str | None:
    """The "Add to Google Wallet" link for ``card``, or ``None`` when Wallet is not configured.

    The link carries a JWT signed with the service account key whose payload holds the
    card's full LoyaltyObject, so Google creates the pass on save even when our background
    sync has not run yet (the program's class must exist: the first sync creates it).

    :param card: the card to put in the customer's wallet.
    """
    if not wallet_enabled():
        return None
    try:
        account = load_service_account()
        body = loyalty_object_body(card)
    except WalletError:
        # A broken key must not break the card page; the operator sees it in wallet-check.
        log.exception("Google Wallet link for card %s unavailable", card.id)
        return None
    origins = [o.strip() for o in current_app.config.get("GOOGLE_WALLET_ORIGINS", "").split(",")]
    claims = {
        "iss": account.email,
        "aud": "google",
        "typ": "savetowallet",
        "iat": int(time.time()),
        "origins": [o for o in origins if o],
        "payload": {"loyaltyObjects": [body]},
    }
    token = jwt.encode(account.signer, claims).decode("ascii")
    return f"{current_app.config['GOOGLE_WALLET_SAVE_URL'].rstrip('/')}/{token}"


# Classes this process has already sent, keyed by API base and class id, with the body sent:
# an unchanged program needs no class request on every card sync.
_classes_sent: dict[tuple[str, str], dict[str, Any]] = {}
_classes_lock = threading.Lock()


def _error_text(response: requests.Response) -> str:
    try:
        message = response.json().get("error", {}).get("message", "")
    except ValueError:
        message = ""
    message = message or response.text[:300]
    return f"Google Wallet answered HTTP {response.status_code}: {message}".rstrip(": ")


class WalletClient:
    """The Wallet Objects API calls a card sync needs, with typed errors.

    One client per sync (it holds an HTTP session); the credentials behind it are shared.
    """

    def __init__(self, timeout: float | None = None) -> None:
        config = current_app.config
        self.api_base = config["GOOGLE_WALLET_API_BASE"].rstrip("/")
        self.timeout = timeout or float(config.get("GOOGLE_WALLET_TIMEOUT", DEFAULT_TIMEOUT))
        self._session = AuthorizedSession(load_service_account().credentials)

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> WalletClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        ok_statuses: tuple[int, ...] = (),
    ) -> requests.Response:
        url = f"{self.api_base}/{path}"
        try:
            response = self._session.request(method, url, json=body, timeout=self.timeout)
        except requests.Timeout as exc:
            raise WalletRetryableError(
                f"Google Wallet did not answer within {self.timeout:g} s ({method} {path})"
            ) from exc
        except requests.ConnectionError as exc:
            raise WalletRetryableError(f"cannot connect to Google Wallet: {exc}") from exc
        except auth_exceptions.RefreshError as exc:
            # The token endpoint refused our signed assertion (or is failing).
            error = (
                WalletRetryableError if getattr(exc, "retryable", False) else WalletPermanentError
            )
            raise error(f"Google refused the service account token: {exc}") from exc
        except auth_exceptions.TransportError as exc:
            raise WalletRetryableError(f"cannot reach Google's token endpoint: {exc}") from exc
        status = response.status_code
        if status < 400 or status in ok_statuses:
            return response
        if status == 429 or status >= 500:
            raise WalletRetryableError(_error_text(response))
        raise WalletPermanentError(_error_text(response))

    def ensure_class(self, program: LoyaltyProgram) -> str:
        """Create the program's LoyaltyClass, or update it when it exists (409 on insert).

        Skips the request when this process already sent the same class body.

        :param program: the loyalty program the class describes.
        :returns: the class id.
        """
        body = loyalty_class_body(program)
        key = (self.api_base, body["id"])
        if _classes_sent.get(key) == body:
            return body["id"]
        response = self._request("POST", "loyaltyClass", body, ok_statuses=(409,))
        if response.status_code == 409:
            self._request("PATCH", f"loyaltyClass/{body['id']}", body)
        with _classes_lock:
            _classes_sent[key] = body
        return body["id"]

    def upsert_object(self, card: LoyaltyCard) -> str:
        """Create or update the card's LoyaltyObject (balance, stamps, barcode, holder name).

        A 409 on insert (someone created it between our GET and POST) is not treated as
        "exists": it is a permanent error, as the predecessor's rules say for every 409.

        :param card: the card to publish.
        :returns: the object id.
        """
        body = loyalty_object_body(card)
        object_id = body["id"]
        response = self._request("GET", f"loyaltyObject/{object_id}", ok_statuses=(404,))
        if response.status_code == 404:
            self._request("POST", "loyaltyObject", body)
        else:
            self._request("PATCH", f"loyaltyObject/{object_id}", body)
        return object_id


def forget_sent_classes() -> None:
    """Make the next sync send every class again (tests; after changing the API base)."""
    with _classes_lock:
        _classes_sent.clear()

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
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from flask import current_app
from google.auth import exceptions as auth_exceptions
from google.auth import jwt
from google.auth.transport.requests import AuthorizedSession

from loyalty.models import LoyaltyCard, LoyaltyProgram
from loyalty.wallet.credentials import ServiceAccount, load_service_account, validate_config
from loyalty.wallet.errors import (
    WalletError,
    WalletNotConfiguredError,
    WalletPermanentError,
    WalletRejectedError,
    WalletRetryableError,
)
from loyalty.wallet.payloads import (
    class_id_for,
    loyalty_class_body,
    loyalty_object_body,
    object_id_for,
)

__all__ = [
    "WalletClient",
    "WalletError",
    "WalletNotConfiguredError",
    "WalletPermanentError",
    "WalletRejectedError",
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


#: Longest "Add to Google Wallet" link we hand out with the whole object in it; past this,
#: browsers and mail clients start cutting links, so the object is inserted first instead.
MAX_SAVE_URL_LENGTH = 1800


def wallet_save_url(card: LoyaltyCard) -> str | None:
    """The "Add to Google Wallet" link for ``card``, or ``None`` when Wallet is not configured.

    The link is a JWT signed with the service account key, as short as it can be:

    - the card's object already exists at Google (a sync succeeded): the JWT names only the
      class and object ids;
    - otherwise it carries the card's full LoyaltyObject, so Google creates the pass on save
      even before our background sync ran, if the link stays under
      :data:`MAX_SAVE_URL_LENGTH` characters;
    - otherwise the object is inserted at Google first (one attempt) and the link is skinny.
      Should that insert fail, the long link is still better than no button.

    The program's class must exist for a save to work: the first sync creates it.

    :param card: the card to put in the customer's wallet.
    """
    if not wallet_enabled():
        return None
    try:
        account = load_service_account()
        skinny = [{"id": object_id_for(card), "classId": class_id_for(card.program)}]
        if card.wallet_object_id:
            return _save_url(account, skinny)
        url = _save_url(account, [loyalty_object_body(card)])
    except WalletError:
        # A broken key must not break the card page; the operator sees it in wallet-check.
        log.exception("Google Wallet link for card %s unavailable", card.id)
        return None
    if len(url) < MAX_SAVE_URL_LENGTH:
        return url
    try:
        with WalletClient() as client:
            client.ensure_class(card.program)
            client.upsert_object(card)
    except WalletError:
        log.warning("card %s: inserting the Wallet object before the link failed", card.id)
        return url
    return _save_url(account, skinny)


def _save_url(account: ServiceAccount, objects: list[dict[str, Any]]) -> str:
    origins = [o.strip() for o in current_app.config.get("GOOGLE_WALLET_ORIGINS", "").split(",")]
    claims = {
        "iss": account.email,
        "aud": "google",
        "typ": "savetowallet",
        "iat": int(time.time()),
        "origins": [o for o in origins if o],
        "payload": {"loyaltyObjects": objects},
    }
    token = jwt.encode(account.signer, claims).decode("ascii")
    return f"{current_app.config['GOOGLE_WALLET_SAVE_URL'].rstrip('/')}/{token}"


# Classes this process has already sent, keyed by API base and class id, with the body sent:
# an unchanged program needs no class request on every card sync.
_classes_sent: dict[tuple[str, str], dict[str, Any]] = {}
_classes_lock = threading.Lock()


#: 403 reasons that mean "too many requests", not "forbidden": Google's documented quota
#: and rate-limit reasons, in the ``errors[].reason`` list or an ``ErrorInfo`` detail.
RATE_LIMIT_REASONS = frozenset(
    {"quotaExceeded", "rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"}
)


def _error_body(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _error_reasons(error: dict[str, Any]) -> set[str]:
    reasons = set()
    for key in ("errors", "details"):
        for item in error.get(key) or []:
            if isinstance(item, dict) and isinstance(item.get("reason"), str):
                reasons.add(item["reason"])
    return reasons


def _error_text(response: requests.Response) -> str:
    error = _error_body(response)
    message = error.get("message") if isinstance(error.get("message"), str) else ""
    message = message or response.text[:300]
    reasons = sorted(_error_reasons(error))
    if reasons:
        message = f"{message} ({', '.join(reasons)})"
    return f"Google Wallet answered HTTP {response.status_code}: {message}".rstrip(": ")


def retry_after_seconds(response: requests.Response) -> float | None:
    """The ``Retry-After`` header in seconds (delta-seconds or an HTTP date), or ``None``."""
    value = (response.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _is_rate_limited(response: requests.Response) -> bool:
    status = response.status_code
    if status == 429:
        return True
    return status == 403 and bool(_error_reasons(_error_body(response)) & RATE_LIMIT_REASONS)


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
        if status >= 500 or _is_rate_limited(response):
            raise WalletRetryableError(_error_text(response), retry_after_seconds(response))
        raise WalletRejectedError(_error_text(response))

    def _resolve_conflict(
        self, resource: str, resource_id: str, body: dict[str, Any], conflict: requests.Response
    ) -> None:
        """A 409: read the resource again and patch it once. When that does not settle it,
        Google rejects the card (sending the same again gets the same 409)."""
        read = self._request("GET", f"{resource}/{resource_id}", ok_statuses=(404,))
        if read.status_code != 404:
            patched = self._request("PATCH", f"{resource}/{resource_id}", body, ok_statuses=(409,))
            if patched.status_code != 409:
                return
            conflict = patched
        raise WalletRejectedError(
            f"{_error_text(conflict)} (still in conflict after a read and a patch)"
        )

    def ensure_class(self, program: LoyaltyProgram) -> str:
        """Create the program's LoyaltyClass, or update it when it exists (409 on insert).

        Skips the request when this process already sent the same class body.

        :param program: the loyalty program the class describes.
        :returns: the class id.
        """
        return self.put_class(loyalty_class_body(program))

    def put_class(self, body: dict[str, Any]) -> str:
        """:meth:`ensure_class` for a LoyaltyClass body built beforehand."""
        key = (self.api_base, body["id"])
        if _classes_sent.get(key) == body:
            return body["id"]
        response = self._request("POST", "loyaltyClass", body, ok_statuses=(409,))
        if response.status_code == 409:
            patched = self._request("PATCH", f"loyaltyClass/{body['id']}", body, ok_statuses=(409,))
            if patched.status_code == 409:
                self._resolve_conflict("loyaltyClass", body["id"], body, patched)
        with _classes_lock:
            _classes_sent[key] = body
        return body["id"]

    def upsert_object(self, card: LoyaltyCard) -> str:
        """Create or update the card's LoyaltyObject (balance, stamps, barcode, holder name).

        A 409 (on insert: someone created it between our GET and POST; on patch: a
        concurrent change) gets one more read and patch; if the conflict stays, the card is
        rejected (:class:`WalletRejectedError`).

        :param card: the card to publish.
        :returns: the object id.
        """
        return self.put_object(loyalty_object_body(card))

    def put_object(self, body: dict[str, Any]) -> str:
        """:meth:`upsert_object` for a LoyaltyObject body built beforehand."""
        object_id = body["id"]
        response = self._request("GET", f"loyaltyObject/{object_id}", ok_statuses=(404,))
        if response.status_code == 404:
            written = self._request("POST", "loyaltyObject", body, ok_statuses=(409,))
        else:
            written = self._request("PATCH", f"loyaltyObject/{object_id}", body, ok_statuses=(409,))
        if written.status_code == 409:
            self._resolve_conflict("loyaltyObject", object_id, body, written)
        return object_id


def forget_sent_classes() -> None:
    """Make the next sync send every class again (tests; after changing the API base)."""
    with _classes_lock:
        _classes_sent.clear()

"""The service account key: loaded once per process, checked by ``validate_config``.

Reading and parsing the JSON key (and the RSA private key inside it) on every sync or every
"Add to Google Wallet" link is wasted work, so the credentials are cached per key file and
token URI. The cached :class:`~google.oauth2.service_account.Credentials` object also keeps
its access token until it expires, so a batch of syncs asks the token endpoint only once.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from google.auth import crypt
from google.oauth2 import service_account

from loyalty.wallet.errors import WalletNotConfiguredError

#: The only scope the Wallet Objects API needs for issuing passes.
WALLET_SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer"


@dataclass(frozen=True)
class ServiceAccount:
    """A parsed key: the email that signs, the signer, and API credentials."""

    email: str
    signer: crypt.Signer
    credentials: service_account.Credentials


_cache: dict[tuple[str, str], ServiceAccount] = {}
_cache_lock = threading.Lock()


def _read_key_file(path: str) -> dict[str, Any]:
    try:
        raw = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise WalletNotConfiguredError(
            f"cannot read the service account key file {path}: {exc.strerror or exc}"
        ) from exc
    try:
        info = json.loads(raw)
    except ValueError as exc:
        raise WalletNotConfiguredError(
            f"the service account key file {path} is not valid JSON"
        ) from exc
    if not isinstance(info, dict):
        raise WalletNotConfiguredError(f"the service account key file {path} is not a JSON object")
    return info


def _parse(info: dict[str, Any], token_uri: str) -> ServiceAccount:
    if info.get("type") != "service_account":
        raise WalletNotConfiguredError("the key file is not a service account key")
    if token_uri:
        # Tests (and private deployments) send the token request somewhere else.
        info = info | {"token_uri": token_uri}
    try:
        credentials = service_account.Credentials.from_service_account_info(
            info, scopes=[WALLET_SCOPE]
        )
    except (ValueError, KeyError) as exc:
        raise WalletNotConfiguredError(f"the service account key cannot be used: {exc}") from exc
    return ServiceAccount(
        email=credentials.service_account_email,
        signer=credentials.signer,
        credentials=credentials,
    )


def load_service_account() -> ServiceAccount:
    """The configured service account, parsed on first use and cached for the process.

    :raises WalletNotConfiguredError: no key file configured, or it cannot be read or parsed.
    """
    path = current_app.config.get("GOOGLE_WALLET_SERVICE_ACCOUNT_FILE") or ""
    token_uri = current_app.config.get("GOOGLE_WALLET_TOKEN_URI") or ""
    if not path:
        raise WalletNotConfiguredError("GOOGLE_WALLET_SERVICE_ACCOUNT_FILE is not set")
    key = (path, token_uri)
    account = _cache.get(key)
    if account is not None:
        return account
    with _cache_lock:
        account = _cache.get(key)
        if account is None:
            account = _parse(_read_key_file(path), token_uri)
            _cache[key] = account
    return account


def load_key_file(path: str, token_uri: str = "") -> ServiceAccount:
    """Read and parse the key file now, bypassing the cache (``wallet-check``).

    :raises WalletNotConfiguredError: it cannot be read or parsed.
    """
    return _parse(_read_key_file(path), token_uri)


def clear_cache() -> None:
    """Forget parsed keys (after rotating the key file in place; tests)."""
    with _cache_lock:
        _cache.clear()


def validate_config() -> list[str]:
    """Every problem that stops Google Wallet from working, in plain words; empty when ready.

    Checks the issuer id; that the key file is set, readable, a service account key with a
    service account email, and that its key signs; and that the logo of every active
    program answers a HEAD request with 2xx or 3xx within 5 s (see
    :mod:`loyalty.wallet.checks`, which also reports what passed).
    """
    from loyalty.wallet.checks import run_checks

    return [check.message for check in run_checks() if not check.ok]


def config_fingerprint() -> str:
    """A digest of what the Wallet configuration is now: issuer id, API base and key file.

    Stored on a rejected card; when it differs, the configuration changed since Google
    rejected the card, and the retry job tries the card again.
    """
    config = current_app.config
    digest = hashlib.sha256()
    for key in ("GOOGLE_WALLET_ISSUER_ID", "GOOGLE_WALLET_API_BASE", "GOOGLE_WALLET_TOKEN_URI"):
        digest.update(f"{key}={(config.get(key) or '').strip()}\n".encode())
    path = config.get("GOOGLE_WALLET_SERVICE_ACCOUNT_FILE") or ""
    digest.update(f"key={path}\n".encode())
    try:
        digest.update(Path(path).read_bytes() if path else b"")
    except OSError:
        digest.update(b"unreadable")
    return digest.hexdigest()

"""What ``flask loyalty wallet-check`` and the console's Google Wallet page verify.

Each check answers ok or a problem, in words staff can act on:

- the issuer id is set and numeric;
- the service account key file is set, readable, a service account key with an email, and
  its private key signs;
- the logo of every active program answers a HEAD request with 2xx or 3xx within
  ``GOOGLE_WALLET_LOGO_TIMEOUT`` (5 s): Google fetches it for every pass, and a broken logo
  gets the class refused.

The logo requests run side by side (a bounded pool), so one hanging server costs the
timeout once, not once per program.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from flask import current_app
from sqlalchemy import select

from loyalty.models import LoyaltyProgram
from loyalty.wallet.credentials import load_key_file
from loyalty.wallet.errors import WalletNotConfiguredError
from platform_core.extensions import db
from platform_core.i18n_lazy import _
from platform_core.i18n_lb import lb_gettext

#: Seconds a logo server has to answer the HEAD request.
DEFAULT_LOGO_TIMEOUT = 5.0
#: Logo HEAD requests in flight at once.
_LOGO_WORKERS = 8
_SIGN_PROBE = b"wallet-check"


@dataclass(frozen=True)
class WalletCheck:
    """One line of the report: what was checked, whether it passed, and the details."""

    name: str
    ok: bool
    message: str


def _issuer_check() -> WalletCheck:
    name = _("Issuer id")
    issuer_id = (current_app.config.get("GOOGLE_WALLET_ISSUER_ID") or "").strip()
    if not issuer_id:
        return WalletCheck(
            name, False, _("The Google Wallet issuer id (GOOGLE_WALLET_ISSUER_ID) is not set.")
        )
    if not issuer_id.isdigit():
        return WalletCheck(
            name,
            False,
            _("The Google Wallet issuer id must be digits only, got %(value)s.", value=issuer_id),
        )
    return WalletCheck(name, True, issuer_id)


def _key_check() -> WalletCheck:
    name = _("Service account key")
    path = current_app.config.get("GOOGLE_WALLET_SERVICE_ACCOUNT_FILE") or ""
    if not path:
        return WalletCheck(
            name,
            False,
            _("The service account key file (GOOGLE_WALLET_SERVICE_ACCOUNT_FILE) is not set."),
        )
    try:
        # Read afresh (no cache): report the file as it is now.
        account = load_key_file(path, current_app.config.get("GOOGLE_WALLET_TOKEN_URI") or "")
    except WalletNotConfiguredError as exc:
        return WalletCheck(
            name, False, _("The service account key file is unusable: %(reason)s.", reason=str(exc))
        )
    email = account.email or ""
    if "@" not in email or not email.endswith(".gserviceaccount.com"):
        return WalletCheck(
            name,
            False,
            _(
                "The key has no service account email (client_email), got %(value)s.",
                value=email or "-",
            ),
        )
    try:
        signature = account.signer.sign(_SIGN_PROBE)
    except (ValueError, TypeError) as exc:
        return WalletCheck(name, False, _("The key cannot sign: %(reason)s.", reason=str(exc)))
    if not signature:
        return WalletCheck(name, False, _("The key cannot sign: %(reason)s.", reason="-"))
    return WalletCheck(name, True, _("Loads and signs as %(email)s.", email=email))


def _head(url: str, timeout: float) -> str | None:
    """``None`` when the logo answers 2xx/3xx in time, else what went wrong.

    Runs in a pool thread, outside the request: the words are translated by the caller.
    """
    if urlsplit(url).scheme not in ("http", "https"):
        return "scheme"
    try:
        response = requests.head(url, timeout=timeout, allow_redirects=False)
    except requests.Timeout:
        return "timeout"
    except requests.RequestException as exc:
        return f"connect:{type(exc).__name__}"
    response.close()
    if 200 <= response.status_code < 400:
        return None
    return f"HTTP {response.status_code}"


def _reason(problem: str, timeout: float) -> str:
    if problem == "scheme":
        return _("not an http(s) URL")
    if problem == "timeout":
        return _("no answer within %(seconds)s s", seconds=f"{timeout:g}")
    if problem.startswith("connect:"):
        return _("cannot connect (%(error)s)", error=problem.partition(":")[2])
    return problem


def _logo_checks() -> list[WalletCheck]:
    programs = db.session.execute(
        select(LoyaltyProgram.id, LoyaltyProgram.name, LoyaltyProgram.logo_url)
        .where(LoyaltyProgram.is_active.is_(True))
        .order_by(LoyaltyProgram.name, LoyaltyProgram.id)
    ).all()
    if not programs:
        return []
    timeout = float(current_app.config.get("GOOGLE_WALLET_LOGO_TIMEOUT", DEFAULT_LOGO_TIMEOUT))
    with_logo = [(pid, url.strip()) for pid, _name, url in programs if (url or "").strip()]
    with ThreadPoolExecutor(max_workers=min(_LOGO_WORKERS, max(1, len(with_logo)))) as pool:
        outcomes = dict(
            zip(
                [pid for pid, _url in with_logo],
                pool.map(lambda item: _head(item[1], timeout), with_logo),
                strict=True,
            )
        )
    checks = []
    for pid, program_name, url in programs:
        name = lb_gettext("Logo of %(program)s", program=program_name)
        if not (url or "").strip():
            checks.append(
                WalletCheck(
                    name, False, _("Program %(program)s has no logo URL.", program=program_name)
                )
            )
            continue
        problem = outcomes[pid]
        if problem is None:
            checks.append(WalletCheck(name, True, url.strip()))
        else:
            checks.append(
                WalletCheck(
                    name,
                    False,
                    _(
                        "The logo of program %(program)s (%(url)s) is unreachable: %(reason)s.",
                        program=program_name,
                        url=url.strip(),
                        reason=_reason(problem, timeout),
                    ),
                )
            )
    return checks


def run_checks() -> list[WalletCheck]:
    """Every check, in order: issuer id, key, then one per active program's logo."""
    return [_issuer_check(), _key_check(), *_logo_checks()]

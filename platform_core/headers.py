"""Security headers on every response, set by Flask-Talisman.

The Content-Security-Policy allows scripts and styles from this origin only (Flask-Admin's
assets are served from its own static folder, never from a CDN), inline scripts only with
the per-request nonce, and no framing by other sites. Inline ``style`` attributes stay
allowed (``style-src-attr``): Flask-Admin, our templates and the emails shown in the
template editor's preview (a ``srcdoc`` iframe, which inherits this policy) use them, and
they cannot run code. HSTS is sent in production only, and only over HTTPS; redirecting
plain HTTP to HTTPS is the reverse proxy's job (a load balancer probes ``/healthz`` over
HTTP).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask_talisman import Talisman


class _Talisman(Talisman):
    def _set_referrer_policy_headers(self, headers: Any) -> None:
        # Pages with a token in their URL send the stricter ``no-referrer``: keep theirs.
        if "Referrer-Policy" not in headers:
            super()._set_referrer_policy_headers(headers)


SELF = "'self'"

CONTENT_SECURITY_POLICY: dict[str, str | list[str]] = {
    "default-src": SELF,
    "script-src": SELF,
    "style-src": SELF,
    "style-src-attr": "'unsafe-inline'",
    # Program logos and images in email previews may live on the merchant's own site.
    "img-src": [SELF, "data:", "https:"],
    "font-src": [SELF, "data:"],
    "connect-src": SELF,
    "frame-src": SELF,
    "frame-ancestors": SELF,
    "form-action": SELF,
    "object-src": "'none'",
    "base-uri": SELF,
}


def init_headers(app: Flask) -> Talisman:
    """Bind Talisman to ``app`` with the policy above; HSTS when ``ENV_NAME`` is production.

    One Talisman per app: it keeps its options on the instance, so a module-level one would
    let a second app (the browser tests' live server) change the first one's headers.
    """
    production = app.config.get("ENV_NAME") == "production"
    talisman = _Talisman()
    app.extensions["talisman"] = talisman
    talisman.init_app(
        app,
        force_https=False,
        strict_transport_security=production,
        strict_transport_security_include_subdomains=False,
        content_security_policy=CONTENT_SECURITY_POLICY,
        content_security_policy_nonce_in=["script-src", "style-src"],
        frame_options="SAMEORIGIN",
        referrer_policy="strict-origin-when-cross-origin",
        x_content_type_options=True,
        # Talisman would otherwise overwrite the cookie settings of config.py.
        session_cookie_secure=bool(app.config.get("SESSION_COOKIE_SECURE")),
        session_cookie_http_only=True,
        session_cookie_samesite=app.config.get("SESSION_COOKIE_SAMESITE", "Lax"),
    )
    return talisman


def csp_nonce() -> str:
    """This request's CSP nonce (for Flask-Admin's ``admin_csp_nonce_attribute``)."""
    return getattr(request, "csp_nonce", "")

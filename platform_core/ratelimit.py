"""Rate-limit keys.

The client address is ``request.remote_addr``; ProxyFix (configured from
``TRUSTED_PROXY_COUNT`` in the app factory) has already replaced it with the address the last
trusted proxy saw, so a forged ``X-Forwarded-For`` changes nothing when no proxy is trusted.
"""

from __future__ import annotations

from flask import request


def client_ip() -> str:
    return request.remote_addr or "unknown"


def client_ip_and_form_email() -> str:
    """Key for login attempts: one bucket per address and per email tried."""
    email = (request.form.get("email") or "").strip().lower()
    return f"{client_ip()}|{email}"

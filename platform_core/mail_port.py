"""The core's mail port: how platform_core sends an email without importing messaging.

Messaging sits above the core, so the core cannot call it. The app factory (a composition
root) registers messaging's queueing ``send`` here with :func:`register_mail_sender`; staff
invitations and password resets call :func:`send_mail`.
"""

from __future__ import annotations

from typing import Any, Protocol

from flask import Flask, current_app

_EXTENSION_KEY = "platform_core.mail_sender"


class MailSender(Protocol):
    """Queue the email ``code`` for ``recipient``; it is sent after the transaction commits."""

    def __call__(
        self,
        code: str,
        *,
        recipient: str,
        locale: str,
        context: dict[str, Any],
        merchant_id: int | None = None,
        store_id: int | None = None,
    ) -> Any: ...


def register_mail_sender(app: Flask, sender: MailSender) -> None:
    """Make ``sender`` the function :func:`send_mail` calls in ``app``."""
    app.extensions[_EXTENSION_KEY] = sender


def send_mail(
    code: str,
    *,
    recipient: str,
    locale: str,
    context: dict[str, Any],
    merchant_id: int | None = None,
    store_id: int | None = None,
) -> Any:
    """Queue an email through the sender the app registered.

    :raises RuntimeError: no sender was registered (the app was not built by the factory).
    """
    sender = current_app.extensions.get(_EXTENSION_KEY)
    if sender is None:
        raise RuntimeError("no mail sender registered: build the app with create_app()")
    return sender(
        code,
        recipient=recipient,
        locale=locale,
        context=context,
        merchant_id=merchant_id,
        store_id=store_id,
    )

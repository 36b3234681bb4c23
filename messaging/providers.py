"""Email transports behind one small interface, chosen by ``MAIL_BACKEND``.

``smtp`` (production), ``file`` (``.eml`` files in ``MAIL_OUTBOX_DIR``, the development
default) and ``memory`` (tests: a module-level outbox).
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
import threading
from collections.abc import Mapping
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

from messaging.mime import OutgoingEmail, message_bytes

log = logging.getLogger(__name__)


class MailProviderError(Exception):
    """The transport could not hand the message over; the send may be retried."""


class MailProvider(Protocol):
    def send(self, message: OutgoingEmail, *, sender: str, recipients: list[str]) -> None:
        """Hand ``message`` over for delivery, or raise :class:`MailProviderError`."""


class SmtpProvider:
    """SMTP with one connection per thread, kept open across messages.

    A consumer thread sends message after message over the same connection (connecting and
    greeting costs more than sending). A connection the server dropped is replaced once per
    message; a second failure is the message's failure.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        security: str = "none",
        user: str = "",
        password: str = "",
        timeout: float = 10.0,
    ) -> None:
        if security not in ("none", "starttls", "tls"):
            raise ValueError(f"SMTP_SECURITY must be none, starttls or tls, got {security!r}")
        self.host = host
        self.port = port
        self.security = security
        self.user = user
        self.password = password
        self.timeout = timeout
        self._local = threading.local()

    def _connect(self) -> smtplib.SMTP:
        if self.security == "tls":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.security == "starttls":
                conn.starttls(context=ssl.create_default_context())
        if self.user:
            conn.login(self.user, self.password)
        return conn

    def _connection(self) -> smtplib.SMTP:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close this thread's connection (the next send opens a new one)."""
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                conn.close()

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()

    def send(self, message: OutgoingEmail, *, sender: str, recipients: list[str]) -> None:
        # Already CRLF and 7-bit: ``sendmail`` passes the bytes through unchanged.
        data = message_bytes(message)
        reused = getattr(self._local, "conn", None) is not None
        try:
            self._connection().sendmail(sender, recipients, data)
            return
        except smtplib.SMTPRecipientsRefused as exc:
            # The server answered: the connection is fine, the address is not.
            raise MailProviderError(_describe(exc)) from exc
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPException, OSError) as exc:
            self._drop()
            if not reused:
                raise MailProviderError(_describe(exc)) from exc
            log.info("SMTP connection to %s:%s was dropped, reconnecting", self.host, self.port)
        try:
            self._connection().sendmail(sender, recipients, data)
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise MailProviderError(_describe(exc)) from exc


def _describe(exc: Exception) -> str:
    text = str(exc) or exc.__class__.__name__
    return f"{exc.__class__.__name__}: {text}"


class FileProvider:
    """Writes every message as an ``.eml`` file, for development without a mail server."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def send(self, message: OutgoingEmail, *, sender: str, recipients: list[str]) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            stem = re.sub(r"[^A-Za-z0-9.@-]+", "_", str(message["Message-ID"] or "message"))
            path = self.directory / f"{stem.strip('_')}.eml"
            path.write_bytes(message_bytes(message))
        except OSError as exc:
            raise MailProviderError(_describe(exc)) from exc


#: Messages "sent" by :class:`MemoryProvider`, oldest first, as a mail server would parse
#: them (decoded headers, ``get_body()``).
outbox: list[EmailMessage] = []
_outbox_lock = threading.Lock()


def clear_outbox() -> None:
    with _outbox_lock:
        outbox.clear()


class MemoryProvider:
    """Appends messages to :data:`outbox` (tests), serialized and parsed back as received."""

    def send(self, message: OutgoingEmail, *, sender: str, recipients: list[str]) -> None:
        received = message_from_bytes(message_bytes(message), policy=policy.default)
        with _outbox_lock:
            outbox.append(received)


_provider_lock = threading.Lock()
_provider: tuple[tuple[Any, ...], MailProvider] | None = None


def _settings_key(config: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        config.get("MAIL_BACKEND"),
        config.get("MAIL_OUTBOX_DIR"),
        config.get("SMTP_HOST"),
        config.get("SMTP_PORT"),
        config.get("SMTP_SECURITY"),
        config.get("SMTP_USER"),
        config.get("SMTP_PASSWORD"),
        config.get("SMTP_TIMEOUT"),
    )


def build_provider(config: Mapping[str, Any]) -> MailProvider:
    backend = config.get("MAIL_BACKEND", "file")
    if backend == "smtp":
        return SmtpProvider(
            config["SMTP_HOST"],
            int(config["SMTP_PORT"]),
            security=config.get("SMTP_SECURITY") or "none",
            user=config.get("SMTP_USER") or "",
            password=config.get("SMTP_PASSWORD") or "",
            timeout=float(config.get("SMTP_TIMEOUT") or 10.0),
        )
    if backend == "file":
        return FileProvider(config["MAIL_OUTBOX_DIR"])
    if backend == "memory":
        return MemoryProvider()
    raise RuntimeError(f"MAIL_BACKEND must be smtp, file or memory, got {backend!r}")


def get_provider(config: Mapping[str, Any]) -> MailProvider:
    """The provider for these settings, kept for the process so SMTP connections are reused."""
    global _provider
    key = _settings_key(config)
    with _provider_lock:
        if _provider is None or _provider[0] != key:
            _provider = (key, build_provider(config))
        return _provider[1]

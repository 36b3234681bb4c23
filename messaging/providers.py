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
    """The transport could not hand the message over; nothing was sent, it may be retried.

    :attr:`code` is the server's reply code when it answered (e.g. 421, 451), else ``None``.
    """

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class MailRefusedError(MailProviderError):
    """The server refused the message for good (a 5xx reply): retrying will not help."""


class MailOutcomeUnknownError(MailProviderError):
    """The message data went out but no reply came (connection lost, reply timed out).

    The server may have accepted it: never resend within the attempt; a retry of the task
    sends it again with the same Message-ID.
    """


class MailProvider(Protocol):
    def send(self, message: OutgoingEmail, *, sender: str, recipients: list[str]) -> None:
        """Hand ``message`` over for delivery, or raise :class:`MailProviderError`."""


#: The connection was found dead before anything of this message was sent: safe to replace.
_DEAD_CONNECTION = (smtplib.SMTPServerDisconnected, ConnectionError)


class SmtpProvider:
    """SMTP with one connection per thread, kept open across messages.

    A consumer thread sends message after message over the same connection (connecting and
    greeting costs more than sending). The envelope is sent command by command so that the
    outcome of each stage is known:

    * a reused connection found dead at ``MAIL FROM`` (the server closed it while idle) is
      replaced once: nothing of the message was sent yet;
    * a refusal at ``MAIL``, ``RCPT`` or ``DATA`` raises :class:`MailRefusedError` (5xx) or
      :class:`MailProviderError` (4xx), and the connection is reset for the next message;
    * once ``DATA`` has started, a lost connection or a timeout raises
      :class:`MailOutcomeUnknownError` and the message is never sent again here.
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
        try:
            if self.security == "tls":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host,
                    self.port,
                    timeout=self.timeout,
                    context=ssl.create_default_context(),
                )
            else:
                conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                if self.security == "starttls":
                    conn.starttls(context=ssl.create_default_context())
            if self.user:
                conn.login(self.user, self.password)
            conn.ehlo_or_helo_if_needed()
        except smtplib.SMTPResponseException as exc:
            # A 421 or 554 greeting, a refused login: nothing was sent.
            raise MailProviderError(_describe(exc), code=exc.smtp_code) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise MailProviderError(_describe(exc)) from exc
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

    def _reset(self, conn: smtplib.SMTP) -> None:
        """End the refused transaction so the connection serves the next message."""
        try:
            conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _refused(
        self, conn: smtplib.SMTP, stage: str, code: int, reply: bytes | str
    ) -> MailProviderError:
        self._reset(conn)
        if isinstance(reply, bytes):
            reply = reply.decode("utf-8", "replace")
        text = f"{stage} refused: {code} {reply}"
        if 500 <= code < 600:
            return MailRefusedError(text, code=code)
        return MailProviderError(text, code=code)

    def _mail_from(self, sender: str) -> tuple[smtplib.SMTP, int, bytes]:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            try:
                code, reply = conn.mail(sender)
                if code != 421:
                    return conn, code, reply
                # 421: the server is closing this idle connection; a new one may be welcome.
                self._drop()
            except _DEAD_CONNECTION:
                # Closed by the server while idle: nothing of this message went out.
                self._drop()
                log.info("SMTP connection to %s:%s was closed, reconnecting", self.host, self.port)
            except (smtplib.SMTPException, OSError) as exc:
                self._drop()
                raise MailProviderError(_describe(exc)) from exc
        conn = self._connect()
        try:
            code, reply = conn.mail(sender)
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise MailProviderError(_describe(exc)) from exc
        return conn, code, reply

    def send(self, message: OutgoingEmail, *, sender: str, recipients: list[str]) -> None:
        # Already CRLF and 7-bit: ``data`` passes the bytes through unchanged.
        data = message_bytes(message)
        conn, code, reply = self._mail_from(sender)
        if code != 250:
            raise self._refused(conn, "MAIL FROM", code, reply)
        try:
            for recipient in recipients:
                code, reply = conn.rcpt(recipient)
                if code not in (250, 251):
                    raise self._refused(conn, f"RCPT TO <{recipient}>", code, reply)
        except MailProviderError:
            raise
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise MailProviderError(_describe(exc)) from exc
        try:
            code, reply = conn.data(data)
        except smtplib.SMTPDataError as exc:
            # Refused at the DATA command itself, before any of the message was sent.
            raise self._refused(conn, "DATA", exc.smtp_code, exc.smtp_error) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise MailOutcomeUnknownError(f"after DATA: {_describe(exc)}") from exc
        if code != 250:
            raise self._refused(conn, "DATA", code, reply)


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

"""The MIME message of one email, written straight to its wire form.

Every email we send has the same shape: a multipart/alternative with a UTF-8 text part and
a UTF-8 HTML part, From the merchant's name, Reply-To the merchant, a Subject, Date and
Message-ID. The ``email`` package's modern API (``EmailMessage``, ``policy.default``) parses
and refolds each header through its header registry and trial-encodes each body to pick a
transfer encoding: for a typical loyalty email that cost more than rendering the template and
sending it over SMTP together; even its compat32 generator spent longer folding fifteen
headers than SMTP took to send them. So the headers are encoded once with ``email.header``
and ``email.utils`` (RFC 2047 for non-ASCII names and subjects, folded to 78 columns), the
bodies are base64 (safe for any server, no 8BITMIME needed, encoded in C), and the message is
assembled with CRLF line ends. Parsed back with ``email``, it is an ordinary message.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from email.header import Header
from email.utils import formataddr, formatdate, make_msgid

_CRLF = "\r\n"


def _check_one_line(*values: str) -> None:
    for value in values:
        # A line break would end the header and start one of the sender's choosing.
        if "\r" in value or "\n" in value:
            raise ValueError(f"header value {value!r} contains a line break")


def _encoded(name: str, value: str) -> str:
    """``value`` folded for header ``name``; RFC 2047 encoded words when not ASCII."""
    charset = "us-ascii" if value.isascii() else "utf-8"
    return Header(value, charset, header_name=name).encode(linesep=_CRLF)


def _address(name: str, address: str) -> str:
    if not name:
        return address
    if name.isascii():
        return formataddr((name, address))  # quotes the name when it holds specials
    return f"{_encoded('From', name)} <{address}>"


def _ascii_address(address: str) -> str:
    """``address`` with an international domain in its IDNA form."""
    if address.isascii():
        return address
    local, _, domain = address.rpartition("@")
    if not local.isascii():
        raise ValueError(f"{address!r}: a non-ASCII mailbox name needs SMTPUTF8")
    return f"{local}@{domain.encode('idna').decode('ascii')}"


def _base64_lines(text: str) -> str:
    return base64.encodebytes(text.encode("utf-8")).decode("ascii").replace("\n", _CRLF)


@dataclass(frozen=True)
class OutgoingEmail:
    """One message ready to send: its (already encoded) headers and its two bodies."""

    headers: tuple[tuple[str, str], ...]
    body_text: str
    body_html: str
    boundary: str = field(default_factory=lambda: "=_" + secrets.token_hex(16))

    def __getitem__(self, name: str) -> str | None:
        """The header ``name`` as written on the wire (``message["Message-ID"]``)."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def as_bytes(self) -> bytes:
        """The message as sent: CRLF line ends, 7-bit clean."""
        # "=_" cannot occur in base64 text, so the boundary never collides with a body.
        lines = [f"{key}: {value}" for key, value in self.headers]
        lines += [
            "MIME-Version: 1.0",
            "Content-Type: multipart/alternative;",
            f' boundary="{self.boundary}"',
            "",
        ]
        for subtype, body in (("plain", self.body_text), ("html", self.body_html)):
            lines += [
                f"--{self.boundary}",
                f'Content-Type: text/{subtype}; charset="utf-8"',
                "Content-Transfer-Encoding: base64",
                "",
                _base64_lines(body),
            ]
        lines += [f"--{self.boundary}--", ""]
        return _CRLF.join(lines).encode("ascii")


def build_mime(
    *,
    from_name: str,
    mail_from: str,
    to: str,
    reply_to: str | None,
    subject: str,
    body_text: str,
    body_html: str,
    message_id: str | None = None,
    list_unsubscribe_url: str | None = None,
) -> OutgoingEmail:
    """A multipart/alternative message with a text and an HTML part, both UTF-8.

    :param from_name: the display name of the sender (the merchant's name), may be empty.
    :param mail_from: the sender address.
    :param to: the recipient address.
    :param reply_to: where replies go (the merchant's contact address), if anywhere.
    :param subject: the rendered subject, one line.
    :param body_text: the plain-text body.
    :param body_html: the HTML body.
    :param message_id: the ``Message-ID`` to use (a retry keeps the first attempt's); a new
        one when ``None``.
    :param list_unsubscribe_url: a marketing email's unsubscribe address: adds
        ``List-Unsubscribe`` and the one-click ``List-Unsubscribe-Post`` (RFC 8058).
    :return: the message, with ``Message-ID`` and ``Date`` set.
    :raises ValueError: a header value holds a line break.
    """
    _check_one_line(
        from_name,
        mail_from,
        to,
        reply_to or "",
        subject,
        message_id or "",
        list_unsubscribe_url or "",
    )
    headers = [("From", _address(from_name, mail_from)), ("To", _ascii_address(to))]
    if reply_to:
        headers.append(("Reply-To", _ascii_address(reply_to)))
    headers += [
        ("Subject", _encoded("Subject", subject)),
        ("Date", formatdate(usegmt=True)),
        ("Message-ID", message_id or new_message_id(mail_from)),
        ("Auto-Submitted", "auto-generated"),
    ]
    if list_unsubscribe_url:
        headers += [
            ("List-Unsubscribe", f"<{list_unsubscribe_url}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ]
    return OutgoingEmail(tuple(headers), body_text, body_html)


def new_message_id(mail_from: str) -> str:
    """A fresh ``Message-ID`` in the sender's domain."""
    return make_msgid(domain=mail_from.rpartition("@")[2] or "localhost")


def message_bytes(message: OutgoingEmail) -> bytes:
    """The message as sent: CRLF line ends, 7-bit clean."""
    return message.as_bytes()

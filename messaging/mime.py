"""The MIME message of one email, built with the ``email`` package's compat32 classes.

The modern API (``EmailMessage`` with ``policy.default``) parses and refolds every header
through its header registry and picks a transfer encoding by trial-encoding each body; for a
typical loyalty email that took longer than rendering the template and sending it over SMTP
together. The compat32 classes write the same message (multipart/alternative, two UTF-8
parts, RFC 2047 encoded From name and Subject) about twenty times faster.

Bodies are base64: safe for any SMTP server (no 8BITMIME needed), and encoded in C.
"""

from __future__ import annotations

from email import charset as _charset
from email import policy
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import formataddr, formatdate, make_msgid

#: How messages go on the wire and into ``.eml`` files: compat32 with CRLF line ends.
WIRE_POLICY = policy.compat32.clone(linesep="\r\n")

_UTF8 = _charset.Charset("utf-8")  # base64 bodies, shortest encoding for headers


def _text_part(body: str, subtype: str) -> MIMENonMultipart:
    part = MIMENonMultipart("text", subtype, charset="utf-8")
    # Only the top level carries MIME-Version.
    del part["MIME-Version"]
    part.set_payload(body, charset=_UTF8)
    return part


def _header(value: str) -> str | Header:
    """``value`` as is when it is ASCII, else RFC 2047 encoded (folded when long)."""
    if value.isascii():
        return value
    return Header(value, _UTF8, header_name="Subject")


def build_mime(*, from_name: str, mail_from: str, to: str, reply_to: str | None,
               subject: str, body_text: str, body_html: str) -> Message:
    """A multipart/alternative message with a text and an HTML part, both UTF-8.

    :param from_name: the display name of the sender (the merchant's name), may be empty.
    :param mail_from: the sender address.
    :param to: the recipient address.
    :param reply_to: where replies go (the merchant's contact address), if anywhere.
    :param subject: the rendered subject, one line.
    :param body_text: the plain-text body.
    :param body_html: the HTML body.
    :return: the message, with ``Message-ID`` and ``Date`` set.
    """
    for value in (from_name, to, reply_to or "", subject):
        # compat32 would write a line break as is, starting a header of the sender's choosing.
        if "\r" in value or "\n" in value:
            raise ValueError(f"header value {value!r} contains a line break")
    message = MIMEMultipart("alternative")
    message["From"] = formataddr((from_name, mail_from), charset=_UTF8) if from_name \
        else mail_from
    message["To"] = to
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = _header(subject)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=mail_from.rpartition("@")[2] or "localhost")
    message["Auto-Submitted"] = "auto-generated"
    message.attach(_text_part(body_text, "plain"))
    message.attach(_text_part(body_html, "html"))
    return message


def message_bytes(message: Message) -> bytes:
    """The message as sent: CRLF line ends, 7-bit clean."""
    return message.as_bytes(policy=WIRE_POLICY)

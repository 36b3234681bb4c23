"""Helpers shared by the password-reset and invitation tests: links read back out of the
emails, CSRF tokens read from forms, a clock moved back for expiry."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import select

from messaging.models import EmailLog
from platform_core.extensions import db

_TOKEN = r"[A-Za-z0-9_.\-]+"


def csrf_token(client: Any, url: str) -> str:
    html = client.get(url).text
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def email_logs(code: str) -> list[EmailLog]:
    return list(
        db.session.scalars(select(EmailLog).where(EmailLog.code == code).order_by(EmailLog.id))
    )


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def link_in(message: EmailMessage, prefix: str) -> str:
    """The path of the first link starting with ``prefix`` in the email's text part."""
    found = re.search(rf"https?://[^/\s]+({re.escape(prefix)}{_TOKEN})", text_of(message))
    assert found, f"no {prefix} link in:\n{text_of(message)}"
    return found.group(1)


@contextmanager
def clock_moved_back(monkeypatch: pytest.MonkeyPatch, seconds: int) -> Iterator[None]:
    """Tokens signed inside this block carry a timestamp ``seconds`` in the past."""
    from itsdangerous.timed import TimestampSigner

    real = TimestampSigner.get_timestamp
    with monkeypatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) - seconds)
        yield

"""Fixtures of the staff password tests: seeded staff templates and the memory outbox."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest

from messaging.providers import clear_outbox, outbox
from seeds.seed_email_templates_core import core_templates, upsert_templates


@pytest.fixture
def staff_templates(session: Any) -> Iterator[list[EmailMessage]]:
    """The staff email templates as the seed writes them; yields the (emptied) outbox."""
    upsert_templates(core_templates())
    clear_outbox()
    yield outbox
    clear_outbox()


@pytest.fixture
def csrf_on(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """CSRF protection as in production (the test config turns it off)."""
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)

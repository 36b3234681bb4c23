"""Messaging fixtures: a real SMTP server on loopback, seeded templates, a loyalty card."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask

from loyalty.models import LoyaltyCard, LoyaltyProgram, ProgramKind, ProgramText
from messaging.providers import clear_outbox
from platform_core.extensions import db
from platform_core.tenancy.models import Merchant, Store
from seeds.seed_email_templates_core import core_templates, upsert_templates
from seeds.seed_email_templates_loyalty import loyalty_templates


def free_port() -> int:
    """A loopback port nobody listens on (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class CollectingHandler:
    """aiosmtpd handler keeping every message, and counting the sessions that said EHLO."""

    received: list[Received] = field(default_factory=list)
    ehlo_count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        with self.lock:
            self.ehlo_count += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, port: int | None = None) -> None:
        self.handler = CollectingHandler()
        self.port = port or free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def restart(self) -> None:
        """Stop (dropping every open connection) and listen again on the same port."""
        self.controller.stop()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    @property
    def messages(self) -> list[EmailMessage]:
        return [r.message for r in self.handler.received]


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def use_smtp(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Point the app's mail settings at an SMTP server on loopback port ``port``."""

    def point_at(port: int) -> None:
        monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
        monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
        monkeypatch.setitem(app.config, "SMTP_PORT", port)
        monkeypatch.setitem(app.config, "SMTP_SECURITY", "none")
        monkeypatch.setitem(app.config, "SMTP_TIMEOUT", 5.0)

    return point_at


@pytest.fixture(autouse=True)
def _empty_outbox() -> Iterator[None]:
    clear_outbox()
    yield
    clear_outbox()


@pytest.fixture
def seeded_templates(session: Any) -> None:
    """The platform templates exactly as ``flask seed email-templates`` writes them."""
    upsert_templates([*core_templates(), *loyalty_templates()])


@pytest.fixture
def shop(create_merchant: Any, create_store: Any) -> tuple[Merchant, Store]:
    """A merchant whose name needs encoding in a header, and its store."""
    merchant = create_merchant(
        name="Pâtisserie Ëlsa & Fils",
        slug="patisserie-elsa",
        contact_email="bonjour@elsa.example.lu",
        default_locale="fr",
    )
    store = create_store(
        merchant=merchant, name="Ettelbréck", slug="ettelbreck", default_locale="fr"
    )
    return merchant, store


@pytest.fixture
def make_loyalty_card(
    create_customer: Any, shop: tuple[Merchant, Store]
) -> Callable[..., LoyaltyCard]:
    """A card of the shop's program for a customer speaking ``locale``."""
    merchant, store = shop
    counter = iter(range(1, 10_000))
    programs: dict[ProgramKind, LoyaltyProgram] = {}

    def make(
        locale: str = "en",
        *,
        kind: ProgramKind = ProgramKind.HYBRID,
        points_balance: int = 1250,
        first_name: str = "Léa",
    ) -> LoyaltyCard:
        program = programs.get(kind)
        if program is None:
            # Only one program may be active per merchant: earlier ones are switched off.
            for other in programs.values():
                other.is_active = False
            db.session.flush()
            program = LoyaltyProgram(
                merchant=merchant,
                kind=kind,
                name="Club Ëlsa",
                welcome_bonus_points=150,
                points_per_euro=Decimal("1.00"),
                stamps_target=8,
                points_expiry_days=365,
                brand_color="#8b1f4f",
                texts=[ProgramText(locale="fr", reward_description="une tarte offerte")],
            )
            db.session.add(program)
            programs[kind] = program
        n = next(counter)
        customer = create_customer(
            merchant=merchant,
            first_name=first_name,
            last_name="Hoffmann",
            preferred_locale=locale,
            email=f"lea{n}@example.lu",
        )
        card = LoyaltyCard(
            merchant=merchant,
            customer=customer,
            program=program,
            card_number=f"400012345678{n:01d}",
            enrolled_at_store=store,
            points_balance=points_balance,
            stamp_count=8,
        )
        db.session.add(card)
        db.session.flush()
        return card

    return make

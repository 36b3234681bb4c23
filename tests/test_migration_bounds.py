"""The ranges migration on a database with data: out-of-range programs and settings are
brought to the nearest bound, the cards that reference them survive the table rebuild
(SQLite's batch mode), and the downgrade keeps the rows too."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import Column, MetaData, Table, insert, inspect, select

from platform_core.extensions import db
from tests.test_migrations import empty_database_url, migration_app  # noqa: F401

BEFORE = "c9bc5c66bed2"
RANGES = "3b8e1f0c7d2a"


def _table(name: str, bind: Any = None):
    """The model's table, cut to the columns the database has at its current revision
    (later migrations add columns the model already knows), with the model's defaults."""
    present = {column["name"] for column in inspect(bind or db.engine).get_columns(name)}
    return Table(
        name,
        MetaData(),
        *(
            Column(
                c.name,
                c.type,
                primary_key=c.primary_key,
                default=c.default.arg if c.default is not None else None,  # type: ignore[attr-defined]
            )
            for c in db.metadata.tables[name].columns
            if c.name in present
        ),
    )


def test_out_of_range_rows_are_clamped_and_references_survive(migration_app: Flask) -> None:  # noqa: F811
    upgrade(revision=BEFORE)
    with db.engine.begin() as conn:
        merchant = conn.execute(
            insert(_table("merchants", conn)).values(
                name="M", slug="m", legal_name="", contact_email="", default_locale="en"
            )
        ).inserted_primary_key[0]
        # Reflected: the program texts columns of that revision are no longer on the model.
        old_programs = Table("loyalty_programs", MetaData(), autoload_with=conn)
        program = conn.execute(
            insert(old_programs).values(
                merchant_id=merchant,
                kind="points",
                name="Broken",
                description="",
                points_per_euro=Decimal("5000"),
                welcome_bonus_points=10_000_000,
                points_expiry_days=2_000_000_000,
                expiry_warning_days=0,
                stamps_reward_description="",
                logo_url="",
                brand_color="#000000",
                terms_url="",
                is_active=True,
                created_at=datetime(2026, 1, 1),
                updated_at=datetime(2026, 1, 1),
            )
        ).inserted_primary_key[0]
        customer = conn.execute(
            insert(_table("customers", conn)).values(
                merchant_id=merchant, email="a@example.lu", first_name="A", last_name="B"
            )
        ).inserted_primary_key[0]
        conn.execute(
            insert(_table("loyalty_cards", conn)).values(
                merchant_id=merchant,
                customer_id=customer,
                program_id=program,
                card_number="1234567812345670",
            )
        )
        conn.execute(
            insert(_table("merchant_loyalty_settings", conn)).values(
                merchant_id=merchant, void_window_days=100_000, min_points_to_redeem=0
            )
        )

    upgrade(revision=RANGES)
    programs, cards, settings = (
        _table("loyalty_programs"),
        _table("loyalty_cards"),
        _table("merchant_loyalty_settings"),
    )
    with db.engine.connect() as conn:
        row = conn.execute(select(programs).where(programs.c.id == program)).one()
        assert Decimal(row.points_per_euro) == Decimal("1000")
        assert row.welcome_bonus_points == 100_000
        assert row.points_expiry_days == 3_650
        assert row.expiry_warning_days == 1
        assert conn.execute(select(cards.c.program_id)).scalars().all() == [program]
        assert conn.execute(select(settings.c.void_window_days)).scalar_one() == 365

    downgrade(revision=BEFORE)
    with db.engine.connect() as conn:
        assert conn.execute(select(cards.c.program_id)).scalars().all() == [program]

"""The program texts migration on a database with data: each program's description, reward
and terms move into a row in its merchant's default language (English when that is not one
of ours), and the downgrade brings them back."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, Table, insert, select

from platform_core.extensions import db
from tests.test_migrations import empty_database_url, migration_app  # noqa: F401

BEFORE = "5e55104a7c3d"
TEXTS = "8c2d4e6f1a37"


def _reflect(conn, name: str) -> Table:
    return Table(name, MetaData(), autoload_with=conn)


def _merchant(conn, slug: str, locale: str) -> int:
    return conn.execute(
        insert(_reflect(conn, "merchants")).values(
            name=slug,
            slug=slug,
            legal_name="",
            contact_email="",
            default_locale=locale,
            created_at=datetime(2026, 1, 1),
            updated_at=datetime(2026, 1, 1),
        )
    ).inserted_primary_key[0]


def _program(conn, merchant: int, **texts: str) -> int:
    return conn.execute(
        insert(_reflect(conn, "loyalty_programs")).values(
            merchant_id=merchant,
            kind="stamps",
            name="Club",
            points_per_euro=Decimal("1"),
            welcome_bonus_points=0,
            stamps_target=10,
            expiry_warning_days=14,
            logo_url="",
            brand_color="#000000",
            is_active=True,
            created_at=datetime(2026, 1, 1),
            updated_at=datetime(2026, 1, 1),
            **texts,
        )
    ).inserted_primary_key[0]


def test_texts_move_to_the_merchant_language_and_back(migration_app: Flask) -> None:  # noqa: F811
    upgrade(revision=BEFORE)
    with db.engine.begin() as conn:
        lb = _program(
            conn,
            _merchant(conn, "lb-shop", "lb"),
            description="E Punkt pro Euro.",
            stamps_reward_description="E Kaffi gratis",
            terms_url="https://lb.example/konditiounen",
        )
        other = _program(
            conn,
            _merchant(conn, "pt-shop", "pt"),
            description="One stamp per coffee.",
            stamps_reward_description="",
            terms_url="",
        )

    upgrade(revision=TEXTS)
    with db.engine.connect() as conn:
        texts = _reflect(conn, "program_texts")
        rows = {
            row.program_id: row for row in conn.execute(select(texts).order_by(texts.c.program_id))
        }
        assert set(_reflect(conn, "loyalty_programs").c.keys()).isdisjoint(
            {"description", "stamps_reward_description", "terms_url"}
        )
    assert (rows[lb].locale, rows[lb].name, rows[lb].description) == (
        "lb",
        "Club",
        "E Punkt pro Euro.",
    )
    assert rows[lb].reward_description == "E Kaffi gratis"
    assert rows[lb].terms_url == "https://lb.example/konditiounen"
    assert (rows[other].locale, rows[other].description) == ("en", "One stamp per coffee.")

    downgrade(revision=BEFORE)
    with db.engine.connect() as conn:
        programs = _reflect(conn, "loyalty_programs")
        back = {row.id: row for row in conn.execute(select(programs).order_by(programs.c.id))}
    assert back[lb].description == "E Punkt pro Euro."
    assert back[lb].stamps_reward_description == "E Kaffi gratis"
    assert back[lb].terms_url == "https://lb.example/konditiounen"
    assert back[other].description == "One stamp per coffee."
    assert back[other].terms_url == ""
    upgrade()

"""Migrations: one head; upgrade from empty, no drift from the models, downgrade to base.

Runs on whichever database the suite runs on (``make test`` runs it on PostgreSQL and on
SQLite), each time in a database of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, make_url, text

from platform_core.app import create_app
from platform_core.config import PROJECT_ROOT, TestConfig
from platform_core.extensions import db
from tests.conftest import database_url, is_postgres


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    if not is_postgres():
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    server = make_url(database_url())
    name = f"migrations_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def migration_app(empty_database_url: str) -> Iterator[Flask]:
    app = create_app(config=TestConfig(), overrides={"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def test_single_head() -> None:
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}"


def test_upgrade_from_empty_matches_models_and_downgrades(migration_app: Flask) -> None:
    upgrade()
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "render_as_batch": True}
        )
        drift = compare_metadata(context, db.metadata)
    assert drift == [], f"models and migrations differ: {drift}"
    tables = set(inspect(db.engine).get_table_names())
    assert {"merchants", "stores", "loyalty_cards", "email_logs"} <= tables

    downgrade(revision="base")
    remaining = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert remaining == set(), f"downgrade left tables behind: {remaining}"

    # And back up again: a downgrade must leave a database that upgrades cleanly.
    upgrade()
    assert "loyalty_transactions" in inspect(db.engine).get_table_names()

"""Migrations: one head; upgrade from empty, no drift from the models, downgrade to base.

Runs on whichever database the suite runs on (``make test`` runs it on PostgreSQL and on
SQLite), each time in a database of its own. Alembic's comparison does not look at CHECK
constraints, index predicates or server defaults; on PostgreSQL the schema the migrations
build is also compared, as the server itself describes it, with the one the models build.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import Connection, create_engine, inspect, make_url, text

from platform_core.app import create_app
from platform_core.config import PROJECT_ROOT, TestConfig
from platform_core.extensions import db
from tests.conftest import database_url, is_postgres


@contextmanager
def _scratch_postgres_database(prefix: str) -> Iterator[str]:
    """A new, empty database on the suite's PostgreSQL server, dropped afterwards."""
    server = make_url(database_url())
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
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
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    if not is_postgres():
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    with _scratch_postgres_database("migrations") as url:
        yield url


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
    if is_postgres():
        with db.engine.connect() as conn:
            functions = {row[0] for row in conn.execute(_FUNCTIONS)}
        assert "loyalty_fold" not in functions, "downgrade left the search function behind"

    # And back up again: a downgrade must leave a database that upgrades cleanly.
    upgrade()
    assert "loyalty_transactions" in inspect(db.engine).get_table_names()


# --- what Alembic's comparison cannot see (PostgreSQL) ------------------------------------

#: Every constraint but NOT NULL, as PostgreSQL prints it back (so spelling is normalized).
_CONSTRAINTS = text(
    """
    SELECT conrelid::regclass::text, conname, contype::text, pg_get_constraintdef(oid, true)
    FROM pg_constraint
    WHERE connamespace = 'public'::regnamespace AND conrelid <> 0
    """
)
#: Every index, unique or partial ones included: the definition carries the WHERE predicate.
_INDEXES = text(
    """
    SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'
    """
)
#: Functions (the search's loyalty_fold, the audit log's trigger), as the server prints them.
_FUNCTIONS = text(
    """
    SELECT proname, pg_get_functiondef(oid) FROM pg_proc
    WHERE pronamespace = 'public'::regnamespace
    """
)
#: Server defaults (and nullability) of every column.
_COLUMNS = text(
    """
    SELECT table_name, column_name, coalesce(column_default, ''), is_nullable
    FROM information_schema.columns WHERE table_schema = 'public'
    """
)


def _server_schema(conn: Connection) -> dict[str, set[tuple[str, ...]]]:
    def rows(query: Any) -> set[tuple[str, ...]]:
        return {
            tuple(str(v) for v in row) for row in conn.execute(query) if row[0] != "alembic_version"
        }

    return {
        "constraints": rows(_CONSTRAINTS),
        "indexes": rows(_INDEXES),
        "columns": rows(_COLUMNS),
        "functions": rows(_FUNCTIONS),
    }


@pytest.mark.postgres
def test_migrated_schema_has_every_constraint_index_and_default_of_the_models(
    migration_app: Flask,
) -> None:
    upgrade()
    with db.engine.connect() as conn:
        migrated = _server_schema(conn)

    with _scratch_postgres_database("models") as url:
        engine = create_engine(url)
        try:
            db.metadata.create_all(engine)
            with engine.connect() as conn:
                modelled = _server_schema(conn)
        finally:
            engine.dispose()

    assert modelled["constraints"], "the comparison must see the CHECK constraints"
    assert any(kind == "c" for _, _, kind, _ in modelled["constraints"])
    assert any(" WHERE " in definition for *_, definition in modelled["indexes"])
    assert any(name == "loyalty_fold" for name, _ in modelled["functions"])
    for part in ("constraints", "indexes", "columns", "functions"):
        missing = sorted(modelled[part] - migrated[part])
        extra = sorted(migrated[part] - modelled[part])
        assert (missing, extra) == ([], []), (
            f"{part}: in the models but not the migrations: {missing}; "
            f"in the migrations but not the models: {extra}"
        )

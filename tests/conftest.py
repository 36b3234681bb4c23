"""Test fixtures: one app and schema per session, one rolled-back transaction per test.

The database is ``TEST_DATABASE_URL`` (``make test`` runs the suite once against a throwaway
PostgreSQL and once against SQLite); without it, a SQLite file under a temp directory.
Code under test commits freely: the session joins an outer transaction through savepoints
(``join_transaction_mode="create_savepoint"``) and the outer transaction is rolled back.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection

_TMP = Path(tempfile.mkdtemp(prefix="loyalty-tests-"))
os.environ.setdefault("INSTANCE_PATH", str(_TMP / "instance"))
os.environ["APP_ENV"] = "test"
os.environ.setdefault("TEST_DATABASE_URL", f"sqlite:///{_TMP / 'test.sqlite3'}")

from platform_core.app import create_app  # noqa: E402
from platform_core.config import TestConfig  # noqa: E402
from platform_core.extensions import db, limiter  # noqa: E402

pytest_plugins = ["tests.factories"]


def database_url() -> str:
    return TestConfig.SQLALCHEMY_DATABASE_URI


def is_postgres() -> bool:
    return database_url().startswith("postgresql")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Tests marked `postgres` need PostgreSQL; on a SQLite run they are deselected (not
    # skipped and counted): the Makefile runs the suite on both databases.
    if is_postgres():
        return
    selected, deselected = [], []
    for item in items:
        (deselected if item.get_closest_marker("postgres") else selected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


class IsolatedClient(FlaskClient):
    """Each request gets its own app context, so its own ``g`` and database session.

    Without this, a request made while the test holds an app context would reuse the test's
    context: ``g`` (current user, current store) would leak from one request to the next.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app() -> Iterator[Flask]:
    app = create_app(config=TestConfig())
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def connection(app: Flask) -> Iterator[Connection]:
    """A connection holding the outer transaction every test runs (and rolls back) in."""
    with app.app_context():
        conn = db.engine.connect()
        outer = conn.begin()
        db.session.remove()
        db.session.configure(bind=conn, join_transaction_mode="create_savepoint")
        try:
            yield conn
        finally:
            db.session.remove()
            db.session.configure(bind=None, join_transaction_mode="conditional_savepoint")
            if outer.is_active:
                outer.rollback()
            conn.close()


@pytest.fixture
def app_ctx(app: Flask, connection: Connection) -> Iterator[Flask]:
    """An app context for the test body, bound to the per-test transaction."""
    with app.test_request_context():
        yield app
        db.session.remove()


@pytest.fixture
def session(app_ctx: Flask) -> Any:
    return db.session


@pytest.fixture(autouse=True)
def _reset_rate_limits(app: Flask) -> None:
    with app.app_context():
        limiter.reset()


@pytest.fixture
def client(app: Flask, connection: Connection) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask, connection: Connection) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def login_as(client: FlaskClient) -> Callable[[Any], FlaskClient]:
    """Log ``user`` into the test client (Flask-Login's session keys; no password round-trip)."""

    def login(user: Any) -> FlaskClient:
        with client.session_transaction() as sess:
            sess["_user_id"] = user.get_id()
            sess["_fresh"] = True
        return client

    return login

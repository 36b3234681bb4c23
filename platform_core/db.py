"""Session class, commit points, and work deferred until after a commit.

Services call :func:`after_commit` to register side effects (enqueueing an email task, a
wallet sync). :func:`commit` runs them only once the transaction has committed; a rollback
discards them. We deliberately avoid SQLAlchemy's ``after_commit`` event: in Huey's
immediate mode the task would run inside the event, where no SQL is allowed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask_sqlalchemy.session import Session as _FlaskSession
from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import scoped_session

log = logging.getLogger(__name__)

_PENDING_KEY = "platform_after_commit"

#: A deferred call: the callable, its positional and its keyword arguments.
PendingCall = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class Session(_FlaskSession):
    """Flask-SQLAlchemy's session, but an explicit ``bind`` wins.

    Flask-SQLAlchemy always picks the app's engine; the test suite binds the session to a
    connection holding an outer transaction (``join_transaction_mode="create_savepoint"``),
    so that code under test commits freely and everything is rolled back afterwards.
    """

    def get_bind(
        self, mapper: Any = None, clause: Any = None, bind: Any = None, **kw: Any
    ) -> Engine | Connection:
        if bind is None and self.bind is not None:
            return self.bind
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kw)


def _session() -> scoped_session[_FlaskSession]:
    from platform_core.extensions import db

    return db.session


def after_commit(func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Run ``func(*args, **kwargs)`` after the current transaction commits.

    Pass primary keys, never ORM objects: the callable usually enqueues a Huey task.
    """
    _session().info.setdefault(_PENDING_KEY, []).append((func, args, kwargs))


def after_commit_once(func: Callable[..., Any], *args: Any) -> None:
    """Like :func:`after_commit`, unless the same call is already queued in this transaction.

    Several changes to one card in one transaction need one wallet sync, not one per change.
    """
    pending = _session().info.setdefault(_PENDING_KEY, [])
    if any(f is func and a == args and not kw for f, a, kw in pending):
        return
    pending.append((func, args, {}))


def pending_after_commit() -> list[PendingCall]:
    return list(_session().info.get(_PENDING_KEY, []))


def commit() -> None:
    """Commit the current session, then run the work registered with :func:`after_commit`."""
    session = _session()
    session.commit()
    run_after_commit(session)


def run_after_commit(session: Any = None) -> None:
    session = session if session is not None else _session()
    pending = session.info.pop(_PENDING_KEY, [])
    for func, args, kwargs in pending:
        try:
            func(*args, **kwargs)
        except Exception:
            # The data is committed; a failing enqueue must not turn the request into an
            # error page. It is logged; the periodic jobs pick up what they own.
            log.exception("after-commit callback %r failed", func)


def rollback() -> None:
    session = _session()
    session.rollback()


@event.listens_for(Session, "after_soft_rollback")
def _discard_pending(session: Session, previous_transaction: Any) -> None:
    # Work registered inside a transaction that did not commit must never run. Only the
    # outermost rollback counts: a service's savepoint rollback keeps the work queued.
    if previous_transaction.parent is None:
        session.info.pop(_PENDING_KEY, None)

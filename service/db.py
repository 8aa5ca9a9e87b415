"""SQLAlchemy base, the UTC datetime type, and the database extension bound in the factory."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from service.config import SETTINGS_KEY

log = logging.getLogger(__name__)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every model."""

    metadata = MetaData(naming_convention=NAMING)


def _system_clock() -> datetime:
    return datetime.now(UTC)


_clock: Callable[[], datetime] = _system_clock


def utcnow() -> datetime:
    """The server's clock, tz-aware UTC with microseconds."""
    return _clock()


def set_clock(clock: Callable[[], datetime] | None) -> None:
    """Replace the clock (replays and tests); None restores the system clock."""
    global _clock
    _clock = clock or _system_clock


class UTCDateTime(TypeDecorator):
    """A timestamp stored as UTC and always returned tz-aware (SQLite included)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Firebreak stores tz-aware UTC only")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # the driver's own transaction handling starts a transaction only at the first write, so
    # a read (the timeline's next number) and the write after it were not one transaction:
    # SQLAlchemy emits BEGIN itself (below), as its SQLite documentation recommends
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    """Take SQLite's write lock when a transaction starts: writers are serialised whole (read,
    then write), which is what the timeline's numbering and the row locks elsewhere assume."""
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    """An engine for PostgreSQL or SQLite with the settings Firebreak relies on."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=True)


class _BoundDatabase:
    """One app's engine and session factory."""

    def __init__(self, url: str, pool_size: int) -> None:
        self.engine = make_engine(url, pool_size=pool_size)
        self.factory = sessionmaker(self.engine, expire_on_commit=False)


class Database:
    """Engine + session factory per app, created unbound and bound in the factory."""

    def init_app(self, app: Flask) -> None:
        """Create the app's engine (connecting lazily); close the context's session on teardown."""
        app.extensions["firebreak.db"] = _BoundDatabase(
            app.extensions[SETTINGS_KEY].database_url, app.extensions[SETTINGS_KEY].db_pool_size
        )
        app.teardown_appcontext(self._teardown)

    @property
    def _bound(self) -> _BoundDatabase:
        return current_app.extensions["firebreak.db"]

    @property
    def engine(self) -> Engine:
        """The current app's engine."""
        return self._bound.engine

    @property
    def dialect(self) -> str:
        """The backend name: postgresql or sqlite."""
        return self.engine.dialect.name

    @property
    def session(self) -> Session:
        """The session of the current app context (one per request or job)."""
        if "db_session" not in g:
            g.db_session = self._bound.factory()
        return g.db_session

    def new_session(self) -> Session:
        """A session independent of the app context's (threads, CLI)."""
        return self._bound.factory()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """The context's session inside a transaction: commit on success, roll back on error."""
        session = self.session
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

    def _teardown(self, _exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()

    def dispose(self) -> None:
        """Close the current app's pooled connections (after fork, at shutdown)."""
        self.engine.dispose()


_CALLBACKS = "after_commit_callbacks"


def after_commit(session: Session, callback: Callable[[], object]) -> None:
    """Run `callback` once `session` commits (dropped if it rolls back)."""
    session.info.setdefault(_CALLBACKS, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released: nothing is committed (or visible) yet
    for callback in session.info.pop(_CALLBACKS, []):
        try:
            callback()
        except Exception:  # noqa: BLE001 - the commit happened; the callback's owner repairs
            log.exception("an after-commit step failed")


@event.listens_for(Session, "after_rollback")
def _drop_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint rolled back: the outer work (and its callbacks) goes on; jobs are
        # idempotent, so one deferred inside the savepoint finds nothing to do
    session.info.pop(_CALLBACKS, None)

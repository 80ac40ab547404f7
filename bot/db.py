"""The database: one engine per app, short explicit transactions, no scoped sessions.

Workers, the scheduler and requests all run in threads of one process, so every unit of work
opens its own session with `db.transaction()` instead of sharing a request-bound one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


class Database:
    def __init__(self) -> None:
        self.engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None

    def init_app(self, app: Flask) -> None:
        self.configure(app.config["DATABASE_URL"])
        app.extensions["db"] = self

    def configure(self, url: str) -> None:
        """The engine for this URL, tuned as the app uses it (also for processes without Flask)."""
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
            _sqlite_pragmas(engine)
        else:
            # No pre-ping (a round trip per checkout): a dropped connection fails one unit of work,
            # is invalidated by SQLAlchemy, and the retry reconnects.
            # No server-side prepared statements either: a plan prepared while the inbox was
            # nearly empty (fresh database, stale statistics) stays in use for the life of the
            # connection and turned the claim query quadratic once a backlog built up.
            engine = create_engine(
                url,
                pool_size=10,
                max_overflow=10,
                pool_recycle=1800,
                connect_args={"prepare_threshold": None},
            )
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        assert self.engine is not None
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on error."""
        assert self._sessions is not None, "Database.init_app was not called"
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A Core connection inside one transaction, for bulk statements without the ORM."""
        assert self.engine is not None, "Database.init_app was not called"
        with self.engine.begin() as connection:
            yield connection

    def dispose(self) -> None:
        if self.engine is not None:
            self.engine.dispose()


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy emit BEGIN itself so that it can be BEGIN IMMEDIATE (below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        # Take the write lock up front: a deferred transaction that later writes fails with
        # "database is locked" at once instead of waiting out busy_timeout.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


db = Database()

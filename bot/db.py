"""The database: one engine per app, short explicit transactions, no scoped sessions.

Workers, the scheduler and requests all run in threads of one process, so every unit of work
opens its own session with `db.transaction()` instead of sharing a request-bound one.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


class Database:
    def __init__(self) -> None:
        self.engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        # SQLite: held by the connection writing now (see `_TurnTaking`); None elsewhere.
        self.write_turn: threading.Lock | None = None

    def init_app(self, app: Flask) -> None:
        self.configure(app.config["DATABASE_URL"])
        app.extensions["db"] = self

    def configure(self, url: str) -> None:
        """The engine for this URL, tuned as the app uses it (also for processes without Flask)."""
        if url.startswith("sqlite"):
            self.write_turn = threading.Lock()
            engine = create_engine(
                url,
                connect_args={
                    "timeout": SQLITE_BUSY_SECONDS,
                    "check_same_thread": False,
                    "factory": _taking_turns(self.write_turn),
                },
            )
            _sqlite_pragmas(engine)
        else:
            self.write_turn = None
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


SQLITE_BUSY_SECONDS = 30


class _TurnTaking(sqlite3.Connection):
    """An SQLite connection that waits for its turn to write on a lock shared by the engine's
    connections, and gives it back when its transaction ends.

    SQLite's own wait for its write lock (the busy handler) sleeps 1, 2, 5, 10, ... up to 100 ms
    between tries and is not told when the lock is free: under load, a commit of one thread kept
    the others asleep for tens of milliseconds (the webhook's inbox batch waited 60 ms, measured
    by bench/evidence). Threads of one process queue here instead and are woken at once. Other
    processes on the same file still meet at SQLite's lock, as before."""

    turn: threading.Lock  # set by `_taking_turns`
    _holding = False

    def take_turn(self) -> None:
        # Bounded like SQLite's own wait: a thread that opens a second transaction inside its
        # first (a bug) then fails as it did before, on SQLite's lock, instead of hanging here.
        self._holding = self.turn.acquire(timeout=SQLITE_BUSY_SECONDS)

    def _end_turn(self) -> None:
        if self._holding and not self.in_transaction:
            self._holding = False
            self.turn.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._end_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._end_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._holding:
                self._holding = False
                self.turn.release()


def _taking_turns(lock: threading.Lock) -> type[_TurnTaking]:
    return type("TurnTaking", (_TurnTaking,), {"turn": lock})


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy emit BEGIN itself so that it can be BEGIN IMMEDIATE (below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_SECONDS * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        # Take the write lock up front: a deferred transaction that later writes fails with
        # "database is locked" at once instead of waiting out busy_timeout.
        # Given back by the connection's commit or rollback (the pool rolls back a connection
        # whose BEGIN failed) or, if it is thrown away, its close.
        dbapi: Any = conn.connection.dbapi_connection
        dbapi.take_turn()
        conn.exec_driver_sql("BEGIN IMMEDIATE")


db = Database()

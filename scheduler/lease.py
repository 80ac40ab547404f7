"""Which process runs the jobs. With several gunicorn workers, or two schedulers started by
mistake, only the lease holder runs them; another takes over within a minute of its death.

PostgreSQL: a session advisory lock, which the server drops the moment the holder's connection
dies. Elsewhere (SQLite): a row with an expiry that the holder keeps renewing.
"""

from __future__ import annotations

import logging
import zlib
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Connection, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from bot.db import Database
from bot.models import SchedulerLease

log = logging.getLogger(__name__)

TTL = timedelta(seconds=45)
RENEW_SECONDS = 15  # holders renew, and others try, this often: takeover within TTL + this


class Lease(Protocol):
    def acquire(self, now: datetime) -> bool:
        """Take or keep the lease; True while this process holds it."""
        ...

    def release(self) -> None: ...


class RowLease:
    def __init__(self, db: Database, name: str, holder: str, ttl: timedelta = TTL) -> None:
        self.db, self.name, self.holder, self.ttl = db, name, holder, ttl

    def acquire(self, now: datetime) -> bool:
        with self.db.transaction() as session:
            dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
            session.execute(
                dialect.insert(SchedulerLease)
                .values(name=self.name, holder=self.holder, expires_at=now + self.ttl)
                .on_conflict_do_nothing(index_elements=["name"])
            )
            session.execute(
                update(SchedulerLease)
                .where(
                    SchedulerLease.name == self.name,
                    or_(SchedulerLease.holder == self.holder, SchedulerLease.expires_at < now),
                )
                .values(holder=self.holder, expires_at=now + self.ttl)
            )
            holder = session.scalar(
                select(SchedulerLease.holder).where(SchedulerLease.name == self.name)
            )
        return holder == self.holder

    def release(self) -> None:
        with self.db.transaction() as session:
            session.execute(
                update(SchedulerLease)
                .where(SchedulerLease.name == self.name, SchedulerLease.holder == self.holder)
                .values(expires_at=datetime.fromtimestamp(0).astimezone())
            )


class AdvisoryLease:
    def __init__(self, db: Database, name: str) -> None:
        self.db = db
        self.key = zlib.crc32(f"mchch-{name}".encode())  # fits PostgreSQL's bigint key
        self._connection: Connection | None = None

    def acquire(self, now: datetime) -> bool:
        assert self.db.engine is not None
        try:
            if self._connection is not None:
                self._connection.execute(text("SELECT 1"))  # still connected, so still held
                self._connection.commit()
                return True
            connection = self.db.engine.connect()
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
            ).scalar()
            connection.commit()
            if got:
                self._connection = connection
                return True
            connection.close()
            return False
        except DBAPIError as exc:
            log.warning("scheduler lease lost: %s", exc.__class__.__name__)
            self.drop()
            return False

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
                self._connection.commit()
            except DBAPIError:
                pass
        self.drop()

    def drop(self) -> None:
        """Forget the connection (and with it the lock), as a dying process would."""
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.invalidate()
                connection.close()
            except DBAPIError:
                pass


def lease_for(db: Database, name: str, holder: str) -> Lease:
    return RowLease(db, name, holder) if db.is_sqlite else AdvisoryLease(db, name)

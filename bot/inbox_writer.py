"""Group commit for the webhook: one writer thread per process stores, in one transaction,
the events of every request that arrived meanwhile; each request waits for its own batch.

Under load this turns N small transactions (and N WAL flushes) into one, which is most of
what acknowledging LINE costs. A request still answers 200 only after its events are
committed, so nothing acknowledged can be lost.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from bot import inbox
from bot.db import Database

log = logging.getLogger(__name__)

MAX_BATCH_REQUESTS = 256
# Stores events in one transaction (committed when it returns), or raises.
Store = Callable[[list[dict[str, Any]]], None]
WAIT_SECONDS = 10  # well inside gunicorn's time-out; LINE itself gives up after 2 s


class InboxWriter:
    def __init__(self, db: Database) -> None:
        self._store = store_in_transaction(db)
        self._queue: list[tuple[list[dict[str, Any]], Future[None]]] = []
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._stopping = False

    def store(self, events: list[dict[str, Any]]) -> None:
        """Store the events durably; raises if they could not be (the caller answers 5xx)."""
        done: Future[None] = Future()
        with self._ready:
            self._ensure_thread()
            self._queue.append((events, done))
            self._ready.notify()
        done.result(timeout=WAIT_SECONDS)

    def stop(self) -> None:
        """Let the writer thread end once what is queued is stored."""
        with self._ready:
            self._stopping = True
            self._ready.notify()

    def _ensure_thread(self) -> None:
        # Started on first use, and again in a forked child (threads do not survive a fork).
        if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="inbox-writer", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._queue:
                    if self._stopping:
                        return
                    self._ready.wait()
                batch = self._queue[:MAX_BATCH_REQUESTS]
                del self._queue[:MAX_BATCH_REQUESTS]
            self._write(batch)

    def _write(self, batch: list[tuple[list[dict[str, Any]], Future[None]]]) -> None:
        stored = write_batch(self._store, [events for events, _ in batch])
        for (_, done), ok in zip(batch, stored, strict=True):
            if ok:
                done.set_result(None)
            else:
                done.set_exception(RuntimeError("events not stored"))


def store_in_transaction(db: Database) -> Store:
    """Events stored through SQLAlchemy, one transaction per call (committed when it returns)."""

    def store(events: list[dict[str, Any]]) -> None:
        with db.connection() as connection:
            inbox.store_events(connection, events)

    return store


def write_batch(store: Store, batch: list[list[dict[str, Any]]]) -> list[bool]:
    """Store the events of several requests in one transaction; whether each request's were.
    `store` commits the events it is given in one transaction, or raises."""
    try:
        store([e for events in batch for e in events])
    except Exception:
        if len(batch) == 1:
            log.exception("storing webhook events failed")
            return [False]
        # One request's events may be what fails: store each on its own, so the others
        # are not refused (and redelivered by LINE) with it.
        return [write_batch(store, [events])[0] for events in batch]
    return [True] * len(batch)

"""The event workers: threads that lease a source's lane and handle its events in order.

The same loop runs inside the web process (the default) or in `flask --app wsgi worker`
processes; lanes are leased in the database, so any mix of them agrees on who does what.
"""

from __future__ import annotations

import logging
import os
import threading
import traceback
import uuid
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.orm import Session

from bot import inbox, outbox, render
from bot.db import Database
from bot.models import InboxEvent, OutboxMessage, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
LEASE = timedelta(seconds=60)
APOLOGY = "ขออภัยค่ะ ระบบขัดข้องชั่วคราว จึงทำรายการล่าสุดไม่สำเร็จ กรุณาลองใหม่อีกครั้งในภายหลังนะคะ"

EventHandler = Callable[[Session, InboxEvent], list[OutboxMessage] | None]


class EventWorkers:
    def __init__(
        self,
        db: Database,
        handle: EventHandler,
        sender: outbox.OutboxSender,
        count: int,
        poll_seconds: float = 1.0,
    ) -> None:
        self.db = db
        self.handle = handle
        self.sender = sender
        self.count = count
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._prefix = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"

    # Life cycle ------------------------------------------------------------------------
    def start(self) -> None:
        for n in range(self.count):
            thread = threading.Thread(
                target=self._run, args=(f"{self._prefix}-{n}",), name=f"inbox-{n}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    def notify(self) -> None:
        """New events were stored: wake the workers now rather than at the next poll."""
        self._wake.set()

    def _run(self, owner: str) -> None:
        while not self._stop.is_set():
            try:
                busy = self.work_once(owner)
            except Exception:
                # The database may be restarting; keep the thread alive and try again.
                log.exception("inbox worker %s: unexpected error", owner)
                busy = False
            if not busy:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()

    # Work ------------------------------------------------------------------------------
    def work_once(self, owner: str) -> bool:
        """Lease one lane with due events and drain it; False when there was nothing to do."""
        now = utcnow()
        with self.db.transaction() as session:
            keys = inbox.due_lanes(session, now)
        for key in keys:
            with self.db.transaction() as session:
                taken = inbox.acquire_lane(session, key, owner, now, LEASE)
            if not taken:
                continue
            try:
                handled = self._drain(key, owner)
            finally:
                with self.db.transaction() as session:
                    inbox.release_lane(session, key, owner)
            if handled:
                return True
        return False

    def _drain(self, key: str, owner: str) -> int:
        """Handle the source's due events in order; returns how many were handled."""
        handled = 0
        while not self._stop.is_set():
            now = utcnow()
            with self.db.transaction() as session:
                event = inbox.next_event(session, key)
                if event is None or event.next_attempt_at > now:
                    break
                if not inbox.renew_lane(session, key, owner, now + LEASE):
                    break  # our lease expired and someone else took over
                event_id = event.id
            self.process(event_id)
            handled += 1
        return handled

    def process(self, event_id: int) -> None:
        try:
            with self.db.transaction() as session:
                event = session.get(InboxEvent, event_id)
                if event is None or event.status != "pending":
                    return
                sent = self.handle(session, event)
                event.status = "done" if sent is not None else "ignored"
                event.attempts += 1
                event.handled_at = utcnow()
                session.flush()
                sent_ids = [row.id for row in sent or []]
        except Exception as exc:
            log.exception("event %s failed", event_id)
            sent_ids = self._failed(event_id, exc)
        for row_id in sent_ids:
            self.sender.deliver(row_id)

    def _failed(self, event_id: int, exc: Exception) -> list[int]:
        with self.db.transaction() as session:
            event = session.get(InboxEvent, event_id)
            if event is None:
                return []
            event.attempts += 1
            event.last_error = "".join(traceback.format_exception(exc))[-4000:]
            if event.attempts < MAX_ATTEMPTS:
                event.next_attempt_at = utcnow() + timedelta(seconds=2 ** (event.attempts - 1))
                return []
            event.status = "failed"
            user_id = (event.payload.get("source") or {}).get("userId")
            if not user_id:
                return []
            row = outbox.enqueue_reply(
                session, event.payload.get("replyToken"), user_id, [render.text(APOLOGY)], event.id
            )
            session.flush()
            return [row.id]

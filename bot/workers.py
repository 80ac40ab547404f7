"""The event workers: threads that take the next event a user is waiting on and handle it.

The same loop runs inside the web process (the default) or in `flask --app wsgi worker`
processes. Events are claimed with row locks in the database, so any mix of threads and
processes agrees on who does what, and a worker that dies releases what it held.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session

from bot import inbox, outbox, render
from bot.background import Background
from bot.db import Database
from bot.models import Evidence, InboxEvent, OutboxMessage, SummaryDocument, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
APOLOGY = "ขออภัยค่ะ ระบบขัดข้องชั่วคราว จึงทำรายการล่าสุดไม่สำเร็จ กรุณาลองใหม่อีกครั้งในภายหลังนะคะ"

EventHandler = Callable[[Session, InboxEvent], list[OutboxMessage] | None]

# What the background threads pick up: evidence to fetch and documents to build. Waking them
# costs every one of them a query per task, so `after` is only told when handling an event
# stored some; anything else reaches them at their next poll.
BACKGROUND_ROWS: tuple[type, ...] = (Evidence, SummaryDocument)
_QUEUED_BACKGROUND = "bot.workers.queued_background"


@orm_event.listens_for(Session, "pending_to_persistent")
def _note_background_row(session: Session, instance: Any) -> None:
    if isinstance(instance, BACKGROUND_ROWS):
        session.info[_QUEUED_BACKGROUND] = True


class EventWorkers:
    def __init__(
        self,
        db: Database,
        handle: EventHandler,
        sender: outbox.OutboxSender,
        count: int,
        poll_seconds: float = 1.0,
        after: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.handle = handle
        self.sender = sender
        self.count = count
        self.poll_seconds = poll_seconds
        self.after = after  # told after an event that queued background work (see above)
        self._threads = Background([self.work_once], count, poll_seconds, name="inbox")

    # Life cycle ------------------------------------------------------------------------
    def start(self) -> None:
        self._threads.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._threads.stop(timeout)

    def notify(self) -> None:
        """New events were stored: wake a worker now rather than at the next poll."""
        self._threads.notify()

    # Work ------------------------------------------------------------------------------
    def work_once(self) -> bool:
        """Handle one event; False when none may be handled now."""
        with self.db.transaction() as session:
            event = inbox.claim_next(session, utcnow())
            if event is None:
                return False
            try:
                # A savepoint, so a failing handler's changes go while the claim stays ours.
                with session.begin_nested():
                    sent = self.handle(session, event)
                    event.status = "done" if sent is not None else "ignored"
                    event.attempts += 1
                    event.handled_at = utcnow()
            except Exception as exc:
                log.exception("event %s failed", event.id)
                sent = self._failed(session, event, exc)
            session.flush()
            queued_background = session.info.pop(_QUEUED_BACKGROUND, False)
        # Rows written `inline` are sent from here; the outbox loop only steps in if we die.
        for row in sent or []:
            # Replies go to who just wrote; pushes to others were checked by Context.push.
            self.sender.deliver_now(row, check_following=False)
        if queued_background and self.after is not None:
            self.after()
        return True

    def _failed(self, session: Session, event: InboxEvent, exc: Exception) -> list[OutboxMessage]:
        event.attempts += 1
        event.last_error = "".join(traceback.format_exception(exc))[-4000:]
        if event.attempts < MAX_ATTEMPTS:
            # The user's later events wait behind this one (order), so keep the waits short.
            event.next_attempt_at = utcnow() + timedelta(seconds=2 ** (event.attempts - 1))
            return []
        event.status = "failed"
        user_id = (event.payload.get("source") or {}).get("userId")
        if not user_id:
            return []
        return [
            outbox.enqueue_reply(
                session,
                outbox.usable_reply_token(event.payload.get("replyToken")),
                user_id,
                [render.text(APOLOGY)],
                event.id,
                reply_by=event.received_at + outbox.REPLY_TOKEN_LIFE,
                inline=True,
            )
        ]

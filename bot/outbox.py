"""Durable sending: rows written with the change that caused them, delivered after commit.

A reply whose token is stale or refused goes out as a push instead, so the user still gets it.
Pushes and multicasts keep one X-Line-Retry-Key for all their tries; LINE answers 409 to a
repeat it already accepted, which counts as delivered.

Replies have no retry key, so a reply that may have arrived is never followed by a push: when
LINE did not answer (a time-out) or the row was left behind by a worker that died around the
send, the reply is tried again later, and a token LINE then calls invalid was spent by that
earlier try: the reply counts as delivered.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot import message_limits
from bot.db import Database
from bot.line_gateway import LineError, LineGateway
from bot.models import OutboxMessage, User, utcnow
from bot.notify import QuietHours

log = logging.getLogger(__name__)

# Waits of 1, 2, 4 … 32 s, then a minute at most: after LINE comes back every row is tried
# again within a minute (with waits doubling to 256 s the last rows of a one-minute outage went
# out two minutes after it; bench/faults). Fourteen tries last about eight minutes of trouble.
MAX_ATTEMPTS = 14
MAX_WAIT_SECONDS = 60
LEASE = timedelta(seconds=60)
# A reply token is good for about a minute after the event; past this we do not even try it.
REPLY_TOKEN_LIFE = timedelta(seconds=50)
# Rows the creating worker sends itself right after commit; the outbox loop waits this long
# before treating them as left behind (by a worker that died before sending).
INLINE_GRACE = timedelta(seconds=30)
REPLY_TOKEN_MAX = 100  # what the evidence and outbox rows hold; LINE's are 32 characters


def usable_reply_token(value: object) -> str | None:
    """`value` if it looks like a reply token LINE issues, else None (the answer then goes as
    a push). LINE's are 32 printable ASCII characters; a forged event's kilobyte-long "token"
    would not fit the outbox, and one holding a NUL is refused by PostgreSQL, which failed the
    very apology meant to answer it."""
    if not isinstance(value, str) or not 0 < len(value) <= REPLY_TOKEN_MAX:
        return None
    return value if value.isascii() and value.isprintable() else None


def _add(session: Session, inline: bool = False, **fields: Any) -> OutboxMessage:
    """`inline`: the event worker that writes the row sends it itself right after commit."""
    message_limits.check(fields["messages"])
    if inline:
        fields["next_attempt_at"] = utcnow() + INLINE_GRACE
    row = OutboxMessage(retry_key=str(uuid.uuid4()), **fields)
    session.add(row)
    return row


def enqueue_reply(
    session: Session,
    reply_token: str | None,
    line_user_id: str,
    messages: list[dict[str, Any]],
    inbox_event_id: int | None = None,
    reply_by: datetime | None = None,
    inline: bool = False,
) -> OutboxMessage:
    """A reply when a token is at hand (usable until `reply_by`), else a push to the user."""
    kind = "reply" if reply_token else "push"
    return _add(
        session,
        inline,
        kind=kind,
        reply_token=reply_token,
        reply_by=reply_by,
        recipients=[line_user_id],
        messages=messages,
        inbox_event_id=inbox_event_id,
    )


def enqueue_push(
    session: Session, line_user_id: str, messages: list[dict[str, Any]], inline: bool = False
) -> OutboxMessage:
    return _add(session, inline, kind="push", recipients=[line_user_id], messages=messages)


def enqueue_multicast(
    session: Session, line_user_ids: list[str], messages: list[dict[str, Any]]
) -> list[OutboxMessage]:
    """One row per 500 recipients, each with its own retry key."""
    size = message_limits.MAX_MULTICAST
    return [
        _add(session, kind="multicast", recipients=line_user_ids[i : i + size], messages=messages)
        for i in range(0, len(line_user_ids), size)
    ]


def _backoff(attempts: int, retry_after: float | None) -> timedelta:
    seconds = min(2 ** (attempts - 1), MAX_WAIT_SECONDS)
    return timedelta(seconds=max(seconds, retry_after or 0))


class OutboxSender:
    def __init__(self, db: Database, gateway: LineGateway, quiet: QuietHours | None = None) -> None:
        self.db = db
        self.gateway = gateway
        self.quiet = quiet  # rows marked `quiet` are held back during these hours

    def _claim(self, row_id: int, now: datetime) -> OutboxMessage | None:
        with self.db.transaction() as session:
            claimed = session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == row_id,
                    OutboxMessage.status == "pending",
                    or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now),
                )
                .values(locked_until=now + LEASE)
            ).rowcount
            return session.get(OutboxMessage, row_id) if claimed else None

    def due_ids(self, limit: int = 50) -> list[int]:
        now = utcnow()
        with self.db.transaction() as session:
            return list(
                session.scalars(
                    select(OutboxMessage.id)
                    .where(
                        OutboxMessage.status == "pending",
                        OutboxMessage.next_attempt_at <= now,
                        or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now),
                    )
                    .order_by(OutboxMessage.id)
                    .limit(limit)
                )
            )

    def deliver(self, row_id: int) -> str | None:
        """Claim one row and try it once; its new status, or None if someone else holds it.
        Rows reach here after a failed try, or left behind by a process that died (perhaps
        after sending): either way an earlier try may have arrived."""
        row = self._claim(row_id, utcnow())
        return None if row is None else self.deliver_now(row, tried_before=True)

    def deliver_now(
        self, row: OutboxMessage, *, check_following: bool = True, tried_before: bool = False
    ) -> str:
        """Try a row its creator holds (or that was claimed) once; returns its new status.

        `check_following=False` when the sender just heard from the recipient or checked."""
        now = utcnow()
        changes: dict[str, Any] = {"locked_until": None, "attempts": row.attempts + 1}
        if row.quiet and self.quiet is not None and self.quiet.contains(now):
            # Queued before the quiet hours began (or retried into them): wait for morning.
            changes = {"locked_until": None, "next_attempt_at": self.quiet.next_allowed(now)}
            self._save(row.id, changes)
            return "pending"
        try:
            changes.update(self._send(row, now, check_following, tried_before or row.attempts > 0))
        except LineError as exc:
            changes.update(self._failure(row, exc, now))
        except message_limits.MessageLimitError as exc:
            changes.update(status="failed", last_error=f"invalid message: {exc}")
            log.error("outbox %s holds an invalid message: %s", row.id, exc)
        self._save(row.id, changes)
        return changes.get("status", "pending")

    def deliver_together(self, rows: list[OutboxMessage]) -> None:
        """Fresh replies to one person, held by their creator (the intake's confirmations of
        photos finished together), sent as one: LINE takes up to five messages in a request.
        The first row takes the others' messages and is then sent like any row, once, with its
        one reply token, whatever fails or dies on the way; the others are marked `merged` in
        the same transaction, naming it. The person sees the same messages in the same order."""
        first, rest = rows[0], rows[1:]
        if rest:
            messages = [message for row in rows for message in row.messages]
            message_limits.check(messages)
            with self.db.transaction() as session:
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == first.id)
                    .values(messages=messages)
                )
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_([row.id for row in rest]))
                    .values(status="merged", last_error=f"sent with outbox {first.id}")
                )
            first.messages = messages
        self.deliver_now(first, check_following=False)

    def _save(self, row_id: int, changes: dict[str, Any]) -> None:
        with self.db.transaction() as session:
            session.execute(
                update(OutboxMessage).where(OutboxMessage.id == row_id).values(**changes)
            )

    def _send(
        self, row: OutboxMessage, now: datetime, check_following: bool, tried_before: bool
    ) -> dict[str, Any]:
        if row.kind == "reply":
            fresh = row.reply_by is None or now < row.reply_by
            if fresh and row.reply_token:
                try:
                    self.gateway.reply(row.reply_token, row.messages)
                    return {"status": "sent", "sent_at": utcnow()}
                except LineError as exc:
                    if exc.status is None:
                        raise  # no answer: it may have arrived; try the reply again later
                    if exc.status == 400 and tried_before and "reply token" in exc.message.lower():
                        log.info("reply %s: token spent by an earlier try; delivered", row.id)
                        return {"status": "sent", "sent_at": utcnow(), "last_error": str(exc)}
                    log.info("reply %s refused (%s); sending it as a push", row.id, exc)
            row.kind = "push"  # the retry key stays the same from here on
        if row.kind == "push":
            if check_following and not self._following(row.recipients[0]):
                return {"kind": "push", "status": "skipped", "last_error": "user not following"}
            try:
                self.gateway.push(row.recipients[0], row.messages, row.retry_key)
            except LineError as exc:
                if exc.status != 409:
                    raise
            return {"kind": "push", "status": "sent", "sent_at": utcnow()}
        try:
            self.gateway.multicast(row.recipients, row.messages, row.retry_key)
        except LineError as exc:
            if exc.status != 409:
                raise
        return {"status": "sent", "sent_at": utcnow()}

    def _failure(self, row: OutboxMessage, exc: LineError, now: datetime) -> dict[str, Any]:
        attempts = row.attempts + 1
        changes: dict[str, Any] = {"last_error": str(exc)[:2000], "kind": row.kind}
        if exc.retryable and attempts < MAX_ATTEMPTS:
            retry_at = now + _backoff(attempts, exc.retry_after)
            if row.quiet and self.quiet is not None:
                retry_at = self.quiet.next_allowed(retry_at)
            changes["next_attempt_at"] = retry_at
            log.warning("outbox %s: %s; retry %d", row.id, exc, attempts)
        else:
            changes["status"] = "failed"
            log.error("outbox %s failed for good: %s", row.id, exc)
        return changes

    def _following(self, line_user_id: str) -> bool:
        with self.db.transaction() as session:
            following = session.scalar(
                select(User.following).where(User.line_user_id == line_user_id)
            )
        return following is not False  # unknown users (None) have not blocked us

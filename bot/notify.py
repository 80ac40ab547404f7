"""Pushes nobody asked for (reminders, digests, broadcasts): recorded, then queued, at once.

Each notification gets a row in the ledger (`Notification`, unique per recipient, kind, subject
and day) in the same transaction as its outbox row. A job that runs twice, a second scheduler,
or a restart after a crash therefore records nothing new and sends nothing twice, while a
crash after the commit leaves the outbox row to be sent once by whichever process comes next
(its retry key makes LINE take it once).

Both functions take a batch and issue a fixed number of statements however large it is.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ARRAY,
    Date,
    Integer,
    Select,
    String,
    bindparam,
    func,
    insert,
    literal,
    select,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot import message_limits
from bot.models import Notification, OutboxMessage, UTCDateTime


@dataclass(frozen=True)
class QuietHours:
    """Local hours with no unasked-for pushes, e.g. 20:00 to 07:00 in Asia/Bangkok."""

    start: time
    end: time
    timezone: str = "Asia/Bangkok"

    @classmethod
    def from_config(cls, config: Any) -> QuietHours:
        (h1, m1), (h2, m2) = config["QUIET_FROM"], config["QUIET_UNTIL"]
        return cls(time(h1, m1), time(h2, m2), config["APP_TIMEZONE"])

    def contains(self, at: datetime) -> bool:
        local = at.astimezone(ZoneInfo(self.timezone)).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_allowed(self, at: datetime) -> datetime:
        """`at` itself outside the quiet hours, else the moment they end."""
        if not self.contains(at):
            return at
        local = at.astimezone(ZoneInfo(self.timezone))
        end = datetime.combine(local.date(), self.end, local.tzinfo)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(at.tzinfo)


@dataclass(frozen=True)
class Notice:
    recipient_id: int
    line_user_id: str
    kind: str
    subject: str
    messages: list[dict[str, Any]]


def _keys_table(session: Session, keys: list[tuple[int, str, str]]) -> Select[Any]:
    """(recipient, kind, subject) rows as a derived table sent in one parameter per column,
    so the ledger takes one statement whatever the batch (an executemany goes in pages of
    1,000 rows, and the driver's parsing of each page costs more than the insert)."""
    if session.get_bind().dialect.name == "postgresql":
        ids, kinds, subjects = (list(column) for column in zip(*keys, strict=True))
        rows = (
            func.unnest(
                bindparam("ids", ids, type_=ARRAY(Integer)),
                bindparam("kinds", kinds, type_=ARRAY(String)),
                bindparam("subjects", subjects, type_=ARRAY(String)),
            )
            .table_valued("recipient_id", "kind", "subject")
            .render_derived()
        )
        return select(rows.c.recipient_id, rows.c.kind, rows.c.subject)
    rows = func.json_each(bindparam("keys", json.dumps(keys), type_=String)).table_valued("value")
    return select(*(func.json_extract(rows.c.value, f"$[{n}]") for n in range(3)))


def _insert_new(
    session: Session, keys: list[tuple[int, str, str]], day: date, now: datetime
) -> set[tuple[int, str, str]]:
    """Insert ledger rows for `day`, skipping those already there; the keys of the new ones."""
    if not keys:
        return set()
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    rows = _keys_table(session, keys).add_columns(literal(day, Date()), literal(now, UTCDateTime()))
    statement = (
        dialect.insert(Notification)
        .from_select(
            ["recipient_id", "kind", "subject", "day", "created_at"],
            rows.where(true()),  # SQLite: a bare SELECT before ON CONFLICT does not parse
        )
        .on_conflict_do_nothing(index_elements=["recipient_id", "kind", "subject", "day"])
        .returning(Notification.recipient_id, Notification.kind, Notification.subject)
    )
    return {(r, k, s) for r, k, s in session.execute(statement)}


def _outbox_row(
    kind: str, recipients: list[str], messages: list[dict[str, Any]], **fields: Any
) -> dict[str, Any]:
    message_limits.check(messages)
    return {
        "kind": kind,
        "recipients": recipients,
        "messages": messages,
        "retry_key": str(uuid.uuid4()),
        "status": "pending",
        "attempts": 0,
        **fields,
    }


def send(
    session: Session,
    notices: Iterable[Notice],
    *,
    day: date,
    now: datetime,
    quiet: QuietHours | None,
    topic: str | None = None,
) -> list[Notice]:
    """Record and queue one push per notice; those recorded before for `day` are left out.
    Returns the notices queued. Sending waits for the end of the quiet hours if need be."""
    notices = list(notices)
    new = _insert_new(session, [(n.recipient_id, n.kind, n.subject) for n in notices], day, now)
    queued = [n for n in notices if (n.recipient_id, n.kind, n.subject) in new]
    due = quiet.next_allowed(now) if quiet else now
    if queued:
        session.execute(
            insert(OutboxMessage),
            [
                _outbox_row(
                    "push",
                    [n.line_user_id],
                    n.messages,
                    quiet=quiet is not None,
                    topic=topic,
                    next_attempt_at=due,
                    created_at=now,
                )
                for n in queued
            ],
        )
    return queued


def send_multicast(
    session: Session,
    recipients: Sequence[tuple[int, str]],
    messages: list[dict[str, Any]],
    *,
    kind: str,
    subject: str,
    day: date,
    now: datetime,
    quiet: QuietHours | None,
    topic: str | None = None,
) -> list[int]:
    """The same messages to many (user id, LINE user id) recipients: recorded per recipient,
    queued as multicasts of up to 500. Returns the user ids queued (not recorded before)."""
    new = _insert_new(session, [(user_id, kind, subject) for user_id, _ in recipients], day, now)
    queued = [
        (user_id, line_id) for user_id, line_id in recipients if (user_id, kind, subject) in new
    ]
    due = quiet.next_allowed(now) if quiet else now
    size = message_limits.MAX_MULTICAST
    rows = [
        _outbox_row(
            "multicast",
            [line_id for _, line_id in queued[i : i + size]],
            messages,
            quiet=quiet is not None,
            topic=topic,
            next_attempt_at=due,
            created_at=now,
        )
        for i in range(0, len(queued), size)
    ]
    if rows:
        session.execute(insert(OutboxMessage), rows)
    return [user_id for user_id, _ in queued]

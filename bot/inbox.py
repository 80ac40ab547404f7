"""The webhook inbox: storing events exactly once, and handing them out in per-source order."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, and_, bindparam, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from bot.models import InboxEvent, utcnow


class EnvelopeError(ValueError):
    """The body is not a webhook envelope as LINE sends it."""


def _no_constants(name: str) -> None:
    # NaN and Infinity are not JSON, and PostgreSQL's JSON type refuses them.
    raise ValueError(f"{name} is not JSON")


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
# Where an event names who sent it, in the order `source_key` prefers them.
SOURCE_FIELDS = ("userId", "groupId", "roomId")


def _encodable(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_envelope(body: bytes) -> list[dict[str, Any]]:
    try:
        envelope = json.loads(body, parse_constant=_no_constants)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise EnvelopeError("body is not JSON") from exc
    if _SURROGATE_ESCAPE.search(body) and not _encodable(envelope):
        # A lone "\ud800" is valid JSON but no UTF-8 text: no database could store it.
        raise EnvelopeError("body has a lone surrogate")
    if not isinstance(envelope, dict) or not isinstance(envelope.get("events"), list):
        raise EnvelopeError("no events list")
    if "destination" in envelope and not isinstance(envelope["destination"], str):
        raise EnvelopeError("destination is not a string")
    for event in envelope["events"]:
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise EnvelopeError("an event has no type")
        stamp = event.get("timestamp")
        if not isinstance(stamp, int) or isinstance(stamp, bool) or not 0 <= stamp < 2**53:
            raise EnvelopeError("an event has no valid timestamp")
        if "source" in event and not isinstance(event["source"], dict):
            raise EnvelopeError("an event source is not an object")
        if "webhookEventId" in event and not isinstance(event["webhookEventId"], str):
            raise EnvelopeError("webhookEventId is not a string")
        if any("\x00" in value for value in _column_strings(event)):
            # Like a lone surrogate: PostgreSQL's text columns cannot hold it (its JSON can).
            raise EnvelopeError("an event's id, type, mode or source holds a NUL")
    return envelope["events"]


def _column_strings(event: dict[str, Any]) -> list[str]:
    """The event's strings that `event_rows` puts in text columns, not only in the payload."""
    source = event.get("source") or {}
    values = [event["type"], event.get("webhookEventId"), event.get("mode")]
    values += [source.get(field) for field in SOURCE_FIELDS]
    return [value for value in values if isinstance(value, str)]


def source_key(event: dict[str, Any]) -> str:
    source = event.get("source") or {}
    for field in SOURCE_FIELDS:
        value = source.get(field)
        if isinstance(value, str) and value:
            return value[:80]
    return "channel"


def _event_id(event: dict[str, Any]) -> str:
    given = event.get("webhookEventId")
    if given:
        return given[:64]
    # Without LINE's id, an identical repeat is still recognised by its content.
    canonical = json.dumps(event, sort_keys=True, ensure_ascii=False).encode()
    return "sha256:" + hashlib.sha256(canonical).hexdigest()[:57]


def event_rows(events: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """The inbox rows for these events, one per event id (a repeat within them is dropped)."""
    rows: dict[str, dict[str, Any]] = {}
    for event in events:
        event_id = _event_id(event)
        mode = str(event.get("mode") or "active")[:16]
        rows.setdefault(
            event_id,
            {
                "webhook_event_id": event_id,
                "source_key": source_key(event),
                "event_type": event["type"][:40],
                "mode": mode,
                "timestamp_ms": event["timestamp"],
                "payload": event,
                # Standby events belong to another channel's bot: keep them, never answer.
                "status": "pending" if mode == "active" else "ignored",
                "attempts": 0,
                "next_attempt_at": now,
                "received_at": now,
            },
        )
    return list(rows.values())


def store_events(connection: Connection, events: list[dict[str, Any]]) -> None:
    """Record events once each; redeliveries (a webhookEventId seen before) are dropped."""
    if not events:
        return
    # Rows as parameters (not baked into VALUES) so SQLAlchemy caches the compiled statement.
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = insert(InboxEvent).on_conflict_do_nothing(index_elements=["webhook_event_id"])
    connection.execute(statement, event_rows(events, utcnow()))


def _claim_statement() -> Select[tuple[InboxEvent]]:
    earlier = aliased(InboxEvent)
    waiting_behind = (
        select(earlier.id)
        .where(
            earlier.source_key == InboxEvent.source_key,
            earlier.status == "pending",
            or_(
                earlier.timestamp_ms < InboxEvent.timestamp_ms,
                and_(earlier.timestamp_ms == InboxEvent.timestamp_ms, earlier.id < InboxEvent.id),
            ),
        )
        .exists()
    )
    return (
        select(InboxEvent)
        .where(
            InboxEvent.status == "pending",
            InboxEvent.next_attempt_at <= bindparam("now"),
            ~waiting_behind,
        )
        .order_by(InboxEvent.timestamp_ms, InboxEvent.id)
        .limit(1)
        .with_for_update(skip_locked=True, of=InboxEvent)
    )


# Built once: every worker runs this after each event and at each poll, and building the
# statement cost more CPU than running it.
_CLAIM = _claim_statement()


def claim_next(session: Session, now: datetime) -> InboxEvent | None:
    """Lock the next event that may be handled now, or None.

    Only a source's earliest pending event qualifies, so each user's events go one at a time
    in timestamp order. The row stays locked (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite
    serialises writers) until the handling transaction ends: a worker that dies simply
    releases it, and another worker takes it over.
    """
    return session.scalars(_CLAIM, {"now": now}).first()


def count(session: Session, status: str) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(InboxEvent).where(InboxEvent.status == status)
        )
        or 0
    )

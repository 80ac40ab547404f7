"""The webhook inbox: storing events exactly once, and leasing them out in per-source order."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.models import InboxEvent, Lane, utcnow


class EnvelopeError(ValueError):
    """The body is not a webhook envelope as LINE sends it."""


def parse_envelope(body: bytes) -> list[dict[str, Any]]:
    try:
        envelope = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EnvelopeError("body is not JSON") from exc
    if not isinstance(envelope, dict) or not isinstance(envelope.get("events"), list):
        raise EnvelopeError("no events list")
    if "destination" in envelope and not isinstance(envelope["destination"], str):
        raise EnvelopeError("destination is not a string")
    for event in envelope["events"]:
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise EnvelopeError("an event has no type")
        stamp = event.get("timestamp")
        if not isinstance(stamp, int) or isinstance(stamp, bool):
            raise EnvelopeError("an event has no integer timestamp")
        if "source" in event and not isinstance(event["source"], dict):
            raise EnvelopeError("an event source is not an object")
        if "webhookEventId" in event and not isinstance(event["webhookEventId"], str):
            raise EnvelopeError("webhookEventId is not a string")
    return envelope["events"]


def source_key(event: dict[str, Any]) -> str:
    source = event.get("source") or {}
    for field in ("userId", "groupId", "roomId"):
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


def _insert(session: Session):  # type: ignore[no-untyped-def]
    return postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert


def store_events(session: Session, events: list[dict[str, Any]]) -> int:
    """Record events once each; returns how many were new. Redeliveries are ignored."""
    if not events:
        return 0
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
                "next_attempt_at": utcnow(),
                "received_at": utcnow(),
            },
        )
    insert = _insert(session)
    result = session.execute(
        insert(InboxEvent)
        .values(list(rows.values()))
        .on_conflict_do_nothing(index_elements=["webhook_event_id"])
        .returning(InboxEvent.id)
    )
    new = len(result.all())
    keys = sorted({r["source_key"] for r in rows.values()})
    session.execute(insert(Lane).values([{"source_key": k} for k in keys]).on_conflict_do_nothing())
    return new


def due_lanes(session: Session, now: datetime, limit: int = 20) -> list[str]:
    """Sources whose next event may be handled now, oldest first.

    A source whose earliest event waits for a retry is skipped as a whole: its later events
    must wait behind it, and listing it would only make workers spin on it.
    """
    return list(
        session.scalars(
            select(InboxEvent.source_key)
            .where(InboxEvent.status == "pending")
            .group_by(InboxEvent.source_key)
            .having(func.max(InboxEvent.next_attempt_at) <= now)
            .order_by(func.min(InboxEvent.timestamp_ms))
            .limit(limit)
        )
    )


def acquire_lane(session: Session, key: str, owner: str, now: datetime, lease: timedelta) -> bool:
    """Atomically take a source's lease if it is free or its holder's lease ran out."""
    taken = session.execute(
        update(Lane)
        .where(Lane.source_key == key, or_(Lane.locked_until.is_(None), Lane.locked_until < now))
        .values(locked_by=owner, locked_until=now + lease)
    ).rowcount
    return taken == 1


def renew_lane(session: Session, key: str, owner: str, until: datetime) -> bool:
    renewed = session.execute(
        update(Lane)
        .where(Lane.source_key == key, Lane.locked_by == owner)
        .values(locked_until=until)
    ).rowcount
    return renewed == 1


def release_lane(session: Session, key: str, owner: str) -> None:
    session.execute(
        update(Lane)
        .where(Lane.source_key == key, Lane.locked_by == owner)
        .values(locked_by=None, locked_until=None)
    )


def next_event(session: Session, key: str) -> InboxEvent | None:
    """The source's earliest pending event (even if not yet due, so order is kept)."""
    return session.scalars(
        select(InboxEvent)
        .where(InboxEvent.source_key == key, InboxEvent.status == "pending")
        .order_by(InboxEvent.timestamp_ms, InboxEvent.id)
        .limit(1)
    ).first()


def counts(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(InboxEvent.status, func.count()).group_by(InboxEvent.status)
    ).all()
    return {status: n for status, n in rows}

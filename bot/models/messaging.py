"""The durable queues between LINE and the bot: the webhook inbox and the send outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, UTCDateTime, utcnow


class InboxEvent(Base):
    """A webhook event as LINE sent it, stored before the webhook answers 200."""

    __tablename__ = "inbox_events"
    __table_args__ = (
        # The claim query: the earliest pending events, and "is an earlier one still pending?"
        Index("ix_inbox_events_claim", "status", "timestamp_ms"),
        Index("ix_inbox_events_source", "source_key", "status", "timestamp_ms"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_event_id: Mapped[str] = mapped_column(String(64), unique=True)
    # Events of one source (user, group or room) are handled one at a time, in order.
    source_key: Mapped[str] = mapped_column(String(80))
    event_type: Mapped[str] = mapped_column(String(40))
    mode: Mapped[str] = mapped_column(String(16), default="active")
    timestamp_ms: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # pending → done | ignored | failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OutboxMessage(Base):
    """A send to LINE, written in the same transaction as the change that caused it.

    `retry_key` is fixed when the row is written, so every retry of a push or multicast
    carries the same X-Line-Retry-Key and LINE delivers it once.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # reply, push, multicast
    reply_token: Mapped[str | None] = mapped_column(String(200))
    # LINE's reply tokens last about a minute from the event; past this we push instead.
    reply_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recipients: Mapped[list[str]] = mapped_column(JSON)
    messages: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    retry_key: Mapped[str] = mapped_column(String(36), unique=True)
    # pending → sent | failed | skipped (recipient blocked the bot) | merged (its messages
    # went out with another row's, named in last_error)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    inbox_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbox_events.id", ondelete="SET NULL")
    )
    # Unasked-for pushes (reminders, digests, broadcasts) wait out the quiet hours.
    quiet: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Groups the sends of one thing (e.g. "broadcast:12:1") for its delivery report.
    topic: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

"""Routes one stored event to its handler: the kitchensink's `/callback` dispatch, moved behind
the inbox so that it runs in a worker, after LINE already has its 200."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from linebot.v3.webhooks import Event
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import render
from bot.context import DEFAULT_QUIET, Context
from bot.line_gateway import LineGateway
from bot.links import Links
from bot.models import InboxEvent, OutboxMessage, User, utcnow
from bot.notify import QuietHours
from bot.registry import Registry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Site:
    """What handlers need from the configuration."""

    links: Links | None = None
    timezone: str = "Asia/Bangkok"
    quiet: QuietHours = DEFAULT_QUIET
    messages_kept_days: int = 30  # RETENTION_MESSAGES_DAYS, told to people who ask what we keep


# An event that waited this long in the inbox means a backlog: show the user we are on it.
BACKLOG = timedelta(seconds=1)
# "Last seen" is for officers' digests ("silent for 14 days"): writing it on every event of
# a conversation would cost an UPDATE per message for nothing.
LAST_SEEN_PRECISION = timedelta(minutes=10)
# Events a person sent and now waits on (not follow/unfollow, where nobody is typing).
WAITED_ON = {"message", "postback"}
ONE_TO_ONE_ONLY = "ขออภัยค่ะ บอทนี้ใช้งานได้ในแชตส่วนตัวเท่านั้น กรุณาเพิ่มเพื่อนแล้วคุยกับบอทโดยตรงนะคะ"
# Events LINE sends into groups that carry a reply token worth answering once.
GROUP_REPLY_EVENTS = {"message", "join", "postback"}


def user_for(session: Session, line_user_id: str) -> User:
    user = session.scalar(select(User).where(User.line_user_id == line_user_id))
    if user is None:
        user = User(line_user_id=line_user_id)
        session.add(user)
        session.flush()
    return user


def handle_event(
    session: Session,
    gateway: LineGateway,
    registry: Registry,
    row: InboxEvent,
    site: Site | None = None,
) -> list[OutboxMessage] | None:
    """Run the handler for a stored event. Returns the sends it queued, or None if the
    event is of a kind the bot does not handle (recorded, then ignored)."""
    try:
        event = Event.from_dict(row.payload)
    except (ValueError, TypeError, KeyError) as exc:
        # Not the exception's text: the SDK quotes the whole event, message text included.
        log.info(
            "event %s of unknown shape %r ignored (%s)", row.id, row.event_type, type(exc).__name__
        )
        return None
    source_type = getattr(event.source, "type", None) if event.source else None
    user = None
    if source_type == "user" and event.source.user_id:
        user = user_for(session, event.source.user_id)
        now = utcnow()
        if user.last_seen_at is None or now - user.last_seen_at > LAST_SEEN_PRECISION:
            user.last_seen_at = now
    site = site or Site()
    ctx = Context(
        session,
        gateway,
        row,
        event,
        user,
        utcnow(),
        site.links,
        site.timezone,
        site.quiet,
        site.messages_kept_days,
    )
    if user is not None and row.event_type in WAITED_ON and ctx.now - row.received_at > BACKLOG:
        ctx.show_loading()

    if source_type in {"group", "room"}:
        if row.event_type in GROUP_REPLY_EVENTS and getattr(event, "reply_token", None):
            ctx.reply(render.text(ONE_TO_ONE_ONLY))
    elif user is None:
        return None
    elif row.event_type == "message":
        message_type = getattr(event.message, "type", None)
        handler = registry.messages.get(message_type) or registry.messages.get("*")
        if handler is None:
            return None
        handler(ctx)
    elif row.event_type in registry.events:
        registry.events[row.event_type](ctx)
    else:
        return None
    ctx.flush_replies()
    return ctx.sent

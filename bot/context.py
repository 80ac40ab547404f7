"""What a handler gets: the event, the user, a database session, and a place to put replies."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from bot import outbox
from bot.line_gateway import LineError, LineGateway
from bot.links import Links
from bot.models import ConversationState, InboxEvent, OutboxMessage, User
from bot.notify import QuietHours

log = logging.getLogger(__name__)
_ID = re.compile(r"[0-9]{1,9}")
# The configuration's defaults (QUIET_FROM, QUIET_UNTIL); the app passes the configured hours.
DEFAULT_QUIET = QuietHours(time(20), time(7))


@dataclass
class Context:
    session: Session
    gateway: LineGateway
    inbox: InboxEvent
    event: Any  # the line-bot-sdk webhook event model
    user: User | None
    now: datetime
    links: Links | None = None
    timezone: str = "Asia/Bangkok"
    quiet: QuietHours = DEFAULT_QUIET  # when unasked-for pushes wait (the configured hours)
    messages_kept_days: int = 30  # RETENTION_MESSAGES_DAYS
    replies: list[dict[str, Any]] = field(default_factory=list)
    sent: list[OutboxMessage] = field(default_factory=list)
    # The session's identity map holds objects weakly, so a lookup that several parts of one
    # handler repeat would go to the database each time: keep them here for the event.
    _memo: dict[Any, Any] = field(default_factory=dict, repr=False)

    # The input -------------------------------------------------------------------------
    @property
    def line_user_id(self) -> str | None:
        return getattr(self.event.source, "user_id", None)

    @property
    def text(self) -> str | None:
        message = getattr(self.event, "message", None)
        return getattr(message, "text", None) if message is not None else None

    @property
    def postback(self) -> dict[str, str]:
        """Postback data as a dict. It says what was tapped, never who may do it."""
        postback = getattr(self.event, "postback", None)
        if postback is None:
            return {}
        return dict(parse_qsl(postback.data or "", keep_blank_values=True))

    def postback_id(self, key: str) -> int | None:
        """A numeric id from the postback data, or None for anything else: ASCII digits only
        (str.isdigit() also takes "²", which int() refuses) and small enough for a database
        integer column."""
        raw = self.postback.get(key, "")
        return int(raw) if _ID.fullmatch(raw) else None

    @property
    def postback_params(self) -> dict[str, str]:
        postback = getattr(self.event, "postback", None)
        return dict(postback.params or {}) if postback is not None else {}

    @property
    def today(self) -> date:
        """Today where the users are (the app's time zone), not in UTC."""
        return self.now.astimezone(ZoneInfo(self.timezone)).date()

    def remember(self, key: Any, load: Callable[[], Any]) -> Any:
        """`load()` once per event; later calls with the same key get the same object."""
        if key not in self._memo:
            self._memo[key] = load()
        return self._memo[key]

    @property
    def conversation(self) -> ConversationState | None:
        if self.user is None:
            return None
        if "conversation" not in self._memo:
            self._memo["conversation"] = self.session.get(ConversationState, self.user.id)
        state = self._memo["conversation"]
        if state is not None and (inspect(state).was_deleted or inspect(state).detached):
            return None
        return state

    @conversation.setter
    def conversation(self, state: ConversationState | None) -> None:
        self._memo["conversation"] = state

    # The output ------------------------------------------------------------------------
    def reply(self, *messages: dict[str, Any]) -> None:
        """Queue messages for this event's reply (sent after the transaction commits)."""
        self.replies.extend(messages)

    def push(self, user: User, messages: list[dict[str, Any]]) -> None:
        """Push to another user (counts against the monthly quota: use sparingly)."""
        if user.following:
            self.sent.append(
                outbox.enqueue_push(self.session, user.line_user_id, messages, inline=True)
            )

    def show_loading(self, seconds: int = 5) -> None:
        """The typing dots, for steps that take more than a moment. Best effort."""
        if self.line_user_id:
            try:
                self.gateway.show_loading(self.line_user_id, seconds)
            except LineError as exc:
                log.info("loading animation not shown: %s", exc)

    @property
    def reply_token(self) -> str | None:
        """The event's reply token, if it looks like one LINE issues; else None (a push)."""
        return outbox.usable_reply_token(getattr(self.event, "reply_token", None))

    def flush_replies(self) -> None:
        """Turn queued replies into outbox rows, at most five messages per request."""
        token = self.reply_token
        target = self.line_user_id or self.inbox.source_key
        for start in range(0, len(self.replies), 5):
            chunk = self.replies[start : start + 5]
            # A reply token is single-use: only the first chunk may use it.
            self.sent.append(
                outbox.enqueue_reply(
                    self.session,
                    token if start == 0 else None,
                    target,
                    chunk,
                    self.inbox.id,
                    reply_by=self.inbox.received_at + outbox.REPLY_TOKEN_LIFE,
                    inline=True,
                )
            )
        self.replies = []

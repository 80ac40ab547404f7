"""A chat driver: people send events through the signed webhook and read what LINE delivered.

somsri = line.user("สมศรี ใจดี")
somsri.follow()
somsri.tap("ยอมรับ")
somsri.say("ต.หอคำ")
assert "ตรวจสอบข้อมูล" in somsri.last_text
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from bot.db import db
from bot.models import Evidence, InboxEvent, OutboxMessage, SummaryDocument
from fakeline import FakeLine
from fakeline import webhook as events

_ids = itertools.count(1)


def _walk_actions(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if isinstance(node.get("action"), dict):
            yield node["action"]
        for value in node.values():
            yield from _walk_actions(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk_actions(value)


def _texts(node: Any) -> Iterator[str]:
    """Every piece of text a person would read in a message, Flex included."""
    if isinstance(node, dict):
        if node.get("type") == "text" and isinstance(node.get("text"), str):
            yield node["text"]
        if node.get("type") == "flex":
            yield node.get("altText", "")
        for key, value in node.items():
            if key not in {"action", "quickReply"}:
                yield from _texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _texts(value)


class Chat:
    def __init__(self, app: Flask, platform: FakeLine, secret: str) -> None:
        self.app = app
        self.platform = platform
        self.secret = secret
        self.client = app.test_client()

    def user(self, display_name: str = "สมศรี ใจดี", user_id: str | None = None) -> Person:
        user_id = user_id or f"U{next(_ids):032x}"
        self.platform.set_profile(user_id, display_name)
        return Person(self, user_id, display_name)

    def post(self, body: bytes, signature: str | None = None) -> Any:
        """Post a raw webhook body, signed as LINE signs it unless a signature is given."""
        headers = {"Content-Type": "application/json"}
        headers["x-line-signature"] = (
            signature if signature is not None else events.sign(self.secret, body)
        )
        return self.client.post("/callback", data=body, headers=headers)

    def send(self, *event_list: dict[str, Any]) -> Any:
        body = json.dumps(events.envelope(list(event_list)), ensure_ascii=False).encode()
        response = self.post(body)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response

    def settle(self, timeout: float = 20.0) -> None:
        """Wait until every stored event is handled, all content fetched, every document
        built and every send ended (sent, failed or skipped), retries included."""
        deadline = time.monotonic() + timeout
        # In pipeline order, sends last: on PostgreSQL each count sees the latest commits, so a
        # stage that finishes between two counts must be seen by a later one (each stage
        # commits its successor's work in the same transaction as its own end).
        unfinished = [
            (InboxEvent, InboxEvent.status == "pending"),
            (Evidence, Evidence.status.in_(["pending", "fetching"])),
            (  # photos whose thumbnail is still to be made
                Evidence,
                (Evidence.status == "stored")
                & (Evidence.kind == "image")
                & Evidence.thumb_key.is_(None)
                & Evidence.deleted_at.is_(None),
            ),
            (SummaryDocument, SummaryDocument.status == "pending"),
            (OutboxMessage, OutboxMessage.status == "pending"),
        ]
        while time.monotonic() < deadline:
            with db.transaction() as session:
                waiting = sum(
                    session.scalar(select(func.count()).select_from(model).where(where)) or 0
                    for model, where in unfinished
                )
            if not waiting:
                return
            time.sleep(0.02)
        raise AssertionError("the bot did not finish handling events in time")


class Person:
    """One LINE user chatting with the bot."""

    def __init__(self, chat: Chat, user_id: str, display_name: str) -> None:
        self.chat = chat
        self.user_id = user_id
        self.display_name = display_name
        self._seen = 0
        self.last: list[dict[str, Any]] = []  # messages received after the last action

    # Acting ----------------------------------------------------------------------------
    def _act(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        self.chat.send(event)
        self.chat.settle()
        return self.received()

    def _token(self) -> str:
        return self.chat.platform.issue_reply_token(self.user_id)

    def follow(self) -> list[dict[str, Any]]:
        return self._act(events.follow_event(self.user_id, self._token()))

    def unfollow(self) -> list[dict[str, Any]]:
        return self._act(events.unfollow_event(self.user_id))

    def say(self, text: str) -> list[dict[str, Any]]:
        return self._act(events.text_event(self.user_id, text, self._token()))

    def send_photos(self, *photos: bytes, content_type: str = "image/jpeg") -> list[dict[str, Any]]:
        """Photos, as LINE sends them: several picked together arrive as one image set."""
        set_id = f"set{next(_ids)}" if len(photos) > 1 else None
        sent = []
        for index, data in enumerate(photos, start=1):
            message_id = str(10**15 + next(_ids))
            self.chat.platform.add_content(message_id, data, content_type)
            image_set = (set_id, index, len(photos)) if set_id else None
            sent.append(
                events.image_event(self.user_id, message_id, self._token(), image_set=image_set)
            )
        self.chat.send(*sent)
        self.chat.settle()
        return self.received()

    def send_video(self, data: bytes) -> list[dict[str, Any]]:
        message_id = str(10**15 + next(_ids))
        self.chat.platform.add_content(message_id, data, "video/mp4")
        return self._act(events.video_event(self.user_id, message_id, self._token()))

    def send_file(self, data: bytes, name: str) -> list[dict[str, Any]]:
        message_id = str(10**15 + next(_ids))
        self.chat.platform.add_content(message_id, data, "application/octet-stream")
        event = events.file_event(
            self.user_id, message_id, self._token(), file_name=name, file_size=len(data)
        )
        return self._act(event)

    def postback(self, data: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        return self._act(events.postback_event(self.user_id, data, self._token(), params=params))

    def tap(
        self, label: str, messages: list[dict[str, Any]] | None = None, nth: int = 0
    ) -> list[dict[str, Any]]:
        """Tap the button or quick reply chip with this label in the latest messages (the
        `nth` such button of the newest message that has one)."""
        action = self.find_action(label, messages, nth)
        if action["type"] == "message":
            return self.say(action["text"])
        if action["type"] == "postback":
            return self.postback(action["data"])
        raise AssertionError(f"cannot tap a {action['type']} action in a test chat")

    def pick(
        self, label: str, value: str, messages: list[dict[str, Any]] | None = None, nth: int = 0
    ) -> list[dict[str, Any]]:
        """Choose `value` (e.g. "2027-01-15") in the date/time picker behind this button, which,
        like LINE's, cannot go outside the button's min and max."""
        action = self.find_action(label, messages, nth)
        assert action["type"] == "datetimepicker", f"{label!r} is not a date picker"
        if (action.get("min") and value < action["min"]) or (
            action.get("max") and value > action["max"]
        ):
            raise AssertionError(f"{value} is outside {action.get('min')}..{action.get('max')}")
        return self.postback(action["data"], {action["mode"]: value})

    # Reading ---------------------------------------------------------------------------
    def received(self) -> list[dict[str, Any]]:
        delivered = self.chat.platform.deliveries(self.user_id)
        self.last = delivered[self._seen :]
        self._seen = len(delivered)
        return self.last

    @property
    def last_text(self) -> str:
        """All the text of the latest messages, one string, for `in` checks."""
        return "\n".join(_texts(self.last))

    def find_action(
        self, label: str, messages: list[dict[str, Any]] | None = None, nth: int = 0
    ) -> dict[str, Any]:
        labels = []
        for message in reversed(messages if messages is not None else self.last):
            actions = list(_walk_actions(message))
            labels += [a.get("label") for a in actions]
            matching = [a for a in actions if a.get("label") == label]
            if len(matching) > nth:
                return matching[nth]
        raise AssertionError(f"no button {label!r}; buttons seen: {labels}")

    def labels(self) -> list[str]:
        return [a.get("label", "") for m in self.last for a in _walk_actions(m)]

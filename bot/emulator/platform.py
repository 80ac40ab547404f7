"""The emulator's LINE: the fake platform running in this process, each user's chat, and
events sent to the bot the way LINE sends them (signed, over HTTP, to /callback)."""

from __future__ import annotations

import itertools
import json
import logging
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.db import Database
from bot.models import LeaderProfile, Plan, RichMenu, User
from bot.services import areas, fiscal, plans
from fakeline import FakeLine
from fakeline import webhook as events

log = logging.getLogger(__name__)

HISTORY = 500  # messages kept per chat; older ones scroll away
ROLE_LABELS = {
    "leader": "ผู้นำ",
    "officer": "พัฒนากร",
    "province": "เจ้าหน้าที่จังหวัด",
    "guest": "ยังไม่ลงทะเบียน",
    "new": "ผู้ใช้ใหม่",
}
ROLE_ORDER = ("leader", "officer", "province", "guest", "new")


class EmulatorError(Exception):
    """The bot did not take an event (its /callback answered other than 200)."""


@dataclass(frozen=True)
class Entry:
    """One line of a chat: what the bot sent (`side` "bot"), what the user sent ("user"), or a
    note that LINE itself would not show, such as a tapped postback button ("note")."""

    seq: int
    side: str
    message: dict[str, Any]
    at: float
    how: str = ""  # for the bot's messages: reply, push, multicast or broadcast


class Transcript:
    """Every chat of this emulator, in memory (a restart starts the chats afresh)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self._chats: dict[str, deque[Entry]] = {}

    def add(self, user_id: str, side: str, message: dict[str, Any], how: str = "") -> Entry:
        with self._lock:
            entry = Entry(next(self._seq), side, message, time.time(), how)
            self._chats.setdefault(user_id, deque(maxlen=HISTORY)).append(entry)
            return entry

    def since(self, user_id: str, after: int) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(e) for e in self._chats.get(user_id, ()) if e.seq > after]

    def latest(self) -> dict[str, int]:
        """The newest message's number per chat, for unread marks on the person switcher."""
        with self._lock:
            return {user: chat[-1].seq for user, chat in self._chats.items() if chat}


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    role: str
    label: str  # what the switcher shows under the name: role and area


class Emulator:
    def __init__(self, channel_secret: str, access_token: str) -> None:
        self.channel_secret = channel_secret
        self.fake = FakeLine(access_token=access_token, allow_local_http=True)
        self.transcript = Transcript()
        self.fake.on_deliver(self._delivered)
        self.fake.start()
        self._newcomers: dict[str, str] = {}  # user id -> name, before they register
        self._message_ids = itertools.count(int(time.time()) * 1000)

    def stop(self) -> None:
        self.fake.stop()

    def _delivered(self, user_id: str, messages: list[dict[str, Any]], how: str) -> None:
        for message in messages:
            self.transcript.add(user_id, "bot", message, how)

    # ----- people -------------------------------------------------------------------------

    def people(self, session: Session, today: date) -> list[Person]:
        """Everyone the emulator can be: the database's users, then newcomers not yet saved.
        A leader's label says where her plan of this fiscal year stands, as it is now."""
        found = []
        rows = session.execute(
            select(User, LeaderProfile, Plan.status)
            .outerjoin(LeaderProfile, LeaderProfile.user_id == User.id)
            .outerjoin(
                Plan, (Plan.leader_id == User.id) & (Plan.fiscal_year == fiscal.year_of(today))
            )
            .where(User.status != "erased")  # anonymous stand-ins have no LINE account to be
        ).all()
        for user, profile, status in rows:
            name = (profile.full_name if profile else None) or user.display_name or "ผู้ใช้"
            label = _label(user, profile)
            if user.role == "leader":
                label += " · " + (plans.STATUS_LABELS.get(status, status) if status else "ยังไม่มีแผน")
            found.append(Person(user.line_user_id, name, user.role, label))
            self.fake.set_profile(user.line_user_id, user.display_name or name)
        known = {p.user_id for p in found}
        found += [
            Person(user_id, name, "new", ROLE_LABELS["new"])
            for user_id, name in self._newcomers.items()
            if user_id not in known
        ]
        order = {role: n for n, role in enumerate(ROLE_ORDER)}
        return sorted(found, key=lambda p: (order.get(p.role, len(order)), p.name))

    def newcomer(self) -> Person:
        """A LINE user who has not added the bot yet; the page then sends their follow."""
        user_id = "U" + secrets.token_hex(16)
        name = f"ผู้ใช้ทดลอง {len(self._newcomers) + 1}"
        self._newcomers[user_id] = name
        self.fake.set_profile(user_id, name)
        return Person(user_id, name, "new", ROLE_LABELS["new"])

    def rich_menu(self, user_id: str) -> dict[str, Any] | None:
        """The rich menu this user sees (linked to them, else the default), without its image."""
        menu_id = self.fake.user_rich_menu(user_id)
        menu = self.fake.rich_menus.get(menu_id) if menu_id else None
        return {"id": menu_id, **menu["menu"]} if menu else None

    # ----- what the user does ---------------------------------------------------------------

    def send(self, callback_url: str, user_id: str, action: dict[str, Any]) -> None:
        """Turn what the user did on the page into the webhook event LINE would send.

        `action` is {"type": "text", "text"}, {"type": "postback", "data", "params"?,
        "displayText"?, "label"?}, {"type": "follow"} or {"type": "unfollow"}."""
        kind = action.get("type")
        token = self.fake.issue_reply_token(user_id)
        if kind == "text":
            text = str(action.get("text") or "")
            if not text.strip():
                raise ValueError("empty text")
            self.transcript.add(user_id, "user", {"type": "text", "text": text})
            event = events.text_event(user_id, text, token)
        elif kind == "postback":
            data = str(action.get("data") or "")
            params = action.get("params")
            shown = action.get("displayText")
            if shown:
                self.transcript.add(user_id, "user", {"type": "text", "text": str(shown)})
            else:
                self.transcript.add(user_id, "note", _postback_note(action))
            event = events.postback_event(
                user_id, data, token, params=params if isinstance(params, dict) else None
            )
        elif kind == "follow":
            self.transcript.add(user_id, "note", {"type": "text", "text": "เพิ่มเพื่อนบอทแล้ว"})
            event = events.follow_event(user_id, token, is_unblocked=bool(action.get("unblocked")))
        elif kind == "unfollow":
            self.transcript.add(user_id, "note", {"type": "text", "text": "บล็อกบอทแล้ว"})
            event = events.unfollow_event(user_id)
        else:
            raise ValueError(f"unknown action {kind!r}")
        self._post(callback_url, event)

    def upload(
        self, callback_url: str, user_id: str, data: bytes, content_type: str, file_name: str
    ) -> None:
        """A photo, video or file sent from the page: kept by the fake's data API, announced
        to the bot by a message event, as LINE does."""
        message_id = str(next(self._message_ids))
        self.fake.add_content(message_id, data, content_type)
        token = self.fake.issue_reply_token(user_id)
        shown: dict[str, Any] = {"id": message_id, "fileName": file_name, "size": len(data)}
        if content_type.startswith("image/"):
            shown["type"] = "image"
            event = events.image_event(user_id, message_id, token)
        elif content_type.startswith("video/"):
            shown["type"] = "video"
            event = events.video_event(user_id, message_id, token)
        else:
            shown["type"] = "file"
            event = events.file_event(
                user_id, message_id, token, file_name=file_name, file_size=len(data)
            )
        self.transcript.add(user_id, "user", shown)
        self._post(callback_url, event)

    def _post(self, callback_url: str, event: dict[str, Any]) -> None:
        body = json.dumps(events.envelope([event]), ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(
            callback_url,
            data=body,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "x-line-signature": events.sign(self.channel_secret, body),
                "User-Agent": "LineBotWebhook/2.0",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                status = answer.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError as exc:
            raise EmulatorError(f"the webhook was not reached: {exc}") from exc
        if status != 200:
            raise EmulatorError(f"the webhook answered {status}")

    # ----- start-up -----------------------------------------------------------------------

    def prepare(self, db: Database, gateway: Any, storage: Any, now: Any) -> None:
        """What a fresh emulator needs once it serves: the demo on an empty database, and the
        rich menus uploaded to this process's fake LINE (which starts empty every time)."""
        from bot import richmenu

        with db.transaction() as session:
            if session.scalar(select(User.id).limit(1)) is None:
                try:
                    from bot import demo
                except ImportError:  # pragma: no cover - the demo module ships with the app
                    pass
                else:
                    for line in demo.seed(session, storage, now=now):
                        log.info("demo: %s", line)
        with db.transaction() as session:
            # The database remembers menus uploaded to an earlier run's fake; upload afresh.
            session.execute(delete(RichMenu))
            richmenu.sync(session, gateway)


def _label(user: User, profile: LeaderProfile | None) -> str:
    role = ROLE_LABELS.get(user.role, user.role)
    code = profile.subdistrict_code if profile else user.area_code
    if not code:
        return role
    # Without the province: the emulator's people all live in one.
    place = areas.label(code).rsplit(" จ.", 1)[0]
    return f"{role} · {place}"


def _postback_note(action: dict[str, Any]) -> dict[str, Any]:
    params = action.get("params")
    if isinstance(params, dict) and params:
        value = next(iter(params.values()))
        return {"type": "text", "text": f"เลือก {value}", "picked": params}
    label = action.get("label") or "ปุ่ม"
    return {"type": "text", "text": f"กด «{label}»"}

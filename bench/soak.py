"""Load and soak: 2,000 leaders chatting with the bot for ten minutes, a broadcast in the middle.

The app runs as deployed by default — gunicorn with `gunicorn.conf.py`, 2 processes, event
workers and outbox sender inside them — on PostgreSQL (the `BENCH_DATABASE_URL` database,
dropped and created anew), with its access log on and LOG_LEVEL=INFO, talking to a fake LINE in
its own process (`bench/fake_line.py`, serving a distinct JPEG for every photo sent).

Each simulated leader has one action in flight at a time, and chats in sessions (a form; photos
for an activity) with a few seconds between actions and a long pause between sessions. Her next
action comes from the bot's actual answer: the buttons of the card she got (postback data and
date pickers as LINE would send them), the form's prompts, typed answers with typos and
"ยกเลิก" now and then. Her script: "แผนของฉัน", the add-activity form (area, component,
activity, mode, method, responsible, start and end by the date picker, save), "ความคืบหน้า",
the activities, "ส่งหลักฐาน", one to three photos (an image set when more than one), a caption,
"เสร็จแล้ว", and round again. Half-way through, province staff announce an assessment date to
every leader through the chat ("ประกาศวันประเมิน", the whole form); leaders who get the card may
tap "รับทราบ".

Measured: the webhook's answer time (client side), the time from an action to its answer
arriving at LINE, non-2xx answers, each gunicorn process's memory every 5 s, every event
stored and handled once, every action answered, the broadcast delivered once per leader, and a
scan of the run's gunicorn log for the channel secret, the access token, SECRET_KEY, the
leaders' phone numbers and the text they typed (each typed text carries a marker).
"""

from __future__ import annotations

import heapq
import http.client
import io
import itertools
import json
import math
import os
import random
import re
import secrets
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import psycopg

from bench import fake_line
from bench.handling import percentile
from bench.harness import HOST, CpuMeter, Options, Row, Server, get_json, insert_leaders, log
from bench.webhook import (
    DEFAULT_DATABASE_URL,
    base_env,
    flask_db_upgrade,
    log_problems,
    reset_database,
    wait_drained,
)
from fakeline.webhook import envelope, image_event, postback_event, sign, text_event

NAME = "soak"
LEADERS = 2000
QUICK_LEADERS = 200
SECONDS = 600
QUICK_SECONDS = 60
# Actions per second that all leaders together offer: a busy hour at a province office, which
# the two shared cores can carry. A leader chats in sessions (a form; photos for an activity):
# a few seconds between the actions of a session, a long pause between sessions, so that the
# leaders together offer RATE whatever their number.
RATE = float(os.environ.get("SOAK_RATE", "20"))
STEP_THINK = (2.0, 8.0)  # seconds from an answer to her next tap or text, within a session
SESSION_ACTIONS = 9  # a form takes about 13 actions, photos for an activity about 5
SENDERS = 32  # threads posting webhooks: more than the actions in flight at the aimed rate
ACTION_TIMEOUT = 90.0  # an action still unanswered after this counts as unanswered
POLL = 0.05  # how often the fake's records are read; times come from its clock
SAMPLE_EVERY = 5.0  # memory samples
SETTLE_TIMEOUT = 60.0  # after the drain: outbox and evidence finishing
REPORT_WAIT = 90.0  # from ส่งเลย, the longest wait for the staff's delivery report
TOKEN_LIFE = 60.0  # LINE accepts a reply token for about a minute
REDELIVERIES = 2  # a webhook not answered 2xx is sent again, as LINE redelivers
BROADCAST_ALT = "นัดหมายการประเมิน"  # the broadcast card's altText starts so
ACK_SHARE = 0.6  # leaders who tap "รับทราบ" on the card
TYPO_SHARE = 0.08
CANCEL_SHARE = 0.08
PHOTO_TEMPLATES = 6
PHOTO_IDS = 10**15  # message ids of the photos start here (the fake derives each photo)
MARKER = re.compile(r"mk[0-9a-f]{10}")  # begins every text a leader or the staff types
PHONE = re.compile(r"(?<!\d)0\d{2}-?\d{3}-?\d{4}(?!\d)")

ACTIVITIES = (
    "ศึกษาดูงานการทำปุ๋ยหมักชีวภาพ",
    "อบรมการทำบัญชีครัวเรือน",
    "ฝึกทำผลิตภัณฑ์แปรรูปจากกล้วย",
    "จัดเวทีแลกเปลี่ยนเรียนรู้กับปราชญ์ชุมชน",
    "เรียนการตลาดออนไลน์ผ่านเฟซบุ๊ก",
    "ฝึกเลี้ยงไก่ไข่แบบอินทรีย์",
    "ตั้งกลุ่มออมทรัพย์ในหมู่บ้าน",
)
METHODS = (
    "เรียนออนไลน์และฝึกทำเองที่บ้าน",
    "ขอวิทยากรจากสำนักงานเกษตรอำเภอ",
    "ไปดูงานที่ศูนย์เรียนรู้ในตำบล",
    "อ่านคู่มือและทดลองทำ",
)
CAPTIONS = (
    "อบรมกลุ่มทอผ้า",
    "ลงพื้นที่เยี่ยมครัวเรือน",
    "ประชุมกลุ่มอาชีพ",
    "สาธิตการทำปุ๋ย",
    "ขายสินค้าที่ตลาดนัดชุมชน",
)
TYPOS = ("แผนขอฉัน", "แผนของฉน", "แพนของฉัน")


# ----- people -----------------------------------------------------------------------------------


@dataclass
class Move:
    """One thing a person does: type, tap (a postback, a date pick) or send photos."""

    step: str  # the script step it answers
    kind: str  # text | tap | photos
    next_step: str
    text: str = ""
    data: str = ""
    params: dict[str, str] | None = None
    photos: int = 0
    answer: bool = True  # False: a broadcast card's button, outside the script

    @property
    def events(self) -> int:
        return self.photos or 1


@dataclass
class Action:
    actor: Actor
    move: Move
    sent: float = 0.0  # time.time() before the first request
    ack: list[float] = field(default_factory=list)  # seconds to each answer
    statuses: list[int] = field(default_factory=list)  # 0: no answer (connection error)
    event_ids: list[str] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)  # the fake's time of each delivery
    messages: list[dict[str, Any]] = field(default_factory=list)
    by_push: int = 0
    done: bool = False
    timed_out: bool = False
    failed: bool = False  # the webhook never answered 2xx


@dataclass
class Actor:
    line_id: str
    role: str  # leader | staff
    phone: str = ""
    step: str = "plan"
    messages: list[dict[str, Any]] = field(default_factory=list)  # the script's last answer
    card: list[dict[str, Any]] | None = None  # the broadcast card, until answered or ignored
    start_day: date | None = None
    items: list[int] = field(default_factory=list)  # her activities written by the set-up
    photo_rounds: int = 0
    waiting: Action | None = None
    finished: bool = False  # the staff after sending


def _actions(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if isinstance(node.get("action"), dict):
            yield node["action"]
        for value in node.values():
            yield from _actions(value)
    elif isinstance(node, list):
        for value in node:
            yield from _actions(value)


def _find(
    messages: list[dict[str, Any]], label: str | None = None, data: str | None = None
) -> list[dict[str, Any]]:
    """Buttons by label, or postbacks and pickers whose data contains `data`."""
    by_label = [a for a in _actions(messages) if label is not None and a.get("label") == label]
    by_data = [a for a in _actions(messages) if data is not None and data in a.get("data", "")]
    return by_label + by_data


def _tap(step: str, action: dict[str, Any], next_step: str) -> Move:
    if action.get("type") == "message":
        return Move(step, "text", next_step, text=action["text"])
    return Move(step, "tap", next_step, data=action["data"])


def _pick(step: str, picker: dict[str, Any], value: str, next_step: str) -> Move:
    return Move(step, "tap", next_step, data=picker["data"], params={picker["mode"]: value})


class Script:
    """What each person does next, read from the bot's last answer to her."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.markers: set[str] = set()
        self.off_script: Counter[str] = Counter()
        self.off_samples: list[dict[str, Any]] = []
        self.broadcast_sent_at: float | None = None  # time.time() of the staff's "ส่งเลย"

    def marked(self, text: str) -> str:
        marker = f"mk{self.rng.getrandbits(40):010x}"
        self.markers.add(marker)
        return f"{marker} {text}"

    def lost(self, actor: Actor, why: str) -> Move:
        """The answer lacks what the script needs: leave whatever is open, start over."""
        self.off_script[f"{actor.step}: {why}"] += 1
        if len(self.off_samples) < 20:
            texts = [a.get("label") for a in _actions(actor.messages)]
            alt = [m.get("altText") or m.get("text", "")[:120] for m in actor.messages]
            self.off_samples.append({"step": actor.step, "why": why, "got": alt, "buttons": texts})
        return Move(actor.step, "text", "plan", text="ยกเลิก")

    def next_move(self, actor: Actor) -> Move | None:
        if actor.role == "staff":
            return self._staff(actor)
        rng = self.rng
        if actor.card is not None:
            card, actor.card = actor.card, None
            ack = _find(card, data="a=bc.ack")
            if ack and rng.random() < ACK_SHARE:
                return Move("broadcast", "tap", actor.step, data=ack[0]["data"], answer=False)
        return self._leader(actor)

    def _leader(self, a: Actor) -> Move:
        rng, msgs, step = self.rng, a.messages, a.step
        # A form left open (e.g. by a timeout) is offered again: take it up.
        if step not in ("plan", "progress") and (resume := _find(msgs, label="ทำต่อ")):
            return _tap(step, resume[0], step)
        if step == "plan":
            if rng.random() < TYPO_SHARE:
                return Move("typo", "text", "plan", text=rng.choice(TYPOS))
            return Move(step, "text", "add", text="แผนของฉัน")
        if step == "add":
            found = _find(msgs, data="a=plan.add")
            return _tap(step, found[0], "area") if found else self.lost(a, "no เพิ่มกิจกรรม")
        if step in ("area", "component", "mode"):
            if again := _find(msgs, label="เริ่มใหม่"):
                return _tap(step, again[0], "area")
            picks = [x for x in _find(msgs, data="a=pick") if x.get("type") == "postback"]
            following = {"area": "component", "component": "activity", "mode": "method"}[step]
            if not picks:
                return self.lost(a, "no choices")
            return _tap(step, rng.choice(picks), following)
        if step == "activity":
            if rng.random() < TYPO_SHARE:
                return Move("typo", "text", "activity", text="   ")
            return Move(step, "text", "mode", text=self.marked(rng.choice(ACTIVITIES)))
        if step == "method":
            return Move(step, "text", "responsible", text=self.marked(rng.choice(METHODS)))
        if step == "responsible":
            if rng.random() < 0.5 and (me := _find(msgs, label="ตนเอง")):
                return _tap(step, me[0], "start")
            return Move(step, "text", "start", text=self.marked(f"ตนเอง โทร {a.phone}"))
        if step in ("start", "end"):
            return self._date(a)
        if step == "save":
            if rng.random() < CANCEL_SHARE:
                return Move("cancel", "text", "plan", text="ยกเลิก")
            found = _find(msgs, data="a=save")
            return _tap(step, found[0], "progress") if found else self.lost(a, "no บันทึก")
        if step == "progress":
            return Move(step, "text", "items", text="ความคืบหน้า")
        if step == "items":
            found = _find(msgs, data="a=plan.items")
            return _tap(step, found[0], "send") if found else self.lost(a, "no ดูกิจกรรม")
        if step == "send":
            found = _find(msgs, data="a=evidence.send")
            if not found:
                return self.lost(a, "no ส่งหลักฐาน")
            a.photo_rounds = rng.choice((1, 1, 2))
            return _tap(step, rng.choice(found), "photos")
        if step == "photos":
            a.photo_rounds -= 1
            following = "photos" if a.photo_rounds > 0 else "caption"
            return Move(step, "photos", following, photos=rng.choice((1, 1, 2, 3)))
        if step == "caption":
            return Move(step, "text", "done", text=self.marked(rng.choice(CAPTIONS)))
        if step == "done":
            found = _find(msgs, label="เสร็จแล้ว")
            return _tap(step, found[0], "plan") if found else self.lost(a, "no เสร็จแล้ว")
        return self.lost(a, f"unknown step {step}")

    def _date(self, a: Actor) -> Move:
        rng, step = self.rng, a.step
        pickers = [x for x in _actions(a.messages) if x.get("type") == "datetimepicker"]
        if not pickers:
            return self.lost(a, "no date picker")
        if rng.random() < TYPO_SHARE:
            return Move("typo", "text", step, text="เมื่อวานนี้")
        low, high = date.fromisoformat(pickers[0]["min"]), date.fromisoformat(pickers[0]["max"])
        if step == "start":
            day = low + timedelta(days=rng.randrange((high - low).days // 2 + 1))
            a.start_day = day
            return _pick(step, pickers[0], day.isoformat(), "end")
        start = max(a.start_day or low, low)
        day = min(start + timedelta(days=rng.randrange(0, 120)), high)
        return _pick(step, pickers[0], day.isoformat(), "save")

    def _staff(self, a: Actor) -> Move | None:
        msgs, step = a.messages, a.step
        if step == "bc_start":
            return Move(step, "text", "bc_when", text="ประกาศวันประเมิน")
        if step == "bc_when":
            if new := _find(msgs, label="สร้างประกาศใหม่"):
                return _tap(step, new[0], "bc_when")
            picker = [x for x in _find(msgs, label="เลือกวันและเวลา") if x.get("mode")]
            if not picker:
                return self.lost(a, "no เลือกวันและเวลา")
            value = picker[0].get("initial") or picker[0]["min"]
            return _pick(step, picker[0], value, "bc_place")
        if step == "bc_place":
            place = self.marked("ห้องประชุมสำนักงานพัฒนาชุมชนจังหวัดบึงกาฬ ชั้น 2")
            return Move(step, "text", "bc_audience", text=place)
        if step == "bc_audience":
            found = _find(msgs, label="ผู้นำทั้งจังหวัด")
            return _tap(step, found[0], "bc_note") if found else self.lost(a, "no audience")
        if step == "bc_note":
            return Move(step, "text", "bc_send", text=self.marked("กรุณานำเอกสารสรุปผลงานมาด้วย"))
        if step == "bc_send":
            found = _find(msgs, label="ส่งเลย")
            return _tap(step, found[0], "bc_done") if found else self.lost(a, "no ส่งเลย")
        return None  # done (or lost): the staff stops


# ----- the load ---------------------------------------------------------------------------------


class Driver:
    """Schedules everyone's actions, posts them as signed webhooks, and matches what the fake
    LINE received to the action waiting for it."""

    def __init__(
        self, app_url: str, control: str, secret: str, script: Script, cycle: float
    ) -> None:
        self.port = urlsplit(app_url).port
        self.control = control
        self.secret = secret
        self.script = script
        # Mean seconds from one session's start to the next one's, per leader.
        self.cycle = cycle
        step = sum(STEP_THINK) / 2
        self.gap = max(cycle - SESSION_ACTIONS * step, 5.0)  # mean pause between sessions
        self.rng = random.Random(5)
        self.lock = threading.Lock()
        self.actors: dict[str, Actor] = {}
        self.actions: list[Action] = []
        self.tokens: dict[str, Action] = {}
        self.queue: list[tuple[float, int, str]] = []  # (due, seq, line id)
        self._seq = itertools.count()
        self._photo_ids = itertools.count(PHOTO_IDS + random.Random().randrange(10**9) * 1000)
        self.photos = 0
        self.calls = Counter[str]()  # every request the fake saw, by endpoint and status
        self.broadcast: Counter[str] = Counter()  # leader -> cards received
        self.broadcast_times: list[float] = []
        self.unmatched = Counter[str]()
        # Sends repeated: a reply token LINE had already taken, and the push that followed it.
        # token -> (user, messages as JSON) of its accepted reply
        self.replied: dict[str, tuple[str, str]] = {}
        self.refused_again: list[tuple[str, str]] = []  # (user, messages) refused as used
        self.reply_twice = 0
        self.seen_twice = 0  # ... and delivered again as a push: the person read it twice
        self.record_log: Any = None  # a file for a line per request the fake received
        self.staff_report: float | None = None
        self.redelivered = 0
        self._since = 0
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll, daemon=True, name="poller")
        self.pool = ThreadPoolExecutor(SENDERS, thread_name_prefix="sender")

    # Scheduling -------------------------------------------------------------------------------

    def add(self, actor: Actor, delay: float) -> None:
        self.actors[actor.line_id] = actor
        self.schedule(actor, delay)

    def schedule(self, actor: Actor, delay: float) -> None:
        heapq.heappush(self.queue, (time.monotonic() + delay, next(self._seq), actor.line_id))

    def pause(self, actor: Actor, session_over: bool) -> float:
        if actor.role == "staff":
            return 3.0
        if session_over:
            return self.rng.uniform(0.5, 1.5) * self.gap
        return self.rng.uniform(*STEP_THINK)

    def run(self, seconds: float, at_half: Callable[[], None]) -> float:
        """Act until `seconds` have passed; returns the seconds it took."""
        self._poller.start()
        start = time.monotonic()
        half_done = False
        next_expiry = start
        while (now := time.monotonic()) < start + seconds:
            if not half_done and now >= start + seconds / 2:
                half_done = True
                at_half()
            due: list[Action] = []
            with self.lock:
                while self.queue and self.queue[0][0] <= now:
                    _, _, line_id = heapq.heappop(self.queue)
                    actor = self.actors[line_id]
                    if actor.waiting is not None or actor.finished:
                        continue
                    move = self.script.next_move(actor)
                    if move is None:
                        actor.finished = True
                        continue
                    action = Action(actor, move)
                    actor.waiting = action
                    self.actions.append(action)
                    due.append(action)
                if now >= next_expiry:
                    self._expire()
                    next_expiry = now + 1.0
                wait = self.queue[0][0] - now if self.queue else POLL
            for action in due:
                self.pool.submit(self._send, action)
            time.sleep(min(max(wait, 0.001), POLL))
        return time.monotonic() - start

    def finish(self, timeout: float) -> None:
        """Wait for the actions still in flight (each ends by ACTION_TIMEOUT at the latest)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                self._expire()
                busy = any(actor.waiting is not None for actor in self.actors.values())
            if not busy:
                break
            time.sleep(0.2)
        self.pool.shutdown(wait=True)

    def await_report(self, seconds: float) -> None:
        """The scheduler pushes the staff's delivery report at its next minute once every
        multicast has ended: wait for it up to `seconds` after she tapped ส่งเลย."""
        sent = self.script.broadcast_sent_at
        while sent is not None and self.staff_report is None and time.time() < sent + seconds:
            time.sleep(0.5)

    def close(self) -> None:
        self._stop.set()
        self._poller.join()

    def _expire(self) -> None:
        """Actions unanswered for ACTION_TIMEOUT: their person starts over. Called locked."""
        limit = time.time() - ACTION_TIMEOUT
        for actor in self.actors.values():
            action = actor.waiting
            if action is not None and action.sent and action.sent < limit:
                action.timed_out = True
                self._release(action, "plan")

    def _release(self, action: Action, step: str | None = None) -> None:
        """The action is over: its person thinks, then acts again. Called locked."""
        actor = action.actor
        if actor.waiting is not action:
            return
        actor.waiting = None
        over = (step or action.move.next_step) in ("plan", "progress") and action.move.step not in (
            "typo",
            "broadcast",
        )
        if step is not None:
            actor.step, actor.messages = step, []
        elif action.move.step == "typo":
            # The bot asks again, often without the card: she scrolls up to the one before.
            actor.step, actor.messages = action.move.next_step, actor.messages + action.messages
        elif action.move.answer:
            actor.step, actor.messages = action.move.next_step, action.messages
            if action.move.step == "bc_send" and action.arrivals:
                self.script.broadcast_sent_at = action.sent
        if not self._stop.is_set():
            self.schedule(actor, self.pause(actor, over))

    def _write(self, record: dict[str, Any], body: dict[str, Any], messages: list[Any]) -> None:
        """A line per request the fake received: enough to follow a person's conversation."""
        if self.record_log is None:
            return
        to = body.get("to")
        line = {
            "time": round(record["time"], 4),
            "endpoint": record["endpoint"],
            "status": record["status"],
            "to": f"{len(to)} users" if isinstance(to, list) else to,
            "replyToken": body.get("replyToken"),
            "texts": [str(m.get("altText") or m.get("text") or "")[:60] for m in messages],
        }
        self.record_log.write(json.dumps(line, ensure_ascii=False) + "\n")

    # Sending ----------------------------------------------------------------------------------

    def _send(self, action: Action) -> None:
        actor, move = action.actor, action.move
        try:
            tokens = self._issue(actor.line_id, move.events)
        except (OSError, ValueError, KeyError):
            tokens = []
        if len(tokens) != move.events:
            with self.lock:
                action.failed = True
                self._release(action, actor.step)
            return
        events = self._events(actor.line_id, move, tokens)
        with self.lock:
            for token in tokens:
                self.tokens[token] = action
        action.event_ids = [e["webhookEventId"] for e in events]
        action.sent = time.time()
        for attempt in range(1 + REDELIVERIES):
            if attempt:
                for event in events:
                    event["deliveryContext"] = {"isRedelivery": True}
                with self.lock:
                    self.redelivered += 1
                time.sleep(1.0)
            status, seconds = self._post(events)
            action.statuses.append(status)
            action.ack.append(seconds)
            if 200 <= status < 300:
                return
        with self.lock:
            action.failed = True
            self._release(action, actor.step)

    def _events(self, user: str, move: Move, tokens: list[str]) -> list[dict[str, Any]]:
        if move.kind == "text":
            return [text_event(user, move.text, tokens[0])]
        if move.kind == "tap":
            return [postback_event(user, move.data, tokens[0], params=move.params)]
        set_id = f"soak{next(self._seq)}" if move.photos > 1 else None
        events = []
        for index, token in enumerate(tokens, start=1):
            image_set = (set_id, index, move.photos) if set_id else None
            message_id = str(next(self._photo_ids))
            events.append(image_event(user, message_id, token, image_set=image_set))
        with self.lock:
            self.photos += move.photos
        return events

    def _issue(self, user: str, count: int) -> list[str]:
        """Reply tokens from the fake, valid for LINE's minute from now."""
        payload = {"users": [user], "count": count, "ttl": TOKEN_LIFE}
        parts = urlsplit(self.control)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        try:
            conn.request(
                "POST", "/tokens", json.dumps(payload), {"Content-Type": "application/json"}
            )
            return list(json.loads(conn.getresponse().read())[user])
        finally:
            conn.close()

    def _post(self, events: list[dict[str, Any]]) -> tuple[int, float]:
        body = json.dumps(envelope(events), ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "x-line-signature": sign(self.secret, body)}
        conn = http.client.HTTPConnection(HOST, self.port, timeout=10)
        started = time.time()
        try:
            conn.request("POST", "/callback", body, headers)
            response = conn.getresponse()
            response.read()
            return response.status, time.time() - started
        except OSError:
            return 0, time.time() - started
        finally:
            conn.close()

    # What LINE received -----------------------------------------------------------------------

    def _poll(self) -> None:
        while True:
            stopping = self._stop.wait(POLL)
            status, data = get_json(f"{self.control}/requests?since={self._since}", timeout=10)
            if status == 200:
                self._since = data["next"]
                with self.lock:
                    for record in data["requests"]:
                        self._match(record)
            if stopping:
                return

    def _match(self, record: dict[str, Any]) -> None:
        endpoint, status = record["endpoint"], record["status"]
        self.calls[f"{endpoint} {status}"] += 1
        body = record["json"] or {}
        messages = body.get("messages", [])
        self._write(record, body, messages)
        token = body.get("replyToken", "")
        if endpoint == "reply" and status == 200:
            owner = self.tokens.get(token)
            user = owner.actor.line_id if owner is not None else ""
            self.replied[token] = (user, json.dumps(messages, sort_keys=True))
        if endpoint not in ("reply", "push", "multicast") or status != 200:
            if endpoint == "reply":  # refused: its token expired, or was used already
                self.tokens.pop(token, None)
                if token in self.replied:
                    self.reply_twice += 1
                    self.refused_again.append(self.replied[token])
            return
        # The card itself; the staff's preview of it comes as a reply and is her answer.
        if endpoint != "reply" and any(
            str(m.get("altText", "")).startswith(BROADCAST_ALT) for m in messages
        ):
            recipients = body.get("to", [])
            for user in [recipients] if isinstance(recipients, str) else recipients:
                self.broadcast[user] += 1
                actor = self.actors.get(user)
                if actor is not None and actor.role == "leader" and self.broadcast[user] == 1:
                    actor.card = messages
            self.broadcast_times.append(record["time"])
            return
        action = None
        if endpoint == "reply":
            action = self.tokens.pop(body.get("replyToken", ""), None)
        elif endpoint == "push":
            again = (body.get("to", ""), json.dumps(messages, sort_keys=True))
            if again in self.refused_again:  # the outbox's fallback for a refused reply
                self.refused_again.remove(again)
                self.seen_twice += 1
                return  # a copy: it answers nothing
            actor = self.actors.get(body.get("to", ""))
            action = actor.waiting if actor is not None else None
            if actor is not None and actor.role == "staff" and "รายงานการส่ง" in str(messages):
                self.staff_report = record["time"]
                return
        if action is None:
            self.unmatched[endpoint] += 1
            return
        action.arrivals.append(record["time"])
        action.messages.extend(messages)
        action.by_push += endpoint == "push"
        if len(action.arrivals) >= action.move.events and not action.done:
            action.done = True
            self._release(action)


# ----- set-up -----------------------------------------------------------------------------------


@dataclass
class Secrets:
    """This run's channel: random, so that finding one in the log means the log holds it."""

    channel_secret: str = field(default_factory=lambda: secrets.token_hex(16))
    access_token: str = field(default_factory=lambda: "soak" + secrets.token_urlsafe(40))
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))


def seed(database_url: str, keys: Secrets, leaders: list[Actor], officer: str, staff: str) -> None:
    """Registered leaders with a draft plan of one to three activities (so photos have
    somewhere to go from the start), an officer and province staff, written straight to the
    database: registering is not what this benchmark measures."""
    from sqlalchemy import insert, select

    from bot import create_app
    from bot.db import db
    from bot.models import Plan, PlanItem, StandardComponent, User
    from bot.services import areas, fiscal

    app = create_app(
        {
            "LINE_CHANNEL_SECRET": keys.channel_secret,
            "LINE_CHANNEL_ACCESS_TOKEN": keys.access_token,
            "DATABASE_URL": database_url.replace("postgresql://", "postgresql+psycopg://", 1),
            "SECRET_KEY": keys.secret_key,
            "LOG_LEVEL": "WARNING",
        }
    )
    now = datetime.now(UTC)
    year = fiscal.year_of(date.today())
    first, _ = fiscal.bounds(year)
    places = [s for d in areas.districts("38") for s in areas.subdistricts(d.code)]
    with db.transaction() as session:
        # A running bot has this year's row already (see bench/README.md, "Problems found").
        version = fiscal.ensure(session, year).standard_version_id
        component = session.scalar(
            select(StandardComponent.id).order_by(StandardComponent.id).limit(1)
        )
        session.execute(
            insert(User),
            [
                {
                    "line_user_id": line_id,
                    "display_name": name,
                    "role": role,
                    "status": "active",
                    "area_code": area,
                    "consent_at": now,
                }
                for line_id, name, role, area in (
                    (officer, "พัฒนากร ซ้อมโหลด", "officer", "3801"),
                    (staff, "เจ้าหน้าที่จังหวัด ซ้อมโหลด", "province", "38"),
                )
            ],
        )
        ids = insert_leaders(
            session,
            [actor.line_id for actor in leaders],
            [place.code for place in places],
            name="ผู้นำ ซ้อมโหลด",
            phones=[actor.phone for actor in leaders],
        )
        plan_ids = session.execute(
            insert(Plan).returning(Plan.id, sort_by_parameter_order=True),
            [
                {
                    "leader_id": user_id,
                    "fiscal_year": year,
                    "standard_version_id": version,
                    "status": "draft",
                }
                for user_id in ids
            ],
        ).scalars()
        items = session.execute(
            insert(PlanItem).returning(PlanItem.id, sort_by_parameter_order=True),
            [
                {
                    "plan_id": plan_id,
                    "component_id": component,
                    "position": i + 1,
                    "activity": f"กิจกรรมเดิมที่ {i + 1}",
                    "mode": "self",
                    "method": "ฝึกปฏิบัติ",
                    "responsible": "ตนเอง",
                    "starts_on": first,
                    "ends_on": first + timedelta(days=60 * (i + 1)),
                }
                for n, plan_id in enumerate(list(plan_ids))
                for i in range(1 + n % 3)
            ],
        ).scalars()
        item_ids = iter(list(items))
        for n, actor in enumerate(leaders):
            actor.items = [next(item_ids) for _ in range(1 + n % 3)]
    app.extensions["runtime"].stop()
    db.dispose()


def make_photos(folder: Path) -> list[int]:
    """A few camera-like JPEGs (soft shapes under grain) of 200–500 kB; the fake derives a
    distinct photo from them for every message id."""
    from PIL import Image, ImageFilter

    rng = random.Random(11)
    sizes = []
    for n in range(PHOTO_TEMPLATES):
        width, height = ((1600, 1200), (1200, 1600), (1920, 1080))[n % 3]
        small = Image.frombytes("RGB", (32, 24), rng.randbytes(32 * 24 * 3))
        image = small.resize((width, height), Image.BICUBIC).filter(ImageFilter.GaussianBlur(3))
        grain = Image.effect_noise((width, height), 12).convert("RGB")
        image = Image.blend(image, grain, 0.15)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=90)
        (folder / f"template{n}.jpg").write_bytes(out.getvalue())
        sizes.append(len(out.getvalue()))
    return sizes


# ----- measuring --------------------------------------------------------------------------------


class MemorySampler:
    """RSS of the gunicorn master and each worker every SAMPLE_EVERY s, with the backlog."""

    def __init__(self, master: int, url: str, csv: Path) -> None:
        self.master = master
        self.url = url
        self.csv = csv
        self.samples: list[tuple[float, int, str, float]] = []  # (elapsed, pid, role, MB)
        self.start = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="memory")

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with self.csv.open("w") as out:
            out.write("seconds,pid,role,rss_mb,pending_events\n")
            while True:
                elapsed = time.monotonic() - self.start
                _, health = get_json(self.url + "/healthz", timeout=2)
                pending = (health or {}).get("pending_events", "")
                for pid, role in self._processes():
                    mb = _rss_mb(pid)
                    if mb is not None:
                        self.samples.append((elapsed, pid, role, mb))
                        out.write(f"{elapsed:.1f},{pid},{role},{mb:.1f},{pending}\n")
                out.flush()
                if self._stop.wait(SAMPLE_EVERY):
                    return

    def _processes(self) -> list[tuple[int, str]]:
        found = [(self.master, "master")]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat[stat.rindex(")") + 2 :].split()[1]) == self.master:
                    found.append((int(entry.name), "worker"))
        return found


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def slope_per_minute(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) in MB per minute."""
    if len(points) < 2:
        return math.nan
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    if not var:
        return math.nan
    return 60 * sum((t - mean_t) * (v - mean_v) for t, v in points) / var


def database_figures(url: str, sent_ids: set[str]) -> dict[str, Any]:
    with psycopg.connect(url.replace("+psycopg", "", 1)) as conn:
        stored = {
            row[0]: (row[1], row[2])
            for row in conn.execute("SELECT webhook_event_id, status, attempts FROM inbox_events")
        }
        outbox = conn.execute(
            "SELECT kind, status, count(*), sum(CASE WHEN attempts > 1 THEN 1 ELSE 0 END) "
            "FROM outbox_messages GROUP BY 1, 2"
        ).fetchall()
        evidence = conn.execute("SELECT status, count(*) FROM evidence GROUP BY 1").fetchall()
    statuses = Counter(status for status, _ in stored.values())
    return {
        "stored": len(stored),
        "statuses": dict(statuses),
        # A handled event has attempts 1; more means a handler failed and it was retried.
        "retried": sum(1 for _, attempts in stored.values() if attempts > 1),
        "acknowledged_not_stored": len(sent_ids - stored.keys()),
        "stored_not_sent": len(stored.keys() - sent_ids),
        "outbox": {f"{k} {s}": n for k, s, n, _ in outbox},
        "outbox_retried": sum(r or 0 for *_, r in outbox),
        "evidence": dict(evidence),
    }


def settle(url: str, timeout: float) -> dict[str, int]:
    """Wait until nothing is left to send or fetch (after the inbox has drained)."""
    deadline = time.monotonic() + timeout
    left: dict[str, int] = {}
    while time.monotonic() < deadline:
        with psycopg.connect(url.replace("+psycopg", "", 1)) as conn:
            outbox = conn.execute(
                "SELECT count(*) FROM outbox_messages WHERE status = 'pending'"
            ).fetchone()
            evidence = conn.execute(
                "SELECT count(*) FROM evidence WHERE status IN ('pending', 'fetching') "
                "OR (status = 'stored' AND kind = 'image' AND thumb_key IS NULL "
                "AND deleted_at IS NULL)"
            ).fetchone()
        left = {"outbox": outbox[0] if outbox else 0, "evidence": evidence[0] if evidence else 0}
        if not any(left.values()):
            break
        time.sleep(0.5)
    return left


def audit_log(text: str, keys: Secrets, phones: set[str], markers: set[str]) -> dict[str, int]:
    """How many times each secret, and how many of the phone numbers and typed texts, the log
    holds. Phones are matched with or without dashes."""
    found_phones = {p.replace("-", "") for p in PHONE.findall(text)} & phones
    return {
        "channel secret": text.count(keys.channel_secret),
        "access token": text.count(keys.access_token),
        "SECRET_KEY": text.count(keys.secret_key),
        "phone numbers": len(found_phones),
        "typed texts": len(set(MARKER.findall(text)) & markers),
    }


def _self_check(keys: Secrets, phones: set[str], markers: set[str]) -> bool:
    """The scan finds each kind when it is there: a check that cannot fail proves nothing."""
    phone = next(iter(phones))
    planted = (
        f"x {keys.channel_secret} Bearer {keys.access_token} {keys.secret_key} "
        f"{phone[:3]}-{phone[3:6]}-{phone[6:]} text={next(iter(markers))} ศึกษา"
    )
    return all(n == 1 for n in audit_log(planted, keys, phones, markers).values())


# ----- the benchmark ----------------------------------------------------------------------------


def run(out_dir: Path, options: Options) -> list[Row]:
    seconds = float(
        options.seconds if options.seconds_given else QUICK_SECONDS if options.quick else SECONDS
    )
    count = int(os.environ.get("SOAK_LEADERS", QUICK_LEADERS if options.quick else LEADERS))
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    rng = random.Random(20261124)
    keys = Secrets()
    phones: set[str] = set()
    while len(phones) < count:
        phones.add(f"0{rng.choice('689')}{rng.randrange(10**8):08d}")
    leaders = [
        Actor(f"U{rng.getrandbits(128):032x}", "leader", phone=phone)
        for phone in sorted(phones, key=lambda _: rng.random())
    ]
    officer, staff = (f"U{rng.getrandbits(128):032x}" for _ in range(2))
    reset_database(database_url)
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "content").mkdir()
        sizes = make_photos(tmp / "content")
        bangkok = datetime.now(ZoneInfo("Asia/Bangkok")) + timedelta(hours=12)
        away = f"{bangkok:%H}:00"
        env = {
            **base_env(),
            "DATABASE_URL": database_url,
            "INBOX_WORKERS": os.environ.get("INBOX_WORKERS", "4"),
            # The scheduler runs as deployed (one process holds its lease): it sends the
            # broadcast's delivery report. Its daily jobs are set 12 h away (the catch-up grace
            # is 4 h), so no morning reminder mixes into the load.
            "RUN_SCHEDULER": "true",
            "REMINDER_TIME": away,
            "DIGEST_TIME": away,
            "RUN_WORKERS": "1",
            "LINE_CHANNEL_SECRET": keys.channel_secret,
            "LINE_CHANNEL_ACCESS_TOKEN": keys.access_token,
            "SECRET_KEY": keys.secret_key,
            "ACCESS_LOG": "1",  # gunicorn.conf.py: access lines into the same log
            "LOG_LEVEL": "INFO",
            "PUBLIC_BASE_URL": "https://bot.example.test",
            "EVIDENCE_STORAGE_URL": str(tmp / "evidence"),
            # No quiet hours: the broadcast must go out whatever the hour of the run.
            "QUIET_FROM": "00:00",
            "QUIET_UNTIL": "00:00",
        }
        flask_db_upgrade(env, out_dir / "migrate.log")
        started = time.monotonic()
        seed(database_url, keys, leaders, officer, staff)
        log(f"{NAME}: {count:,} leaders seeded in {time.monotonic() - started:.1f} s")
        with fake_line.running(tmp / "content", token=keys.access_token, derive=True) as base:
            env |= {"LINE_API_BASE_URL": base, "LINE_DATA_API_BASE_URL": base}
            argv = [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                "gunicorn.conf.py",
                "--no-control-socket",
                "wsgi:app",
            ]
            gunicorn_log = out_dir / "app-gunicorn.log"
            with Server("app", argv, env, gunicorn_log) as server:
                figures = _load(
                    database_url, server, keys, leaders, staff, seconds, sizes, options, out_dir
                )
        figures["database"] = database_figures(database_url, figures.pop("sent_ids"))
    figures["app_log_problems"] = log_problems(gunicorn_log)
    text = gunicorn_log.read_text(errors="replace")
    markers = figures.pop("markers")
    figures["log"] = {
        "found": audit_log(text, keys, phones, markers),
        "self_check": _self_check(keys, phones, markers),
        "lines": text.count("\n"),
        "bytes": len(text.encode()),
        "access_lines": len(re.findall(r'"[A-Z]+ /\S* HTTP/1\.[01]" \d{3} ', text)),
        "phones": len(phones),
        "markers": len(markers),
        "callback": dict(Counter(re.findall(r'"POST /callback HTTP/1\.[01]" (\d{3}) ', text))),
    }
    (out_dir / "summary.json").write_text(
        json.dumps(figures, indent=1, ensure_ascii=False, default=str)
    )
    return _rows(figures)


def _load(
    database_url: str,
    server: Server,
    keys: Secrets,
    leaders: list[Actor],
    staff: str,
    seconds: float,
    sizes: list[int],
    options: Options,
    out_dir: Path,
) -> dict[str, Any]:
    script = Script(random.Random(7))
    cycle = len(leaders) * SESSION_ACTIONS / RATE
    driver = Driver(server.url, fake_line.control_url, keys.channel_secret, script, cycle)
    start_rng = random.Random(3)
    for actor in leaders:
        # Some start with the plan, some with their progress; some tap "ส่งหลักฐาน" on an
        # activity card from earlier in their chat, so photos come from the first minute.
        actor.step = start_rng.choice(("plan", "plan", "progress", "send", "send"))
        if actor.step == "send":
            item = start_rng.choice(actor.items)
            old_card = {
                "type": "postback",
                "label": "ส่งหลักฐาน",
                "data": f"a=evidence.send&i={item}",
            }
            actor.messages = [{"type": "text", "text": "", "action": old_card}]
        driver.add(actor, start_rng.uniform(0, cycle))
    boss = Actor(staff, "staff", step="bc_start")
    driver.actors[staff] = boss

    def broadcast() -> None:  # called by the driver half-way, with its lock free
        log(f"{NAME}: half-way; province staff start the broadcast")
        with driver.lock:
            driver.schedule(boss, 0)

    assert server.proc is not None
    driver.record_log = (out_dir / "line-requests.jsonl").open("w")
    log(f"{NAME}: {len(leaders):,} leaders, ~{RATE:.0f} actions/s, for {seconds:.0f} s")
    with MemorySampler(server.proc.pid, server.url, out_dir / "memory.csv") as memory:
        load_start = time.monotonic() - memory.start
        with CpuMeter(server_group=server.proc.pid) as cpu:
            sending = driver.run(seconds, broadcast)
        log(f"{NAME}: load over; waiting for the last answers")
        driver.finish(ACTION_TIMEOUT + 5)
        drain = wait_drained(server.url, options.drain_timeout, out_dir / "drain.csv")
        left = settle(database_url, SETTLE_TIMEOUT)
        driver.await_report(REPORT_WAIT)
        time.sleep(3 * POLL)
        driver.close()
        driver.record_log.close()
    load_end = load_start + sending
    samples = memory.samples
    return {
        "leaders": len(leaders),
        "rate": RATE,
        "session_cycle": cycle,
        "session_gap": driver.gap,
        "seconds": seconds,
        "sending_seconds": sending,
        "photo_template_bytes": sizes,
        "actions": _action_figures(driver, script),
        "calls": dict(driver.calls),
        "unmatched": dict(driver.unmatched),
        "redelivered": driver.redelivered,
        "reply_token_used_twice": driver.reply_twice,
        "delivered_twice": driver.seen_twice,
        "broadcast": _broadcast_figures(driver, leaders, script),
        "memory": _memory_figures(samples, load_start, load_end),
        "drain": {"backlog": drain.backlog, "seconds": drain.seconds, "failed": drain.failed},
        "left_after_settle": left,
        "cores": {k: v for k, v in cpu.share.items() if k != "wrk"},
        "idle": cpu.idle,
        "off_script": dict(script.off_script),
        "off_script_samples": script.off_samples,
        "sent_ids": {e for a in driver.actions if a.statuses[-1:] == [200] for e in a.event_ids},
        "markers": script.markers,
    }


def _action_figures(driver: Driver, script: Script) -> dict[str, Any]:
    actions = [a for a in driver.actions if a.sent]
    statuses = Counter(s for a in actions for s in a.statuses)
    acks = [1000 * s for a in actions for s in a.ack]
    answered = [a for a in actions if a.done]
    broadcast_at = script.broadcast_sent_at
    last_card = max(driver.broadcast_times, default=None)

    def latencies(chosen: list[Action], last: bool = False) -> dict[str, float]:
        values = [
            1000 * ((max if last else min)(a.arrivals) - a.sent) for a in chosen if a.arrivals
        ]
        return {
            "n": len(values),
            "p50": percentile(values, 50) if values else math.nan,
            "p95": percentile(values, 95) if values else math.nan,
            "max": max(values, default=math.nan),
        }

    by_kind = {
        kind: [a for a in answered if a.move.kind == kind] for kind in ("text", "tap", "photos")
    }
    during: list[Action] = []
    outside: list[Action] = []
    if broadcast_at is not None and last_card is not None:
        for a in answered:
            inside = broadcast_at <= a.sent <= last_card + 10
            (during if inside else outside).append(a)
    return {
        "sent": len(actions),
        "events": sum(len(a.event_ids) for a in actions),
        "photos": driver.photos,
        "requests": sum(len(a.statuses) for a in actions),
        "statuses": {str(k): v for k, v in statuses.items()},
        "ack_ms": {
            "p50": percentile(acks, 50) if acks else math.nan,
            "p99": percentile(acks, 99) if acks else math.nan,
            "max": max(acks, default=math.nan),
            "over_2s": sum(1 for x in acks if x > 2000),
        },
        "answered": len(answered),
        "timed_out": sum(a.timed_out for a in actions),
        "late": sum(a.timed_out and bool(a.arrivals) for a in actions),
        "failed": sum(a.failed for a in actions),
        "by_push": sum(1 for a in answered if a.by_push),
        "extra_deliveries": sum(max(len(a.arrivals) - a.move.events, 0) for a in actions),
        "steps": dict(Counter(a.move.step for a in actions)),
        "handling_ms": {
            "all": latencies(answered),
            **{kind: latencies(chosen) for kind, chosen in by_kind.items()},
            "photos_last": latencies(by_kind["photos"], last=True),
            "during_broadcast": latencies(during),
            "outside_broadcast": latencies(outside),
        },
    }


def _broadcast_figures(driver: Driver, leaders: list[Actor], script: Script) -> dict[str, Any]:
    counts = Counter(driver.broadcast.get(a.line_id, 0) for a in leaders)
    at = script.broadcast_sent_at
    last = max(driver.broadcast_times, default=None)
    return {
        "sent_at": at,
        "leaders": len(leaders),
        "once": counts.get(1, 0),
        "missing": counts.get(0, 0),
        "twice_or_more": sum(n for k, n in counts.items() if k > 1),
        "to_others": sum(n for u, n in driver.broadcast.items() if u not in driver.actors),
        "multicasts": driver.calls.get("multicast 200", 0),
        "seconds_to_last_card": (last - at) if at and last else None,
        "acknowledged": sum(1 for a in driver.actions if a.move.step == "broadcast" and a.done),
        "staff_report": driver.staff_report is not None,
        "staff_steps": [a.move.step for a in driver.actions if a.actor.role == "staff"],
    }


def _memory_figures(
    samples: list[tuple[float, int, str, float]], load_start: float, load_end: float
) -> list[dict[str, Any]]:
    by_pid: dict[int, list[tuple[float, str, float]]] = {}
    for t, pid, role, mb in samples:
        by_pid.setdefault(pid, []).append((t, role, mb))
    half = load_start + (load_end - load_start) / 2
    figures = []
    for pid, series in sorted(by_pid.items(), key=lambda kv: (kv[1][0][1] != "master", kv[0])):
        in_load = [(t, mb) for t, _, mb in series if load_start <= t <= load_end] or [
            (t, mb) for t, _, mb in series
        ]
        figures.append(
            {
                "pid": pid,
                "role": series[0][1],
                "first_seen": series[0][0],
                "start": in_load[0][1],
                "end": series[-1][2],
                "max": max(mb for _, _, mb in series),
                "slope_second_half": slope_per_minute([p for p in in_load if p[0] >= half]),
                "samples": len(series),
            }
        )
    return figures


# ----- the table --------------------------------------------------------------------------------


def _ok(good: bool) -> str:
    return "✓" if good else "✗"


def _cores(figures: dict[str, Any]) -> str:
    share = figures["cores"]
    return (
        f"cores busy: app {share['server']:.2f}, postgres {share['postgres']:.2f}, "
        f"driver {share['fake']:.2f}, other (fake LINE included) {share['other']:.2f}; "
        f"idle {figures['idle']:.2f}"
    )


def _rows(f: dict[str, Any]) -> list[Row]:
    a = f["actions"]
    db = f["database"]
    bc = f["broadcast"]
    h = a["handling_ms"]
    rows = [
        Row(
            NAME,
            "load",
            "leaders, actions, events",
            f"{f['leaders']:,} leaders: {a['sent']:,} actions = {a['events']:,} events "
            f"({a['photos']:,} photos) in {f['sending_seconds']:.0f} s "
            f"= {a['sent'] / f['sending_seconds']:.1f} actions/s",
            f"aimed {f['rate']:.0f}/s: {STEP_THINK[0]:.0f}–{STEP_THINK[1]:.0f} s between the "
            f"actions of a session, a session every ~{f['session_cycle']:.0f} s per leader; "
            "photos "
            f"{min(f['photo_template_bytes']) // 1000}–{max(f['photo_template_bytes']) // 1000}"
            f" kB; {_cores(f)}",
        ),
    ]
    ack = a["ack_ms"]
    rows.append(
        Row(
            NAME,
            "webhook",
            "ack latency p50 / p99 (max)",
            f"{ack['p50']:.0f} / {ack['p99']:.0f} ms (max {ack['max']:.0f}) "
            f"{_ok(ack['p99'] < 2000 and not ack['over_2s'])}",
            f"LINE waits 2,000 ms: p99 is {ack['p99'] / 20:.1f} % of it; "
            f"{ack['over_2s']} answers took longer",
        )
    )
    statuses = {int(k): v for k, v in a["statuses"].items()}
    server_errors = sum(v for k, v in statuses.items() if k >= 500)
    client_errors = sum(v for k, v in statuses.items() if 400 <= k < 500)
    callback = {int(k): v for k, v in f["log"]["callback"].items()}
    rows.append(
        Row(
            NAME,
            "webhook",
            "answers not 2xx (of requests)",
            f"{server_errors} 5xx, {client_errors} 4xx, {statuses.get(0, 0)} no answer "
            f"(of {a['requests']:,}) {_ok(not server_errors and not statuses.get(0, 0))}",
            f"aim: zero 5xx; {f['redelivered']} requests sent again as LINE redelivers; "
            f"gunicorn's access log: {sum(callback.values()):,} POST /callback, "
            f"{sum(v for k, v in callback.items() if k >= 300)} not 2xx",
        )
    )
    names = {
        "all": "every answered action",
        "text": "typed text and quick replies",
        "tap": "button taps and date picks (postbacks)",
        "photos": "photos: first confirmation",
        "photos_last": "photos: every photo confirmed",
    }
    for key, label in names.items():
        x = h[key]
        compare = ""
        if key == "all":
            d, o = h["during_broadcast"], h["outside_broadcast"]
            compare = (
                f"while the broadcast went out: p95 {d['p95']:.0f} ms ({d['n']}); "
                f"the rest of the run: p95 {o['p95']:.0f} ms ({o['n']})"
            )
        elif key == "photos_last":
            compare = "includes fetching every photo from LINE, storing it and replying"
        rows.append(
            Row(
                NAME,
                f"handling: {label}",
                "answer at LINE p50 / p95 (actions)",
                f"{x['p50']:.0f} / {x['p95']:.0f} ms ({x['n']:,})",
                compare or f"max {x['max']:.0f} ms",
            )
        )
    off = sum(f["off_script"].values())
    everyone = a["answered"] == a["sent"] and not off
    rows.append(
        Row(
            NAME,
            "replies",
            "actions answered / sent",
            f"{a['answered']:,} / {a['sent']:,} {_ok(everyone)}",
            f"{a['by_push']} answered by push (reply token past its minute), "
            f"{a['timed_out']} unanswered after {ACTION_TIMEOUT:.0f} s ({a['late']} late), "
            f"{a['failed']} never acknowledged; {off} answers without the button the script "
            f"needed{' ' + str(f['off_script']) if off else ''}; "
            f"{sum(f['unmatched'].values())} deliveries matching no action, "
            f"{a['extra_deliveries']} beyond those expected; replies refused by LINE "
            f"{f['calls'].get('reply 400', 0)}",
        )
    )
    twice = f["reply_token_used_twice"]
    rows.append(
        Row(
            NAME,
            "sends",
            "replies sent twice (a reply token LINE had already taken)",
            f"{twice} of {f['calls'].get('reply 200', 0):,} replies {_ok(not twice)}",
            f"{f['delivered_twice']} of them then delivered again as a push, so the person "
            "read the same answer twice; line-requests.jsonl has every request LINE got",
        )
    )
    st = db["statuses"]
    pending, failed = st.get("pending", 0), st.get("failed", 0)
    handled = st.get("done", 0) + st.get("ignored", 0)
    once = (
        not pending and not failed and not db["acknowledged_not_stored"] and handled == db["stored"]
    )
    drain = f["drain"]
    rows.append(
        Row(
            NAME,
            "events",
            "stored once / handled once",
            f"{db['stored']:,} stored; {st.get('done', 0):,} done, {st.get('ignored', 0)} "
            f"ignored, {pending} pending, {failed} failed {_ok(once)}",
            f"{db['acknowledged_not_stored']} acknowledged but not stored, "
            f"{db['stored_not_sent']} stored but never acknowledged; {db['retried']} needed a "
            f"retry; backlog {drain['backlog']} when the load stopped, drained in "
            f"{drain['seconds'] if drain['seconds'] is None else round(drain['seconds'], 1)} s; "
            f"outbox {db['outbox']}; evidence {db['evidence']}",
        )
    )
    delivered = bc["once"] == bc["leaders"] and not bc["twice_or_more"]
    took = bc["seconds_to_last_card"]
    rows.append(
        Row(
            NAME,
            "broadcast (chat: ประกาศวันประเมิน → ผู้นำทั้งจังหวัด → ส่งเลย)",
            "card delivered per leader",
            f"{bc['once']:,} once, {bc['missing']} missing, {bc['twice_or_more']} twice or more "
            f"(of {bc['leaders']:,}) {_ok(delivered)}",
            f"ส่งเลย → last card at LINE "
            f"{'—' if took is None else f'{took:.1f} s'}, {bc['multicasts']} multicast calls; "
            f"{bc['acknowledged']} leaders tapped รับทราบ; staff's delivery report "
            f"{'received' if bc['staff_report'] else 'MISSING'}",
        )
    )
    long_enough = f["sending_seconds"] >= 300
    for m in f["memory"]:
        slope = m["slope_second_half"]
        growth = slope * 10 if not math.isnan(slope) else math.nan
        flat = growth <= max(0.05 * m["start"], 10)
        verdict = _ok(flat) + (" flat" if flat else " GROWING")
        rows.append(
            Row(
                NAME,
                f"memory: gunicorn {m['role']} (pid {m['pid']})",
                "RSS at load start → end (max)",
                f"{m['start']:.0f} → {m['end']:.0f} MB (max {m['max']:.0f})"
                + (f" {verdict}" if long_enough else ""),
                f"slope over the load's second half {slope:+.2f} MB/min = {growth:+.1f} MB per "
                f"10 min ({100 * growth / m['start']:+.1f} % of the start)"
                + ("" if long_enough else "; run too short to judge")
                + (
                    f"; first seen at {m['first_seen']:.0f} s (restarted?)"
                    if m["first_seen"] > 10
                    else ""
                ),
            )
        )
    problems = f["app_log_problems"]
    rows.append(
        Row(
            NAME,
            "app log",
            "errors, warnings, tracebacks",
            f"{problems['errors']}, {problems['warnings']}, {problems['tracebacks']} "
            f"{_ok(not problems['errors'] and not problems['tracebacks'])}",
            "first lines in summary.json" if problems["first"] else "none",
        )
    )
    lg = f["log"]
    found = lg["found"]
    leak = any(found.values())
    rows.append(
        Row(
            NAME,
            "log audit (gunicorn log of the run)",
            "secrets, phone numbers, typed text found",
            f"channel secret {found['channel secret']}, access token {found['access token']}, "
            f"SECRET_KEY {found['SECRET_KEY']}, phone numbers {found['phone numbers']} of "
            f"{lg['phones']:,}, typed texts {found['typed texts']} of {lg['markers']:,} "
            f"{'✗ FOUND IN THE LOG' if leak else '✓'}",
            f"scanned {lg['lines']:,} lines ({lg['bytes'] / 1e6:.1f} MB, {lg['access_lines']:,} "
            f"access lines); the scan finds each kind when planted: "
            f"{_ok(lg['self_check'])}",
        )
    )
    return rows

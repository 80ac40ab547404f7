"""Handling latency: from a webhook event to its reply arriving at LINE, under a steady load.

The app runs under gunicorn with the default layout (event workers in the web processes) on
PostgreSQL (the `bench` database, dropped and created anew), talking to a fake LINE in its own
process (`bench/fake_line.py`), which records when each reply arrives. Events go out at a
steady rate, at most one in flight per user (a person waits for the answer before typing
again), round-robin over three kinds of users:

- floor: an unregistered user types something the bot does not understand. The handler only
  looks the user up and answers "not understood": what is left is the pipeline itself, inbox →
  event worker → outbox → LINE, which the two others are compared with.
- text: a registered leader types "แผนของฉัน" and gets her plan card.
- form: a leader inside the add-activity form types the activity's name (step 3) and gets the
  form card redrawn at step 4. She then types "ย้อนกลับ" (not measured) to be back at step 3.

Latency is the fake's arrival time of the reply minus the time the webhook request was sent
(both `time.time()` on this machine). Every event must get its reply: they are counted.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import fake_line
from bench.harness import HOST, CpuMeter, Options, Row, Server, insert_leaders, log
from bench.webhook import (
    DEFAULT_DATABASE_URL,
    SECRET,
    base_env,
    flask_db_upgrade,
    gunicorn_argv,
    log_problems,
    reset_database,
)
from fakeline.webhook import envelope, postback_event, sign, text_event

NAME = "handling"
RATE = 20.0  # events per second, all kinds together: a busy hour, not a flood
USERS_PER_KIND = 30  # enough that a user is always free when her turn comes
WARMUP_SECONDS = 3.0  # first events pay for imports, connections and caches: not counted
REPLY_TIMEOUT = 30.0  # after the load, the longest wait for the last replies
POLL = 0.02  # how often the fake's records are read; latency comes from its clock, not this
KINDS = {
    "floor": "floor: unknown text from an unregistered user",
    "text": 'text "แผนของฉัน" from a leader (plan card)',
    "form": "form step: a leader types the activity name (step 3 → 4)",
}
# What the reply to each kind must say, so that a fast wrong answer does not count.
EXPECTED = {
    "floor": "ไม่เข้าใจ",
    "text": "เพิ่มกิจกรรม",
    "form": "ข้อ 4",
    "back": "ข้อ 3",
}


@dataclass
class Sent:
    user: str
    kind: str
    sent: float = 0.0  # time.time() just before the request
    status: int = 0  # the webhook's answer
    ack: float = 0.0  # seconds until the webhook answered
    arrived: float | None = None  # the reply's arrival at the fake
    how: str = ""  # reply or push
    right: bool = False  # the reply says what this kind must
    warmup: bool = False


@dataclass
class User:
    line_id: str
    kind: str
    step: int = 0  # form users alternate: activity name, then "ย้อนกลับ"
    busy: bool = False
    tokens: list[str] = field(default_factory=list)


class Chat:
    """Sends signed webhooks to the app and matches the fake's replies to them."""

    def __init__(self, app_url: str, control: str) -> None:
        self.port = urlsplit(app_url).port
        self.control = control
        self.pending: dict[str, Sent] = {}  # reply token -> event
        self.by_user: dict[str, Sent] = {}  # the event each user waits on
        self.replies: dict[str, list[dict[str, Any]]] = {}  # user -> last messages
        self.lock = threading.Lock()
        self.done = threading.Condition(self.lock)
        self.other = Counter[str]()  # LINE calls that answer no event
        self._since = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True, name="poller")
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def post(self, event: dict[str, Any], sent: Sent, token: str | None) -> None:
        body = json.dumps(envelope([event]), ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "x-line-signature": sign(SECRET, body)}
        with self.lock:
            if token:
                self.pending[token] = sent
            self.by_user[sent.user] = sent
        conn = http.client.HTTPConnection(HOST, self.port, timeout=10)
        try:
            sent.sent = time.time()
            conn.request("POST", "/callback", body, headers)
            sent.status = conn.getresponse().status
            sent.ack = time.time() - sent.sent
        except OSError:
            sent.status = 0
        finally:
            conn.close()

    def wait(self, sents: list[Sent], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self.done:
            while any(s.arrived is None for s in sents):
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self.done.wait(left)

    def _poll(self) -> None:
        while not self._stop.wait(POLL):
            status, data = _get(f"{self.control}/requests?since={self._since}")
            if status != 200:
                continue
            self._since = data["next"]
            with self.done:
                for record in data["requests"]:
                    self._match(record)
                self.done.notify_all()

    def _match(self, record: dict[str, Any]) -> None:
        body = record["json"] or {}
        sent = None
        if record["endpoint"] == "reply" and record["status"] == 200:
            sent = self.pending.pop(body.get("replyToken", ""), None)
        elif record["endpoint"] == "push" and record["status"] == 200:
            waiting = self.by_user.get(body.get("to", ""))
            sent = waiting if waiting is not None and waiting.arrived is None else None
        if sent is None or sent.arrived is not None:
            self.other[f"{record['endpoint']} {record['status']}"] += 1
            return
        sent.arrived, sent.how = record["time"], record["endpoint"]
        messages = body.get("messages", [])
        self.replies[sent.user] = messages
        sent.right = EXPECTED.get(sent.kind, "") in json.dumps(messages, ensure_ascii=False)


def _get(url: str) -> tuple[int, Any]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        conn.request("GET", f"{parts.path}?{parts.query}")
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    except (OSError, ValueError):
        return 0, None
    finally:
        conn.close()


def _post_json(url: str, payload: Any) -> Any:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        body = json.dumps(payload).encode()
        conn.request("POST", parts.path, body, {"Content-Type": "application/json"})
        return json.loads(conn.getresponse().read())
    finally:
        conn.close()


# ----- set-up ---------------------------------------------------------------------------------


def seed(database_url: str, leaders: list[str]) -> None:
    """Registered leaders (consented, active, with a profile) written straight to the
    database: registering is not what this benchmark measures."""

    from bot import create_app
    from bot.db import db
    from bot.services import fiscal

    app = create_app(
        {
            "LINE_CHANNEL_SECRET": SECRET,
            "LINE_CHANNEL_ACCESS_TOKEN": fake_line.TOKEN,
            "DATABASE_URL": database_url.replace("postgresql://", "postgresql+psycopg://", 1),
            "SECRET_KEY": "bench",
            "LOG_LEVEL": "WARNING",
        }
    )
    with db.transaction() as session:
        # A running bot has this year's row already. Left to the first events, several
        # leaders' first "แผนของฉัน" at once race to insert it (see the README).
        fiscal.ensure(session, fiscal.year_of(date.today()))
        insert_leaders(session, leaders, ["380101"])
    app.extensions["runtime"].stop()
    db.dispose()


def _action(messages: list[dict[str, Any]], wanted: Any) -> dict[str, Any] | None:
    """The first postback action in `messages` for which `wanted(action)` holds."""
    stack: list[Any] = [messages]
    while stack:
        node = stack.pop(0)
        if isinstance(node, dict):
            action = node.get("action")
            if isinstance(action, dict) and action.get("type") == "postback" and wanted(action):
                return action
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return None


def into_form(chat: Chat, users: list[User]) -> None:
    """Bring each form user to step 3 of the add-activity form through the chat itself:
    "แผนของฉัน", tap เพิ่มกิจกรรม, tap the first area, tap its first component."""
    steps: list[Any] = [
        None,  # type "แผนของฉัน"
        lambda a: a.get("label") == "เพิ่มกิจกรรม",
        lambda a: "a=pick" in a.get("data", ""),  # the first area
        lambda a: "a=pick" in a.get("data", ""),  # the first component
    ]
    for n, wanted in enumerate(steps):
        sents = []
        for user in users:
            token = user.tokens.pop()
            if wanted is None:
                event = text_event(user.line_id, "แผนของฉัน", token)
            else:
                action = _action(chat.replies.get(user.line_id, []), wanted)
                if action is None:
                    raise RuntimeError(f"set-up step {n}: no button for {user.line_id}")
                event = postback_event(user.line_id, action["data"], token)
            sent = Sent(user.line_id, "setup")
            chat.post(event, sent, token)
            sents.append(sent)
        chat.wait(sents, REPLY_TIMEOUT)
        if any(s.arrived is None for s in sents):
            raise RuntimeError(f"set-up step {n}: replies missing")
    missing = [
        u.line_id
        for u in users
        if "ข้อ 3" not in json.dumps(chat.replies[u.line_id], ensure_ascii=False)
    ]
    if missing:
        raise RuntimeError(f"{len(missing)} leaders are not at step 3 of the form")


# ----- the load -------------------------------------------------------------------------------


def _next_event(user: User, n: int) -> tuple[str, str]:
    """(kind, text) of the user's next event."""
    if user.kind == "form":
        if user.step % 2 == 0:
            return "form", f"ศึกษาดูงานการทำปุ๋ยหมักชีวภาพ ครั้งที่ {n}"
        return "back", "ย้อนกลับ"
    return user.kind, "สวัสดีค่ะ" if user.kind == "floor" else "แผนของฉัน"


def load(chat: Chat, users: list[User], seconds: float) -> tuple[list[Sent], int]:
    """Send at RATE for WARMUP_SECONDS + `seconds`, one event in flight per user; returns the
    events and how many ticks found every user still waiting (the rate was then not kept)."""
    sents: list[Sent] = []
    stalls = 0
    cursor = 0
    start = time.monotonic()
    ticks = int((WARMUP_SECONDS + seconds) * RATE)
    with ThreadPoolExecutor(max_workers=8) as pool:
        for tick in range(ticks):
            delay = start + tick / RATE - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            with chat.lock:
                for user in users:  # a reply frees its user
                    waiting = chat.by_user.get(user.line_id)
                    if user.busy and waiting is not None and waiting.arrived is not None:
                        user.busy, user.step = False, user.step + 1
                free = None
                for offset in range(len(users)):
                    candidate = users[(cursor + offset) % len(users)]
                    if not candidate.busy:
                        free, cursor = candidate, (cursor + offset + 1) % len(users)
                        break
                if free is None:
                    stalls += 1
                    continue
                free.busy = True
            kind, text = _next_event(free, tick)
            token = free.tokens.pop()
            sent = Sent(free.line_id, kind, warmup=tick < WARMUP_SECONDS * RATE)
            sents.append(sent)
            pool.submit(chat.post, text_event(free.line_id, text, token), sent, token)
    return sents, stalls


# ----- the benchmark --------------------------------------------------------------------------


def run(out_dir: Path, options: Options) -> list[Row]:
    seconds = float(options.seconds)
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    # Interleaved, so that the kinds share the same moments; form users twice as many, as
    # every other event of theirs is the unmeasured "ย้อนกลับ": each kind gets a quarter.
    kinds = ("floor", "text", "form", "form")
    users = [
        User(f"U{k:02d}{n:030x}", kind)
        for n in range(USERS_PER_KIND)
        for k, kind in enumerate(kinds)
    ]
    reset_database(database_url)
    env = {
        **base_env(),
        "DATABASE_URL": database_url,
        "INBOX_WORKERS": os.environ.get("INBOX_WORKERS", "4"),
        "RUN_SCHEDULER": "false",
        "RUN_WORKERS": "1",
        "LINE_CHANNEL_ACCESS_TOKEN": fake_line.TOKEN,
    }
    flask_db_upgrade(env, out_dir / "migrate.log")
    seed(database_url, [u.line_id for u in users if u.kind != "floor"])
    per_user = math.ceil((WARMUP_SECONDS + seconds) * RATE / len(users)) + 10
    with (
        tempfile.TemporaryDirectory(prefix="bench-handling-") as content,  # no content served
        fake_line.running(Path(content)) as base_url,
    ):
        control = fake_line.control_url
        issued = _post_json(
            f"{control}/tokens",
            # Valid for the whole run: LINE's minute is not what this benchmark is about.
            {"users": [u.line_id for u in users], "count": per_user, "ttl": seconds + 600},
        )
        for user in users:
            user.tokens = issued[user.line_id]
        env |= {"LINE_API_BASE_URL": base_url, "LINE_DATA_API_BASE_URL": base_url}
        argv = gunicorn_argv("gunicorn.conf.py", "wsgi:app", out_dir, "app")
        with Server("app", argv, env, out_dir / "app-gunicorn.log") as server:
            chat = Chat(server.url, control)
            try:
                log(f"{NAME}: bringing {2 * USERS_PER_KIND} leaders into the add-activity form")
                into_form(chat, [u for u in users if u.kind == "form"])
                log(f"{NAME}: {RATE:.0f} events/s for {WARMUP_SECONDS:.0f} + {seconds:.0f} s")
                assert server.proc is not None
                with CpuMeter(server_group=server.proc.pid) as cpu:
                    started = time.monotonic()
                    sents, stalls = load(chat, users, seconds)
                    sending = time.monotonic() - started
                    chat.wait(sents, REPLY_TIMEOUT)
                metered = time.monotonic() - started  # the meter's window, near enough
                other = dict(chat.other)
            finally:
                chat.close()
    problems = log_problems(out_dir / "app-gunicorn.log")
    return _rows(out_dir, sents, stalls, sending, other, problems, cpu, metered)


def _cores(cpu: CpuMeter) -> str:
    """Where the cores went while the load ran. The fake LINE runs in a process of its own,
    so it counts under "other"; "driver" is this process sending the events."""
    share = cpu.share
    return (
        f"cores busy: app {share['server']:.2f}, postgres {share['postgres']:.2f}, "
        f"driver {share['fake']:.2f}, other (fake LINE included) {share['other']:.2f}; "
        f"idle {cpu.idle:.2f}"
    )


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile: a value that was really measured."""
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)]


def _rows(
    out_dir: Path,
    sents: list[Sent],
    stalls: int,
    sending: float,
    other: dict[str, int],
    problems: dict[str, Any],
    cpu: CpuMeter,
    metered: float,
) -> list[Row]:
    measured = [s for s in sents if not s.warmup]
    # CPU time rather than cores: it hardly moves with what else the machine is doing.
    per_event = {
        k: 1000 * cpu.share[k] * metered / len(sents) if sents else math.nan
        for k in ("server", "postgres")
    }
    figures: dict[str, dict[str, float]] = {}
    for kind in ("floor", "text", "form", "back"):
        done = [1000 * (s.arrived - s.sent) for s in measured if s.kind == kind and s.arrived]
        acks = [1000 * s.ack for s in measured if s.kind == kind and s.status == 200]
        figures[kind] = {
            "events": sum(s.kind == kind for s in measured),
            "replied": len(done),
            "p50": percentile(done, 50) if done else math.nan,
            "p95": percentile(done, 95) if done else math.nan,
            "max": max(done, default=math.nan),
            "ack_p50": percentile(acks, 50) if acks else math.nan,
        }
    replied = [s for s in sents if s.arrived is not None]
    summary = {
        "rate": RATE,
        "users_per_kind": USERS_PER_KIND,
        "warmup_seconds": WARMUP_SECONDS,
        "sending_seconds": sending,
        "stalls": stalls,
        "figures": figures,
        "events": len(sents),
        "replied": len(replied),
        "by_push": sum(s.how == "push" for s in replied),
        "wrong_replies": sum(not s.right for s in replied),
        "webhook_not_200": sum(s.status != 200 for s in sents),
        "other_line_calls": other,
        "app_log_problems": problems,
        "cores": {k: v for k, v in cpu.share.items() if k != "wrk"},
        "cpu_ms_per_event": {"app": per_event["server"], "postgres": per_event["postgres"]},
        "idle": cpu.idle,
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False))
    floor = figures["floor"]
    rows = [
        Row(
            NAME,
            KINDS["floor"],
            "reply at LINE p50 / p95 (events)",
            f"{floor['p50']:.0f} / {floor['p95']:.0f} ms ({floor['events']:.0f})",
            f"the pipeline's floor; of it, the webhook's answer p50 {floor['ack_p50']:.0f} ms",
        )
    ]
    for kind in ("text", "form"):
        f = figures[kind]
        rows.append(
            Row(
                NAME,
                KINDS[kind],
                "reply at LINE p50 / p95 (events)",
                f"{f['p50']:.0f} / {f['p95']:.0f} ms ({f['events']:.0f})",
                f"floor {floor['p50']:.0f} / {floor['p95']:.0f} ms: adds "
                f"{f['p50'] - floor['p50']:+.0f} / {f['p95'] - floor['p95']:+.0f} ms",
            )
        )
    ok = len(replied) == len(sents) and not summary["wrong_replies"]
    rows += [
        Row(
            NAME,
            "all events, warm-up included",
            "replies received / events sent",
            f"{len(replied):,} / {len(sents):,} {'✓' if ok else '✗ MISSING OR WRONG'}",
            f"{summary['by_push']} came as pushes, {summary['wrong_replies']} wrong, "
            f"{summary['webhook_not_200']} webhooks not 200, other LINE calls {other or 'none'}; "
            f"app log: {problems['errors']} errors, {problems['warnings']} warnings",
        ),
        Row(
            NAME,
            "load",
            "events sent (rate kept)",
            f"{len(sents):,} in {sending:.1f} s = {len(sents) / sending:.1f}/s, "
            f"{figures['back']['events']:.0f} of them ย้อนกลับ (not measured)",
            f"aim {RATE:.0f}/s, one in flight per user; {stalls} ticks found every user "
            f"waiting; {_cores(cpu)}",
        ),
        Row(
            NAME,
            "load",
            "app CPU per event (all kinds, warm-up included)",
            f"{per_event['server']:.1f} ms",
            f"the gunicorn process group's CPU time while the load ran and its replies came, "
            f"÷ {len(sents):,} events; PostgreSQL {per_event['postgres']:.1f} ms per event",
        ),
    ]
    return rows

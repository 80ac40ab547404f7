"""Fault injection: LINE down, the database restarted under load, the worker killed with SIGKILL.

Three scenarios, each checking that nothing is lost and nothing is done twice:

1. LINE outage: the fake LINE (its own process, `bench/fake_line.py`) answers 500, or 429
   with Retry-After, or hangs, on reply, push and multicast, while unregistered users chat
   and a broadcast goes to the province's leaders. After recovery every reply and every
   multicast must reach its user exactly once; the drain time and the request rate the fake
   saw while the backlog drained are set against LINE's published limits.
2. PostgreSQL restart under load: a private cluster (initdb into a temporary folder, its own
   port; never the machine's PostgreSQL) restarted with `pg_ctl restart -m fast` and then
   `-m immediate` while webhooks arrive. A 200 must mean stored; the gap gets 5xx (LINE
   redelivers; so does this benchmark); the app must serve 200s again without a restart.
3. SIGKILL: the event worker (`flask --app wsgi worker --scheduler`, with the scheduler in
   it) killed while handling a burst, while sending a broadcast, while fetching content, and
   while building a summary PDF, and started again. Every event handled once, every message
   delivered once, every file complete or absent, nothing left in storage's staging folder.

`python -m bench faults` (about 7 minutes) or `--quick` (about 3). `python -m bench.faults
worker` is the worker that scenario 3 kills (see `worker_main`).
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import http.client
import io
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from bench import fake_line
from bench.harness import HOST, ROOT, Options, Row, Server, free_port, get_json, insert_leaders, log
from bench.webhook import (
    DEFAULT_DATABASE_URL,
    SECRET,
    base_env,
    flask_db_upgrade,
    gunicorn_argv,
    log_problems,
    reset_database,
)
from fakeline.webhook import envelope, sign, text_event

NAME = "faults"
MESSAGE_ENDPOINTS = ["reply", "push", "multicast"]
# LINE's published limits (developers.line.biz/en/reference/messaging-api/#rate-limits):
# multicast 200 requests/s; reply, push and the other endpoints not listed 2,000 requests/s.
LINE_LIMIT = 2000
MULTICAST_LIMIT = 200
LEADERS = 2000  # the broadcast's audience: four multicasts of 500
PROVINCE = "38"
STAFF_ID = "U" + "f" * 32

# Scenario 1: (mode, seconds of outage, hang seconds, Retry-After)
OUTAGES = [("500", 60, 0, None), ("429", 30, 0, 5), ("hang", 30, 12, None)]
QUICK_OUTAGES = [("500", 10, 0, None), ("hang", 10, 12, None)]
CHATTERS, QUICK_CHATTERS = 100, 40  # unregistered users chatting during each outage
EVENTS_PER_CHATTER = 3

# Scenario 2
PG_RATE = 40.0  # webhooks per second
PG_SECONDS, QUICK_PG_SECONDS = 30, 14
PG_DOWN_SECONDS = 3.0
PG_REDELIVERIES = 10  # LINE retries a webhook that got no 2xx; so does this benchmark

# Scenario 3
BURST_USERS, BURST_EVENTS = 100, 3
CONTENT_PHOTOS = 6
SUMMARY_ACTIVITIES, SUMMARY_PHOTOS = 20, 4  # what the document shows: 80 thumbnails
# The worker scenario 3 kills runs with these leases instead of the production ones (10 min
# for fetches and documents, 60 s for sends, 30 s before a row the event worker meant to
# send itself is taken over, 1 min between sweeps of staging). Only the wait for recovery
# changes: what a lease protects is the same.
WORKER_LEASE_SECONDS = 20
WORKER_INLINE_GRACE_SECONDS = 10
WORKER_PURGE_SECONDS = 5
SETTLE_TIMEOUT = 120.0


def run(out_dir: Path, options: Options) -> list[Row]:
    rows: list[Row] = []
    for scenario in (line_outage, postgres_restart, sigkill):
        try:
            rows += scenario(out_dir, options)
        except Exception as exc:  # one scenario failing must not hide the others' figures
            log(f"{NAME}: {scenario.__name__} failed: {exc!r}")
            rows.append(Row(NAME, scenario.__name__, "scenario", f"✗ FAILED: {exc!r}"[:300]))
    return rows


# ----- shared ------------------------------------------------------------------------------


def app_env(database_url: str, base_url: str, storage: Path, **extra: str) -> dict[str, str]:
    """The app's environment for gunicorn and the worker."""
    return {
        **base_env(),
        "DATABASE_URL": database_url,
        "LINE_API_BASE_URL": base_url,
        "LINE_DATA_API_BASE_URL": base_url,
        "LINE_CHANNEL_ACCESS_TOKEN": fake_line.TOKEN,
        "PUBLIC_BASE_URL": "https://bot.example.test",
        "EVIDENCE_STORAGE_URL": str(storage),
        "INBOX_WORKERS": "4",
        "BACKGROUND_WORKERS": "2",
        "RUN_SCHEDULER": "false",
        "RUN_WORKERS": "1",
        # No quiet hours: a run at night must send the broadcast at once, as by day.
        "QUIET_FROM": "00:00",
        "QUIET_UNTIL": "00:00",
        **extra,
    }


@contextmanager
def bench_app(env: dict[str, str]) -> Iterator[Any]:
    """The app in this process, for seeding and queueing; its background threads never start."""
    from bot import create_app
    from bot.db import db

    keys = (
        "LINE_CHANNEL_SECRET",
        "LINE_CHANNEL_ACCESS_TOKEN",
        "LINE_API_BASE_URL",
        "LINE_DATA_API_BASE_URL",
        "DATABASE_URL",
        "PUBLIC_BASE_URL",
        "EVIDENCE_STORAGE_URL",
        "QUIET_FROM",
        "QUIET_UNTIL",
    )
    config = {k: env[k] for k in keys}
    app = create_app(
        {**config, "DATABASE_URL": _sqlalchemy_url(config["DATABASE_URL"]), "SECRET_KEY": "bench"}
        | {"LOG_LEVEL": "WARNING"}
    )
    try:
        yield app
    finally:
        app.extensions["runtime"].stop()
        db.dispose()


def _sqlalchemy_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def _plain_url(url: str) -> str:
    return url.replace("+psycopg", "", 1)


def seed_leaders(count: int) -> list[str]:
    """`count` active leaders of the province with profiles, and a province staff member who
    sends the broadcasts; returns the leaders' LINE ids. Needs a `bench_app`."""
    from bot.db import db
    from bot.models import User
    from bot.services import fiscal

    ids = [f"U{n:032x}" for n in range(count)]
    now = datetime.now(UTC)
    with db.transaction() as session:
        fiscal.ensure(session, fiscal.year_of(date.today()))
        insert_leaders(session, ids, ["380101"])
        session.add(
            User(
                line_user_id=STAFF_ID,
                role="province",
                status="active",
                area_code=PROVINCE,
                consent_at=now,
            )
        )
    return ids


def queue_broadcast() -> int:
    """A broadcast of an assessment date to every leader of the province, queued now (what the
    scheduler's job does when its time comes); returns how many recipients it has."""
    from sqlalchemy import select

    from bot.db import db
    from bot.models import User
    from bot.notify import QuietHours
    from bot.services import broadcasts
    from handlers.broadcast_views import cards_for

    now = datetime.now(UTC)
    never = QuietHours(datetime.min.time(), datetime.min.time())
    with db.transaction() as session:
        staff = session.scalar(select(User).where(User.line_user_id == STAFF_ID))
        assert staff is not None
        draft = broadcasts.Draft(
            now + timedelta(days=20), "ศาลากลางจังหวัดบึงกาฬ", None, "leaders", []
        )
        sent = broadcasts.create(session, staff, draft, send_at=now, now=now)
        found = broadcasts.queue(
            session, sent, cards_for("new", "Asia/Bangkok"), now=now, quiet=never
        )
        return found.recipients if found else 0


def post_webhook(port: int, events: list[dict[str, Any]], timeout: float = 10.0) -> int:
    """POST signed events to /callback; the status, or 0 when no answer came."""
    body = json.dumps(envelope(events), ensure_ascii=False, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "x-line-signature": sign(SECRET, body)}
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("POST", "/callback", body, headers)
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return 0
    finally:
        conn.close()


def issue_tokens(control: str, users: list[str], count: int, ttl: float) -> dict[str, list[str]]:
    """Reply tokens from the fake, as LINE puts in webhook events."""
    request = json.dumps({"users": users, "count": count, "ttl": ttl}).encode()
    parts = urlsplit(control)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.request("POST", "/tokens", request, {"Content-Type": "application/json"})
        return dict(json.loads(conn.getresponse().read()))
    finally:
        conn.close()


def fake_records(control: str) -> list[dict[str, Any]]:
    """Every request the fake has answered, in arrival order."""
    status, data = get_json(f"{control}/requests?since=0", timeout=60)
    if status != 200:
        raise RuntimeError(f"the fake's control server answered {status}")
    return list(data["requests"])


@dataclass
class Deliveries:
    """What reached each user, counted from the fake's records: one per successful request."""

    per_user: Counter[tuple[str, str]] = field(default_factory=Counter)  # (user, how) -> n
    statuses: Counter[str] = field(default_factory=Counter)  # "endpoint status" -> n
    times: list[float] = field(default_factory=list)  # arrivals of message requests

    def of(self, user: str, *how: str) -> int:
        return sum(self.per_user[(user, h)] for h in how or ("reply", "push", "multicast"))


def deliveries(
    records: list[dict[str, Any]], token_user: dict[str, str], start: float, end: float
) -> Deliveries:
    found = Deliveries()
    for record in records:
        if not start <= record["time"] < end or record["endpoint"] not in MESSAGE_ENDPOINTS:
            continue
        found.statuses[f"{record['endpoint']} {record['status']}"] += 1
        found.times.append(record["time"])
        if record["status"] != 200:
            continue
        body = record["json"] or {}
        if record["endpoint"] == "reply":
            users = [token_user.get(body.get("replyToken", ""), "?")]
        elif record["endpoint"] == "push":
            users = [body.get("to", "?")]
        else:
            users = list(body.get("to", []))
        for user in users:
            found.per_user[(user, record["endpoint"])] += 1
    return found


def peak_rate(times: list[float], start: float, end: float) -> int:
    """The most requests that arrived in any one second between start and end."""
    inside = sorted(t for t in times if start <= t < end)
    best, first = 0, 0
    for last, moment in enumerate(inside):
        while moment - inside[first] >= 1.0:
            first += 1
        best = max(best, last - first + 1)
    return best


def db_counts(url: str) -> dict[str, Any]:
    """Pending work and outcomes, straight from the tables."""
    with psycopg.connect(_plain_url(url), connect_timeout=5) as conn:
        inbox = dict(
            conn.execute("SELECT status, count(*) FROM inbox_events GROUP BY 1").fetchall()
        )
        outbox = conn.execute(
            "SELECT kind, status, count(*) FROM outbox_messages GROUP BY 1, 2"
        ).fetchall()
    return {
        "inbox": inbox,
        "outbox": {f"{kind} {status}": n for kind, status, n in outbox},
        "pending": inbox.get("pending", 0)
        + sum(n for _, status, n in outbox if status == "pending"),
    }


def wait_settled(url: str, timeout: float, extra: Callable[[], bool] | None = None) -> float | None:
    """Seconds until no event and no message is pending (and `extra` holds); None on time-out."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with contextlib.suppress(psycopg.Error):
            if db_counts(url)["pending"] == 0 and (extra is None or extra()):
                return time.monotonic() - started
        time.sleep(0.25)
    return None


def exact(expected: dict[str, int], found: Callable[[str], int]) -> tuple[int, int, int]:
    """(delivered, duplicates, lost) over users expecting `expected[user]` deliveries each."""
    delivered = duplicates = lost = 0
    for user, want in expected.items():
        got = found(user)
        delivered += min(got, want)
        duplicates += max(got - want, 0)
        lost += max(want - got, 0)
    return delivered, duplicates, lost


def verdict(duplicates: int, lost: int) -> str:
    return "✓" if duplicates == 0 and lost == 0 else "✗ DUPLICATES OR LOSSES"


# ----- 1. LINE outage ------------------------------------------------------------------------


def line_outage(out_dir: Path, options: Options) -> list[Row]:
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    outages = QUICK_OUTAGES if options.quick else OUTAGES
    chatters = QUICK_CHATTERS if options.quick else CHATTERS
    reset_database(database_url)
    rows: list[Row] = []
    summary: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-faults-line-") as tmp,
        fake_line.running(Path(tmp)) as base_url,
    ):
        control = fake_line.control_url
        env = app_env(database_url, base_url, Path(tmp) / "storage")
        flask_db_upgrade(env, out_dir / "line-migrate.log")
        with bench_app(env):
            leaders = seed_leaders(LEADERS)
            argv = gunicorn_argv("gunicorn.conf.py", "wsgi:app", out_dir, "line-app")
            with Server("line-app", argv, env, out_dir / "line-app-gunicorn.log") as server:
                for n, outage in enumerate(outages):
                    users = [f"U{n + 1:x}{'c' * 7}{k:024x}" for k in range(chatters)]
                    figures = _one_outage(server, control, database_url, leaders, users, outage)
                    summary.append(figures)
                    rows += _outage_rows(figures)
    problems = log_problems(out_dir / "line-app-gunicorn.log")
    (out_dir / "line-summary.json").write_text(
        json.dumps({"outages": summary, "app_log": problems}, indent=1, ensure_ascii=False)
    )
    return rows


def _one_outage(
    server: Server,
    control: str,
    database_url: str,
    leaders: list[str],
    users: list[str],
    outage: tuple[str, int, int, int | None],
) -> dict[str, Any]:
    mode, seconds, hang, retry_after = outage
    port = int(urlsplit(server.url).port or 0)
    # LINE's reply tokens live about a minute: events late in a long outage are answered by
    # push once their token is too old, as the app must.
    tokens = issue_tokens(control, users, EVENTS_PER_CHATTER, ttl=60)
    token_user = {t: u for u, ts in tokens.items() for t in ts}
    what = {"500": "500", "429": f"429 (Retry-After {retry_after} s)", "hang": f"hang {hang} s"}
    log(f"{NAME}: LINE answers {what[mode]} for {seconds} s on reply, push and multicast")
    start = time.time()
    fake_line.set_fault(control, MESSAGE_ENDPOINTS, mode, seconds, hang, retry_after)
    recovery = start + seconds
    recipients = queue_broadcast()
    events = [(u, tokens[u][k]) for k in range(EVENTS_PER_CHATTER) for u in users]
    statuses: Counter[int] = Counter()
    with ThreadPoolExecutor(8) as pool:
        futures = []
        for k, (user, token) in enumerate(events):
            # Spread over the first 80 % of the outage, so every event meets the fault.
            delay = start + 1 + k * (seconds * 0.8 - 1) / len(events) - time.time()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(post_webhook, port, [text_event(user, "สวัสดีค่ะ", token)]))
        statuses.update(f.result() for f in futures)
    time.sleep(max(recovery - time.time(), 0))
    log(f"{NAME}: LINE is back; waiting for the backlog")
    # Requests hanging when LINE came back are still being answered (and delivered) until
    # `hang` seconds later; their senders gave up and will try again.
    time.sleep(max(recovery + hang + 1 - time.time(), 0))
    settled = wait_settled(database_url, SETTLE_TIMEOUT)
    end = time.time()
    faulted = fake_line.clear_fault(control)["faulted"]
    records = fake_records(control)
    found = deliveries(records, token_user, start, end + 1)
    chat = exact({u: EVENTS_PER_CHATTER for u in users}, lambda u: found.of(u, "reply", "push"))
    broadcast = exact({u: 1 for u in leaders}, lambda u: found.of(u, "multicast"))
    delivered_after = [
        r["time"]
        for r in records
        if start <= r["time"] and r["endpoint"] in MESSAGE_ENDPOINTS and r["status"] == 200
    ]
    last = max(delivered_after, default=recovery)
    multicast_times = [
        r["time"] for r in records if r["endpoint"] == "multicast" and start <= r["time"] < end
    ]
    return {
        "mode": mode,
        "what": what[mode],
        "seconds": seconds,
        "events": len(events),
        "webhook_statuses": dict(statuses),
        "broadcast_recipients": recipients,
        "chat": chat,
        "replies": sum(found.of(u, "reply") for u in users),
        "pushes": sum(found.of(u, "push") for u in users),
        "broadcast": broadcast,
        "faulted": faulted,
        "fake_statuses": dict(found.statuses),
        "settled_after_recovery": None if settled is None else end - recovery,
        "last_delivery_after_recovery": max(last - recovery, 0.0),
        "peak_drain": peak_rate(found.times, recovery, end + 1),
        "peak_drain_multicast": peak_rate(multicast_times, recovery, end + 1),
        "peak_outage": peak_rate(found.times, start, recovery),
        "database": db_counts(database_url),
    }


def _outage_rows(f: dict[str, Any]) -> list[Row]:
    target = f"LINE outage: {f['what']} for {f['seconds']} s (reply, push, multicast)"
    chat_ok, chat_dup, chat_lost = f["chat"]
    cast_ok, cast_dup, cast_lost = f["broadcast"]
    duplicates, lost = chat_dup + cast_dup, chat_lost + cast_lost
    webhooks = f["webhook_statuses"]
    settled = f["settled_after_recovery"]
    conflicts = sum(n for k, n in f["fake_statuses"].items() if k.endswith(" 409"))
    return [
        Row(
            NAME,
            target,
            "delivered exactly once / intended (duplicates, lost)",
            f"chat {chat_ok:,}/{f['events']:,}, broadcast {cast_ok:,}/{f['broadcast_recipients']:,}"
            f" ({duplicates} duplicates, {lost} lost) {verdict(duplicates, lost)}",
            f"chat answers: {f['replies']} replies + {f['pushes']} pushes (expired tokens); "
            f"webhooks {webhooks}; requests the fault touched {f['faulted']}; "
            f"repeats refused 409 by retry key: {conflicts}; outbox rows so far "
            f"{f['database']['outbox']}",
        ),
        Row(
            NAME,
            target,
            "drain after recovery",
            f"last delivery {f['last_delivery_after_recovery']:.1f} s after LINE came back; "
            + ("nothing pending" if settled is not None else "✗ STILL PENDING")
            + (f" at {settled:.1f} s" if settled is not None else ""),
            "outbox backoff 1, 2, 4 … 32, then 60 s (Retry-After honoured): a row is retried "
            "at most its last wait after LINE is back",
        ),
        Row(
            NAME,
            target,
            "peak requests/s at LINE: drain (multicast) / outage",
            f"{f['peak_drain']} ({f['peak_drain_multicast']}) / {f['peak_outage']}",
            f"LINE's limits: {LINE_LIMIT:,}/s reply and push, {MULTICAST_LIMIT}/s multicast",
        ),
    ]


# ----- 2. PostgreSQL restart -----------------------------------------------------------------


def postgres_bindir() -> Path | None:
    """Where initdb and pg_ctl are: pg_config's answer, else the newest Debian folder."""
    candidates = []
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        found = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        if found:
            candidates.append(Path(found))
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted(
        (Path(p) for p in versions), key=lambda p: int(p.parent.name), reverse=True
    )
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    return None


class PrivateCluster:
    """A PostgreSQL cluster of our own in a temporary folder, on a free port, trust auth; run
    as the `postgres` user when we are root (PostgreSQL refuses to run as root)."""

    def __init__(self, bindir: Path, log_path: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="bench-faults-pg-"))
        self.data = self.folder / "data"
        self.log_path = log_path
        self.as_postgres = os.geteuid() == 0

    def _run(self, *argv: str, timeout: float = 120) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_postgres else []
        with self.log_path.open("ab") as out:
            subprocess.run(
                [*prefix, *argv],
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=True,
                cwd=self.folder,
            )

    def __enter__(self) -> PrivateCluster:
        if self.as_postgres:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"
        )
        self.pg_ctl("start")
        return self

    def pg_ctl(self, action: str, *flags: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses={HOST}"
        self._run(
            str(self.bindir / "pg_ctl"),
            action,
            "-D",
            str(self.data),
            "-w",
            "-l",
            str(self.folder / "server.log"),
            "-o",
            options,
            *flags,
        )

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self.pg_ctl("stop", "-m", "immediate")
        with contextlib.suppress(OSError):
            shutil.copy(self.folder / "server.log", self.log_path.with_suffix(".server.log"))
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, name: str) -> str:
        return f"postgresql://postgres@{HOST}:{self.port}/{name}"


@dataclass
class Sent:
    event: dict[str, Any]
    user: str
    sent: float = 0.0  # first try: time.time() when sent and answered, and the answer
    answered: float = 0.0
    first_status: int = 0
    status: int = 0  # the latest answer, redeliveries included
    tries: int = 0


def postgres_restart(out_dir: Path, options: Options) -> list[Row]:
    target = "PostgreSQL restarted under webhook load (private cluster)"
    bindir = postgres_bindir()
    if bindir is None:
        return [Row(NAME, target, "scenario", "skipped: no initdb/pg_ctl found", "—")]
    seconds = QUICK_PG_SECONDS if options.quick else PG_SECONDS
    with (
        PrivateCluster(bindir, out_dir / "pg-cluster.log") as cluster,
        tempfile.TemporaryDirectory(prefix="bench-faults-pg-") as tmp,
        fake_line.running(Path(tmp)) as base_url,
    ):
        log(f"{NAME}: private PostgreSQL ({bindir}) on port {cluster.port}")
        with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier("faults")))
        database_url = cluster.url("faults")
        control = fake_line.control_url
        env = app_env(database_url, base_url, Path(tmp) / "storage")
        flask_db_upgrade(env, out_dir / "pg-migrate.log")
        count = int(PG_RATE * seconds)
        users = [f"U{'d' * 8}{k:024x}" for k in range(count)]
        tokens = issue_tokens(control, users, 1, ttl=seconds + 600)
        token_user = {ts[0]: u for u, ts in tokens.items()}
        sents = [Sent(text_event(u, "สวัสดีค่ะ", tokens[u][0]), u) for u in users]
        argv = gunicorn_argv("gunicorn.conf.py", "wsgi:app", out_dir, "pg-app")
        with Server("pg-app", argv, env, out_dir / "pg-app-gunicorn.log") as server:
            assert server.proc is not None
            workers_before = _children(server.proc.pid)
            restarts = _load_with_restarts(server, cluster, sents, seconds)
            redelivered = _redeliver(server, sents)
            log(f"{NAME}: waiting for the backlog")
            settled = wait_settled(database_url, SETTLE_TIMEOUT)
            workers_after = _children(server.proc.pid)
        with psycopg.connect(_plain_url(database_url)) as conn:
            stored = dict(
                conn.execute("SELECT webhook_event_id, status FROM inbox_events").fetchall()
            )
        counts = db_counts(database_url)
        records = fake_records(control)
    found = deliveries(records, token_user, 0, time.time() + 1)
    access = Counter(
        line.split(" ", 1)[0]
        for line in (out_dir / "pg-app-access.log").read_text().splitlines()
        if line.endswith("/callback")
    )
    figures = _pg_figures(sents, restarts, stored, found, users)
    figures |= {
        "bindir": str(bindir),
        "redelivered": redelivered,
        "settled": settled,
        "access_log": dict(access),
        "database": counts,
        "fake_statuses": dict(found.statuses),
        "workers_same": workers_before == workers_after,
        "workers": [sorted(workers_before), sorted(workers_after)],
        "app_log": log_problems(out_dir / "pg-app-gunicorn.log"),
    }
    (out_dir / "pg-summary.json").write_text(json.dumps(figures, indent=1, ensure_ascii=False))
    return _pg_rows(target, figures, seconds)


def _children(pid: int) -> set[int]:
    """The gunicorn master's worker processes: the same ones after the restart means the
    app reconnected by itself."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
                    found.add(int(entry.name))
    return found


def _load_with_restarts(
    server: Server, cluster: PrivateCluster, sents: list[Sent], seconds: int
) -> list[dict[str, Any]]:
    """Send the events at PG_RATE; restart the cluster (fast, then immediate) on the way."""
    port = int(urlsplit(server.url).port or 0)
    restarts: list[dict[str, Any]] = []

    def restart(mode: str) -> None:
        began = time.time()
        if mode == "down":  # a longer gap: stopped, and started again PG_DOWN_SECONDS later
            cluster.pg_ctl("stop", "-m", "fast")
            time.sleep(PG_DOWN_SECONDS)
            cluster.pg_ctl("start")
        else:
            cluster.pg_ctl("restart", "-m", mode)
        restarts.append({"mode": mode, "began": began, "ended": time.time()})
        log(f"{NAME}: PostgreSQL restarted (-m {mode}) in {time.time() - began:.1f} s")

    def send(sent: Sent) -> None:
        sent.sent = time.time()
        sent.tries += 1
        sent.status = sent.first_status = post_webhook(port, [sent.event])
        sent.answered = time.time()

    plan = {
        int(len(sents) * 0.2): "fast",
        int(len(sents) * 0.45): "immediate",
        int(len(sents) * 0.7): "down",
    }
    log(f"{NAME}: {PG_RATE:.0f} webhooks/s for {seconds} s; three restarts on the way")
    start = time.monotonic()
    with ThreadPoolExecutor(16) as pool, ThreadPoolExecutor(1) as restarter:
        futures = []
        for k, sent in enumerate(sents):
            delay = start + k / PG_RATE - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if k in plan:
                futures.append(restarter.submit(restart, plan[k]))
            futures.append(pool.submit(send, sent))
        for future in futures:
            future.result()
    return restarts


def _redeliver(server: Server, sents: list[Sent]) -> int:
    """As LINE does: send again, with the same webhookEventId, what got no 2xx."""
    port = int(urlsplit(server.url).port or 0)
    again = 0
    for _ in range(PG_REDELIVERIES):
        failed = [s for s in sents if s.status != 200]
        if not failed:
            break
        time.sleep(1)
        for sent in failed:
            sent.event.setdefault("deliveryContext", {})["isRedelivery"] = True
            sent.tries += 1
            sent.status = post_webhook(port, [sent.event])
            again += 1
    return again


def _pg_figures(
    sents: list[Sent],
    restarts: list[dict[str, Any]],
    stored: dict[str, str],
    found: Deliveries,
    users: list[str],
) -> dict[str, Any]:
    acked = [s for s in sents if s.first_status == 200]
    lost = [s.event["webhookEventId"] for s in acked if s.event["webhookEventId"] not in stored]
    # First answers by when they came: while a restart ran, or after the database was back.
    during: Counter[int] = Counter()
    after: Counter[int] = Counter()
    late_errors: list[float] = []  # seconds after the restart's end of each non-200
    back: list[float | None] = []  # seconds from each restart's end to the next 200
    for n, r in enumerate(restarts):
        until = restarts[n + 1]["began"] if n + 1 < len(restarts) else float("inf")
        answered = sorted(
            (s for s in sents if r["began"] <= s.answered < until), key=lambda s: s.answered
        )
        for s in answered:
            (during if s.answered <= r["ended"] else after)[s.first_status] += 1
            if s.answered > r["ended"] and s.first_status != 200:
                late_errors.append(s.answered - r["ended"])
        oks = [s.answered - r["ended"] for s in answered if s.first_status == 200]
        oks = [t for t in oks if t > 0]
        back.append(min(oks) if oks else None)
    return {
        "events": len(sents),
        "restarts": [
            {"mode": r["mode"], "seconds": round(r["ended"] - r["began"], 2)} for r in restarts
        ],
        "down_seconds": PG_DOWN_SECONDS,
        "acked_first_try": len(acked),
        "acked_not_stored": lost[:20],
        "acked_not_stored_count": len(lost),
        "first_answers_during_restarts": dict(during),
        "first_answers_after_restarts": dict(after),
        "non_200_after_back_seconds": [round(t, 2) for t in late_errors],
        "first_200_after_restart_seconds": back,
        "stored": len(stored),
        "stored_statuses": dict(Counter(stored.values())),
        "never_acked": sum(s.status != 200 for s in sents),
        "non_200_first_try": sum(s.first_status != 200 for s in sents),
        "delivered": exact({u: 1 for u in users}, lambda u: found.of(u, "reply", "push")),
    }


def _pg_rows(target: str, f: dict[str, Any], seconds: int) -> list[Row]:
    ok, dup, lost = f["delivered"]
    restarts = ", ".join(
        f"stopped {r['seconds']:.1f} s"
        if r["mode"] == "down"
        else f"-m {r['mode']} {r['seconds']:.1f} s"
        for r in f["restarts"]
    )
    back = ", ".join(
        "never" if t is None else f"{t:.1f} s" for t in f["first_200_after_restart_seconds"]
    )
    late = f["non_200_after_back_seconds"]
    statuses = f["stored_statuses"]
    handled_once = (
        f["stored"] == f["events"]
        and statuses.get("done", 0) == f["events"]
        and not dup
        and not lost
    )
    lost_acks = f["acked_not_stored_count"]
    return [
        Row(
            NAME,
            target,
            "200s for events not stored",
            f"{lost_acks} of {f['acked_first_try']:,} 200s {'✓' if lost_acks == 0 else '✗ LOST'}",
            f"{f['events']:,} webhooks at {PG_RATE:.0f}/s over {seconds} s; restarts: {restarts}; "
            f"first answers while restarting {f['first_answers_during_restarts']}",
        ),
        Row(
            NAME,
            target,
            "reconnected without restarting the app",
            f"first 200 after each restart: {back}; gunicorn workers "
            f"{'the same processes' if f['workers_same'] else '✗ REPLACED'}",
            f"answers after the database was back {f['first_answers_after_restarts']}; "
            f"{len(late)} not 200 (at {late[:6]} s); access log {f['access_log']}",
        ),
        Row(
            NAME,
            target,
            "events stored / handled once / delivered once (duplicates, lost)",
            f"{f['stored']:,} / {statuses.get('done', 0):,} / {ok:,} of {f['events']:,} "
            f"({dup} duplicates, {lost} lost) {'✓' if handled_once else '✗'}",
            f"{f['non_200_first_try']} webhooks got no 200 at first and were redelivered "
            f"({f['redelivered']} redeliveries, {f['never_acked']} never acknowledged); "
            f"inbox {statuses}; outbox {f['database']['outbox']}; fake {f['fake_statuses']}; "
            f"app log {f['app_log']['errors']} errors"
            + ("" if f["settled"] is not None else "; ✗ STILL PENDING"),
        ),
    ]


# ----- 3. SIGKILL ----------------------------------------------------------------------------


def make_photos(folder: Path, first: int, count: int, size: tuple[int, int]) -> None:
    """Distinct camera-like JPEGs named by LINE message id (soft shapes under fine grain, a
    few coloured marks each, so no two thumbnails are alike)."""
    from PIL import Image, ImageDraw

    rng = random.Random(first)
    scene = Image.frombytes("RGB", (64, 48), rng.randbytes(64 * 48 * 3))
    grain = Image.effect_noise(size, 40).convert("RGB")
    base = Image.blend(scene.resize(size, Image.Resampling.BICUBIC), grain, 0.2)
    for n in range(count):
        image = base.copy()
        draw = ImageDraw.Draw(image)
        for k in range(3):
            x, y = rng.randrange(0, size[0] // 2), rng.randrange(0, size[1] // 2)
            colour = (rng.randrange(256), rng.randrange(256), (n * 37 + k) % 256)
            draw.rectangle((x, y, x + size[0] // 4, y + size[1] // 4), fill=colour)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=90)
        (folder / f"{first + n}.jpg").write_bytes(out.getvalue())


def seed_documents(app: Any) -> dict[str, Any]:
    """The summary leader (a plan of SUMMARY_ACTIVITIES activities with SUMMARY_PHOTOS photos
    each, taken in by the app's own intake now) and the photo leader (one activity, whose
    photos arrive during the run). Needs a `bench_app`."""
    from bot.db import db
    from bot.models import LeaderProfile, User
    from bot.services import evidence, fiscal, plans

    year = fiscal.year_of(date.today())
    begin, end = fiscal.bounds(year)
    made: dict[str, Any] = {}
    message = 600_000
    with db.transaction() as session:
        for key, line_id, activities in (
            ("summary", "U" + "5" * 32, SUMMARY_ACTIVITIES),
            ("photos", "U" + "6" * 32, 1),
        ):
            leader = User(line_user_id=line_id, display_name=key, role="leader", status="active")
            session.add(leader)
            session.flush()
            session.add(
                LeaderProfile(
                    user_id=leader.id,
                    full_name=f"นางสาว{key} ทดสอบ",
                    subdistrict_code="380101",
                    district_code="3801",
                    province_code="39",  # not in the broadcast's province
                )
            )
            plan = plans.get_or_create(session, leader, year)
            components = [c for a in plans.edition(session, plan).areas for c in a.components]
            for n in range(activities):
                item = plans.add_item(
                    session,
                    plan,
                    plans.ItemDraft(
                        components[n % len(components)].id,
                        f"อบรมอาชีพครัวเรือนเป้าหมาย ครั้งที่ {n + 1}",
                        "self",
                        "ฝึกปฏิบัติ",
                        "ตนเอง",
                        begin,
                        end,
                    ),
                    leader,
                )
                for _ in range(SUMMARY_PHOTOS if key == "summary" else 0):
                    row = evidence.receive(
                        session,
                        leader,
                        message_id=str(message),
                        kind="image",
                        item_id=item.id,
                        set_id=None,
                        file_name=None,
                        reply_token=None,
                        reply_by=None,
                    )
                    row.announced = True
                    message += 1
            made[key] = {"line_id": line_id, "user": leader.id, "plan": plan.id, "item": item.id}
    intake = app.extensions["runtime"].intake
    while intake.work_once():
        pass
    while intake.thumbnail_once():
        pass
    return made


def add_photos(leader: dict[str, Any], message_ids: list[str]) -> None:
    """Photos the leader sent: rows the worker fetches at once (told with their set: no
    reply per photo)."""
    from bot.db import db
    from bot.models import User
    from bot.services import evidence

    with db.transaction() as session:
        user = session.get(User, leader["user"])
        for message_id in message_ids:
            row = evidence.receive(
                session,
                user,
                message_id=message_id,
                kind="image",
                item_id=leader["item"],
                set_id=None,
                file_name=None,
                reply_token=None,
                reply_by=None,
            )
            row.announced = True


def request_summary(leader: dict[str, Any]) -> None:
    from bot.db import db
    from bot.models import Plan, User
    from bot.summaries import request

    with db.transaction() as session:
        plan, user = session.get(Plan, leader["plan"]), session.get(User, leader["user"])
        assert plan is not None and user is not None
        request(session, plan, user)


class Worker:
    """`python -m bench.faults worker` in its own process group, started again after each
    SIGKILL; one log per life."""

    def __init__(self, env: dict[str, str], out_dir: Path) -> None:
        self.env = env
        self.out_dir = out_dir
        self.lives = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def log_path(self, life: int) -> Path:
        return self.out_dir / f"kill-worker-{life}.log"

    def start(self) -> None:
        self.lives += 1
        path = self.log_path(self.lives)
        with path.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bench.faults", "worker"],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while b"handling events with" not in path.read_bytes():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start; see {path}")
            time.sleep(0.1)

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
            self.proc = None


def _wait_for(what: str, check: Callable[[], bool], timeout: float = 30.0) -> float:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.02)
    return time.monotonic() - started


def _query(url: str, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(_plain_url(url), connect_timeout=5) as conn:
        return list(conn.execute(statement, params).fetchall())  # type: ignore[arg-type]


def sigkill(out_dir: Path, options: Options) -> list[Row]:
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    reset_database(database_url)
    with tempfile.TemporaryDirectory(prefix="bench-faults-kill-") as tmp_name:
        tmp = Path(tmp_name)
        content, storage = tmp / "content", tmp / "storage"
        content.mkdir()
        make_photos(content, 600_000, SUMMARY_ACTIVITIES * SUMMARY_PHOTOS, (1000, 750))
        make_photos(content, 800_000, CONTENT_PHOTOS, (2400, 1800))
        with fake_line.running(content) as base_url:
            control = fake_line.control_url
            env = app_env(database_url, base_url, storage, RUN_WORKERS="0")
            flask_db_upgrade(env, out_dir / "kill-migrate.log")
            with bench_app(env) as app:
                leaders = seed_leaders(LEADERS)
                people = seed_documents(app)
                log(
                    f"{NAME}: set up: {LEADERS} leaders, a summary of {SUMMARY_ACTIVITIES} "
                    f"activities × {SUMMARY_PHOTOS} photos"
                )
                argv = gunicorn_argv("gunicorn.conf.py", "wsgi:app", out_dir, "kill-web")
                worker = Worker(env, out_dir)
                with Server("kill-web", argv, env, out_dir / "kill-web-gunicorn.log") as web:
                    try:
                        figures = _kills(web, worker, control, database_url, storage, people)
                    finally:
                        worker.stop()
                figures |= _kill_checks(
                    control, database_url, content, storage, leaders, people, figures
                )
    figures["worker_logs"] = {
        life: log_problems(worker.log_path(life)) for life in range(1, worker.lives + 1)
    }
    figures["scheduler_lease_taken"] = sum(
        "scheduler: this process runs the jobs" in worker.log_path(life).read_text()
        for life in range(1, worker.lives + 1)
    )
    figures["lives"] = worker.lives
    (out_dir / "kill-summary.json").write_text(
        json.dumps(figures, indent=1, ensure_ascii=False, default=str)
    )
    return _kill_rows(figures)


def _kills(
    web: Server,
    worker: Worker,
    control: str,
    url: str,
    storage: Path,
    people: dict[str, Any],
) -> dict[str, Any]:
    port = int(urlsplit(web.url).port or 0)
    staging = storage / ".staging"
    at_kill: dict[str, Any] = {}
    worker.start()

    # (a) handling a burst of events
    users = [f"U{'a' * 8}{k:024x}" for k in range(BURST_USERS)]
    tokens = issue_tokens(control, users, BURST_EVENTS, ttl=600)
    events = [text_event(u, "สวัสดีค่ะ", tokens[u][k]) for k in range(BURST_EVENTS) for u in users]
    with ThreadPoolExecutor(16) as pool:
        statuses = Counter(pool.map(lambda e: post_webhook(port, [e]), events))
    done = lambda: _query(url, "SELECT count(*) FROM inbox_events WHERE status = 'done'")[0][0]  # noqa: E731
    _wait_for("a quarter of the burst handled", lambda: done() >= len(events) // 4)
    worker.kill()
    at_kill["handling"] = {"webhooks": dict(statuses), "done_at_kill": done()}
    log(f"{NAME}: worker killed while handling ({at_kill['handling']})")
    worker.start()

    # (b) sending a broadcast: each multicast takes LINE 1.5 s, so the kill lands mid-send
    fake_line.set_fault(control, ["multicast"], "hang", 60, seconds=1.5)
    recipients = queue_broadcast()

    def mid_send() -> bool:
        rows = dict(
            _query(
                url,
                "SELECT status, count(*) FROM outbox_messages WHERE kind = 'multicast' "
                "AND (status = 'sent' OR locked_until IS NOT NULL) GROUP BY 1",
            )
        )
        return rows.get("sent", 0) >= 1 and rows.get("pending", 0) >= 1

    _wait_for("a multicast sent and the next in flight", mid_send)
    worker.kill()
    at_kill["broadcast"] = {
        "recipients": recipients,
        "multicasts": dict(
            _query(
                url,
                "SELECT status, count(*) FROM outbox_messages WHERE kind = 'multicast' GROUP BY 1",
            )
        ),
    }
    log(f"{NAME}: worker killed while sending a broadcast ({at_kill['broadcast']})")
    fake_line.clear_fault(control)
    worker.start()

    # (c) fetching content: each photo trickles in over 4 s
    fake_line.set_fault(control, ["content"], "slow", 60, seconds=4)
    photo_ids = [str(800_000 + n) for n in range(CONTENT_PHOTOS)]
    add_photos(people["photos"], photo_ids)
    parts = lambda: list(staging.glob("*.part")) if staging.exists() else []  # noqa: E731
    _wait_for("a photo half fetched", lambda: any(p.stat().st_size > 0 for p in parts()))
    worker.kill()
    at_kill["content"] = {
        "parts": len(parts()),
        "rows": dict(
            _query(
                url,
                "SELECT status, count(*) FROM evidence WHERE line_message_id = ANY(%s) GROUP BY 1",
                photo_ids,
            )
        ),
    }
    log(f"{NAME}: worker killed while fetching content ({at_kill['content']})")
    fake_line.clear_fault(control)
    worker.start()

    # (d) building the summary PDF
    _wait_for(
        "the photos fetched",
        lambda: (
            not _query(
                url,
                # The photo being fetched at the kill waits for its lease: not this one.
                "SELECT 1 FROM evidence WHERE status IN ('pending', 'fetching') "
                "AND locked_until IS NULL",
            )
        ),
        timeout=60,
    )
    request_summary(people["summary"])
    workdirs = lambda: list(staging.glob("summary-*")) if staging.exists() else []  # noqa: E731
    _wait_for("the summary being built", lambda: bool(workdirs()))
    time.sleep(0.2)  # into the copying of thumbnails or the rendering
    worker.kill()
    at_kill["summary"] = {
        "workdir_files": sum(len(list(d.iterdir())) for d in workdirs()),
        "rows": dict(_query(url, "SELECT status, count(*) FROM summary_documents GROUP BY 1")),
    }
    log(f"{NAME}: worker killed while building the summary ({at_kill['summary']})")
    worker.start()

    log(f"{NAME}: waiting for the restarted worker to finish everything")
    started = time.monotonic()

    def finished() -> bool:
        busy = _query(
            url,
            "SELECT (SELECT count(*) FROM evidence WHERE status IN ('pending', 'fetching'))"
            " + (SELECT count(*) FROM summary_documents WHERE status = 'pending')",
        )[0][0]
        # The killed build's work folder goes with the staging sweep, once older than a lease.
        return busy == 0 and not parts() and not workdirs()

    settled = wait_settled(url, SETTLE_TIMEOUT, finished)
    return {
        "at_kill": at_kill,
        "burst_users": users,
        "burst_tokens": {t: u for u, ts in tokens.items() for t in ts},
        "photo_ids": photo_ids,
        "settled": settled,
        "settle_seconds": time.monotonic() - started,
    }


def _kill_checks(
    control: str,
    url: str,
    content: Path,
    storage: Path,
    leaders: list[str],
    people: dict[str, Any],
    figures: dict[str, Any],
) -> dict[str, Any]:
    records = fake_records(control)
    found = deliveries(records, figures.pop("burst_tokens"), 0, time.time() + 1)
    users = figures.pop("burst_users")
    inbox = dict(_query(url, "SELECT status, count(*) FROM inbox_events GROUP BY 1"))
    # Evidence: every stored file complete (its bytes hash to the row's hash, which is the
    # hash of what LINE served), or absent.
    files = Counter()
    for line_id, status, key, sha, size in _query(
        url,
        "SELECT line_message_id, status, storage_key, content_hash, size_bytes FROM evidence",
    ):
        source = (content / f"{line_id}.jpg").read_bytes()
        if key is None:
            files[f"absent ({status})"] += 1
            continue
        path = storage / key
        data = path.read_bytes() if path.is_file() else b""
        if not data:
            files["✗ row says stored, file missing"] += 1
        elif hashlib.sha256(data).hexdigest() == sha == hashlib.sha256(source).hexdigest():
            files["complete"] += 1 if len(data) == size else 0
            files["✗ size differs"] += 0 if len(data) == size else 1
        else:
            files["✗ HALF OR WRONG"] += 1
    summary = _query(
        url, "SELECT status, storage_key, pages, attempts FROM summary_documents ORDER BY id"
    )
    documents = []
    for status, key, pages, attempts in summary:
        pdf = (storage / key).read_bytes() if key and (storage / key).is_file() else b""
        counted = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        whole = pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
        documents.append(
            {
                "status": status,
                "pages": pages,
                "pages_in_file": counted,
                "whole": whole,
                "attempts": attempts,
            }
        )
    stored_pdfs = sorted(str(p.relative_to(storage)) for p in (storage / "documents").glob("*"))
    staging = storage / ".staging"
    leftovers = (
        sorted(str(p.relative_to(staging)) for p in staging.iterdir()) if staging.exists() else []
    )
    return {
        "inbox": inbox,
        "outbox": {
            f"{kind} {status}": n
            for kind, status, n in _query(
                url, "SELECT kind, status, count(*) FROM outbox_messages GROUP BY 1, 2"
            )
        },
        "chat": exact({u: BURST_EVENTS for u in users}, lambda u: found.of(u, "reply", "push")),
        "broadcast": exact({u: 1 for u in leaders}, lambda u: found.of(u, "multicast")),
        "summary_pushes": found.of(people["summary"]["line_id"], "push"),
        "fake_statuses": dict(found.statuses),
        "files": dict(files),
        "documents": documents,
        "stored_pdfs": stored_pdfs,
        "staging_leftovers": leftovers,
    }


def _kill_rows(f: dict[str, Any]) -> list[Row]:
    target = "worker (with the scheduler) killed with SIGKILL, then started again"
    k = f["at_kill"]
    chat_ok, chat_dup, chat_lost = f["chat"]
    cast_ok, cast_dup, cast_lost = f["broadcast"]
    inbox = f["inbox"]
    events = BURST_USERS * BURST_EVENTS
    handled = inbox.get("done", 0) == events and len(inbox) == 1
    bad_files = sum(n for key, n in f["files"].items() if key.startswith("✗"))
    docs = f["documents"]
    docs_ok = all(
        d["status"] == "ready" and d["whole"] and d["pages"] == d["pages_in_file"] for d in docs
    )
    leftovers = f["staging_leftovers"]
    settled = f["settled"]
    return [
        Row(
            NAME,
            f"{target}: (a) while handling {events} events of {BURST_USERS} users",
            "events handled once / replies delivered once (duplicates, lost)",
            f"{inbox.get('done', 0)}/{events} / {chat_ok}/{events} ({chat_dup} duplicates, "
            f"{chat_lost} lost) {'✓' if handled and not chat_dup and not chat_lost else '✗'}",
            f"killed with {k['handling']['done_at_kill']} handled; inbox {inbox}",
        ),
        Row(
            NAME,
            f"{target}: (b) while the outbox sends a broadcast to {LEADERS:,} leaders",
            "leaders reached once (duplicates, lost)",
            f"{cast_ok:,}/{LEADERS:,} ({cast_dup} duplicates, {cast_lost} lost) "
            f"{verdict(cast_dup, cast_lost)}",
            f"multicasts at the kill {k['broadcast']['multicasts']}; fake {f['fake_statuses']}",
        ),
        Row(
            NAME,
            f"{target}: (c) while {CONTENT_PHOTOS} photos are fetched (each over 4 s)",
            "evidence files complete / absent / half",
            f"{f['files'].get('complete', 0)} complete (hash of the file = row = what LINE "
            f"served), {sum(n for key, n in f['files'].items() if key.startswith('absent'))} "
            f"absent, {bad_files} half or wrong {'✓' if not bad_files else '✗'}",
            f"at the kill {k['content']}; all files {f['files']}",
        ),
        Row(
            NAME,
            f"{target}: (d) while the summary PDF is built",
            "summary rows and stored PDFs consistent",
            f"{json.dumps(docs, ensure_ascii=False)}; link pushed {f['summary_pushes']} time(s) "
            f"{'✓' if docs_ok and f['summary_pushes'] == 1 else '✗'}",
            f"at the kill {k['summary']}; PDFs in storage {f['stored_pdfs']}",
        ),
        Row(
            NAME,
            target,
            "temp files left in storage/.staging; recovery",
            f"{len(leftovers)} {'✓' if not leftovers else '✗ ' + ', '.join(leftovers[:5])}",
            (
                f"everything done {settled:.0f} s after the last restart"
                if settled is not None
                else "✗ STILL PENDING after the last restart"
            )
            + f"; {f['lives']} worker lives, the scheduler lease taken in "
            f"{f['scheduler_lease_taken']}; leases shortened to {WORKER_LEASE_SECONDS} s "
            f"(inline grace {WORKER_INLINE_GRACE_SECONDS} s, staging sweep every "
            f"{WORKER_PURGE_SECONDS} s) so recovery fits the run",
        ),
    ]


# ----- the worker that scenario 3 kills ----------------------------------------------------------


def worker_main() -> None:
    """`flask --app wsgi worker --scheduler` with the shorter leases of WORKER_* above."""
    from flask.cli import main as flask_main

    from bot import intake, outbox, summaries

    lease = timedelta(seconds=WORKER_LEASE_SECONDS)
    intake.LEASE = summaries.LEASE = outbox.LEASE = lease
    intake.PURGE_EVERY = timedelta(seconds=WORKER_PURGE_SECONDS)
    outbox.INLINE_GRACE = timedelta(seconds=WORKER_INLINE_GRACE_SECONDS)
    sys.argv = ["flask", "--app", "wsgi", "worker", "--scheduler", "--nice", "0"]
    flask_main()


if __name__ == "__main__" and sys.argv[1:] == ["worker"]:
    worker_main()

"""Webhook benchmark: how fast the bot acknowledges LINE, compared with a bare endpoint.

Both targets run under gunicorn with the project's settings and 2 worker processes, and get
the same load from wrk: `connections` keep-alive connections sending signed webhook requests
as fast as they are answered, each carrying one fresh text-message event from one of a few
thousand users, for `seconds`. The app stores events in PostgreSQL (a `bench` database,
dropped and created anew each run) and handles them in its event workers, which call a fake
LINE platform (fakeline) running in this process; after the load we time how long the
workers take to drain the backlog, and check that every 200 the app sent has its event stored.
The bare endpoint runs before and after the app, and the app is compared with the mean of the two.
The web-alone layout runs gevent workers (WEB_WORKER_CLASS=gevent), the others threads (the
default): the bare endpoint runs on each worker class a chosen layout uses, and each layout is
compared with the bare endpoint on its own class.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import random
import re
import runpy
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from bench.harness import HOST, ROOT, CpuMeter, Options, Row, Server, get_json, log
from fakeline import FakeLine
from fakeline.webhook import envelope, sign, text_event

NAME = "webhook"
SECRET = "bench-channel-secret"
TOKEN = "bench-access-token"
DEFAULT_DATABASE_URL = f"postgresql://postgres@{HOST}:5432/bench"
USERS = 3000  # "a few thousand" users: enough that per-user lanes rarely collide
TEXTS = ("สวัสดีค่ะ", "ช่วยเหลือ", "ลงทะเบียน")  # a greeting, the help keyword, the consent card
EVENTS_PER_REQUEST = 1
WRK_THREADS = 2  # one per core; each thread reads its own slice of bodies
WRK_TIMEOUT = "10s"  # wrk's default (2 s) would drop slow answers from the latency figures
WARMUP_REQUESTS = 100  # first requests pay for imports and DB connections: keep them out
BARE_POOL = 20_000  # the bare endpoint stores nothing, so reusing its bodies is harmless
ACCESS_FORMAT = "%(s)s %(m)s %(U)s"  # what the 200 count needs, and no more
LUA = Path(__file__).with_name("webhook.lua")
REPLY_TOKEN_SECONDS = 60  # how long LINE accepts a reply token
START_SLACK = 30  # seconds from writing the bodies to the start of the load, at most
# Each app layout is compared with the bare endpoint on the same gunicorn worker class: threads
# (the project's default), or gevent (WEB_WORKER_CLASS=gevent), which the web-alone layout
# runs, as a deployment whose event workers are on other machines would.
BARE_TARGETS = {
    "gthread": "bare Flask (signature only)",
    "gevent": "bare Flask (signature only), gevent workers",
}
WORKER_CLASS_ENV = {
    "gthread": {"WEB_WORKER_CLASS": "gthread"},
    "gevent": {"WEB_WORKER_CLASS": "gevent"},
}
# How the app is laid out: event workers inside the web processes (the default); web
# processes that only store and answer, with one niced `flask worker` process beside them;
# or web processes alone during the load, the worker process started when it stops. The last
# is a deployment with its workers on another machine, which two cores can only play in turn:
# it measures what acknowledging costs, the thing the bare endpoint is compared with.
LAYOUTS = ("inprocess", "separate", "deferred")
APP_TARGETS = {
    "inprocess": "app, workers in the web processes",
    "separate": "app, web + niced worker process",
    "deferred": "app, web alone (worker after the load)",
}
BARE_OF_LAYOUT = {"inprocess": "gthread", "separate": "gthread", "deferred": "gevent"}


@dataclass
class Load:
    """What wrk saw (BENCH_JSON from webhook.lua), plus the server's own count of 200s."""

    duration_us: int
    responses: int
    sent: int
    ok: int
    non2xx: int
    wrapped: int
    socket_errors: int
    timeouts: int
    p50_us: int
    p90_us: int
    p99_us: int
    max_us: int
    mean_us: float
    server_200s: int = 0  # POST /callback answered 200 per gunicorn's access log
    cpu: dict[str, float] = field(default_factory=dict)  # cores' worth used during the load
    cpu_idle: float = 0.0

    @property
    def seconds(self) -> float:
        return self.duration_us / 1e6

    @property
    def rps(self) -> float:
        return self.responses / self.seconds

    @property
    def eps(self) -> float:
        return self.ok * EVENTS_PER_REQUEST / self.seconds


@dataclass
class Drain:
    backlog: int | None  # pending events when the load stopped
    seconds: float | None  # until pending_events was 0; None if not within the bound
    waited: float  # how long we polled
    last_pending: int | None
    failed: int | None


def run(out_dir: Path, options: Options) -> list[Row]:
    wrk = ensure_wrk()
    rng = random.Random(20240601)  # the same users and texts every run
    users = [f"U{rng.getrandbits(128):032x}" for _ in range(USERS)]
    common_env = base_env()
    kinds = sorted({BARE_OF_LAYOUT[layout] for layout in chosen_layouts()})

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-webhook-")))
        # Schema checks against LINE's OpenAPI file cost the fake milliseconds per call on the
        # same two cores; the tests check the schema, here the fake only has to answer.
        fake = FakeLine(access_token=TOKEN, schema_path=None)
        fake.start()
        stack.callback(fake.stop)

        # 1. The bare endpoint first: its rate tells how many fresh bodies the app may need.
        log(f"bare: writing {BARE_POOL} signed bodies")
        write_bodies(tmp / "bare-", BARE_POOL, users, rng, lambda _: secrets.token_hex(16))
        warmup = _warmup_bodies(users, rng, lambda _: secrets.token_hex(16))
        before = {
            kind: _run_bare(_bare_name(kind), wrk, warmup, tmp, common_env, kind, options, out_dir)
            for kind in kinds
        }

        # 2. The app, once per layout, each on a fresh database.
        finishes = [
            (
                BARE_OF_LAYOUT[layout],
                _run_app(
                    layout,
                    wrk,
                    fake,
                    before[BARE_OF_LAYOUT[layout]],
                    users,
                    rng,
                    tmp,
                    common_env,
                    options,
                    out_dir,
                ),
            )
            for layout in chosen_layouts()
        ]
        # 3. The bare endpoint again: this machine's speed drifts by tens of percent within
        # minutes (other tenants), so the app is compared with the mean of the runs around it.
        after = {
            kind: _run_bare(
                _bare_name(kind, "after"), wrk, warmup, tmp, common_env, kind, options, out_dir
            )
            for kind in kinds
        }
    bare = {kind: _mean_load(before[kind], after[kind]) for kind in kinds}
    rows = []
    for kind in kinds:
        rows += _load_rows(BARE_TARGETS[kind], bare[kind], None)
        rows.append(
            Row(
                NAME,
                BARE_TARGETS[kind],
                "requests/s before / after the app",
                f"{_n(before[kind].rps)} / {_n(after[kind].rps)}",
                "the figures above are the mean of the two runs",
            )
        )
    for kind, finish in finishes:
        rows += finish(bare[kind])
    return rows


def _bare_name(kind: str, when: str = "") -> str:
    """Its files' prefix: bare, bare-after (threads); bare-gevent, bare-gevent-after."""
    return "-".join(part for part in ("bare", "" if kind == "gthread" else kind, when) if part)


def _run_bare(
    name: str,
    wrk: str,
    warmup: list[tuple[bytes, str]],
    tmp: Path,
    common_env: dict[str, str],
    kind: str,
    options: Options,
    out_dir: Path,
) -> Load:
    argv = gunicorn_argv("bench/bare_gunicorn.conf.py", "bench.bare_app:app", out_dir, name)
    env = {**common_env, **WORKER_CLASS_ENV[kind]}
    with Server(name, argv, env, out_dir / f"{name}-gunicorn.log") as server:
        _post_all(server.url, warmup)
        log(f"{name}: {options.connections} connections for {options.seconds}s")
        load = run_wrk(wrk, server, tmp / "bare-", options, out_dir / f"{name}-wrk.txt")
    load.server_200s = count_200s(out_dir / f"{name}-access.log")
    return load


def _mean_load(a: Load, b: Load) -> Load:
    """Two runs as one: counts added up; latencies and shares of cores averaged."""
    counts = ("duration_us", "responses", "sent", "ok", "non2xx", "wrapped", "socket_errors")
    latencies = ("p50_us", "p90_us", "p99_us", "max_us", "mean_us")
    return Load(
        **{k: getattr(a, k) + getattr(b, k) for k in (*counts, "timeouts", "server_200s")},
        **{k: (getattr(a, k) + getattr(b, k)) / 2 for k in latencies},  # type: ignore[arg-type]
        cpu={k: (a.cpu.get(k, 0.0) + b.cpu.get(k, 0.0)) / 2 for k in a.cpu.keys() | b.cpu.keys()},
        cpu_idle=(a.cpu_idle + b.cpu_idle) / 2,
    )


def chosen_layouts() -> list[str]:
    """The app layouts to run: all, or those BENCH_WEBHOOK_LAYOUTS names (comma-separated)."""
    names = os.environ.get("BENCH_WEBHOOK_LAYOUTS", ",".join(LAYOUTS)).split(",")
    unknown = set(names) - set(LAYOUTS)
    if unknown:
        raise RuntimeError(f"BENCH_WEBHOOK_LAYOUTS: unknown {', '.join(sorted(unknown))}")
    return [layout for layout in LAYOUTS if layout in names]


def _run_app(
    layout: str,
    wrk: str,
    fake: FakeLine,
    bare: Load,
    users: list[str],
    rng: random.Random,
    tmp: Path,
    common_env: dict[str, str],
    options: Options,
    out_dir: Path,
) -> Callable[[Load], list[Row]]:
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    name = f"app-{layout}"
    separate = layout != "inprocess"
    fake.reset()  # each layout counts its own LINE calls
    app_env = {
        **common_env,
        "LINE_API_BASE_URL": fake.base_url,
        "LINE_DATA_API_BASE_URL": fake.base_url,
        "DATABASE_URL": database_url,
        "INBOX_WORKERS": os.environ.get("INBOX_WORKERS", "4"),
        "RUN_SCHEDULER": "false",
        # Else the web processes only store and answer; a niced worker process handles.
        "RUN_WORKERS": "0" if separate else "1",
        **WORKER_CLASS_ENV[BARE_OF_LAYOUT[layout]],
    }
    reset_database(database_url)
    flask_db_upgrade(app_env, out_dir / f"{name}-migrate.log")
    pool = math.ceil(bare.rps * options.seconds * 1.25) + 1000
    # LINE takes a reply token for about a minute after the webhook. Tokens are issued now,
    # before the server starts, so each lives a minute past the end of the load: at least
    # LINE's minute for every request, at most ~1.5 (the slack covers start-up and warm-up).
    ttl = START_SLACK + options.seconds + REPLY_TOKEN_SECONDS
    log(f"{name}: writing {pool} signed bodies with reply tokens issued by the fake")
    write_bodies(tmp / f"{name}-", pool, users, rng, lambda u: fake.issue_reply_token(u, ttl))
    warmup = _warmup_bodies(users, rng, lambda u: fake.issue_reply_token(u, ttl))
    app_argv = gunicorn_argv("gunicorn.conf.py", "wsgi:app", out_dir, name)
    with ExitStack() as stack:
        server = stack.enter_context(
            Server(name, app_argv, app_env, out_dir / f"{name}-gunicorn.log")
        )
        worker_log = out_dir / f"{name}-worker.log"
        with ExitStack() as warming:
            if separate:
                warming.enter_context(_worker_process(app_env, worker_log))
            _post_all(server.url, warmup)
            _wait_idle(server.url, timeout=60)
            if layout == "separate":
                stack.enter_context(warming.pop_all())
        log(f"{name}: {options.connections} connections for {options.seconds}s")
        app = run_wrk(wrk, server, tmp / f"{name}-", options, out_dir / f"{name}-wrk.txt")
        if layout == "deferred":
            stack.enter_context(_worker_process(app_env, worker_log.with_suffix(".after.log")))
        log(f"{name}: load stopped; waiting up to {options.drain_timeout:.0f}s for the backlog")
        drain = wait_drained(server.url, options.drain_timeout, out_dir / f"{name}-drain.csv")
    app.server_200s = count_200s(out_dir / f"{name}-access.log")
    stored = database_counts(database_url)
    calls = Counter(f"{r.endpoint} {r.status}" for r in fake.requests)
    fake_errors = fake.errors
    problems = log_problems(out_dir / f"{name}-gunicorn.log")
    summary = {
        "options": asdict(options),
        "layout": layout,
        "database": _redact(database_url),
        "gunicorn": _gunicorn_settings(app_env),
        "INBOX_WORKERS": app_env["INBOX_WORKERS"],
        "cores": os.cpu_count(),
        "bare_before": asdict(bare),
        "app": asdict(app),
        "app_pool": pool,
        "drain": asdict(drain),
        "stored": stored,
        "fake_calls": dict(calls),
        "fake_errors": fake_errors[:50],
        "app_log_problems": problems,
    }
    (out_dir / f"{name}-summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    target = APP_TARGETS[layout]

    def finish(bare: Load) -> list[Row]:
        """The rows, once the bare runs around this one are known."""
        return _app_rows(
            target, bare, app, drain, stored, calls, len(fake_errors), problems, len(warmup)
        )

    return finish


@contextmanager
def _worker_process(env: dict[str, str], log_path: Path) -> Iterator[None]:
    """`flask --app wsgi worker` beside the web processes, stopped (then killed) at the end."""
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--nice", "10"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# ----- load -----------------------------------------------------------------------------


def ensure_wrk() -> str:
    """wrk's path, installing Debian's package first when it is missing (needs root)."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise RuntimeError("wrk is missing; install it with: apt-get install -y wrk")
    log("wrk is missing; installing it with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    to_stderr: dict[str, Any] = {"stdout": sys.stderr, "stderr": sys.stderr, "env": env}
    if subprocess.run(["apt-get", "install", "-y", "wrk"], **to_stderr, timeout=300).returncode:
        # A fresh machine has no package lists yet.
        subprocess.run(["apt-get", "update"], **to_stderr, timeout=300, check=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], **to_stderr, timeout=300, check=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is still missing after apt-get install")
    return found


def _body(user: str, text: str, reply_token: str) -> tuple[bytes, str]:
    """A webhook request as LINE sends it: compact JSON and its signature."""
    event = text_event(user, text, reply_token)
    body = json.dumps(envelope([event]), ensure_ascii=False, separators=(",", ":")).encode()
    return body, sign(SECRET, body)


def write_bodies(
    prefix: Path,
    count: int,
    users: list[str],
    rng: random.Random,
    reply_token: Callable[[str], str],
) -> None:
    """`count` bodies, each with a fresh event ID, dealt round-robin into one file per wrk
    thread as "<signature>\\t<body>" lines (JSON escapes tabs and newlines inside strings)."""
    files = [open(f"{prefix}{n}.tsv", "wb") for n in range(WRK_THREADS)]  # noqa: SIM115
    try:
        for i in range(count):
            user = rng.choice(users)
            body, signature = _body(user, rng.choice(TEXTS), reply_token(user))
            files[i % WRK_THREADS].write(signature.encode() + b"\t" + body + b"\n")
    finally:
        for f in files:
            f.close()


def _warmup_bodies(
    users: list[str], rng: random.Random, reply_token: Callable[[str], str]
) -> list[tuple[bytes, str]]:
    picks = [(rng.choice(users), rng.choice(TEXTS)) for _ in range(WARMUP_REQUESTS)]
    return [_body(user, text, reply_token(user)) for user, text in picks]


def _post_all(url: str, bodies: list[tuple[bytes, str]]) -> None:
    """Warm-up: one request per connection, so that both gunicorn workers get some."""
    port = urlsplit(url).port
    for body, signature in bodies:
        conn = http.client.HTTPConnection(HOST, port, timeout=10)
        try:
            headers = {"Content-Type": "application/json", "x-line-signature": signature}
            conn.request("POST", "/callback", body, headers)
            status = conn.getresponse().status
        finally:
            conn.close()
        if status != 200:
            raise RuntimeError(f"warm-up request answered {status}")


def run_wrk(wrk: str, server: Server, prefix: Path, options: Options, out: Path) -> Load:
    argv = [
        wrk,
        f"--threads={WRK_THREADS}",
        f"--connections={options.connections}",
        f"--duration={options.seconds}s",
        f"--timeout={WRK_TIMEOUT}",
        "--latency",
        f"--script={LUA}",
        server.url + "/callback",
        "--",
        str(prefix),
    ]
    assert server.proc is not None
    with CpuMeter(server_group=server.proc.pid) as cpu:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=options.seconds + 120)
    out.write_text(done.stdout + done.stderr + f"\n{cpu.describe()}\n")
    match = re.search(r"^BENCH_JSON (\{.*\})$", done.stdout, re.MULTILINE)
    if done.returncode or not match:
        raise RuntimeError(f"wrk failed (exit {done.returncode}); see {out}")
    return Load(**json.loads(match.group(1)), cpu=cpu.share, cpu_idle=cpu.idle)


def count_200s(access_log: Path) -> int:
    return sum(1 for line in access_log.open() if line.strip() == "200 POST /callback")


def _wait_idle(url: str, timeout: float) -> None:
    """Start the load with the warm-up's events handled, so the backlog is the load's own."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, data = get_json(url + "/healthz")
        if status == 200 and data.get("pending_events") == 0:
            return
        time.sleep(0.25)
    raise RuntimeError(f"warm-up events still pending after {timeout}s")


def wait_drained(url: str, timeout: float, csv: Path) -> Drain:
    """Poll /healthz until no event is pending (or `timeout`), writing each sample to `csv`."""
    start = time.monotonic()
    backlog = pending = failed = None
    with csv.open("w") as out:
        out.write("seconds,status,pending_events,failed_events\n")
        while True:
            elapsed = time.monotonic() - start
            status, data = get_json(url + "/healthz")
            if status == 200:
                pending, failed = data["pending_events"], data["failed_events"]
                backlog = pending if backlog is None else backlog
            out.write(f"{elapsed:.2f},{status},{pending},{failed}\n")
            if status == 200 and pending == 0:
                return Drain(backlog, elapsed, elapsed, pending, failed)
            if elapsed >= timeout:
                return Drain(backlog, None, elapsed, pending, failed)
            time.sleep(0.25)


# ----- servers and database ---------------------------------------------------------------


def base_env() -> dict[str, str]:
    """What both servers get. GUNICORN_CMD_ARGS and ACCESS_LOG from the caller's shell are
    dropped: they would make the two targets differ."""
    env = {k: v for k, v in os.environ.items() if k not in ("GUNICORN_CMD_ARGS", "ACCESS_LOG")}
    env.update(
        WEB_CONCURRENCY="2",
        LINE_CHANNEL_SECRET=SECRET,
        LINE_CHANNEL_ACCESS_TOKEN=TOKEN,
        SECRET_KEY="bench-secret-key",  # else the app writes one into instance/
        PYTHONUNBUFFERED="1",
    )
    return env


def gunicorn_argv(config: str, app: str, out_dir: Path, name: str) -> list[str]:
    # The access log is on for both targets alike: it gives the server's own count of 200s,
    # which includes answers still in flight when wrk stopped reading.
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        config,
        "--access-logfile",
        str(out_dir / f"{name}-access.log"),
        "--access-logformat",
        ACCESS_FORMAT,
        # gunicorn's control socket defaults to one path per user: ours would take it from
        # any other gunicorn running on the machine (another developer's, CI's).
        "--no-control-socket",
        app,
    ]


def _gunicorn_settings(env: dict[str, str]) -> dict[str, Any]:
    """The settings a target ran with, as the project's gunicorn.conf.py computes them."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return {k: conf.get(k) for k in ("workers", "worker_class", "threads", "timeout")}


def reset_database(url: str) -> None:
    """Drop and create the benchmark database, so no run inherits another's rows."""
    params = psycopg.conninfo.conninfo_to_dict(url.replace("+psycopg", "", 1))
    name = params.get("dbname")
    if not name or name in ("postgres", "template0", "template1"):
        raise RuntimeError(f"refusing to drop database {name!r}; name a benchmark database")
    with psycopg.connect(**{**params, "dbname": "postgres"}, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    log(f"database {name} created anew")


def flask_db_upgrade(env: dict[str, str], log_path: Path) -> None:
    with log_path.open("wb") as out:
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=300,
            check=True,
        )


def database_counts(url: str) -> dict[str, Any]:
    with psycopg.connect(url.replace("+psycopg", "", 1)) as conn:
        inbox = conn.execute("SELECT status, count(*) FROM inbox_events GROUP BY 1").fetchall()
        outbox = conn.execute(
            "SELECT kind, status, count(*) FROM outbox_messages GROUP BY 1, 2"
        ).fetchall()
    return {
        "inbox": {status: n for status, n in inbox},
        "events": sum(n for _, n in inbox),
        "outbox": {f"{kind} {status}": n for kind, status, n in outbox},
    }


def log_problems(path: Path) -> dict[str, Any]:
    """Errors the app logged during the run: a fast benchmark that fails quietly is no good."""
    lines = path.read_text(errors="replace").splitlines()
    bad = [line for line in lines if " ERROR " in line or " WARNING " in line]
    return {
        "errors": sum(" ERROR " in line for line in bad),
        "warnings": sum(" WARNING " in line for line in bad),
        "tracebacks": sum(line.startswith("Traceback") for line in lines),
        "first": bad[:10],
    }


def _redact(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


# ----- the table -------------------------------------------------------------------------


def _ms(us: float) -> str:
    return f"{us / 1000:.1f} ms"


def _n(value: float) -> str:
    return f"{value:,.0f}"


def _times(a: float, b: float) -> str:
    # Two significant digits below 1: gevent's bare endpoint has p99s twenty times the app's,
    # which one decimal showed as "0.0×".
    return f"{a / b:.2g}× bare ({_ms(b)})" if b else "—"


def _app_rows(
    app_target: str,
    bare: Load,
    app: Load,
    drain: Drain,
    stored: dict[str, Any],
    calls: Counter[str],
    fake_errors: int,
    problems: dict[str, Any],
    warmup: int,
) -> list[Row]:
    rows = _load_rows(app_target, app, bare)
    load_events = app.server_200s - warmup  # what the load itself got stored
    backlog = drain.backlog or 0
    if drain.seconds is None:  # gave up at --drain-timeout: say how far it got
        left = drain.last_pending or 0
        per_s = (backlog - left) / drain.waited
        drained = f"> {drain.waited:.0f} s ({_n(left)} still pending)"
        rate = f"{per_s:,.0f} events/s while draining" + (
            f"; ~{left / per_s:,.0f} s more at that rate" if per_s > 0 else ""
        )
    else:
        drained = f"{drain.seconds:.1f} s"
        rate = f"{backlog / max(drain.seconds, 0.001):,.0f} events/s while draining"
    match = "✓ match" if stored["events"] == app.server_200s else "✗ MISMATCH"
    in_flight = app.server_200s - app.ok - warmup
    reused = f"; {app.wrapped} bodies REUSED" if app.wrapped else ""
    rows += [
        Row(
            NAME,
            app_target,
            "backlog when load stopped",
            f"{_n(backlog)} events",
            f"{100 * backlog / max(load_events, 1):.0f} % of the load's events; handled "
            f"{(load_events - backlog) / app.seconds:,.0f}/s during the load",
        ),
        Row(NAME, app_target, "backlog drain time", drained, rate),
        Row(
            NAME,
            app_target,
            "events stored vs 200s sent",
            f"{_n(stored['events'])} vs {_n(app.server_200s)} {match}",
            f"wrk read {_n(app.ok)} 200s + {warmup} warm-up; {in_flight} in flight at cut-off"
            + reused,
        ),
        Row(
            NAME,
            app_target,
            "LINE calls made",
            f"{_n(calls.get('reply 200', 0))} replies, {_n(calls.get('push 200', 0))} pushes, "
            f"{_n(calls.get('reply 400', 0))} replies refused (token expired)",
            f"failed events {drain.failed}, fake errors {fake_errors}, "
            f"app log: {problems['errors']} errors, {problems['warnings']} warnings",
        ),
    ]
    return rows


def _load_rows(target: str, load: Load, bare: Load | None) -> list[Row]:
    """The figures both targets have; for the app, `bare` fills the comparison column."""
    figures = [
        ("ack latency p50", _ms(load.p50_us), lambda b: _times(load.p50_us, b.p50_us)),
        ("ack latency p99", _ms(load.p99_us), lambda b: _times(load.p99_us, b.p99_us)),
        ("requests/s", _n(load.rps), lambda b: _percent(load.rps, b.rps)),
        ("events/s acknowledged", _n(load.eps), lambda b: _percent(load.eps, b.eps)),
        (
            "non-2xx responses",
            f"{_n(load.non2xx)} (+{_n(load.socket_errors + load.timeouts)} socket/timeout)",
            lambda b: f"bare: {_n(b.non2xx)}",
        ),
        (
            "server CPU per request",
            f"{_cpu_ms(load, 'server'):.2f} ms",
            lambda b: f"{_cpu_ms(load, 'server') / _cpu_ms(b, 'server'):.1f}× bare",
        ),
        ("cores used during load", _cores(load), lambda b: "bare: " + _cores(b)),
    ]
    return [
        Row(NAME, target, metric, value, compare(bare) if bare else "")
        for metric, value, compare in figures
    ]


def _percent(value: float, bare: float) -> str:
    return f"{100 * value / bare:.0f} % of bare ({_n(bare)}/s)"


def _cpu_ms(load: Load, part: str) -> float:
    """CPU milliseconds `part` spent per response during the load."""
    return 1000 * load.cpu.get(part, 0.0) * load.seconds / max(load.responses, 1)


def _cores(load: Load) -> str:
    parts = ("server", "postgres", "wrk", "fake", "other")
    shares = ", ".join(f"{p} {load.cpu.get(p, 0.0):.2f}" for p in parts)
    return f"{shares}; idle {load.cpu_idle:.2f}"

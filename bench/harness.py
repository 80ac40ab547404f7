"""What every benchmark shares: result rows, the markdown table, and gunicorn servers on
free loopback ports that are stopped whatever happens."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parents[1]  # the repository: gunicorn runs from here
HOST = "127.0.0.1"  # every server and every load stays on loopback


@dataclass
class Options:
    """What `python -m bench` passes every benchmark; each reads what concerns it."""

    seconds: int = 30  # load per target (webhook) or measured load (handling)
    connections: int = 50  # wrk's connections (webhook)
    drain_timeout: float = 120.0  # longest wait for the app's backlog (webhook)
    quick: bool = False  # smoke sizes, where a benchmark has them
    seconds_given: bool = False  # --seconds was on the command line (else each its default)


@dataclass
class Row:
    """One measured thing. `comparison` holds the figure it is judged against, measured in
    the same run (never a number remembered from another machine or day)."""

    benchmark: str
    target: str
    metric: str
    value: str
    comparison: str = ""


def markdown_table(rows: list[Row]) -> str:
    header = ["benchmark", "target", "metric", "value", "comparison (same run)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        cells = [r.benchmark, r.target, r.metric, r.value, r.comparison or "—"]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def machine(database_url: str) -> dict[str, str]:
    """What the figures were measured on: they mean little without it."""
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1])
        ram = f"{kib / 2**20:.1f} GiB"
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %z"),
        "commit": _commit(),
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "ram": ram,
        "os": platform.platform(terse=True),
        "python": platform.python_version(),
        "postgresql": _postgres_version(database_url),
    }


def machine_block(facts: dict[str, str]) -> str:
    """The machine as a few markdown lines, to go above the table."""
    return "\n".join(f"- {key}: {value}" for key, value in facts.items())


def _postgres_version(url: str) -> str:
    try:
        import psycopg

        params = psycopg.conninfo.conninfo_to_dict(url.replace("+psycopg", "", 1))
        with psycopg.connect(**{**params, "dbname": "postgres"}, connect_timeout=5) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "unknown"
    except Exception as exc:  # the table is still worth printing without it
        return f"unknown ({type(exc).__name__})"


def _commit() -> str:
    """The checked-out commit, read from .git without running git; "unknown" if absent."""
    git = ROOT / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head[:12]
        ref = head[5:]
        if (git / ref).exists():
            return (git / ref).read_text().strip()[:12]
        for line in (git / "packed-refs").read_text().splitlines():
            if line.endswith(" " + ref):
                return line.split()[0][:12]
    except OSError:
        pass
    return "unknown"


def log(message: str) -> None:
    """Progress goes to stderr so that stdout carries only the table."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    # Another process could take the port between close() and gunicorn's bind; on a bench
    # machine that is rare, and the server then fails to start loudly rather than silently.
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def get_json(url: str, timeout: float = 5.0) -> tuple[int, Any]:
    """GET a URL; (status, parsed JSON or None). Connection errors come back as status 0."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, None
    except (OSError, ValueError):
        return 0, None


_TICK = os.sysconf("SC_CLK_TCK")


def _machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields) - idle) / _TICK, sum(fields) / _TICK


class ProcessCpu(NamedTuple):
    group: int  # process group
    name: str  # command name
    cpu: float  # CPU seconds used so far
    parent: int


def _process_cpu() -> dict[int, ProcessCpu]:
    """pid -> its group, name, CPU seconds and parent, for every process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        rest = raw[raw.rindex(")") + 2 :].split()
        # After the name: state ppid pgrp ...; utime and stime are fields 14 and 15 of stat.
        cpu = (int(rest[11]) + int(rest[12])) / _TICK
        found[int(entry.name)] = ProcessCpu(int(rest[2]), name, cpu, int(rest[1]))
    return found


def children_cpu() -> float:
    """CPU seconds used so far by this process's running children (e.g. a fake LINE)."""
    me = os.getpid()
    return sum(p.cpu for p in _process_cpu().values() if p.parent == me)


def _rusage(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


class CpuMeter:
    """Where the machine's CPU went during a load window: the server under test (its process
    group), PostgreSQL, wrk, this process ("fake": the fake LINE and the driver), and everything
    else on the machine (other users' work is noise the figures should admit to)."""

    def __init__(self, server_group: int) -> None:
        self.server_group = server_group

    def __enter__(self) -> CpuMeter:
        self._start = time.monotonic()
        self._machine = _machine_busy()
        self._procs = _process_cpu()
        self._self, self._children = (
            _rusage(resource.RUSAGE_SELF),
            _rusage(resource.RUSAGE_CHILDREN),
        )
        return self

    def __exit__(self, *exc: object) -> None:
        wall = time.monotonic() - self._start
        busy, total = (b - a for a, b in zip(self._machine, _machine_busy(), strict=True))
        used = {
            "server": 0.0,
            "postgres": 0.0,
            # wrk has exited and been reaped by now: it is the child that ended in the window.
            "wrk": _rusage(resource.RUSAGE_CHILDREN) - self._children,
            "fake": _rusage(resource.RUSAGE_SELF) - self._self,  # this process: the fake LINE
        }
        for pid, now in _process_cpu().items():
            before = self._procs.get(pid)
            delta = now.cpu - (before.cpu if before and before.name == now.name else 0.0)
            if now.group == self.server_group:
                used["server"] += delta
            elif now.name.startswith("postgres"):
                used["postgres"] += delta
        # Processes that ended inside the window (short-lived backends) land in "other".
        used["other"] = max(busy - sum(used.values()), 0.0)
        cores = total / wall if wall else float(os.cpu_count() or 1)
        self.share = {k: v / wall for k, v in used.items()}  # cores' worth of each
        self.idle = max(cores - busy / wall, 0.0)

    def describe(self) -> str:
        parts = [f"{k} {v:.2f}" for k, v in self.share.items()]
        return "cores busy: " + ", ".join(parts) + f"; idle {self.idle:.2f}"


class Server:
    """A gunicorn process group started from the repository root, logging to `log_path`.

    Used as a context manager: waits until `ready_path` answers 200, and on exit stops the
    master with SIGTERM (its workers finish in-flight requests), then SIGKILLs the process
    group it started if that has not worked within `stop_timeout` seconds.
    """

    def __init__(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str],
        log_path: Path,
        ready_path: str = "/healthz",
        start_timeout: float = 60.0,
        stop_timeout: float = 30.0,
    ) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.argv = argv
        self.env = {**env, "BIND": f"{HOST}:{self.port}"}
        self.log_path = log_path
        self.ready_path = ready_path
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        self._log_file = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() can reach the workers
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        log(f"{self.name}: up at {self.url} (pid {self.proc.pid})")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _wait_ready(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start; see {self.log_path}")
            status, _ = get_json(self.url + self.ready_path, timeout=1.0)
            if status == 200:
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer within {self.start_timeout}s")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                log(f"{self.name}: no clean exit in {self.stop_timeout}s; killing its group")
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        if proc is not None:
            # A worker orphaned by its master would keep the group alive: end it too.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            self._log_file.close()


def insert_leaders(
    session: Any,
    line_ids: list[str],
    subdistricts: list[str],
    *,
    name: str = "ผู้นำ ทดสอบ",
    phones: list[str] | None = None,
) -> list[int]:
    """Registered, consenting leaders written straight to the database (registering is not
    what the benchmarks measure), the n-th in subdistricts[n % len]; returns their user ids."""
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from bot.models import LeaderProfile, User

    now = datetime.now(UTC)
    place = [subdistricts[n % len(subdistricts)] for n in range(len(line_ids))]
    ids = list(
        session.execute(
            insert(User).returning(User.id, sort_by_parameter_order=True),
            [
                {
                    "line_user_id": line_id,
                    "display_name": f"ผู้นำ {n}",
                    "role": "leader",
                    "status": "active",
                    "area_code": place[n],
                    "consent_at": now,
                }
                for n, line_id in enumerate(line_ids)
            ],
        ).scalars()
    )
    session.execute(
        insert(LeaderProfile),
        [
            {
                "user_id": user_id,
                "full_name": f"{name}{n}",
                "phone": phones[n] if phones else None,
                "subdistrict_code": place[n],
                "district_code": place[n][:4],
                "province_code": place[n][:2],
                "registered_at": now,
            }
            for n, user_id in enumerate(ids)
        ],
    )
    return ids

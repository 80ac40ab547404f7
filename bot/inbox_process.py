"""The inbox writer in a process of its own (`INBOX_WRITER=process`, gunicorn's default).

A web process under load spends its one interpreter lock on HTTP; a writer thread beside it
(bot/inbox_writer.py) makes every request thread wait for that lock while it talks to the
database, which halved the webhook's throughput (bench/RESULTS.md). Here a separate process
does only the group commit: request threads send their events over a Unix socket and block,
without the lock, until the writer answers that the batch holding them is committed. The
answer to LINE still comes only after the commit.

Under gunicorn the master starts one writer for all its workers (`WriterSupervisor`, from
gunicorn.conf.py), so that their requests share batches: a batch's commit costs about the
same for one event as for ten. Elsewhere each web process starts a writer of its own on
first use. Either way a writer that dies is started again, and the requests it held answer
500, so LINE delivers those events again; the inbox drops repeats by webhookEventId.

Frames: a 4-byte big-endian length and that many bytes of JSON (the request's events); the
writer answers each frame with one byte, 1 stored or 0 not.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import psycopg
from psycopg.types.json import Json
from sqlalchemy import Connection
from sqlalchemy.engine import make_url

from bot import inbox
from bot.db import Database
from bot.inbox_writer import WAIT_SECONDS, Store, write_batch
from bot.models import InboxEvent, utcnow

log = logging.getLogger(__name__)

HEADER = 4
STORED, NOT_STORED = b"\x01", b"\x00"
START_SECONDS = 30  # the writer imports the models first
ROOT = Path(__file__).resolve().parents[1]
APPLICATION = "mchch-inbox-writer"  # how the writer shows in pg_stat_activity
FOLDER_PREFIX = "mchch-inbox-"
# A folder this old whose socket takes no connection belongs to no writer: one starting creates
# its socket within START_SECONDS, and a restart renews the folder's time.
STALE_SECONDS = 120


class NotStored(RuntimeError):
    """The events were not committed; the webhook answers 500 and LINE delivers them again."""


class WriterChild:
    """One writer process and its private folder (only this user may enter) and socket."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        sweep_stale_folders()
        self.folder = tempfile.mkdtemp(prefix=FOLDER_PREFIX)
        self.socket_path = os.path.join(self.folder, "inbox.sock")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.running() else None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Start the writer and return once its socket takes connections."""
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)
        os.makedirs(self.folder, mode=0o700, exist_ok=True)  # in case a sweep took it meanwhile
        env = {**os.environ, "DATABASE_URL": self.database_url}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.inbox_process", self.socket_path],
            stdin=subprocess.PIPE,
            env=env,
        )
        deadline = time.monotonic() + START_SECONDS
        while not os.path.exists(self.socket_path):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                process.wait()
                raise NotStored("the inbox writer process did not start")
            time.sleep(0.01)
        self.process = process

    def wait(self) -> int:
        assert self.process is not None
        return self.process.wait()

    def kill(self) -> None:
        if self.running():
            assert self.process is not None
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        """Let the writer finish what it holds and exit; then remove its folder."""
        if self.running():
            assert self.process is not None and self.process.stdin is not None
            self.process.stdin.close()  # the writer's cue to finish and exit
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        shutil.rmtree(self.folder, ignore_errors=True)

    def forget(self) -> None:
        """In a forked copy (a gunicorn worker): drop the inherited pipe end, so that the
        writer's life follows its owner's alone."""
        if self.process is not None and self.process.stdin is not None:
            self.process.stdin.close()
        self.process = None


def sweep_stale_folders() -> None:
    """Remove this user's writer folders that no writer uses any more. A writer removes its own
    when its owner goes, but not when both are killed at once (SIGKILL of a whole gunicorn
    process group), and each left an empty folder in the temp folder."""
    now = time.time()
    for folder in Path(tempfile.gettempdir()).glob(FOLDER_PREFIX + "*"):
        try:
            info = folder.lstat()
        except OSError:
            continue
        if info.st_uid != os.getuid() or now - info.st_mtime < STALE_SECONDS:
            continue
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(folder / "inbox.sock"))
            continue  # a live writer (a connection that sends nothing costs it nothing)
        except OSError:
            shutil.rmtree(folder, ignore_errors=True)
        finally:
            probe.close()


class WriterSupervisor:
    """One writer for every worker of a gunicorn server: the master starts it before the
    workers (gunicorn.conf.py), starts it again whenever it exits, and stops it last."""

    RESTART_PAUSE = 0.5  # a writer that cannot start (no database) is not retried in a spin

    def __init__(self, database_url: str) -> None:
        self.child = WriterChild(database_url)
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    @property
    def socket_path(self) -> str:
        return self.child.socket_path

    def start(self) -> None:
        self.child.start()
        self._watcher = threading.Thread(target=self._watch, name="inbox-writer-watch", daemon=True)
        self._watcher.start()

    def stop(self) -> None:
        self._stopping.set()
        self.child.stop()

    def _watch(self) -> None:
        while True:
            code = self.child.wait()
            if self._stopping.wait(self.RESTART_PAUSE):
                return
            log.warning("inbox writer process exited (%s); starting another", code)
            try:
                self.child.start()
            except NotStored:
                log.error("inbox writer process did not start; trying again")


_server_writer: WriterSupervisor | None = None


def start_server_writer(database_url: str) -> str:
    """Start the writer of a gunicorn master (gunicorn.conf.py); its socket path."""
    global _server_writer
    _server_writer = WriterSupervisor(database_url)
    _server_writer.start()
    return _server_writer.socket_path


def server_writer() -> WriterSupervisor | None:
    """The writer this gunicorn master started, also after a reload; None elsewhere."""
    return _server_writer


class _Held(NamedTuple):
    """A request thread's connection to the writer, kept between its requests."""

    generation: int  # of the own writer it reached; a restarted writer has a new one
    connection: socket.socket
    writer_pid: int | None  # to stop that writer if it hangs


class InboxWriterProcess:
    """The web process's side: sends each request's events to the writer and waits.

    Given `socket_path` (a writer run by gunicorn's master) it only connects; without, it
    starts a writer of its own on first use and replaces it when it has died."""

    def __init__(self, database_url: str, socket_path: str | None = None) -> None:
        self.database_url = database_url
        self.shared_socket = socket_path
        self._lock = threading.Lock()
        self._local = threading.local()
        self._child: WriterChild | None = None
        self._generation = 0
        self._pid = 0

    @property
    def pid(self) -> int | None:
        """The own writer's process id, while it runs."""
        return self._child.pid if self._child is not None else None

    def store(self, events: list[dict[str, Any]]) -> None:
        payload = json.dumps(events, ensure_ascii=False).encode()
        frame = len(payload).to_bytes(HEADER, "big") + payload
        for attempt in (1, 2):
            connection, writer = self._connection()
            try:
                connection.sendall(frame)
                break
            except TimeoutError as exc:
                self._stuck(writer)
                raise NotStored("the inbox writer process did not answer in time") from exc
            except OSError as exc:
                # The writer this connection reached has gone, and a new one may run. No
                # whole frame reached the old one, so sending to the new one is safe.
                self._drop_connection()
                if attempt == 2:
                    raise NotStored("cannot reach the inbox writer process") from exc
        try:
            answer = connection.recv(1)
        except TimeoutError as exc:
            self._stuck(writer)
            raise NotStored("the inbox writer process did not answer in time") from exc
        except OSError as exc:
            self._drop_connection()
            raise NotStored("the inbox writer process did not answer") from exc
        if answer != STORED:
            if not answer:  # the writer has gone: it may or may not have committed them
                self._drop_connection()
            raise NotStored("the inbox writer process did not store the events")

    def stop(self) -> None:
        with self._lock:
            child, self._child = self._child, None
            if child is not None and self._pid == os.getpid():
                child.stop()

    def _stuck(self, pid: int | None) -> None:
        """A writer silent this long is stuck: end it, and another one takes over."""
        self._drop_connection()
        log.warning("inbox writer process did not answer; stopping it")
        with self._lock:
            if self.shared_socket is None:
                if self._child is not None:
                    self._child.kill()
            elif pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)  # gunicorn's master starts another

    def _connection(self) -> tuple[socket.socket, int | None]:
        generation, path = self._ensure_writer()
        held: _Held | None = getattr(self._local, "held", None)
        if held is not None and held.generation == generation:
            return held.connection, held.writer_pid
        self._drop_connection()
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.settimeout(WAIT_SECONDS)
        try:
            connection.connect(path)
        except OSError as exc:
            connection.close()
            raise NotStored("cannot reach the inbox writer process") from exc
        held = _Held(generation, connection, _peer_pid(connection))
        self._local.held = held
        return held.connection, held.writer_pid

    def _drop_connection(self) -> None:
        held: _Held | None = getattr(self._local, "held", None)
        self._local.held = None
        if held is not None:
            held.connection.close()

    def _ensure_writer(self) -> tuple[int, str]:
        if self.shared_socket is not None:
            return 0, self.shared_socket
        with self._lock:
            if self._pid != os.getpid():
                # A forked copy owns no writer yet, and must not use or stop the parent's.
                if self._child is not None:
                    self._child.forget()
                self._pid, self._child = os.getpid(), None
            if self._child is None:
                self._child = WriterChild(self.database_url)
            if not self._child.running():
                if self._child.process is not None:
                    code = self._child.process.returncode
                    log.warning("inbox writer process exited (%s); starting another", code)
                self._child.start()
                self._generation += 1
            return self._generation, self._child.socket_path


def _peer_pid(connection: socket.socket) -> int | None:
    """The process at the other end (Linux), to stop it if it hangs."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    credentials = connection.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    return int(struct.unpack("3i", credentials)[0])


def serve(path: str, store: Store, parent: int) -> None:
    """Answer frames until the parent closes its pipe (fd `parent`), one commit per round."""
    server = _Server(path, parent)
    while not server.closing:
        frames = server.gather(None)
        if frames:
            _store(store, frames)
    server.close()


class _Server:
    """The writer's socket: connections from request threads, and frames read from them."""

    def __init__(self, path: str, parent: int) -> None:
        self.path = path
        self.parent = parent
        self.closing = False
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path + ".new")  # left by a writer that died while starting
        self.listener.bind(path + ".new")
        os.replace(path + ".new", path)  # the path appears only once it can be connected to
        self.listener.listen(1024)
        self.listener.setblocking(False)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.listener, selectors.EVENT_READ, "accept")
        self.selector.register(parent, selectors.EVENT_READ, "parent")
        self.pending: dict[socket.socket, bytes] = {}  # a frame's first part, per connection

    def close(self) -> None:
        """Remove the socket and its folder: the owner may have been killed, leaving them."""
        self.listener.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)
            os.rmdir(os.path.dirname(self.path))

    def gather(self, timeout: float | None) -> list[tuple[socket.socket, bytes]]:
        """The whole frames that arrive within `timeout` (None: wait for something)."""
        frames: list[tuple[socket.socket, bytes]] = []
        for key, _ in self.selector.select(timeout):
            if key.data == "parent":
                self.closing = not os.read(self.parent, 4096)
            elif key.data == "accept":
                self._accept()
            else:
                frames += self._read(key.fileobj)  # type: ignore[arg-type]
        return frames

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except BlockingIOError:
                return
            connection.setblocking(False)
            self.selector.register(connection, selectors.EVENT_READ, "frames")
            self.pending[connection] = b""

    def _read(self, connection: socket.socket) -> list[tuple[socket.socket, bytes]]:
        try:
            # Not more: recv allocates what it is asked for, and a megabyte per call cost the
            # writer a fifth of its CPU (a frame is half a kilobyte; a bigger one comes in parts).
            data = connection.recv(1 << 16)
        except BlockingIOError:
            return []
        except OSError:
            data = b""
        if not data:
            self.selector.unregister(connection)
            connection.close()
            del self.pending[connection]
            return []
        buffer = self.pending[connection] + data
        frames = []
        while len(buffer) >= HEADER:
            size = int.from_bytes(buffer[:HEADER], "big")
            if len(buffer) < HEADER + size:
                break
            frames.append((connection, buffer[HEADER : HEADER + size]))
            buffer = buffer[HEADER + size :]
        self.pending[connection] = buffer
        return frames


def _store(store: Store, frames: list[tuple[socket.socket, bytes]]) -> None:
    stored = write_batch(store, [json.loads(payload) for _, payload in frames])
    for (connection, _), ok in zip(frames, stored, strict=True):
        # A request that has gone gets its events again from LINE; the copy is then dropped.
        with contextlib.suppress(OSError):
            connection.sendall(STORED if ok else NOT_STORED)  # one byte: never partly sent


class PostgresStore:
    """Events inserted with psycopg itself, one statement (and one round trip) per batch.

    The writer does nothing else, and under load its CPU is taken from the web processes on
    the same cores: SQLAlchemy's statement and type handling cost more per event than the
    insert (bench/RESULTS.md). The rows are the same `inbox.event_rows` that
    `inbox.store_events` writes everywhere else.
    """

    def __init__(self, database_url: str) -> None:
        url = make_url(database_url).set(drivername="postgresql")
        self.conninfo = url.render_as_string(hide_password=False)
        self.connection: psycopg.Connection[Any] | None = None

    def __call__(self, events: list[dict[str, Any]]) -> None:
        now = utcnow().astimezone(UTC).replace(tzinfo=None)  # stored as naive UTC (UTCDateTime)
        rows = inbox.event_rows(events, now)
        if not rows:
            return
        columns = list(rows[0])
        one = "(" + ", ".join(["%s"] * len(columns)) + ")"
        statement = (
            f"INSERT INTO {InboxEvent.__tablename__} ({', '.join(columns)}) "
            f"VALUES {', '.join([one] * len(rows))} ON CONFLICT (webhook_event_id) DO NOTHING"
        )
        values = [
            Json(value, dumps=_dumps) if column == "payload" else value
            for row in rows
            for column, value in row.items()
        ]
        for attempt in (1, 2):
            if self.connection is None or self.connection.closed:
                # Autocommit: the one INSERT is its own transaction, committed in the same
                # round trip, where BEGIN, INSERT and COMMIT would take three.
                self.connection = psycopg.connect(
                    self.conninfo, application_name=APPLICATION, connect_timeout=5, autocommit=True
                )
            try:
                with self.connection.cursor() as cursor:
                    cursor.execute(statement, values)
                return
            except Exception:
                if not self.connection.broken:
                    raise
                # The database dropped the connection (a restart, a fail-over). Inserting
                # again is safe even if the insert went through: repeats are skipped.
                self.connection.close()
                if attempt == 2:
                    raise


_dumps = partial(json.dumps, ensure_ascii=False)


def held_connection_store(database_url: str) -> Store:
    """Events stored through SQLAlchemy on one connection held for the process's life:
    checking one out of the pool for each small batch cost more than the batch's insert."""
    database = Database()
    database.configure(database_url)
    assert database.engine is not None
    held: Connection | None = None

    def store(events: list[dict[str, Any]]) -> None:
        nonlocal held
        if held is None:
            held = database.engine.connect()  # after a failure SQLAlchemy replaces its DBAPI one
        with held.begin():
            inbox.store_events(held, events)

    return store


def store_for(database_url: str) -> Store:
    if database_url.startswith("postgresql"):
        return PostgresStore(database_url)
    return held_connection_store(database_url)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    serve(sys.argv[1], store_for(os.environ["DATABASE_URL"]), sys.stdin.fileno())


if __name__ == "__main__":
    main()

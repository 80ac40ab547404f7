"""The inbox writer in a process of its own (`INBOX_WRITER=process`, gunicorn's default).

A web process under load spends its one interpreter lock on HTTP; a writer thread beside it
(bot/inbox_writer.py) makes every request thread wait for that lock while it talks to the
database, which halved the webhook's throughput (bench/RESULTS.md). Here each web process
starts a child that does only the group commit: request threads send their events over a
Unix socket and block, without the lock, until the child answers that the batch holding them
is committed. The answer to LINE still comes only after the commit.

The child dies with its parent (it watches a pipe from it); a child that died on its own is
started again by the next request, and the request that found it dead answers 500, so LINE
delivers those events again.

Frames: a 4-byte big-endian length and that many bytes of JSON (the request's events); the
child answers each frame with one byte, 1 stored or 0 not.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from bot.db import Database
from bot.inbox_writer import WAIT_SECONDS, write_batch

log = logging.getLogger(__name__)

HEADER = 4
STORED, NOT_STORED = b"\x01", b"\x00"
START_SECONDS = 30  # the child imports the models and opens the database first
ROOT = Path(__file__).resolve().parents[1]


class NotStored(RuntimeError):
    """The events were not committed; the webhook answers 500 and LINE delivers them again."""


class InboxWriterProcess:
    """The web process's side: starts the child on first use and sends it each request's events."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._lock = threading.Lock()
        self._local = threading.local()
        self._child: subprocess.Popen[bytes] | None = None
        self._folder: str | None = None
        self._generation = 0
        self._pid = 0

    def store(self, events: list[dict[str, Any]]) -> None:
        payload = json.dumps(events, ensure_ascii=False).encode()
        connection = self._connection()
        try:
            connection.sendall(len(payload).to_bytes(HEADER, "big") + payload)
            answer = connection.recv(1)
        except TimeoutError as exc:
            # A child silent this long is stuck: end it, and the next request starts another.
            self._drop_connection()
            self._kill_child()
            raise NotStored("the inbox writer process did not answer in time") from exc
        except OSError as exc:
            self._drop_connection()
            raise NotStored("the inbox writer process did not answer") from exc
        if answer != STORED:
            if not answer:  # the child has gone; the next request starts another
                self._drop_connection()
            raise NotStored("the inbox writer process did not store the events")

    def stop(self) -> None:
        with self._lock:
            child, self._child = self._child, None
            if child is not None and child.poll() is None:
                assert child.stdin is not None
                child.stdin.close()  # the child's cue to finish and exit
                try:
                    child.wait(10)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
            if self._folder:
                shutil.rmtree(self._folder, ignore_errors=True)
                self._folder = None

    def _kill_child(self) -> None:
        with self._lock:
            if self._child is not None and self._child.poll() is None:
                log.warning("inbox writer process did not answer; stopping it")
                self._child.kill()
                self._child.wait()

    def _connection(self) -> socket.socket:
        generation = self._ensure_child()
        held = getattr(self._local, "held", None)
        if held is not None and held[0] == generation:
            return held[1]
        self._drop_connection()
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.settimeout(WAIT_SECONDS)
        try:
            connection.connect(self._socket_path())
        except OSError as exc:
            connection.close()
            raise NotStored("cannot reach the inbox writer process") from exc
        self._local.held = (generation, connection)
        return connection

    def _drop_connection(self) -> None:
        held = getattr(self._local, "held", None)
        self._local.held = None
        if held is not None:
            held[1].close()

    def _socket_path(self) -> str:
        assert self._folder is not None
        return os.path.join(self._folder, "inbox.sock")

    def _ensure_child(self) -> int:
        with self._lock:
            if self._pid != os.getpid():
                # A forked copy (a gunicorn worker) owns no child yet, and must not use or
                # stop the parent's.
                self._pid, self._child, self._folder = os.getpid(), None, None
            if self._child is None or self._child.poll() is not None:
                self._start_child()
            return self._generation

    def _start_child(self) -> None:
        if self._child is not None:
            code = self._child.returncode
            log.warning("inbox writer process exited (%s); starting another", code)
        if self._folder is None:
            self._folder = tempfile.mkdtemp(prefix="mchch-inbox-")  # only this user may enter
        path = self._socket_path()
        if os.path.exists(path):
            os.unlink(path)
        env = {**os.environ, "DATABASE_URL": self.database_url}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        child = subprocess.Popen(
            [sys.executable, "-m", "bot.inbox_process", path], stdin=subprocess.PIPE, env=env
        )
        deadline = time.monotonic() + START_SECONDS
        while not os.path.exists(path):
            if child.poll() is not None or time.monotonic() > deadline:
                child.kill()
                raise NotStored("the inbox writer process did not start")
            time.sleep(0.01)
        self._child = child
        self._generation += 1


def serve(path: str, database: Database, parent: int) -> None:
    """Answer frames until the parent closes its pipe (fd `parent`), one commit per round."""
    assert database.engine is not None
    # One connection held for the process's life: checking one out of the pool for each
    # small batch cost more than the batch's insert. After a failure SQLAlchemy replaces it.
    held = database.engine.connect()

    @contextlib.contextmanager
    def transaction() -> Iterator[Connection]:
        with held.begin():
            yield held

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path + ".new")  # left by a child that died while starting
    listener.bind(path + ".new")
    os.replace(path + ".new", path)  # the path appears only once it can be connected to
    listener.listen(1024)
    listener.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(parent, selectors.EVENT_READ, "parent")
    pending: dict[socket.socket, bytes] = {}
    while True:
        frames: list[tuple[socket.socket, bytes]] = []
        for key, _ in selector.select():
            if key.data == "parent":
                if not os.read(parent, 4096):
                    return
            elif key.data == "accept":
                _accept(listener, selector, pending)
            else:
                frames += _read(key.fileobj, selector, pending)  # type: ignore[arg-type]
        if frames:
            _store(transaction, frames)


def _accept(
    listener: socket.socket, selector: selectors.BaseSelector, pending: dict[socket.socket, bytes]
) -> None:
    while True:
        try:
            connection, _ = listener.accept()
        except BlockingIOError:
            return
        connection.setblocking(False)
        selector.register(connection, selectors.EVENT_READ, "frames")
        pending[connection] = b""


def _read(
    connection: socket.socket, selector: selectors.BaseSelector, pending: dict[socket.socket, bytes]
) -> list[tuple[socket.socket, bytes]]:
    try:
        data = connection.recv(1 << 20)
    except BlockingIOError:
        return []
    except OSError:
        data = b""
    if not data:
        selector.unregister(connection)
        connection.close()
        del pending[connection]
        return []
    buffer = pending[connection] + data
    frames = []
    while len(buffer) >= HEADER:
        size = int.from_bytes(buffer[:HEADER], "big")
        if len(buffer) < HEADER + size:
            break
        frames.append((connection, buffer[HEADER : HEADER + size]))
        buffer = buffer[HEADER + size :]
    pending[connection] = buffer
    return frames


def _store(
    transaction: Callable[[], AbstractContextManager[Connection]],
    frames: list[tuple[socket.socket, bytes]],
) -> None:
    stored = write_batch(transaction, [json.loads(payload) for _, payload in frames])
    for (connection, _), ok in zip(frames, stored, strict=True):
        # A request that has gone gets its events again from LINE; the copy is then dropped.
        with contextlib.suppress(OSError):
            connection.sendall(STORED if ok else NOT_STORED)  # one byte: never partly sent


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    database = Database()
    database.configure(os.environ["DATABASE_URL"])
    serve(sys.argv[1], database, sys.stdin.fileno())


if __name__ == "__main__":
    main()

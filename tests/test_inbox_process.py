"""The inbox writer as a separate process (INBOX_WRITER=process, what gunicorn runs): LINE's
events still reach the inbox before the 200, once each, and a writer that dies or hangs
costs one refused delivery, which LINE repeats, never an acknowledged event."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy import select, text

from bot import create_app, inbox_process
from bot.db import db
from bot.inbox_process import WriterSupervisor
from bot.models import InboxEvent
from fakeline import FakeLine
from fakeline import webhook as events
from tests import served
from tests.chat import Chat
from tests.conftest import SECRET, _empty, made_app

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def process_app(app_config: dict) -> Iterator[Flask]:
    with made_app({**app_config, "INBOX_WRITER": "process"}) as app:
        yield app


@pytest.fixture
def chat(process_app: Flask, line_platform: FakeLine) -> Chat:
    return Chat(process_app, line_platform, SECRET)


@pytest.fixture
def supervisor(app_config: dict) -> Iterator[WriterSupervisor]:
    """One writer for several web processes, as gunicorn's master runs it."""
    url = create_app(app_config).config["DATABASE_URL"]
    writer = WriterSupervisor(url)
    writer.start()
    yield writer
    writer.stop()


@pytest.fixture
def shared_chat(
    app_config: dict, supervisor: WriterSupervisor, line_platform: FakeLine
) -> Iterator[Chat]:
    config = {**app_config, "INBOX_WRITER": "process"}
    with made_app({**config, "INBOX_WRITER_SOCKET": supervisor.socket_path}) as app:
        yield Chat(app, line_platform, SECRET)


def body_of(*event_list: dict) -> bytes:
    return json.dumps(events.envelope(list(event_list)), ensure_ascii=False).encode()


def stored_ids() -> list[str]:
    with db.transaction() as session:
        return list(session.scalars(select(InboxEvent.webhook_event_id).order_by(InboxEvent.id)))


def writer_pid(app: Flask) -> int:
    pid = app.extensions["inbox_writer"].pid
    assert pid is not None and pid != os.getpid()
    return pid


def wait_until(condition, seconds: float = 10) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)


def test_a_leader_is_answered_through_the_writer_process(chat, process_app, line_platform):
    somsri = chat.user()
    answer = somsri.say("ช่วยเหลือ")
    assert answer, "the help keyword got no reply"
    writer_pid(process_app)
    # Sent again by LINE (same webhookEventId): acknowledged, stored and answered once.
    event = events.text_event(somsri.user_id, "สวัสดีค่ะ", somsri._token())
    chat.send(event)
    chat.send(event)
    chat.settle()
    assert stored_ids().count(event["webhookEventId"]) == 1
    assert len(line_platform.deliveries(somsri.user_id)) == 2


def test_a_dead_writer_is_replaced_before_the_next_delivery(chat, process_app):
    somsri = chat.user()
    first = events.text_event(somsri.user_id, "สวัสดีค่ะ", somsri._token())
    chat.send(first)
    dead = writer_pid(process_app)
    os.kill(dead, signal.SIGKILL)
    wait_until(lambda: process_app.extensions["inbox_writer"].pid is None)

    second = events.text_event(somsri.user_id, "ช่วยเหลือ", somsri._token())
    chat.send(second)
    assert writer_pid(process_app) != dead
    assert stored_ids() == [first["webhookEventId"], second["webhookEventId"]]


def test_a_stuck_writer_refuses_the_delivery_and_is_replaced(chat, process_app, monkeypatch):
    monkeypatch.setattr(inbox_process, "WAIT_SECONDS", 1)  # read when a connection is made
    somsri = chat.user()
    assert process_app.extensions["inbox_writer"].pid is None  # the first delivery starts it
    first = events.text_event(somsri.user_id, "สวัสดีค่ะ", somsri._token())
    chat.send(first)
    stuck = writer_pid(process_app)
    os.kill(stuck, signal.SIGSTOP)

    body = body_of(events.text_event(somsri.user_id, "ช่วยเหลือ", somsri._token()))
    refused = chat.post(body)
    assert refused.status_code == 500 and refused.json == {"error": "events not stored"}
    assert stored_ids() == [first["webhookEventId"]]

    redelivered = chat.post(body)  # LINE tries again; the stuck writer was stopped, a new one runs
    assert redelivered.status_code == 200
    assert writer_pid(process_app) != stuck
    assert len(stored_ids()) == 2


def test_stopping_ends_the_writer_process(app_config):
    app = create_app({**app_config, "INBOX_WRITER": "process"})
    _empty(app)
    chat = Chat(app, None, SECRET)  # type: ignore[arg-type]
    assert chat.post(body_of(events.text_event("U" + "c" * 32, "สวัสดีค่ะ", "t"))).status_code == 200
    pid = writer_pid(app)
    app.extensions["inbox_writer"].stop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # gone, and reaped
    db.dispose()


def test_a_writer_whose_owner_dies_exits_and_leaves_nothing_behind(app_config):
    url = create_app(app_config).config["DATABASE_URL"]
    writer = inbox_process.WriterChild(url)
    writer.start()
    assert Path(writer.socket_path).exists()
    writer.process.stdin.close()  # what the owner's death does to the pipe
    writer.process.wait(10)
    assert not Path(writer.folder).exists()


def test_a_shared_writer_is_started_again_when_it_dies(shared_chat, supervisor):
    somsri = shared_chat.user()
    assert somsri.say("ช่วยเหลือ"), "the help keyword got no reply"
    assert shared_chat.app.extensions["inbox_writer"].pid is None  # no writer of its own
    first = supervisor.child.pid
    os.kill(first, signal.SIGKILL)
    wait_until(lambda: supervisor.child.pid not in (None, first))

    event = events.text_event(somsri.user_id, "สวัสดีค่ะ", somsri._token())
    assert shared_chat.post(body_of(event)).status_code == 200
    assert event["webhookEventId"] in stored_ids()


def test_a_stuck_shared_writer_is_stopped_and_started_again(shared_chat, supervisor, monkeypatch):
    monkeypatch.setattr(inbox_process, "WAIT_SECONDS", 1)
    somsri = shared_chat.user()
    first = events.text_event(somsri.user_id, "สวัสดีค่ะ", somsri._token())
    shared_chat.send(first)
    stuck = supervisor.child.pid
    os.kill(stuck, signal.SIGSTOP)

    body = body_of(events.text_event(somsri.user_id, "ช่วยเหลือ", somsri._token()))
    assert shared_chat.post(body).status_code == 500
    wait_until(lambda: supervisor.child.pid not in (None, stuck))
    assert shared_chat.post(body).status_code == 200
    assert len(stored_ids()) == 2


def test_folders_of_writers_killed_with_their_owner_are_swept(shared_chat, supervisor):
    """A writer killed together with its owner cannot remove its socket folder; the next
    writer started on the machine does, and leaves alone a live writer's and a new one's."""
    long_ago = time.time() - inbox_process.STALE_SECONDS - 60

    def folder(bound: bool) -> Path:
        path = Path(tempfile.mkdtemp(prefix=inbox_process.FOLDER_PREFIX))
        if bound:  # its writer gone: the socket file stays, and connecting is refused
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as gone:
                gone.bind(str(path / "inbox.sock"))
        os.utime(path, (long_ago, long_ago))
        return path

    killed, never_started = folder(bound=True), folder(bound=False)
    starting = Path(tempfile.mkdtemp(prefix=inbox_process.FOLDER_PREFIX))
    live = Path(supervisor.socket_path).parent
    os.utime(live, (long_ago, long_ago))
    try:
        inbox_process.WriterChild(shared_chat.app.config["DATABASE_URL"]).stop()
        assert not killed.exists() and not never_started.exists()
        assert starting.exists() and live.exists()
        somchai = shared_chat.user("สมชาย")
        event = events.text_event(somchai.user_id, "สวัสดีค่ะ", somchai._token())
        assert shared_chat.post(body_of(event)).status_code == 200
        assert stored_ids() == [event["webhookEventId"]]
    finally:
        shutil.rmtree(starting, ignore_errors=True)


def test_a_connection_dropped_by_postgresql_costs_no_delivery(chat, process_app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's own writer connection")
    somsri = chat.user()
    first = events.text_event(somsri.user_id, "สวัสดีค่ะ", somsri._token())
    chat.send(first)
    with db.connection() as connection:  # what a database restart does to the writer
        ended = connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :a"
            ),
            {"a": inbox_process.APPLICATION},
        )
        ended = ended.scalars().all()
    assert ended == [True]
    second = events.text_event(somsri.user_id, "ช่วยเหลือ", somsri._token())
    assert chat.post(body_of(second)).status_code == 200
    assert stored_ids() == [first["webhookEventId"], second["webhookEventId"]]


def _children(pid: int) -> list[tuple[int, str]]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append((int(entry), command))
    return found


def _deliver(url: str, chat: Chat, n: int) -> str:
    """A signed text event from a new person, posted to the server on a connection of its own
    (so that every worker answers some); its webhookEventId."""
    event = events.text_event(chat.user(f"คน {n}").user_id, "สวัสดีค่ะ", f"token-{n}")
    body = body_of(event)
    headers = {"x-line-signature": events.sign(SECRET, body)}
    answer = requests.post(f"{url}/callback", data=body, headers=headers, timeout=5)
    assert answer.status_code == 200
    return event["webhookEventId"]


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads processes from /proc")
def test_gunicorn_workers_share_the_masters_writer(stopped_app, line_platform, app_config):
    """Two gunicorn workers, one writer: a child of the master, not of a worker, and gone
    (with its socket folder) when the server stops."""
    with served.gunicorn(app_config, WEB_CONCURRENCY="2", RUN_WORKERS="0") as (server, url):
        chat = Chat(stopped_app, line_platform, SECRET)
        sent = [_deliver(url, chat, n) for n in range(20)]
        assert sorted(stored_ids()) == sorted(sent)

        family = _children(server.pid)
        writers = [(pid, command) for pid, command in family if "bot.inbox_process" in command]
        workers = [pid for pid, command in family if "bot.inbox_process" not in command]
        assert len(writers) == 1 and len(workers) == 2
        assert not any(_children(worker) for worker in workers)
        writer, command = writers[0]
        socket_folder = Path(command.split()[-1]).parent
        server.send_signal(signal.SIGTERM)
        server.wait(30)
        wait_until(lambda: not Path(f"/proc/{writer}").exists())
        assert not socket_folder.exists()


def test_gevent_web_processes_store_many_deliveries_at_once(stopped_app, line_platform, app_config):
    """Web processes that only store and answer, as gevent workers (RUN_WORKERS=0,
    WEB_WORKER_CLASS=gevent), each connection a greenlet: sixty deliveries at once, each on a
    connection of its own, all get 200 with their event stored once, and the health page, which
    reads the database, answers in the middle of them."""
    chat = Chat(stopped_app, line_platform, SECRET)
    bodies = [
        body_of(events.text_event(chat.user(f"คน {n}").user_id, "สวัสดีค่ะ", f"token-{n}"))
        for n in range(60)
    ]

    def deliver(body: bytes) -> int:
        headers = {"x-line-signature": events.sign(SECRET, body)}
        return requests.post(f"{url}/callback", data=body, headers=headers, timeout=10).status_code

    gevent = {"WEB_CONCURRENCY": "2", "RUN_WORKERS": "0", "WEB_WORKER_CLASS": "gevent"}
    with served.gunicorn(app_config, **gevent) as (_, url):
        with ThreadPoolExecutor(30) as pool:
            answers = pool.map(deliver, bodies)
            health = requests.get(f"{url}/healthz", timeout=10)
            assert list(answers) == [200] * 60
        assert health.status_code == 200 and health.json()["database"] == "ok"
        sent = [json.loads(body)["events"][0]["webhookEventId"] for body in bodies]
        assert sorted(stored_ids()) == sorted(sent)
        # Nobody handles them here: the web processes only store.
        assert requests.get(f"{url}/healthz", timeout=10).json()["pending_events"] == 60


def _pipe_ends(pid: int) -> set[str]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("pipe:"):
                found.add(target)
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads processes from /proc")
def test_a_reloaded_server_keeps_one_writer_tied_to_the_master(
    stopped_app, line_platform, app_config
):
    """SIGHUP (gunicorn reads its config file again and replaces the workers): the same writer
    serves the new workers, they hold no end of its pipe (its life follows the master's
    alone), and stopping the server still stops it."""
    with served.gunicorn(app_config, WEB_CONCURRENCY="2", RUN_WORKERS="0") as (server, url):
        chat = Chat(stopped_app, line_platform, SECRET)
        sent = [_deliver(url, chat, 0)]
        ((writer, writer_command),) = [
            c for c in _children(server.pid) if "bot.inbox_process" in c[1]
        ]
        before = {pid for pid, command in _children(server.pid) if pid != writer}
        server.send_signal(signal.SIGHUP)

        def replaced() -> bool:
            now = {pid for pid, _ in _children(server.pid) if pid != writer}
            return len(now) == 2 and not now & before

        wait_until(replaced, 30)
        sent += [_deliver(url, chat, n) for n in range(1, 11)]
        assert sorted(stored_ids()) == sorted(sent)
        family = _children(server.pid)
        assert [pid for pid, command in family if "bot.inbox_process" in command] == [writer]
        writers_pipe = os.readlink(f"/proc/{writer}/fd/0")
        for worker in (pid for pid, _ in family if pid != writer):
            assert writers_pipe not in _pipe_ends(worker)

        server.send_signal(signal.SIGTERM)
        server.wait(30)
        wait_until(lambda: not Path(f"/proc/{writer}").exists())
        assert not Path(writer_command.split()[-1]).parent.exists()

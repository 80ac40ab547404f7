"""The inbox writer as a child process (INBOX_WRITER=process, what gunicorn runs): LINE's
events still reach the inbox before the 200, once each, and a writer that dies costs one
refused delivery, which LINE repeats, never an acknowledged event."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from bot import create_app, inbox_process
from bot.db import db
from bot.models import InboxEvent
from fakeline import FakeLine
from fakeline import webhook as events
from tests.chat import Chat
from tests.conftest import SECRET, _empty


@pytest.fixture
def process_app(app_config: dict) -> Iterator[Flask]:
    app = create_app({**app_config, "INBOX_WRITER": "process"})
    _empty(app)
    app.extensions["runtime"].start()
    yield app
    app.extensions["runtime"].stop()
    app.extensions["inbox_writer"].stop()
    db.dispose()


@pytest.fixture
def chat(process_app: Flask, line_platform: FakeLine) -> Chat:
    return Chat(process_app, line_platform, SECRET)


def body_of(*event_list: dict) -> bytes:
    return json.dumps(events.envelope(list(event_list)), ensure_ascii=False).encode()


def stored_ids() -> list[str]:
    with db.transaction() as session:
        return list(session.scalars(select(InboxEvent.webhook_event_id).order_by(InboxEvent.id)))


def writer_pid(app: Flask) -> int:
    child = app.extensions["inbox_writer"]._child
    assert child is not None and child.poll() is None
    return child.pid


def test_a_leader_is_answered_through_the_writer_process(chat, process_app, line_platform):
    somsri = chat.user()
    answer = somsri.say("ช่วยเหลือ")
    assert answer, "the help keyword got no reply"
    assert writer_pid(process_app) != os.getpid()
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
    process_app.extensions["inbox_writer"]._child.wait(10)

    second = events.text_event(somsri.user_id, "ช่วยเหลือ", somsri._token())
    chat.send(second)
    assert writer_pid(process_app) != dead
    assert stored_ids() == [first["webhookEventId"], second["webhookEventId"]]


def test_a_stuck_writer_refuses_the_delivery_and_is_replaced(chat, process_app, monkeypatch):
    monkeypatch.setattr(inbox_process, "WAIT_SECONDS", 1)  # read when a connection is made
    somsri = chat.user()
    assert process_app.extensions["inbox_writer"]._child is None  # the first delivery starts it
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
    child = app.extensions["inbox_writer"]._child
    assert child.poll() is None
    app.extensions["inbox_writer"].stop()
    assert child.poll() is not None
    db.dispose()

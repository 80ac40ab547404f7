"""Event handling survives failures and killed processes, and never handles an event twice."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import inbox
from bot.db import db
from bot.models import InboxEvent, utcnow
from fakeline import webhook as events
from tests import served
from tests.chat import Chat

ROOT = Path(__file__).resolve().parents[1]


def inbox_rows() -> list[InboxEvent]:
    with db.transaction() as session:
        return list(session.scalars(select(InboxEvent).order_by(InboxEvent.id)))


def test_a_failing_handler_is_retried_then_kept_as_failed_with_an_apology(line, keyword):
    calls = []

    def broken(ctx):  # type: ignore[no-untyped-def]
        calls.append(1)
        raise RuntimeError("simulated bug")

    keyword("พัง", broken)
    person = line.user()
    person.say("พัง")
    assert len(calls) == 3  # bounded retries
    (event,) = inbox_rows()
    assert event.status == "failed" and "simulated bug" in event.last_error
    assert "ขออภัย" in person.last_text  # an apology, not silence
    assert line.client.get("/healthz").json["failed_events"] == 1
    person.say("ช่วยเหลือ")  # the user is not stuck behind the failed event
    assert "ข้อมูลของฉัน" in person.last_text or "ลงทะเบียน" in person.last_text


def test_an_event_held_by_a_worker_that_dies_is_handled_once_by_another(stopped_app, line_platform):
    """A worker mid-handling holds the event's row lock; when it dies its transaction is
    rolled back, and another worker handles the event, once."""
    chat = Chat(stopped_app, line_platform, stopped_app.config["LINE_CHANNEL_SECRET"])
    person = chat.user()
    token = line_platform.issue_reply_token(person.user_id)
    chat.send(events.text_event(person.user_id, "ช่วยเหลือ", token))
    dying = db.engine.connect()  # the doomed worker: claims the event, starts work …
    transaction = dying.begin()
    claimed = inbox.claim_next(Session(bind=dying), utcnow())
    assert claimed is not None
    stopped_app.extensions["runtime"].start()
    time.sleep(1.5)
    assert person.received() == []  # … nobody else touches it meanwhile …
    transaction.rollback()  # … and dies.
    dying.close()
    chat.settle()
    assert inbox_rows()[0].status == "done"
    assert len(person.received()) == 1


def test_a_backlogged_event_shows_the_loading_animation(stopped_app, line_platform):
    chat = Chat(stopped_app, line_platform, stopped_app.config["LINE_CHANNEL_SECRET"])
    person = chat.user()
    chat.send(
        events.text_event(
            person.user_id, "ช่วยเหลือ", line_platform.issue_reply_token(person.user_id)
        )
    )
    time.sleep(1.2)
    stopped_app.extensions["runtime"].start()
    chat.settle()
    loading = [r for r in line_platform.requests if r.endpoint == "loading"]
    assert loading and loading[0].json["chatId"] == person.user_id


def test_events_stored_by_a_killed_process_are_handled_once_after_restart(
    stopped_app, line_platform, app_config
):
    """A web process that stored events and was SIGKILLed before handling them: a new
    process picks them up, and each is answered exactly once."""
    # RUN_WORKERS=0: this server only receives, like a web node without workers.
    with served.gunicorn(app_config, RUN_WORKERS="0") as (_, url):
        chat = Chat(stopped_app, line_platform, app_config["LINE_CHANNEL_SECRET"])
        people = [chat.user(f"คน {n}") for n in range(3)]
        for person in people:
            event = events.text_event(
                person.user_id, "ช่วยเหลือ", line_platform.issue_reply_token(person.user_id)
            )
            body = chat.client.application.json.dumps(events.envelope([event])).encode()
            answer = requests.post(
                f"{url}/callback",
                data=body,
                headers={"x-line-signature": events.sign(app_config["LINE_CHANNEL_SECRET"], body)},
                timeout=5,
            )
            assert answer.status_code == 200
    # Leaving the block SIGKILLed the whole server, its writer too.
    assert [e.status for e in inbox_rows()] == ["pending"] * 3
    stopped_app.extensions["runtime"].start()
    chat.settle()
    assert [e.status for e in inbox_rows()] == ["done"] * 3
    for person in people:
        assert len(line_platform.deliveries(person.user_id)) == 1


def test_a_user_waiting_for_a_retry_does_not_hold_up_others(line, keyword):
    keyword("พัง", lambda ctx: 1 / 0)
    unlucky, other = line.user("โชคร้าย"), line.user("คนอื่น")
    line.send(
        events.text_event(unlucky.user_id, "พัง", line.platform.issue_reply_token(unlucky.user_id)),
        events.text_event(other.user_id, "ช่วยเหลือ", line.platform.issue_reply_token(other.user_id)),
    )
    line.settle()
    sends = [
        json.dumps(r.json, ensure_ascii=False)
        for r in line.platform.requests
        if r.endpoint in {"reply", "push"}
    ]
    assert len(sends) == 2
    assert "ดูคำสั่งทั้งหมด" in sends[0]  # the other user's help came first …
    assert "ขออภัย" in sends[1]  # … the apology only after the retries
    assert other.received() and unlucky.received()


def test_the_scheduler_purges_old_handled_events_but_keeps_failed_ones(app, scheduler):
    old = utcnow() - timedelta(days=31)
    with db.transaction() as session:
        for n, status in enumerate(("done", "ignored", "failed", "pending")):
            session.add(
                InboxEvent(
                    webhook_event_id=f"old-{n}",
                    source_key="U1",
                    event_type="message",
                    timestamp_ms=n,
                    payload={},
                    status=status,
                    received_at=old,
                    # Not yet due, so the running workers leave the pending one alone.
                    next_attempt_at=utcnow() + timedelta(days=1),
                )
            )
    assert scheduler.run("purge_handled")
    assert sorted(e.status for e in inbox_rows()) == ["failed", "pending"]

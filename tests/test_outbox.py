"""Sending to LINE: reply-token fallback, retries with one retry key, limits, blocked users."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import outbox, render
from bot.db import db
from bot.models import OutboxMessage
from fakeline import webhook as events


def rows() -> list[OutboxMessage]:
    with db.transaction() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def push(line_user_id: str, text: str) -> int:
    with db.transaction() as session:
        row = outbox.enqueue_push(session, line_user_id, [render.text(text)])
        session.flush()
        return row.id


def test_expired_reply_token_falls_back_to_push(line):
    person = line.user()
    token = line.platform.issue_reply_token(person.user_id, ttl_seconds=0)
    line.send(events.text_event(person.user_id, "ช่วยเหลือ", token))
    line.settle()
    endpoints = [(r.endpoint, r.status) for r in line.platform.requests]
    assert endpoints == [("reply", 400), ("push", 200)]
    assert len(person.received()) == 1  # she still gets her answer, once
    push_request = line.platform.requests[1]
    assert push_request.headers["x-line-retry-key"] == rows()[0].retry_key


def test_push_retries_5xx_and_429_with_the_same_retry_key(line):
    person = line.user()
    line.platform.fail("push", 500, times=2)
    line.platform.fail("push", 429, times=1, retry_after=1)
    row_id = push(person.user_id, "แจ้งเตือนทดสอบ")
    line.settle(timeout=30)
    pushes = [r for r in line.platform.requests if r.endpoint == "push"]
    assert [r.status for r in pushes] == [500, 500, 429, 200]
    assert len({r.headers["x-line-retry-key"] for r in pushes}) == 1
    assert line.platform.texts(person.user_id) == ["แจ้งเตือนทดสอบ"]
    (row,) = rows()
    assert (row.id, row.status, row.attempts) == (row_id, "sent", 4)


def test_a_push_that_timed_out_but_arrived_is_not_sent_twice(line):
    """LINE accepted it but we never saw the answer: the retry gets 409, counted as sent."""
    person = line.user()
    # Longer than the bot's 2 s time-out; LINE did the work at once, only its answer is late.
    line.platform.hang("push", seconds=2.5, done_first=True)
    push(person.user_id, "ครั้งเดียวเท่านั้น")
    line.settle(timeout=30)
    statuses = [r.status for r in line.platform.requests if r.endpoint == "push"]
    assert statuses[-1] == 409
    assert line.platform.texts(person.user_id) == ["ครั้งเดียวเท่านั้น"]
    assert rows()[0].status == "sent"


def test_a_reply_that_timed_out_but_arrived_is_not_pushed_again(line):
    """A reply has no retry key: after no answer it is tried again as a reply, and LINE's
    "invalid reply token" then means the first try spent it."""
    person = line.user()
    # Past the bot's 2 s time-out; the reply was delivered at once, only LINE's answer is late.
    line.platform.hang("reply", seconds=2.5, done_first=True)
    token = line.platform.issue_reply_token(person.user_id)
    line.send(events.text_event(person.user_id, "ช่วยเหลือ", token))
    line.settle(timeout=30)
    endpoints = [(r.endpoint, r.status) for r in line.platform.requests]
    assert ("push", 200) not in endpoints
    assert endpoints[-1] == ("reply", 400)
    assert len(line.platform.deliveries(person.user_id)) == 1  # once, not twice
    (row,) = rows()
    assert row.status == "sent" and row.kind == "reply"


def test_a_reply_left_behind_by_a_worker_that_died_after_sending_is_not_pushed_again(line):
    person = line.user()
    token = line.platform.issue_reply_token(person.user_id)
    with db.transaction() as session:
        row = outbox.enqueue_reply(session, token, person.user_id, [render.text("ครั้งเดียว")])
        session.flush()
        row_id, messages = row.id, row.messages
    # The worker sent it, then died before writing it down.
    line.app.extensions["runtime"].gateway.reply(token, messages)
    assert line.app.extensions["runtime"].sender.deliver(row_id) == "sent"
    assert line.platform.texts(person.user_id) == ["ครั้งเดียว"]
    assert "push" not in [r.endpoint for r in line.platform.requests]


def test_replies_sent_together_then_left_behind_are_not_sent_again(line, monkeypatch):
    """Confirmations sent as one (`deliver_together`) by a worker that died before writing it
    down: the outbox loop finds one row holding all three, whose token is spent."""
    person = line.user()
    with db.transaction() as session:
        rows = [
            outbox.enqueue_reply(
                session,
                line.platform.issue_reply_token(person.user_id),
                person.user_id,
                [render.text(f"ข้อ {n}")],
                inline=True,
            )
            for n in (1, 2, 3)
        ]
        session.flush()
    sender = line.app.extensions["runtime"].sender

    def dies(*args: object) -> None:
        raise RuntimeError("the worker died here")

    monkeypatch.setattr(sender, "_save", dies)
    with pytest.raises(RuntimeError):
        sender.deliver_together(rows)
    monkeypatch.undo()
    assert [sender.deliver(row.id) for row in rows] == ["sent", None, None]
    assert line.platform.texts(person.user_id) == ["ข้อ 1", "ข้อ 2", "ข้อ 3"]
    sends = [(r.endpoint, r.status) for r in line.platform.requests if r.endpoint != "profile"]
    assert sends == [("reply", 200), ("reply", 400)]  # the second found the token spent


def test_other_4xx_is_not_retried_and_keeps_lines_details(line):
    person = line.user()
    line.platform.fail("push", 403, times=5)
    push(person.user_id, "ไม่ควรส่งซ้ำ")
    line.settle()
    assert [r.status for r in line.platform.requests if r.endpoint == "push"] == [403]
    (row,) = rows()
    assert row.status == "failed" and "403" in row.last_error


def test_multicast_is_split_into_chunks_of_500(line):
    user_ids = [f"U{n:032x}" for n in range(1, 1201)]
    with db.transaction() as session:
        outbox.enqueue_multicast(session, user_ids, [render.text("ประกาศวันประเมิน")])
    line.settle(timeout=30)
    calls = [r for r in line.platform.requests if r.endpoint == "multicast"]
    assert sorted(len(r.json["to"]) for r in calls) == [200, 500, 500]
    assert len({r.headers["x-line-retry-key"] for r in calls}) == 3
    assert sorted(uid for r in calls for uid in r.json["to"]) == sorted(user_ids)


def test_users_who_unfollowed_get_no_push(line):
    person = line.user()
    person.follow()
    person.unfollow()
    push(person.user_id, "ไม่ควรถึง")
    line.settle()
    assert not [r for r in line.platform.requests if r.endpoint == "push"]
    assert rows()[-1].status == "skipped"
    person.follow()  # following again brings pushes back
    push(person.user_id, "ถึงแล้ว")
    line.settle()
    assert line.platform.texts(person.user_id)[-1] == "ถึงแล้ว"


def test_more_than_five_replies_go_out_in_several_requests(line, keyword):
    """LINE takes five messages a request: the first five use the reply token, the rest a push."""
    keyword("เจ็ดข้อความ", lambda ctx: ctx.reply(*[render.text(f"ข้อ {n}") for n in range(7)]))
    person = line.user()
    person.say("เจ็ดข้อความ")
    sends = [(r.endpoint, len(r.json["messages"])) for r in line.platform.requests]
    assert sends == [("reply", 5), ("push", 2)]
    assert line.platform.texts(person.user_id) == [f"ข้อ {n}" for n in range(7)]


def test_an_event_handled_after_its_reply_token_expired_is_answered_by_push(
    stopped_app, line_platform
):
    """A backlog: the token is past its minute, so no doomed reply call is made first."""
    from datetime import timedelta

    from sqlalchemy import update

    from bot.models import InboxEvent, utcnow
    from tests.chat import Chat

    chat = Chat(stopped_app, line_platform, stopped_app.config["LINE_CHANNEL_SECRET"])
    person = chat.user()
    token = line_platform.issue_reply_token(person.user_id, ttl_seconds=600)
    chat.send(events.text_event(person.user_id, "ช่วยเหลือ", token))
    with db.transaction() as session:
        session.execute(update(InboxEvent).values(received_at=utcnow() - timedelta(seconds=55)))
    stopped_app.extensions["runtime"].start()
    chat.settle()
    assert [r.endpoint for r in line_platform.requests if r.endpoint != "loading"] == ["push"]
    assert len(person.received()) == 1

"""The webhook: signatures, bad bodies, exactly-once storage, ordering, odd sources."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import io
import json
import random
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot import create_app
from bot.db import db
from bot.models import InboxEvent
from bot.workers import EventWorkers
from fakeline import webhook as events

SHARED = Path(__file__).resolve().parents[2] / "shared"
SDK_FIXTURE = SHARED / "line-sdk-fixtures" / "webhook.json"


def stored() -> list[InboxEvent]:
    with db.transaction() as session:
        return list(session.scalars(select(InboxEvent).order_by(InboxEvent.id)))


def test_signature_follows_lines_sdk_test_vector(app_config):
    """Secret `channel_secret`, body `bodybodybodybody` (LINE SDK's own test vector)."""
    app = create_app({**app_config, "LINE_CHANNEL_SECRET": "channel_secret"})
    client = app.test_client()
    body = b"bodybodybodybody"
    good = "/gg9a+LvFevTH1sd7XCQycD7tsWclCsInj7MhBHxN7k="
    assert events.sign("channel_secret", body) == good

    accepted = client.post("/callback", data=body, headers={"x-line-signature": good})
    # The signature passed; the body is then refused for not being JSON.
    assert accepted.status_code == 400 and accepted.json["error"] == "body is not JSON"
    forged = client.post("/callback", data=body, headers={"x-line-signature": good[:-2] + "A="})
    assert forged.status_code == 400 and forged.json["error"] == "bad signature"


@pytest.mark.parametrize(
    "signature",
    [None, "", "not-base64!", base64.b64encode(b"x" * 32).decode()],
    ids=["missing", "empty", "garbage", "wrong"],
)
def test_bad_signature_gets_400_and_stores_nothing(line, signature):
    body = json.dumps(events.envelope([events.text_event("U1", "hi", "t")])).encode()
    headers = {} if signature is None else {"x-line-signature": signature}
    response = line.client.post("/callback", data=body, headers=headers)
    assert response.status_code == 400
    assert stored() == []


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'{"destination": "U1"}',
        b'{"events": {"type": "message"}}',
        b'{"events": [{"type": "message"}]}',  # no timestamp
        b'{"events": [{"timestamp": 1, "type": 5}]}',
        b'{"events": [{"type": "message", "timestamp": "now"}]}',
        '{"events": [], "x": "\udcff"}'.encode("utf-8", "surrogatepass"),
        b'{"events": [{"type": "message", "timestamp": 1, "x": NaN}]}',
        b'{"events": [{"type": "message", "timestamp": 1180591620717411303424}]}',
        b"[" * 100_000 + b"]" * 100_000,
        # A NUL where the inbox keeps a text column (PostgreSQL refuses it there: it was a 500)
        b'{"events": [{"type": "message", "timestamp": 1, "webhookEventId": "01H\\u0000X"}]}',
        b'{"events": [{"type": "mess\\u0000age", "timestamp": 1}]}',
        b'{"events": [{"type": "message", "timestamp": 1, "mode": "active\\u0000"}]}',
        b'{"events": [{"type": "message", "timestamp": 1, "source": {"userId": "U\\u0000"}}]}',
    ],
    ids=[
        "truncated",
        "list",
        "no-events",
        "events-object",
        "no-ts",
        "type-int",
        "ts-str",
        "utf8",
        "nan",
        "huge-ts",
        "deep",
        "nul-id",
        "nul-type",
        "nul-mode",
        "nul-user",
    ],
)
def test_bodies_that_are_not_an_envelope_get_400(line, body):
    response = line.post(body)
    assert response.status_code == 400
    assert stored() == []


def test_body_over_one_megabyte_gets_400(line):
    event = events.text_event("U1", "ก" * (400 * 1024), "t")  # 3 bytes a character in UTF-8
    body = json.dumps(events.envelope([event]), ensure_ascii=False).encode()
    assert len(body) > 1024 * 1024
    assert line.post(body).status_code == 400
    assert stored() == []


def _post_chunked(line, body: bytes):  # type: ignore[no-untyped-def]
    """A body sent without Content-Length (chunked), as a proxy may forward it."""
    return line.client.post(
        "/callback",
        input_stream=io.BytesIO(body),
        headers={"x-line-signature": events.sign(line.secret, body)},
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_a_chunked_body_is_read_to_its_end_and_over_one_megabyte_refused(line):
    person = line.user()
    event = events.text_event(person.user_id, "สวัสดีค่ะ", "t")
    small = json.dumps(events.envelope([event]), ensure_ascii=False).encode()
    assert _post_chunked(line, small).status_code == 200
    assert [e.webhook_event_id for e in stored()] == [event["webhookEventId"]]

    big = events.text_event(person.user_id, "ก" * (400 * 1024), "t")
    body = json.dumps(events.envelope([big]), ensure_ascii=False).encode()
    refused = _post_chunked(line, body)
    assert refused.status_code == 400 and refused.json == {"error": "body over 1 MB"}
    assert len(stored()) == 1


def test_verify_button_with_no_events_gets_200(line):
    response = line.post(json.dumps(events.envelope([])).encode())
    assert response.status_code == 200
    assert stored() == []


def test_redelivered_and_duplicated_events_are_handled_once(line):
    person = line.user()
    event = events.text_event(
        person.user_id, "ช่วยเหลือ", line.platform.issue_reply_token(person.user_id)
    )
    line.send(event, copy.deepcopy(event))  # the same event twice in one request
    redelivered = {**copy.deepcopy(event), "deliveryContext": {"isRedelivery": True}}
    line.send(redelivered)
    line.settle()
    assert len(stored()) == 1
    assert len(person.received()) == 1  # one help message, not three


def test_standby_events_are_recorded_never_answered(line):
    person = line.user()
    line.send(events.text_event(person.user_id, "ช่วยเหลือ", "unused", mode="standby"))
    line.settle()
    assert [e.status for e in stored()] == ["ignored"]
    assert line.platform.requests == []


def test_group_and_room_get_one_polite_line(line):
    for kind in ("group", "room"):
        token = line.platform.issue_reply_token("U-in-group")
        line.send(events.text_event("U-in-group", "สวัสดี", token, source_type=kind, group_id="Cabc"))
    line.settle()
    replies = [r for r in line.platform.requests if r.endpoint == "reply"]
    assert len(replies) == 2
    assert all("แชตส่วนตัว" in r.json["messages"][0]["text"] for r in replies)


@pytest.mark.parametrize(
    "token",
    ["0z\x00" + "a" * 29, "ab\x1fcd" * 4, "โทเค็นตอบกลับ", "x" * 2000],
    ids=["nul", "control", "thai", "kilobytes"],
)
def test_a_reply_token_unlike_lines_gets_the_answer_by_push(line, token):
    """LINE's reply tokens are 32 printable ASCII characters. An event carrying something else
    (a NUL, which PostgreSQL refuses in text and which once left the event pending for good; a
    control character; Thai; kilobytes) is still answered, by push, without a doomed reply."""
    person = line.user()
    line.send(events.text_event(person.user_id, "สวัสดี", token))
    line.settle()
    assert person.received(), "no answer at all"
    sends = [r.endpoint for r in line.platform.requests if r.endpoint in ("reply", "push")]
    assert sends == ["push"]
    assert [e.status for e in stored()] == ["done"]


def test_unknown_event_and_message_types_are_recorded_and_ignored(line):
    person = line.user()
    odd = events.text_event(person.user_id, "x", "t")
    odd.update(type="somethingNew", somethingNew={"a": 1})
    del odd["message"]
    line.send(odd)
    line.settle()
    assert [(e.event_type, e.status) for e in stored()] == [("somethingNew", "ignored")]


@pytest.mark.skipif(not SDK_FIXTURE.exists(), reason="../shared is not here")
def test_replaying_the_sdk_fixture_events_never_breaks(line):
    """Every event type the SDK's maintainers test with: stored, handled or ignored, no errors."""
    fixture = json.loads(SDK_FIXTURE.read_text())
    # The fixture reuses one webhookEventId; first as LINE would redeliver it (all one event) …
    response = line.post(json.dumps(fixture).encode())
    assert response.status_code == 200
    line.settle()
    assert len(stored()) == 1
    # … then each with its own ID.
    for event in fixture["events"]:
        event["webhookEventId"] = events.new_event_id()
    assert line.post(json.dumps(fixture).encode()).status_code == 200
    line.settle()
    assert len(stored()) == 1 + len(fixture["events"])
    assert all(e.status in {"done", "ignored"} for e in stored())


def test_healthz_reports_database_and_queue(line):
    response = line.client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"database": "ok", "pending_events": 0, "failed_events": 0}


def test_events_of_one_user_are_handled_in_timestamp_order(stopped_app, line_platform):
    """Events posted concurrently and out of order are handled per user in timestamp order."""
    from tests.chat import Chat

    chat = Chat(stopped_app, line_platform, stopped_app.config["LINE_CHANNEL_SECRET"])
    people = [chat.user(f"คนที่ {n}") for n in range(3)]
    base = int(time.time() * 1000)
    batch = [
        events.text_event(p.user_id, f"ข้อความ {i}", "t", ts=base + i * 10)
        for p in people
        for i in range(12)
    ]
    random.Random(7).shuffle(batch)

    def post(part):  # type: ignore[no-untyped-def]
        client = stopped_app.test_client()
        body = json.dumps(events.envelope(part), ensure_ascii=False).encode()
        sig = events.sign(stopped_app.config["LINE_CHANNEL_SECRET"], body)
        assert (
            client.post("/callback", data=body, headers={"x-line-signature": sig}).status_code
            == 200
        )

    threads = [threading.Thread(target=post, args=([e],)) for e in batch]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    runtime = stopped_app.extensions["runtime"]
    # A second pool beside the app's own, as a separate worker process would be.
    other = EventWorkers(db, runtime.workers.handle, runtime.sender, count=3)
    runtime.start()
    other.start()
    try:
        chat.settle()
    finally:
        other.stop()
    rows = stored()
    assert len(rows) == len(batch) and all(r.status == "done" for r in rows)
    for person in people:
        mine = [r for r in rows if r.source_key == person.user_id]
        by_time = sorted(mine, key=lambda r: r.timestamp_ms)
        by_handling = sorted(mine, key=lambda r: r.handled_at)
        assert [r.id for r in by_handling] == [r.id for r in by_time]


def test_signature_is_checked_over_the_raw_bytes(line):
    """Re-serialising the JSON (spaces, key order) would break LINE's signature."""
    person = line.user()
    body = json.dumps(events.envelope([events.text_event(person.user_id, "hi", "t")]), indent=2)
    raw = body.encode()
    signature = base64.b64encode(
        hmac.new(b"test-channel-secret", raw, hashlib.sha256).digest()
    ).decode()
    assert line.post(raw, signature).status_code == 200
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(InboxEvent)) == 1

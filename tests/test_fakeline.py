"""The fake LINE platform answers real HTTP requests the way LINE does."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from fakeline import FakeLine, limits, schema, webhook

TOKEN = "test-access-token"
USER = "U" + "1" * 32
OTHER = "U" + "2" * 32
WEBHOOK_SPEC = Path(__file__).parents[1].parent / "shared/line-openapi/webhook.yml"
SDK_FIXTURE = Path(__file__).parents[1].parent / "shared/line-sdk-fixtures/webhook.json"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLine]:
    fake = FakeLine(access_token=TOKEN)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(server: FakeLine) -> FakeLine:
    server.reset()
    return server


@pytest.fixture
def with_schema(fake: FakeLine) -> FakeLine:
    if fake.schema_path is None:
        pytest.skip("LINE's messaging-api.yml is not in ../shared on this machine")
    return fake


def call(
    fake: FakeLine,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> requests.Response:
    kwargs.setdefault("timeout", 5)
    return requests.request(
        method,
        fake.base_url + path,
        json=body,
        headers={"Authorization": f"Bearer {TOKEN}", **(headers or {})},
        **kwargs,
    )


def push(fake: FakeLine, messages: list[dict[str, Any]], **kwargs: Any) -> requests.Response:
    return call(fake, "POST", "/v2/bot/message/push", {"to": USER, "messages": messages}, **kwargs)


def text(value: str = "สวัสดี", **extra: Any) -> dict[str, Any]:
    return {"type": "text", "text": value, **extra}


def quick_reply(count: int, label: str = "ตกลง", data: str = "a=1") -> dict[str, Any]:
    item = {"type": "action", "action": {"type": "postback", "label": label, "data": data}}
    return {"items": [item] * count}


def bubble(body_text: str = "แผนพัฒนาตนเอง", button_label: str = "ดูแผน") -> dict[str, Any]:
    return {
        "type": "bubble",
        "body": {
            "type": "box",
            "layout": "vertical",
            "contents": [
                {"type": "text", "text": body_text, "wrap": True},
                {
                    "type": "button",
                    "style": "primary",
                    "action": {"type": "postback", "label": button_label, "data": "plan=1"},
                },
            ],
        },
    }


def bubble_of_size(size: int) -> dict[str, Any]:
    """A bubble whose compact UTF-8 JSON is exactly `size` bytes."""
    empty = bubble(body_text="")
    return bubble(body_text="x" * (size - limits.json_size(empty)))


def flex(contents: dict[str, Any], alt_text: str = "แผนพัฒนาตนเอง") -> dict[str, Any]:
    return {"type": "flex", "altText": alt_text, "contents": contents}


def carousel(bubbles: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "carousel", "contents": bubbles}


def template(body: dict[str, Any], alt_text: str = "ยืนยัน") -> dict[str, Any]:
    return {"type": "template", "altText": alt_text, "template": body}


def buttons_template(label: str) -> dict[str, Any]:
    action = {"type": "message", "label": label, "text": "ตกลง"}
    return {"type": "buttons", "text": "ยืนยันแผน?", "actions": [action]}


def image_carousel_template(label: str) -> dict[str, Any]:
    action = {"type": "uri", "label": label, "uri": "https://example.com/plan"}
    column = {"imageUrl": "https://example.com/plan.jpg", "action": action}
    return {"type": "image_carousel", "columns": [column]}


# ----- authentication and recording ------------------------------------------------------------


def test_requests_without_the_access_token_are_refused(fake: FakeLine) -> None:
    url = fake.base_url + "/v2/bot/message/push"
    body = {"to": USER, "messages": [text()]}
    missing = requests.post(url, json=body, timeout=5)
    wrong = requests.post(url, json=body, headers={"Authorization": "Bearer nope"}, timeout=5)

    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.json()["message"].startswith("Authentication failed")
    assert fake.deliveries(USER) == []
    assert [r.status for r in fake.requests] == [401, 401]


def test_every_request_is_recorded_with_what_was_answered(fake: FakeLine) -> None:
    response = push(fake, [text("หนึ่ง")], headers={"X-Custom": "yes"})

    assert response.status_code == 200
    assert response.headers["X-Line-Request-Id"]
    [recorded] = fake.requests
    assert (recorded.method, recorded.path, recorded.endpoint) == (
        "POST",
        "/v2/bot/message/push",
        "push",
    )
    assert recorded.headers["x-custom"] == "yes"
    assert recorded.json == {"to": USER, "messages": [text("หนึ่ง")]}
    assert json.loads(recorded.body) == recorded.json
    assert recorded.status == 200
    assert abs(recorded.time - time.time()) < 5


def test_an_unknown_endpoint_is_a_404_and_an_error(fake: FakeLine) -> None:
    response = call(fake, "GET", "/v2/bot/info")

    assert response.status_code == 404
    assert fake.errors == ["unknown endpoint: GET /v2/bot/info"]


def test_fault_injection_rejects_unknown_endpoint_names(fake: FakeLine) -> None:
    with pytest.raises(ValueError, match="unknown endpoint"):
        fake.fail("pushh", 500)


# ----- reply tokens ------------------------------------------------------------------------------


def test_reply_delivers_to_the_tokens_user_once(fake: FakeLine) -> None:
    token = fake.issue_reply_token(USER)
    body = {"replyToken": token, "messages": [text("รับทราบ"), flex(bubble())]}

    first = call(fake, "POST", "/v2/bot/message/reply", body)
    again = call(fake, "POST", "/v2/bot/message/reply", body)

    assert first.status_code == 200
    sent = first.json()["sentMessages"]
    assert len(sent) == 2
    assert all(m["id"].isdigit() and m["quoteToken"] for m in sent)
    assert again.status_code == 400
    assert again.json() == {"message": "Invalid reply token"}
    assert fake.deliveries(USER) == body["messages"]
    assert fake.texts(USER) == ["รับทราบ", "แผนพัฒนาตนเอง"]
    assert fake.errors == []


def test_reply_tokens_expire_and_unknown_ones_are_refused(fake: FakeLine) -> None:
    token = fake.issue_reply_token(USER, ttl_seconds=0.05)
    time.sleep(0.1)

    expired = call(
        fake, "POST", "/v2/bot/message/reply", {"replyToken": token, "messages": [text()]}
    )
    unknown = call(fake, "POST", "/v2/bot/message/reply", {"replyToken": "x", "messages": [text()]})

    assert (expired.status_code, unknown.status_code) == (400, 400)
    assert expired.json()["message"] == "Invalid reply token"
    assert fake.deliveries(USER) == []


# ----- retry keys and injected faults ------------------------------------------------------------


def test_a_push_failed_with_500_is_delivered_once_when_retried_with_its_key(
    fake: FakeLine,
) -> None:
    key = {"X-Line-Retry-Key": str(uuid.uuid4())}
    fake.fail("push", 500)

    failed = push(fake, [text("แจ้งเตือน")], headers=key)
    retried = push(fake, [text("แจ้งเตือน")], headers=key)
    repeated = push(fake, [text("แจ้งเตือน")], headers=key)

    assert failed.status_code == 500
    assert failed.json() == {"message": "Internal Server Error"}
    assert retried.status_code == 200
    assert repeated.status_code == 409
    assert repeated.json() == {
        "message": "The retry key is already accepted",
        "sentMessages": retried.json()["sentMessages"],
    }
    assert repeated.headers["X-Line-Accepted-Request-Id"] == retried.headers["X-Line-Request-Id"]
    assert fake.texts(USER) == ["แจ้งเตือน"]
    assert fake.errors == []


def test_a_multicast_retry_key_is_remembered_too(fake: FakeLine) -> None:
    key = {"X-Line-Retry-Key": str(uuid.uuid4())}
    body = {"to": [USER, OTHER], "messages": [text("ประชุม")]}

    first = call(fake, "POST", "/v2/bot/message/multicast", body, headers=key)
    second = call(fake, "POST", "/v2/bot/message/multicast", body, headers=key)

    assert (first.status_code, second.status_code) == (200, 409)
    assert second.json() == {"message": "The retry key is already accepted"}
    assert fake.texts(USER) == fake.texts(OTHER) == ["ประชุม"]


def test_concurrent_sends_with_one_retry_key_deliver_once(fake: FakeLine) -> None:
    key = {"X-Line-Retry-Key": str(uuid.uuid4())}
    statuses: list[int] = []

    def send() -> None:
        statuses.append(push(fake, [text("ครั้งเดียว")], headers=key).status_code)

    threads = [threading.Thread(target=send) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] + [409] * 11
    assert fake.texts(USER) == ["ครั้งเดียว"]


def test_a_retry_key_must_be_a_uuid(fake: FakeLine) -> None:
    response = push(fake, [text()], headers={"X-Line-Retry-Key": "not-a-uuid"})

    assert response.status_code == 400
    assert response.json()["details"] == [
        {"property": "X-Line-Retry-Key", "message": "Must be a UUID"}
    ]
    assert fake.errors == ["push: X-Line-Retry-Key: Must be a UUID"]


def test_injected_429_carries_retry_after_and_then_passes(fake: FakeLine) -> None:
    fake.fail("push", 429, retry_after=3)

    limited = push(fake, [text()])
    after = push(fake, [text()])

    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "3"
    assert limited.json() == {"message": "Too Many Requests"}
    assert after.status_code == 200
    assert len(fake.deliveries(USER)) == 1


def test_fail_counts_down_per_endpoint(fake: FakeLine) -> None:
    fake.set_profile(USER, "สมชาย")
    fake.fail("profile", 503, times=2)

    statuses = [call(fake, "GET", f"/v2/bot/profile/{USER}").status_code for _ in range(3)]

    assert statuses == [503, 503, 200]
    assert push(fake, [text()]).status_code == 200


def test_a_hang_times_the_client_out_but_the_push_still_lands(fake: FakeLine) -> None:
    key = {"X-Line-Retry-Key": str(uuid.uuid4())}
    fake.hang("push", 0.5)

    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        push(fake, [text("ช้า")], headers=key, timeout=0.1)
    assert time.monotonic() - started < 0.4

    # Like LINE, a request the client gave up on may still have been delivered: retry keys
    # make the retry safe.
    fake.wait_for(lambda: fake.requests[0].status == 200, timeout=5)
    retried = push(fake, [text("ช้า")], headers=key)
    assert retried.status_code == 409
    assert fake.texts(USER) == ["ช้า"]


def test_a_hang_with_the_work_done_first_delivers_before_answering(fake: FakeLine) -> None:
    key = {"X-Line-Retry-Key": str(uuid.uuid4())}
    fake.hang("push", 2.0, done_first=True)
    with pytest.raises(requests.Timeout):
        push(fake, [text("ส่งแล้ว")], headers=key, timeout=0.2)
    # Delivered although the answer is still on its way: a retry at once finds it done.
    assert fake.texts(USER) == ["ส่งแล้ว"] and fake.requests[0].status == 0
    assert push(fake, [text("ส่งแล้ว")], headers=key).status_code == 409


def test_wait_for_polls_until_true_and_explains_a_timeout(fake: FakeLine) -> None:
    timer = threading.Timer(0.1, lambda: push(fake, [text("มาแล้ว")]))
    timer.start()
    fake.wait_for(lambda: fake.texts(USER) == ["มาแล้ว"], timeout=5)
    timer.join()

    with pytest.raises(AssertionError) as failure:
        fake.wait_for(lambda: fake.texts(OTHER) == ["ไม่มี"], timeout=0.1)
    report = str(failure.value)
    assert "fake.texts(OTHER)" in report
    assert "POST /v2/bot/message/push [push] -> 200" in report


# ----- documented message limits (always checked) ----------------------------------------------

REFUSED = {
    "six messages": ([text()] * 6, "messages"),
    "5001-character text": ([text("ก" * 5001)], "messages[0].text"),
    "empty text": ([text("")], "messages[0].text"),
    "14 quick replies": ([text(quickReply=quick_reply(14))], "messages[0].quickReply.items"),
    "21-character quick reply label": (
        [text(quickReply=quick_reply(1, label="ก" * 21))],
        "messages[0].quickReply.items[0].action.label",
    ),
    "301-character postback data": (
        [text(quickReply=quick_reply(1, data="d" * 301))],
        "messages[0].quickReply.items[0].action.data",
    ),
    "41-character flex button label": (
        [flex(bubble(button_label="ก" * 41))],
        "messages[0].contents.body.contents[1].action.label",
    ),
    "13-bubble carousel": ([flex(carousel([bubble()] * 13))], "messages[0].contents.contents"),
    "31 KB bubble": ([flex(bubble_of_size(31 * 1024))], "messages[0].contents"),
    "bubble one byte over 30 KB": ([flex(bubble_of_size(30 * 1024 + 1))], "messages[0].contents"),
    "carousel over 50 KB": (
        [flex(carousel([bubble_of_size(26 * 1024)] * 2))],
        "messages[0].contents",
    ),
    "1501-character altText": ([flex(bubble(), "ก" * 1501)], "messages[0].altText"),
    "401-character template altText": (
        [template(buttons_template("ตกลง"), alt_text="ก" * 401)],
        "messages[0].altText",
    ),
    "21-character template button label": (
        [template(buttons_template("ก" * 21))],
        "messages[0].template.actions[0].label",
    ),
    "13-character image carousel label": (
        [template(image_carousel_template("ก" * 13))],
        "messages[0].template.columns[0].action.label",
    ),
    "empty altText": ([flex(bubble(), "")], "messages[0].altText"),
    "http image": (
        [
            {
                "type": "image",
                "originalContentUrl": "http://x/a.jpg",
                "previewImageUrl": "https://x/b.jpg",
            }
        ],
        "messages[0].originalContentUrl",
    ),
}


@pytest.mark.parametrize("messages, prop", REFUSED.values(), ids=REFUSED.keys())
def test_messages_beyond_lines_limits_are_refused_and_reported(
    fake: FakeLine, messages: list[dict[str, Any]], prop: str
) -> None:
    response = push(fake, messages)

    assert response.status_code == 400
    assert response.json()["message"].startswith("The request body has")
    assert prop in [detail["property"] for detail in response.json()["details"]]
    assert any(error.startswith(f"push: {prop}: ") for error in fake.errors), fake.errors
    assert fake.deliveries(USER) == []


ACCEPTED = {
    "five messages": [text()] * 5,
    "5000-character text": [text("ก" * 5000)],
    "13 quick replies": [text(quickReply=quick_reply(13, label="ก" * 20, data="d" * 300))],
    "12-bubble carousel": [flex(carousel([bubble()] * 12))],
    "bubble of exactly 30 KB": [flex(bubble_of_size(30 * 1024))],
    "40-character flex button label": [flex(bubble(button_label="ก" * 40), "ก" * 1500)],
    "template labels of 20 and 12 characters": [
        template(buttons_template("ก" * 20), alt_text="ก" * 400),
        template(image_carousel_template("ก" * 12)),
    ],
    "https image": [
        {
            "type": "image",
            "originalContentUrl": "https://x/a.jpg",
            "previewImageUrl": "https://x/b.jpg",
        }
    ],
}


@pytest.mark.parametrize("messages", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_messages_at_lines_limits_are_delivered(
    fake: FakeLine, messages: list[dict[str, Any]]
) -> None:
    response = push(fake, messages)

    assert response.status_code == 200, response.json()
    assert fake.errors == []
    assert fake.deliveries(USER) == messages


def test_multicast_takes_at_most_500_users(fake: FakeLine) -> None:
    users = [f"U{i:032x}" for i in range(501)]

    too_many = call(fake, "POST", "/v2/bot/message/multicast", {"to": users, "messages": [text()]})
    most = call(
        fake, "POST", "/v2/bot/message/multicast", {"to": users[:500], "messages": [text()]}
    )

    assert too_many.status_code == 400
    assert {"property": "to", "message": "Size must be between 1 and 500"} in too_many.json()[
        "details"
    ]
    assert fake.errors == ["multicast: to: Size must be between 1 and 500"]
    assert most.status_code == 200
    assert fake.texts(users[0]) == fake.texts(users[499]) == ["สวัสดี"]
    assert fake.deliveries(users[500]) == []


def test_a_request_body_that_is_not_json_is_refused(fake: FakeLine) -> None:
    response = call(fake, "POST", "/v2/bot/message/push", data=b"{not json")

    assert response.status_code == 400
    assert fake.errors == ["push: (body): The request body must be JSON"]


def test_broadcast_reaches_every_friend_and_narrowcast_is_only_accepted(fake: FakeLine) -> None:
    fake.issue_reply_token(USER)
    fake.set_profile(OTHER, "สมหญิง")

    broadcast = call(fake, "POST", "/v2/bot/message/broadcast", {"messages": [text("ทุกคน")]})
    narrowcast = call(fake, "POST", "/v2/bot/message/narrowcast", {"messages": [text("บางคน")]})

    assert (broadcast.status_code, narrowcast.status_code) == (200, 202)
    assert fake.texts(USER) == fake.texts(OTHER) == ["ทุกคน"]


def test_the_quota_counts_messages_times_recipients_and_replies_are_free(fake: FakeLine) -> None:
    def quota() -> tuple[Any, Any]:
        limit = call(fake, "GET", "/v2/bot/message/quota")
        used = call(fake, "GET", "/v2/bot/message/quota/consumption")
        assert (limit.status_code, used.status_code) == (200, 200)
        return limit.json(), used.json()

    assert quota() == ({"type": "none"}, {"totalUsage": 0})
    fake.set_quota(500)
    fake.set_usage(100)
    assert quota() == ({"type": "limited", "value": 500}, {"totalUsage": 100})

    key = {"X-Line-Retry-Key": str(uuid.uuid4())}
    token = fake.issue_reply_token(USER)
    call(fake, "POST", "/v2/bot/message/reply", {"replyToken": token, "messages": [text()]})
    assert fake.usage == 100  # replies are free
    push(fake, [text("หนึ่ง"), text("สอง")], headers=key)
    push(fake, [text("หนึ่ง"), text("สอง")], headers=key)  # a repeat (409) is not counted
    call(fake, "POST", "/v2/bot/message/multicast", {"to": [USER, OTHER], "messages": [text()]})
    call(fake, "POST", "/v2/bot/message/broadcast", {"messages": [text()]})  # one friend: USER
    assert quota()[1] == {"totalUsage": 100 + 2 + 2 + 1}

    fake.fail("quota.consumption", 500)
    assert call(fake, "GET", "/v2/bot/message/quota/consumption").status_code == 500
    fake.set_quota(None)
    assert quota()[0] == {"type": "none"}


# ----- the OpenAPI schema (when ../shared has it) ------------------------------------------------


def test_schema_catches_a_flex_message_without_alt_text(with_schema: FakeLine) -> None:
    message = {"type": "flex", "contents": bubble()}

    response = push(with_schema, [message])

    assert response.status_code == 400
    assert "push: messages[0]: 'altText' is a required property" in with_schema.errors
    # The schema alone, without the always-on limits, catches it: the discriminator is enforced.
    assert schema.problems(with_schema.schema_path, "Message", message) == [
        limits.Problem("", "'altText' is a required property")
    ]


def test_schema_catches_a_misspelt_flex_container_type(with_schema: FakeLine) -> None:
    response = push(with_schema, [flex({**bubble(), "type": "bubbel"})])

    assert response.status_code == 400
    [detail] = response.json()["details"]
    assert detail["property"] == "messages[0].contents.type"
    assert "'bubbel' is not one of" in detail["message"]
    assert len(with_schema.errors) == 1


@pytest.mark.parametrize(
    "contents, prop",
    [
        (carousel([{**bubble(), "type": "box"}]), "contents.contents[0].type"),
        (
            {
                "type": "bubble",
                "body": {"type": "box", "layout": "vertical", "contents": [{"type": "txt"}]},
            },
            "contents.body.contents[0].type",
        ),
        (
            {"type": "bubble", "body": {"type": "box", "contents": []}},
            "contents.body",
        ),
    ],
    ids=["bubble in a carousel", "component", "box without layout"],
)
def test_schema_checks_nested_flex_components(
    with_schema: FakeLine, contents: dict[str, Any], prop: str
) -> None:
    found = schema.problems(with_schema.schema_path, "Message", flex(contents))

    assert prop in [problem.property for problem in found]


def test_schema_accepts_valid_flex_and_quick_reply_messages(with_schema: FakeLine) -> None:
    messages = [flex(bubble()), text(quickReply=quick_reply(3))]

    response = push(with_schema, messages)

    assert response.status_code == 200, response.json()
    assert with_schema.errors == []
    assert with_schema.deliveries(USER) == messages


def test_webhook_builders_match_lines_webhook_schema() -> None:
    if not WEBHOOK_SPEC.exists():
        pytest.skip("LINE's webhook.yml is not in ../shared on this machine")
    events = [
        webhook.text_event(USER, "สวัสดี", "r1"),
        webhook.text_event(USER, "ในกลุ่ม", "r2", source_type="group", group_id="C" + "3" * 32),
        webhook.text_event(USER, "รอ", "r3", mode="standby"),
        webhook.postback_event(USER, "action=plan", "r4", params={"date": "2024-05-01"}),
        webhook.follow_event(USER, "r5"),
        webhook.unfollow_event(USER),
        webhook.image_event(USER, "1001", "r6", source_type="room", group_id="R" + "4" * 32),
        webhook.file_event(USER, "1002", "r7", file_name="แผน.pdf", file_size=2048),
    ]

    assert schema.problems(WEBHOOK_SPEC, "CallbackRequest", webhook.envelope(events)) == []
    # The converted schema still rejects what LINE would never send.
    broken = webhook.text_event(USER, "x", "r8")
    del broken["message"]["quoteToken"]
    assert schema.problems(WEBHOOK_SPEC, "Event", broken) == [
        limits.Problem("message", "'quoteToken' is a required property")
    ]


def test_the_sdks_own_webhook_fixture_passes_the_converted_schema() -> None:
    if not (WEBHOOK_SPEC.exists() and SDK_FIXTURE.exists()):
        pytest.skip("LINE's webhook.yml or the SDK fixture is not in ../shared on this machine")
    known_types = set(schema.definitions(WEBHOOK_SPEC)["Event"]["properties"]["type"]["enum"])
    events = json.loads(SDK_FIXTURE.read_text(encoding="utf-8"))["events"]

    known = [event for event in events if event["type"] in known_types]

    assert len(known) > 20
    for event in known:
        assert schema.problems(WEBHOOK_SPEC, "Event", event) == [], event


# ----- users, content, loading -------------------------------------------------------------------


def test_profiles_are_served_and_unknown_users_are_404(fake: FakeLine) -> None:
    fake.set_profile(USER, "สมชาย ใจดี", picture_url="https://profile.line-scdn.net/abc")

    known = call(fake, "GET", f"/v2/bot/profile/{USER}")
    unknown = call(fake, "GET", f"/v2/bot/profile/{OTHER}")

    assert known.status_code == 200
    assert known.json() == {
        "userId": USER,
        "displayName": "สมชาย ใจดี",
        "pictureUrl": "https://profile.line-scdn.net/abc",
        "language": "th",
    }
    assert unknown.status_code == 404
    assert fake.errors == []


def test_content_is_served_as_bytes_and_can_be_streamed(fake: FakeLine) -> None:
    data = bytes(range(256)) * 1000
    fake.add_content("4711", data, "image/jpeg")

    whole = call(fake, "GET", "/v2/bot/message/4711/content")
    with call(fake, "GET", "/v2/bot/message/4711/content", stream=True) as streamed:
        chunks = list(streamed.iter_content(chunk_size=8192))
    missing = call(fake, "GET", "/v2/bot/message/4712/content")

    assert whole.status_code == 200
    assert whole.headers["Content-Type"] == "image/jpeg"
    assert whole.headers["Content-Length"] == str(len(data))
    assert whole.content == data
    assert len(chunks) > 1
    assert b"".join(chunks) == data
    assert missing.status_code == 404


@pytest.mark.parametrize("seconds, status", [(5, 202), (60, 202), (7, 400), (65, 400), (0, 400)])
def test_loading_animation_takes_5_to_60_seconds_in_steps_of_5(
    fake: FakeLine, seconds: int, status: int
) -> None:
    response = call(
        fake, "POST", "/v2/bot/chat/loading/start", {"chatId": USER, "loadingSeconds": seconds}
    )

    assert response.status_code == status
    assert [r.endpoint for r in fake.requests] == ["loading"]
    assert bool(fake.errors) == (status == 400)


# ----- rich menus --------------------------------------------------------------------------------

RICH_MENU = {
    "size": {"width": 2500, "height": 843},
    "selected": False,
    "name": "leader",
    "chatBarText": "เมนู",
    "areas": [
        {
            "bounds": {"x": 0, "y": 0, "width": 2500, "height": 843},
            "action": {"type": "postback", "data": "menu=plan"},
        }
    ],
}


def create_menu(fake: FakeLine) -> str:
    response = call(fake, "POST", "/v2/bot/richmenu", RICH_MENU)
    assert response.status_code == 200, response.json()
    return response.json()["richMenuId"]


def upload(fake: FakeLine, menu_id: str, data: bytes = PNG, kind: str = "image/png") -> int:
    return call(
        fake,
        "POST",
        f"/v2/bot/richmenu/{menu_id}/content",
        data=data,
        headers={"Content-Type": kind},
    ).status_code


def test_rich_menu_create_upload_get_and_list(fake: FakeLine) -> None:
    menu_id = create_menu(fake)

    assert re.fullmatch(r"richmenu-[0-9a-f]{32}", menu_id)
    assert upload(fake, menu_id) == 200
    assert upload(fake, menu_id) == 400  # LINE does not replace an image
    assert fake.rich_menus == {menu_id: {"menu": RICH_MENU, "image": PNG}}
    got = call(fake, "GET", f"/v2/bot/richmenu/{menu_id}")
    assert got.json() == {"richMenuId": menu_id, **RICH_MENU}
    listed = call(fake, "GET", "/v2/bot/richmenu/list")
    assert listed.json() == {"richmenus": [{"richMenuId": menu_id, **RICH_MENU}]}
    assert call(fake, "GET", "/v2/bot/richmenu/richmenu-unknown").status_code == 404
    assert fake.errors == []


def test_a_rich_menu_needs_its_image_before_it_is_linked(fake: FakeLine) -> None:
    menu_id = create_menu(fake)

    early = call(fake, "POST", f"/v2/bot/user/{USER}/richmenu/{menu_id}")
    upload(fake, menu_id)
    linked = call(fake, "POST", f"/v2/bot/user/{USER}/richmenu/{menu_id}")

    assert early.status_code == 400
    assert linked.status_code == 200
    assert fake.user_rich_menu(USER) == menu_id
    assert call(fake, "GET", f"/v2/bot/user/{USER}/richmenu").json() == {"richMenuId": menu_id}
    assert call(fake, "DELETE", f"/v2/bot/user/{USER}/richmenu").status_code == 200
    assert fake.user_rich_menu(USER) is None
    assert call(fake, "GET", f"/v2/bot/user/{USER}/richmenu").status_code == 404


def test_default_rich_menu_and_bulk_link(fake: FakeLine) -> None:
    default_id, officer_id = create_menu(fake), create_menu(fake)
    upload(fake, default_id)
    upload(fake, officer_id)

    assert call(fake, "POST", f"/v2/bot/user/all/richmenu/{default_id}").status_code == 200
    assert call(fake, "GET", "/v2/bot/user/all/richmenu").json() == {"richMenuId": default_id}
    bulk = {"richMenuId": officer_id, "userIds": [USER, OTHER]}
    assert call(fake, "POST", "/v2/bot/richmenu/bulk/link", bulk).status_code == 202

    assert fake.default_rich_menu == default_id
    assert fake.user_rich_menu(USER) == fake.user_rich_menu(OTHER) == officer_id
    assert fake.user_rich_menu("U" + "9" * 32) == default_id
    # A user's own link, not the default, is what LINE reports per user.
    assert call(fake, "GET", "/v2/bot/user/U9/richmenu").status_code == 404

    assert call(fake, "DELETE", f"/v2/bot/richmenu/{officer_id}").status_code == 200
    assert fake.user_rich_menu(USER) == default_id
    assert call(fake, "DELETE", "/v2/bot/user/all/richmenu").status_code == 200
    assert fake.default_rich_menu is None
    assert fake.errors == []


def test_bulk_link_takes_at_most_500_users(fake: FakeLine) -> None:
    menu_id = create_menu(fake)
    upload(fake, menu_id)
    users = [f"U{i:032x}" for i in range(501)]

    response = call(
        fake, "POST", "/v2/bot/richmenu/bulk/link", {"richMenuId": menu_id, "userIds": users}
    )

    assert response.status_code == 400
    assert fake.errors == ["richmenu.bulk_link: userIds: Size must be between 1 and 500"]


def test_rich_menu_chat_bar_text_is_at_most_14_characters(fake: FakeLine) -> None:
    response = call(fake, "POST", "/v2/bot/richmenu", {**RICH_MENU, "chatBarText": "ก" * 15})

    assert response.status_code == 400
    assert fake.errors == [
        "richmenu.create: chatBarText: Length must be at most 14 characters (got 15)"
    ]
    assert fake.rich_menus == {}


def test_rich_menu_images_must_be_png_or_jpeg(fake: FakeLine) -> None:
    menu_id = create_menu(fake)

    assert upload(fake, menu_id, b"GIF89a", "image/gif") == 400
    assert fake.errors == ["richmenu.upload: Content-Type: Must be image/png or image/jpeg"]
    assert fake.rich_menus[menu_id]["image"] is None


# ----- webhook signing and events ----------------------------------------------------------------


def test_sign_matches_the_sdks_test_vector() -> None:
    assert (
        webhook.sign("channel_secret", b"bodybodybodybody")
        == "/gg9a+LvFevTH1sd7XCQycD7tsWclCsInj7MhBHxN7k="
    )


def test_the_sdk_parses_a_signed_envelope_of_built_events() -> None:
    sdk = pytest.importorskip("linebot.v3.webhook")
    from linebot.v3.webhooks import (
        FileMessageContent,
        FollowEvent,
        ImageMessageContent,
        MessageEvent,
        PostbackEvent,
        TextMessageContent,
        UnfollowEvent,
    )

    events = [
        webhook.text_event(USER, "สวัสดี", "r1"),
        webhook.postback_event(USER, "plan=1", "r2", params={"datetime": "2024-05-01T09:00"}),
        webhook.follow_event(USER, "r3"),
        webhook.unfollow_event(USER),
        webhook.image_event(USER, "1001", "r4"),
        webhook.file_event(USER, "1002", "r5"),
    ]
    body = json.dumps(webhook.envelope(events), ensure_ascii=False)

    parsed = sdk.WebhookParser("secret").parse(body, webhook.sign("secret", body.encode()))

    assert [type(event) for event in parsed] == [
        MessageEvent,
        PostbackEvent,
        FollowEvent,
        UnfollowEvent,
        MessageEvent,
        MessageEvent,
    ]
    assert isinstance(parsed[0].message, TextMessageContent)
    assert parsed[0].message.text == "สวัสดี"
    assert parsed[0].reply_token == "r1"
    assert parsed[1].postback.params == {"datetime": "2024-05-01T09:00"}
    assert isinstance(parsed[4].message, ImageMessageContent)
    assert isinstance(parsed[5].message, FileMessageContent)


def test_events_carry_lines_common_fields() -> None:
    before = time.time_ns() // 1_000_000
    event = webhook.text_event(USER, "สวัสดี", "r1")
    standby = webhook.text_event(USER, "สวัสดี", "r2", mode="standby", ts=42, event_id="E1")

    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", event["webhookEventId"])
    assert before <= event["timestamp"] <= time.time_ns() // 1_000_000
    assert event["deliveryContext"] == {"isRedelivery": False}
    assert event["source"] == {"type": "user", "userId": USER}
    assert "replyToken" not in standby
    assert (standby["timestamp"], standby["webhookEventId"]) == (42, "E1")
    assert len({webhook.new_event_id() for _ in range(1000)}) == 1000
    assert webhook.envelope([])["destination"].startswith("U")

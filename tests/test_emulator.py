"""The emulator without a browser: with no LINE channel configured the app runs a fake LINE
inside, and what the chat page does goes to the bot as signed webhooks over real HTTP."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from PIL import Image
from sqlalchemy import select

from bot import clock, create_app
from bot.db import db
from bot.models import InboxEvent, User


def wait_for(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("not true within the time: " + getattr(check, "__doc__", "") or "")


def bot_said(server: str, user_id: str, text: str) -> Callable[[], bool]:
    def check() -> bool:
        entries = requests.get(f"{server}/emulator/api/chat/{user_id}", timeout=5).json()
        return any(
            text in (e["message"].get("text") or e["message"].get("altText") or "")
            for e in entries["entries"]
            if e["side"] == "bot"
        )

    check.__doc__ = f"the bot said {text!r} to {user_id}"
    return check


def action_labelled(node: Any, label: str) -> dict[str, Any]:
    """The action of the button (or quick reply) labelled `label` anywhere in a message."""
    found = _actions(node)
    matching = [a for a in found if a.get("label") == label]
    assert matching, f"no {label!r} among {[a.get('label') for a in found]}"
    return matching[0]


def _actions(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [a for item in node for a in _actions(item)]
    if not isinstance(node, dict):
        return []
    found = [node["action"]] if isinstance(node.get("action"), dict) else []
    return found + [a for key, value in node.items() if key != "action" for a in _actions(value)]


def newcomer(server: str) -> str:
    person = requests.post(f"{server}/emulator/api/people", timeout=5).json()
    answer = requests.post(
        f"{server}/emulator/api/chat/{person['user_id']}/send", json={"type": "follow"}, timeout=5
    )
    assert answer.status_code == 200, answer.text
    return str(person["user_id"])


def send(server: str, user_id: str, **action: Any) -> requests.Response:
    return requests.post(f"{server}/emulator/api/chat/{user_id}/send", json=action, timeout=10)


def test_without_a_channel_the_app_starts_as_the_emulator(app_config):
    config = {k: v for k, v in app_config.items() if not k.startswith("LINE_")}
    app = create_app(config)
    try:
        emulator = app.extensions["emulator"]
        assert app.config["EMULATOR"] is True
        assert app.config["LINE_API_BASE_URL"] == emulator.fake.base_url
        assert app.extensions["runtime"].gateway is not None
        assert app.test_client().get("/emulator/").status_code == 200
    finally:
        app.extensions["emulator"].stop()
        db.dispose()


def test_with_a_channel_there_is_no_emulator(client):
    assert client.get("/emulator/").status_code == 404


def test_the_emulator_answers_this_machine_only(emulator_app):
    page = emulator_app.test_client().get("/emulator/", environ_base={"REMOTE_ADDR": "192.0.2.10"})
    assert page.status_code == 403
    assert "เครื่องนี้เท่านั้น" in page.get_data(as_text=True)
    emulator_app.config["EMULATOR_ALLOW_REMOTE"] = True
    page = emulator_app.test_client().get("/emulator/", environ_base={"REMOTE_ADDR": "192.0.2.10"})
    assert page.status_code == 200


def test_a_newcomer_follows_and_registers_through_signed_webhooks(emulator_server):
    user_id = newcomer(emulator_server)
    wait_for(bot_said(emulator_server, user_id, "ยินยอม"))
    with db.transaction() as session:
        stored = session.scalars(select(InboxEvent.payload)).all()
    assert [e["type"] for e in stored] == ["follow"]  # it came in as LINE sends it

    # Tap the card's button as the page does: its postback action, as the bot wrote it.
    consent = bot_messages(emulator_server, user_id)[-1]
    accept = action_labelled(consent, "ยอมรับ")
    send(emulator_server, user_id, type="postback", data=accept["data"], label=accept["label"])
    wait_for(bot_said(emulator_server, user_id, "ชื่อ"))
    chat = requests.get(f"{emulator_server}/emulator/api/chat/{user_id}", timeout=5).json()
    notes = [e["message"]["text"] for e in chat["entries"] if e["side"] == "note"]
    assert notes == ["เพิ่มเพื่อนบอทแล้ว", "กด «ยอมรับ»"]
    numbers = [e["seq"] for e in chat["entries"]]
    assert numbers == sorted(numbers)
    later = requests.get(
        f"{emulator_server}/emulator/api/chat/{user_id}?after={numbers[-1]}", timeout=5
    ).json()
    assert later["entries"] == []


def test_people_rich_menus_and_pushes(emulator_app, emulator_server):
    emulator = emulator_app.extensions["emulator"]
    runtime = emulator_app.extensions["runtime"]
    emulator.prepare(runtime.db, runtime.gateway, runtime.storage, clock.now())
    people = requests.get(f"{emulator_server}/emulator/api/people", timeout=5).json()["people"]
    roles = {p["role"] for p in people}
    assert {"leader", "officer", "province"} <= roles, people
    officer = next(p for p in people if p["role"] == "officer")
    assert "บึงกาฬ" in officer["label"]

    chat = requests.get(f"{emulator_server}/emulator/api/chat/{officer['user_id']}", timeout=5)
    menu = chat.json()["menu"]
    assert menu["chatBarText"] == "เมนูพัฒนากร"
    image = requests.get(f"{emulator_server}/emulator/api/richmenu/{menu['id']}.png", timeout=5)
    assert Image.open(io.BytesIO(image.content)).size == (2500, 843)

    # A menu area is a message action: tapping it sends its text, as LINE does.
    words = [area["action"]["text"] for area in menu["areas"]]
    assert "ผู้นำในอำเภอ" in words
    assert send(emulator_server, officer["user_id"], type="text", text="ผู้นำในอำเภอ").ok
    wait_for(bot_said(emulator_server, officer["user_id"], "ผู้นำ"))


def test_a_photo_from_disk_reaches_the_bot_through_the_content_endpoint(emulator_server):
    user_id = newcomer(emulator_server)
    wait_for(bot_said(emulator_server, user_id, "ยินยอม"))
    with db.transaction() as session:
        assert session.scalar(select(User).where(User.line_user_id == user_id)) is not None
    photo = io.BytesIO()
    Image.new("RGB", (640, 480), "#2a7").save(photo, "JPEG")
    answer = requests.post(
        f"{emulator_server}/emulator/api/chat/{user_id}/upload",
        files={"file": ("ปุ๋ยหมัก.jpg", photo.getvalue(), "image/jpeg")},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    chat = requests.get(f"{emulator_server}/emulator/api/chat/{user_id}", timeout=5).json()
    sent = [e["message"] for e in chat["entries"] if e["side"] == "user"]
    assert sent[-1]["type"] == "image" and sent[-1]["fileName"] == "ปุ๋ยหมัก.jpg"
    content = requests.get(f"{emulator_server}/emulator/api/content/{sent[-1]['id']}", timeout=5)
    assert content.content == photo.getvalue()
    # Not registered yet, so the bot says so rather than keeping the photo.
    wait_for(lambda: len(bot_messages(emulator_server, user_id)) >= 2)


def bot_messages(server: str, user_id: str) -> list[dict[str, Any]]:
    entries = requests.get(f"{server}/emulator/api/chat/{user_id}", timeout=5).json()["entries"]
    return [e["message"] for e in entries if e["side"] == "bot"]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"type": "text", "text": "   "}, 400, "ข้อความว่าง"),
        ({"type": "sticker"}, 400, "ข้อความว่าง"),
        ([1, 2], 400, "ไม่ถูกต้อง"),
    ],
)
def test_bad_sends_get_a_thai_answer_and_reach_nobody(emulator_server, body, status, words):
    user_id = newcomer(emulator_server)
    answer = requests.post(
        f"{emulator_server}/emulator/api/chat/{user_id}/send", json=body, timeout=5
    )
    assert answer.status_code == status
    assert words in answer.json()["message"]
    with db.transaction() as session:
        assert len(session.scalars(select(InboxEvent.id)).all()) == 1  # the follow only


def test_an_empty_upload_is_refused(emulator_server):
    user_id = newcomer(emulator_server)
    answer = requests.post(
        f"{emulator_server}/emulator/api/chat/{user_id}/upload",
        files={"file": ("empty.jpg", b"", "image/jpeg")},
        timeout=5,
    )
    assert answer.status_code == 400 and "ว่างเปล่า" in answer.json()["message"]


def test_a_leader_who_erased_her_data_leaves_no_stand_in_to_switch_to(
    emulator_app, emulator_server
):
    emulator = emulator_app.extensions["emulator"]
    runtime = emulator_app.extensions["runtime"]
    emulator.prepare(runtime.db, runtime.gateway, runtime.storage, clock.now())
    people = requests.get(f"{emulator_server}/emulator/api/people", timeout=5).json()["people"]
    leader = next(p for p in people if p["role"] == "leader" and "ส่งแล้ว" in p["label"])
    send(emulator_server, leader["user_id"], type="postback", data="a=forget.yes", label="ลบเลย")
    wait_for(bot_said(emulator_server, leader["user_id"], "ลบข้อมูลส่วนบุคคลของคุณแล้ว"))
    after = requests.get(f"{emulator_server}/emulator/api/people", timeout=5).json()["people"]
    assert len(after) == len(people)  # her plan went to a stand-in nobody can be
    assert not any("ลบข้อมูล" in p["name"] for p in after)
    assert next(p for p in after if p["user_id"] == leader["user_id"])["role"] != "leader"

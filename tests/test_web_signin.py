"""Signing in to the web desk with a one-time link from the chat."""

from __future__ import annotations

import re

from tests.workspace import leader, officer_of, plan_at, staff_of


def link_of(person) -> str:
    person.say("เข้าเว็บ")
    found = re.search(r"https://bot\.example\.test(/web/signin/\S+)", person.last_text)
    assert found, person.last_text
    return found.group(1)


def test_link_signs_in_once_and_the_session_can_be_ended(line, runner, client):
    officer = officer_of(line, runner)
    path = link_of(officer)

    page = client.get(path)  # LINE's preview fetches the link: it must not use it up
    assert page.status_code == 200 and "เข้าสู่ระบบ" in page.text
    signed = client.post(path)
    assert signed.status_code == 302
    cookie = signed.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
    home = client.get("/web/")
    assert home.status_code == 200 and "พัฒนากร สมชาย" in home.text
    assert home.headers["X-Frame-Options"] == "DENY"

    again = client.post(path)
    assert again.status_code == 400 and "ใช้ไปแล้ว" in again.text

    token = re.search(r'name="csrf_token" value="([^"]+)"', home.text).group(1)
    assert client.post("/web/signout", data={"csrf_token": "forged"}).status_code == 400
    assert client.get("/web/").status_code == 200  # still signed in after the forged form
    assert client.post("/web/signout", data={"csrf_token": token}).status_code == 302
    assert client.get("/web/").status_code == 302  # to the sign-in page


def test_expired_link_and_changed_role_are_refused(line, runner, client, clock):
    clock.set("2027-03-18 08:00")
    officer = officer_of(line, runner)
    path = link_of(officer)
    clock.advance(minutes=11)
    refused = client.post(path)
    assert refused.status_code == 400 and "หมดอายุ" in refused.text
    assert client.get("/web/").status_code == 302


def test_stage_builder_reaches_certified(line, runner, client):
    officer = officer_of(line, runner)
    staff = staff_of(line, runner)
    somsri = leader(line, "สมศรี ใจดี")
    assert plan_at(somsri, "certified", officer, staff) is not None


def test_a_fault_behind_a_page_answers_in_thai_and_keeps_nothing(line, runner, app, monkeypatch):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the error handler answers
    client = app.test_client()
    staff = staff_of(line, runner)
    client.post(link_of(staff))
    settings = client.get("/web/settings")
    token = re.search(r'name="csrf_token" value="([^"]+)"', settings.text).group(1)

    from bot.services import committee

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(committee, "save_settings", broken)
    answer = client.post(
        "/web/settings",
        data={"csrf_token": token, "signer_name": "นายทดสอบ", "signer_position": "ผู้ว่า"},
    )
    assert answer.status_code == 500 and "ระบบขัดข้องชั่วคราว" in answer.text
    assert "RuntimeError" not in answer.text and "disk on fire" not in answer.text


def test_refusals_werkzeug_would_word_in_english_are_thai_on_the_desk(client):
    wrong_method = client.get("/web/signout")
    assert wrong_method.status_code == 405 and "ใช้งานด้วยวิธีนี้ไม่ได้" in wrong_method.text
    missing = client.get("/web/no-such-page")
    assert missing.status_code == 404 and "ไม่พบหน้าที่ต้องการ" in missing.text
    assert "Method Not Allowed" not in wrong_method.text

"""Province broadcasts of assessment dates, as province staff, leaders and officers live them in
LINE: the form and its preview, multicasts in chunks with retry keys, the delivery report, the
leaders' answers, scheduled and quiet-hour sends, changes and cancellation."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, insert, select

from bot import render
from bot.db import db
from bot.models import (
    Appointment,
    AuditLog,
    Broadcast,
    LeaderProfile,
    OutboxMessage,
    User,
    utcnow,
)
from bot.services import broadcasts
from fakeline import webhook as events
from handlers.broadcast_views import (
    LIST_MAX,
    appointment_card,
    list_card,
    report_message,
    summary_card,
)
from tests.conftest import BANGKOK
from tests.test_invites import consented, create_code
from tests.test_registration import register
from tests.test_templates import long_text, push_all

PLACE = "ห้องประชุมสำนักงานพัฒนาชุมชนจังหวัดบึงกาฬ ชั้น 2"
NOTE = "กรุณานำเอกสารสรุปผลงานมาด้วย"
_next_id = iter(range(0xB000_0000, 0xC000_0000))


# Set-up ------------------------------------------------------------------------------------
def add_leaders(count: int, district: str = "3804", following: bool = True) -> list[str]:
    """Leaders registered in bulk in the database (the acts themselves go through the chat)."""
    ids = [f"U{next(_next_id):032x}" for _ in range(count)]
    now = utcnow()
    with db.transaction() as session:
        session.execute(
            insert(User),
            [
                {
                    "line_user_id": line_id,
                    "display_name": f"ผู้นำ {n}",
                    "role": "leader",
                    "status": "active",
                    "area_code": f"{district}01",
                    "following": following,
                    "consent_at": now,
                }
                for n, line_id in enumerate(ids)
            ],
        )
        users = dict(
            session.execute(
                select(User.line_user_id, User.id).where(User.line_user_id.in_(ids))
            ).all()
        )
        session.execute(
            insert(LeaderProfile),
            [
                {
                    "user_id": users[line_id],
                    "full_name": f"ผู้นำทดสอบ {n + 1}",
                    "subdistrict_code": f"{district}01",
                    "district_code": district,
                    "province_code": district[:2],
                    "registered_at": now,
                }
                for n, line_id in enumerate(ids)
            ],
        )
    return ids


def province_staff(line, runner, name: str = "เจ้าหน้าที่จังหวัด", province: str = "38"):
    staff = consented(line, name)
    staff.say(create_code(runner, "province", province))
    staff.received()
    return staff


def officer_of(line, runner, district: str = "3801", name: str = "พัฒนากร สมชาย"):
    officer = consented(line, name)
    officer.say(create_code(runner, "officer", district))
    officer.received()
    return officer


def fill_form(
    staff, audience: str = "ผู้นำทั้งจังหวัด", when: str = "2027-06-20T09:30", preview: bool = True
) -> None:
    """From the keyword to the preview."""
    staff.say("ประกาศวันประเมิน")
    if "สร้างประกาศใหม่" in staff.labels():  # the list of upcoming ones comes first
        staff.tap("สร้างประกาศใหม่")
    assert "ขั้นที่ 1/5 วันและเวลาประเมิน" in staff.last_text
    staff.pick("เลือกวันและเวลา", when)
    assert "ขั้นที่ 2/5" in staff.last_text
    staff.say(PLACE)
    assert "ขั้นที่ 3/5 ส่งประกาศถึงใครคะ" in staff.last_text
    staff.tap(audience)
    if audience == "ผู้นำบางอำเภอ":
        return
    assert "ขั้นที่ 4/5" in staff.last_text
    staff.say(NOTE)
    assert ("ตรวจสอบก่อนส่งประกาศ" in staff.last_text) == preview


def texts_of(message: dict[str, Any]) -> list[str]:
    """Every text a person reads in one message, in order."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "text" and isinstance(node.get("text"), str):
                found.append(node["text"])
            for key, value in node.items():
                if key not in {"action", "quickReply"}:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.get("contents", message))
    return found


def stats(message: dict[str, Any]) -> dict[str, str]:
    """The label → value rows of a summary card (preview, report, answers)."""
    rows = message["contents"]["body"]["contents"]
    return {
        row["contents"][0]["text"]: row["contents"][1]["text"]
        for row in rows
        if row.get("layout") == "horizontal"
    }


def buttons(message: dict[str, Any]) -> list[str]:
    footer = message["contents"].get("footer", {"contents": []})
    return [b["action"]["label"] for b in footer["contents"]]


def multicasts(line) -> list[Any]:
    return [r for r in line.platform.requests if r.endpoint == "multicast"]


def nothing_pending_but_quiet(line) -> bool:
    with db.transaction() as session:
        return not session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status == "pending", OutboxMessage.quiet.is_(False))
        )


def tap_without_settling(line, person, label: str) -> list[dict[str, Any]]:
    """A tap whose result includes sends held for the morning (which `settle` would wait for):
    wait only for the reply."""
    action = person.find_action(label)
    seen = len(line.platform.deliveries(person.user_id))
    token = line.platform.issue_reply_token(person.user_id)
    line.send(events.postback_event(person.user_id, action["data"], token))
    line.platform.wait_for(lambda: len(line.platform.deliveries(person.user_id)) > seen)
    line.platform.wait_for(lambda: nothing_pending_but_quiet(line))
    return person.received()


def broadcast_row() -> Broadcast:
    with db.transaction() as session:
        return session.scalars(select(Broadcast).order_by(Broadcast.id.desc())).first()


def appointments() -> list[Appointment]:
    with db.transaction() as session:
        return list(session.scalars(select(Appointment).order_by(Appointment.leader_id)))


# The whole flow ----------------------------------------------------------------------------
def test_province_staff_announce_a_date_and_leaders_and_officers_get_their_cards(
    line, runner, clock, scheduler
):
    clock.set("2027-03-18 08:00")
    somsri = line.user("สมศรี ใจดี")
    register(somsri)  # ต.หอคำ อ.เมืองบึงกาฬ
    sekas = add_leaders(2, "3804")
    blocked = add_leaders(1, "3804", following=False)
    elsewhere = add_leaders(1, "4801")  # another province
    officer = officer_of(line, runner, "3801")
    other_officer = officer_of(line, runner, "4801", "พัฒนากร นครพนม")
    staff = province_staff(line, runner)
    line.platform.set_quota(10_000)
    line.platform.set_usage(1_200)
    assert scheduler.run("quota")
    used = line.platform.usage

    fill_form(staff, "ทุกคน")
    card, summary = staff.last
    # The card exactly as leaders will get it ...
    assert texts_of(card) == [
        "นัดหมายการประเมิน มชช.",
        "จากสำนักงานพัฒนาชุมชนจังหวัดบึงกาฬ",
        "ขอเชิญผู้นำสัมมาชีพชุมชนเข้ารับการประเมินตามมาตรฐาน มชช. ตามวันเวลาด้านล่างค่ะ",
        "วันที่",
        "วันอาทิตย์ที่ 20 มิถุนายน 2570",
        "เวลา",
        "09:30 น.",
        "สถานที่",
        PLACE,
        "หมายเหตุ",
        NOTE,
        'กรุณาแตะ "รับทราบ" หรือ "ขอเลื่อน" (พร้อมเหตุผล) เพื่อแจ้งจังหวัดค่ะ',
    ]
    assert buttons(card) == ["รับทราบ", "ขอเลื่อน"]
    # ... and below it who gets it, who is skipped, and what it costs.
    assert stats(summary) == {
        "ผู้นำ": "3 คน",
        "พัฒนากร": "1 คน",
        "ข้าม (บล็อกบัญชี LINE)": "1 คน",
        "ใช้โควตา": "4 ข้อความ",
        "ใช้ไปแล้วเดือนนี้": f"{used:,} / 10,000",
        "เหลือหลังส่ง": f"{10_000 - used - 4:,} ข้อความ",
    }
    assert "ผู้รับ: ผู้นำและพัฒนากรทั้งจังหวัด" in staff.last_text
    assert buttons(summary) == ["ส่งเลย", "ตั้งเวลาส่ง", "แก้ไข", "ยกเลิก"]
    staff.tap("รับทราบ")  # the sample's button only explains itself
    assert "ตัวอย่างการ์ด" in staff.last_text
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Broadcast)) == 0

    staff.tap("ส่งเลย", [summary])
    assert "ส่งประกาศวันประเมินแล้วค่ะ (20 มิ.ย. 70 09:30 น.)" in staff.last_text
    assert "ผู้รับ: ผู้นำ 3 คน พัฒนากร 1 คน" in staff.last_text
    assert "ข้าม 1 คนที่บล็อกบัญชี LINE" in staff.last_text
    line.settle()

    leader_card = somsri.received()
    assert [m["altText"] for m in leader_card] == [
        f"นัดหมายการประเมิน มชช.: 20 มิ.ย. 70 09:30 น. ณ {PLACE}"
    ]
    assert texts_of(leader_card[0]) == texts_of(card)
    assert buttons(leader_card[0]) == ["รับทราบ", "ขอเลื่อน"]
    for line_id in sekas:
        assert line.platform.deliveries(line_id) == leader_card
    assert line.platform.deliveries(blocked[0]) == []
    assert line.platform.deliveries(elsewhere[0]) == []
    officer_card = officer.received()
    assert len(officer_card) == 1
    assert "แจ้งพัฒนากร: จังหวัดนัดประเมินผู้นำสัมมาชีพชุมชนตามวันเวลาด้านล่างค่ะ" in officer.last_text
    assert "ผู้นำและพัฒนากรทั้งจังหวัด" in officer.last_text
    assert buttons(officer_card[0]) == []
    assert other_officer.received() == []
    assert [len(r.json["to"]) for r in multicasts(line)] == [3, 1]
    # Every leader of the audience has an appointment, the blocked one too (she is still
    # assessed; the officer may phone her).
    assert len(appointments()) == 4
    assert {a.starts_at for a in appointments()} == {datetime(2027, 6, 20, 9, 30, tzinfo=BANGKOK)}

    # The report, once every multicast has ended, exactly once.
    assert scheduler.run("broadcasts")
    line.settle()
    (report,) = staff.received()
    assert report["altText"] == "รายงานการส่งประกาศ: สำเร็จ 4 คน ข้าม 1 คน ไม่สำเร็จ 0 คน"
    assert stats(report) == {
        "ส่งสำเร็จ": "4 คน",
        "ข้าม (บล็อกบัญชี LINE)": "1 คน",
        "ส่งไม่สำเร็จ": "0 คน",
    }
    assert buttons(report) == ["ดูคำตอบ"]
    assert scheduler.run("broadcasts")
    line.settle()
    assert staff.received() == []
    row = broadcast_row()
    assert (row.status, row.recipients, row.skipped) == ("sent", 4, 1)
    assert row.report == {"sent": 4, "skipped": 1, "failed": 0, "reasons": {}}


def test_leaders_answer_and_the_province_sees_the_answers(line, runner, clock, scheduler):
    clock.set("2027-03-18 08:00")
    somsri = line.user("สมศรี ใจดี")
    register(somsri)
    (sekas_id,) = add_leaders(1, "3804")
    (waiting_id,) = add_leaders(1, "3804")
    (outsider_id,) = add_leaders(1, "4801")
    staff = province_staff(line, runner)
    fill_form(staff)
    staff.tap("ส่งเลย")
    line.settle()
    scheduler.run("broadcasts")
    line.settle()
    staff.received()

    card = somsri.received()
    somsri.tap("รับทราบ", card)
    assert "บันทึกแล้วค่ะ คุณรับทราบนัดประเมินวันอาทิตย์ที่ 20 มิถุนายน 2570 เวลา 09:30 น." in somsri.last_text

    sekas = line.user("ผู้นำเซกา", user_id=sekas_id)
    sekas.received()
    sekas.tap("ขอเลื่อน", card)
    assert "พิมพ์เหตุผลที่ขอเลื่อน" in sekas.last_text
    sekas.say("ติดงานบุญประจำปีของหมู่บ้าน ขอเลื่อนเป็นสัปดาห์ถัดไป")
    assert "บันทึกคำขอเลื่อนแล้วค่ะ" in sekas.last_text

    # A leader outside the audience (another province) taps a forwarded card's button.
    outsider = line.user("ผู้นำนครพนม", user_id=outsider_id)
    outsider.tap("รับทราบ", card)
    assert "ใช้ได้เฉพาะผู้นำที่ได้รับนัดหมายนี้" in outsider.last_text
    outsider.tap("ขอเลื่อน", card)
    assert "ใช้ได้เฉพาะผู้นำที่ได้รับนัดหมายนี้" in outsider.last_text

    by_leader = {a.leader_id: a for a in appointments()}
    with db.transaction() as session:
        ids = dict(session.execute(select(User.line_user_id, User.id)).all())
        denied = session.scalars(
            select(AuditLog.action)
            .where(AuditLog.actor_user_id == ids[outsider_id])
            .order_by(AuditLog.id)
        ).all()
    assert by_leader[ids[somsri.user_id]].response == "acknowledged"
    assert by_leader[ids[sekas_id]].response == "postpone"
    assert by_leader[ids[sekas_id]].response_reason == "ติดงานบุญประจำปีของหมู่บ้าน ขอเลื่อนเป็นสัปดาห์ถัดไป"
    assert by_leader[ids[waiting_id]].response is None
    assert ids[outsider_id] not in by_leader
    assert denied == ["bc.ack.denied", "bc.postpone.denied"]

    staff.say("ประกาศวันประเมิน")
    (listing,) = staff.last
    first = listing["contents"]["contents"][0]
    assert "รับทราบ 1 · ขอเลื่อน 1 · ยังไม่ตอบ 1" in json.dumps(first, ensure_ascii=False)
    staff.tap("ดูคำตอบ")
    (answers,) = staff.last
    assert stats(answers) == {"รับทราบ": "1 คน", "ขอเลื่อน": "1 คน", "ยังไม่ตอบ": "1 คน"}
    assert "• ผู้นำทดสอบ 1 (อ.เซกา): ติดงานบุญประจำปีของหมู่บ้าน ขอเลื่อนเป็นสัปดาห์ถัดไป" in texts_of(answers)

    # Staff of another province cannot read them, even with the button's data.
    other = province_staff(line, runner, "เจ้าหน้าที่นครพนม", "48")
    other.tap("ดูคำตอบ", [listing])
    assert "ไม่ใช่ของจังหวัดที่คุณรับผิดชอบ" in other.last_text


def test_only_province_staff_may_announce(line, runner, clock):
    clock.set("2027-03-18 08:00")
    somsri = line.user("สมศรี ใจดี")
    register(somsri)
    officer = officer_of(line, runner)
    for person in (somsri, officer):
        person.say("ประกาศวันประเมิน")
        assert person.last_text == (
            "ขออภัยค่ะ การประกาศวันประเมินใช้ได้เฉพาะเจ้าหน้าที่สำนักงานพัฒนาชุมชนจังหวัดเท่านั้นนะคะ "
            "หากได้รับนัดหมายประเมิน จะมีข้อความแจ้งมาในแชตนี้ค่ะ"
        )
        # A forged "new broadcast" postback does not open the form either.
        person.postback("a=bc.new")
        assert "ใช้ได้เฉพาะเจ้าหน้าที่สำนักงานพัฒนาชุมชนจังหวัด" in person.last_text
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Broadcast)) == 0
        assert (
            session.scalar(
                select(func.count()).select_from(AuditLog).where(AuditLog.action.like("b%.denied"))
            )
            == 4
        )


def test_a_broadcast_to_1234_leaders_makes_three_multicasts_and_reaches_each_once(
    line, runner, clock, scheduler
):
    clock.set("2027-03-18 08:00")
    leaders = add_leaders(1234, "3801")
    staff = province_staff(line, runner)
    fill_form(staff)
    assert stats(staff.last[1])["ผู้นำ"] == "1,234 คน"
    staff.tap("ส่งเลย")
    line.settle()

    calls = multicasts(line)
    assert [len(r.json["to"]) for r in calls] == [500, 500, 234]
    assert len({r.headers["x-line-retry-key"] for r in calls}) == 3
    assert all(len(line.platform.deliveries(user_id)) == 1 for user_id in leaders)
    assert sorted(u for r in calls for u in r.json["to"]) == sorted(leaders)
    scheduler.run("broadcasts")
    line.settle()
    assert stats(staff.received()[0])["ส่งสำเร็จ"] == "1,234 คน"


def test_multicasts_answered_500_then_429_are_retried_with_their_keys_and_delivered_once(
    line, runner, clock, scheduler
):
    clock.set("2027-03-18 08:00")
    leaders = add_leaders(700, "3801")
    staff = province_staff(line, runner)
    fill_form(staff)
    line.platform.fail("multicast", 500)
    line.platform.fail("multicast", 429, retry_after=1)
    staff.tap("ส่งเลย")
    line.settle()

    tries: dict[str, list[Any]] = defaultdict(list)
    for request in multicasts(line):
        tries[request.headers["x-line-retry-key"]].append(request)
    assert len(tries) == 2  # one key per chunk of 500
    assert sorted(r.status for attempts in tries.values() for r in attempts) == [200, 200, 429, 500]
    for attempts in tries.values():
        assert attempts[-1].status == 200
        assert all(a.json == attempts[0].json for a in attempts)  # the same chunk each time
    assert all(len(line.platform.deliveries(user_id)) == 1 for user_id in leaders)
    scheduler.run("broadcasts")
    line.settle()
    assert stats(staff.received()[0]) == {
        "ส่งสำเร็จ": "700 คน",
        "ข้าม (บล็อกบัญชี LINE)": "0 คน",
        "ส่งไม่สำเร็จ": "0 คน",
    }


def test_the_report_says_who_failed_and_why(line, runner, clock, scheduler):
    clock.set("2027-03-18 08:00")
    add_leaders(3, "3801")
    staff = province_staff(line, runner)
    fill_form(staff)
    line.platform.fail("multicast", 400)  # LINE refuses it for good: no retry
    staff.tap("ส่งเลย")
    line.settle()
    scheduler.run("broadcasts")
    line.settle()
    (report,) = staff.received()
    assert stats(report)["ส่งไม่สำเร็จ"] == "3 คน"
    assert "สาเหตุที่ส่งไม่สำเร็จ" in texts_of(report)
    assert "• LINE ไม่รับข้อความ (ข้อมูลไม่ถูกต้อง): 3 คน" in texts_of(report)
    assert broadcast_row().report["reasons"] == {"LINE ไม่รับข้อความ (ข้อมูลไม่ถูกต้อง)": 3}


# Audiences, scheduled and quiet sends ------------------------------------------------------
def test_leaders_of_chosen_districts_only_on_a_scheduled_time(line, runner, clock, scheduler):
    clock.set("2027-03-18 08:00")
    somsri = line.user("สมศรี ใจดี")
    register(somsri)  # อ.เมืองบึงกาฬ: not chosen
    sekas = add_leaders(2, "3804")
    pakkhats = add_leaders(1, "3805")
    officer = officer_of(line, runner, "3804")
    staff = province_staff(line, runner)
    fill_form(staff, "ผู้นำบางอำเภอ")
    assert "ขั้นที่ 3/5 เลือกอำเภอ" in staff.last_text
    staff.tap("เสร็จ")
    assert "กรุณาเลือกอย่างน้อย 1 อำเภอค่ะ" in staff.last_text
    staff.tap("เซกา")
    assert "เลือกแล้ว: อ.เซกา" in staff.last_text
    staff.tap("ปากคาด")
    staff.tap("พรเจริญ")
    staff.tap("✓ พรเจริญ")  # changed her mind
    assert "เลือกแล้ว: อ.เซกา, อ.ปากคาด" in staff.last_text
    assert "✓ เซกา" in staff.labels() and "พรเจริญ" in staff.labels()
    staff.tap("เสร็จ")
    assert "ขั้นที่ 4/5" in staff.last_text
    staff.tap("ข้าม")
    card, summary = staff.last
    assert "หมายเหตุ" not in texts_of(card)
    assert stats(summary)["ผู้นำ"] == "3 คน" and "พัฒนากร" not in stats(summary)
    assert "ผู้รับ: ผู้นำใน อ.เซกา, อ.ปากคาด" in staff.last_text

    staff.pick("ตั้งเวลาส่ง", "2027-03-18T10:00")
    assert "ตั้งเวลาส่งประกาศแล้วค่ะ จะส่งออกวันพฤหัสบดีที่ 18 มีนาคม 2570 เวลา 10:00 น." in staff.last_text
    assert scheduler.run("broadcasts")  # 08:00: not yet
    line.settle()
    assert multicasts(line) == [] and appointments() == []

    clock.set("2027-03-18 10:00")
    assert scheduler.run("broadcasts")
    line.settle()
    assert [len(r.json["to"]) for r in multicasts(line)] == [3]
    assert scheduler.run("broadcasts")  # a second run (or a second scheduler) sends nothing
    line.settle()
    assert len(multicasts(line)) == 1
    for line_id in [*sekas, *pakkhats]:
        assert len(line.platform.deliveries(line_id)) == 1
    assert somsri.received() == [] and officer.received() == []
    assert len(appointments()) == 3


def test_a_broadcast_scheduled_in_quiet_hours_waits_until_seven(line, runner, clock, scheduler):
    clock.set("2027-03-18 08:00")
    leaders = add_leaders(2, "3801")
    staff = province_staff(line, runner)
    fill_form(staff)
    staff.pick("ตั้งเวลาส่ง", "2027-03-18T21:00")
    assert (
        "เวลานั้นอยู่ในช่วง 20:00–07:00 น. เป็นช่วงงดส่งข้อความ "
        "ประกาศจะส่งออกเวลา 07:00 น. ของวันที่ 19 มีนาคม 2570 ค่ะ"
    ) in staff.last_text

    clock.set("2027-03-18 21:00")
    assert scheduler.run("broadcasts")
    with db.transaction() as session:
        held = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "multicast")).all()
    assert [(r.quiet, r.status, r.next_attempt_at) for r in held] == [
        (True, "pending", datetime(2027, 3, 19, 7, 0, tzinfo=BANGKOK))
    ]
    assert multicasts(line) == []

    clock.set("2027-03-19 07:00")
    line.settle()
    assert [len(r.json["to"]) for r in multicasts(line)] == [2]
    assert all(len(line.platform.deliveries(u)) == 1 for u in leaders)


def test_send_now_at_night_goes_out_at_seven(line, runner, clock):
    clock.set("2027-03-18 21:30")
    leaders = add_leaders(2, "3801")
    staff = province_staff(line, runner)
    fill_form(staff)
    assert "หากแตะ ส่งเลย ประกาศจะส่งออกเวลา 07:00 น. ของวันที่ 19 มีนาคม 2570" in staff.last_text
    tap_without_settling(line, staff, "ส่งเลย")
    assert (
        "ขณะนี้อยู่ในช่วง 20:00–07:00 น. เป็นช่วงงดส่งข้อความ "
        "ประกาศจะส่งออกเวลา 07:00 น. ของวันที่ 19 มีนาคม 2570 ค่ะ"
    ) in staff.last_text
    assert multicasts(line) == []

    clock.set("2027-03-19 07:00")
    line.settle()
    assert [len(r.json["to"]) for r in multicasts(line)] == [2]
    assert all(len(line.platform.deliveries(u)) == 1 for u in leaders)


def test_nobody_to_send_to_goes_back_to_the_audience(line, runner, clock):
    clock.set("2027-03-18 08:00")
    add_leaders(2, "3801")
    staff = province_staff(line, runner)
    fill_form(staff, "เฉพาะพัฒนากร", preview=False)
    assert 'ยังไม่มีผู้รับในกลุ่ม "เฉพาะพัฒนากร" ที่ติดตามบัญชีอยู่ค่ะ' in staff.last_text
    assert "ส่งเลย" not in staff.labels()
    staff.tap("เลือกผู้รับใหม่")
    assert "ขั้นที่ 3/5 ส่งประกาศถึงใครคะ" in staff.last_text
    staff.tap("ผู้นำทั้งจังหวัด")
    staff.tap("ข้าม")
    assert stats(staff.last[1])["ผู้นำ"] == "2 คน"
    staff.tap("แก้ไข")  # back to the note
    assert "ขั้นที่ 4/5" in staff.last_text
    staff.say("ยกเลิก")
    assert "ยกเลิกแล้วค่ะ ยังไม่ได้ส่งประกาศใด ๆ" in staff.last_text


def test_bad_input_gets_a_thai_message_and_changes_nothing(line, runner, clock):
    clock.set("2027-03-18 08:00")
    staff = province_staff(line, runner)
    staff.say("ประกาศวันประเมิน")
    staff.say("พรุ่งนี้เช้า")
    assert "อ่านวันและเวลาไม่ออกค่ะ" in staff.last_text
    staff.say("1 ม.ค. 70 09:00")  # in the past
    assert "วันและเวลานัดต้องเป็นเวลาในอนาคตค่ะ" in staff.last_text
    staff.say("1 ต.ค. 70 09:00")  # the next fiscal year
    assert "วันนัดต้องอยู่ในปีงบประมาณนี้" in staff.last_text
    staff.say("๒๐ มิ.ย. ๗๐ 9.30 น.")  # typed, in Thai digits
    assert "ขั้นที่ 2/5" in staff.last_text
    staff.say("ก" * 301)
    assert "สถานที่ยาว 301 ตัวอักษร เกิน 300 ตัวอักษรค่ะ" in staff.last_text
    staff.say(PLACE)
    staff.tap("ผู้นำทั้งจังหวัด")
    staff.say("ข" * 501)
    assert "หมายเหตุยาว 501 ตัวอักษร เกิน 500 ตัวอักษรค่ะ" in staff.last_text
    staff.say("ยกเลิก")
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Broadcast)) == 0


# Changes and cancellation ------------------------------------------------------------------
def test_reschedule_move_and_cancel_reach_the_same_people(line, runner, clock, scheduler):
    clock.set("2027-03-18 08:00")
    somsri = line.user("สมศรี ใจดี")
    register(somsri)
    blocked = add_leaders(1, "3804", following=False)
    officer = officer_of(line, runner, "3801")
    staff = province_staff(line, runner)
    fill_form(staff, "ทุกคน")
    staff.tap("ส่งเลย")
    line.settle()
    first_card = somsri.received()
    officer.received()
    somsri.tap("รับทราบ", first_card)
    late = add_leaders(1, "3801")  # registered after the broadcast went out

    staff.say("ประกาศวันประเมิน")
    staff.pick("เปลี่ยนวันเวลา", "2027-06-27T13:00")
    assert (
        "เปลี่ยนวันนัดเป็นวันอาทิตย์ที่ 27 มิถุนายน 2570 เวลา 13:00 น. แล้ว แจ้งผู้รับเดิม 2 คนแล้วค่ะ"
        in staff.last_text
    )
    line.settle()
    (changed,) = somsri.received()
    assert changed["altText"] == f"แจ้งเปลี่ยนนัดหมายการประเมิน: 27 มิ.ย. 70 13:00 น. ณ {PLACE}"
    assert "วันอาทิตย์ที่ 27 มิถุนายน 2570" in texts_of(changed)
    assert buttons(changed) == ["รับทราบ", "ขอเลื่อน"]
    assert [m["altText"] for m in officer.received()] == [changed["altText"]]
    assert line.platform.deliveries(late[0]) == []
    assert line.platform.deliveries(blocked[0]) == []
    moved = datetime(2027, 6, 27, 13, 0, tzinfo=BANGKOK)
    assert [(a.starts_at, a.response) for a in appointments()] == [(moved, None), (moved, None)]

    # The answer on the old card is refused; the latest card comes again.
    somsri.tap("รับทราบ", first_card)
    assert "นัดหมายนี้มีการเปลี่ยนแปลงแล้วค่ะ" in somsri.last_text
    assert "วันอาทิตย์ที่ 27 มิถุนายน 2570" in somsri.last_text
    assert appointments()[0].response is None
    somsri.tap("รับทราบ", [changed])
    assert appointments()[0].response == "acknowledged"

    staff.say("ประกาศวันประเมิน")
    staff.tap("เปลี่ยนสถานที่")
    assert f"(เดิม: {PLACE})" in staff.last_text
    staff.say("หอประชุมอำเภอเซกา")
    assert "เปลี่ยนสถานที่เป็น หอประชุมอำเภอเซกา แล้ว แจ้งผู้รับเดิม 2 คนแล้วค่ะ" in staff.last_text
    line.settle()
    (moved_place,) = somsri.received()
    assert "หอประชุมอำเภอเซกา" in texts_of(moved_place)
    assert len(officer.received()) == 1
    assert {a.place for a in appointments()} == {"หอประชุมอำเภอเซกา"}

    staff.say("ประกาศวันประเมิน")
    staff.tap("ยกเลิกประกาศ")
    assert "ผู้รับเดิม 2 คนจะได้รับแจ้งการยกเลิก" in staff.last_text
    staff.tap("ไม่ยกเลิก")
    assert broadcast_row().status == "sending"
    staff.say("ประกาศวันประเมิน")
    staff.tap("ยกเลิกประกาศ")
    staff.tap("ยืนยันยกเลิกประกาศ")
    assert "ยกเลิกประกาศแล้วค่ะ แจ้งผู้รับเดิม 2 คนแล้ว" in staff.last_text
    line.settle()
    (cancelled,) = somsri.received()
    assert cancelled["altText"].startswith("แจ้งยกเลิกนัดหมายการประเมิน: 27 มิ.ย. 70 13:00 น.")
    assert buttons(cancelled) == []
    assert len(officer.received()) == 1
    assert all(a.cancelled_at is not None for a in appointments())
    somsri.tap("ขอเลื่อน", [moved_place])
    assert "นัดหมายนี้ถูกยกเลิกแล้วค่ะ" in somsri.last_text
    staff.say("ประกาศวันประเมิน")  # nothing upcoming: straight to a new one
    assert "ขั้นที่ 1/5" in staff.last_text
    # Four sends to the same two people (original, date, place, cancel), nobody else.
    assert sorted(len(r.json["to"]) for r in multicasts(line)) == [1] * 8


def test_a_scheduled_broadcast_is_changed_or_cancelled_without_pushes(
    line, runner, clock, scheduler
):
    clock.set("2027-03-18 08:00")
    leaders = add_leaders(1, "3801")
    staff = province_staff(line, runner)
    fill_form(staff)
    staff.pick("ตั้งเวลาส่ง", "2027-03-19T09:00")
    staff.say("ประกาศวันประเมิน")
    listing = staff.last
    assert "ตั้งเวลาส่ง 19 มี.ค. 70 09:00 น." in staff.last_text
    staff.pick("เปลี่ยนวันเวลา", "2027-03-19T08:00")  # before the send time
    assert "วันนัดต้องอยู่หลังเวลาที่ตั้งส่งประกาศค่ะ" in staff.last_text
    staff.pick("เปลี่ยนวันเวลา", "2027-07-01T10:00", listing)
    assert "ประกาศนี้ยังไม่ได้ส่ง จะส่งตามเวลาที่ตั้งไว้พร้อมข้อมูลใหม่ค่ะ" in staff.last_text
    assert broadcast_row().revision == 1
    clock.set("2027-03-19 09:00")
    scheduler.run("broadcasts")
    line.settle()
    (card,) = line.platform.deliveries(leaders[0])
    assert "วันพฤหัสบดีที่ 1 กรกฎาคม 2570" in texts_of(card)

    fill_form(staff)
    staff.pick("ตั้งเวลาส่ง", "2027-03-20T09:00")
    staff.say("ประกาศวันประเมิน")
    staff.tap("ยกเลิกประกาศ")  # the first by date: the new, scheduled one (20 June)
    staff.tap("ยืนยันยกเลิกประกาศ")
    assert "ยกเลิกประกาศแล้วค่ะ ประกาศนี้ยังไม่ได้ส่ง จึงไม่มีใครได้รับแจ้ง" in staff.last_text
    clock.set("2027-03-20 09:00")
    scheduler.run("broadcasts")
    line.settle()
    assert len(line.platform.deliveries(leaders[0])) == 1


def test_forged_changes_from_officers_and_other_provinces_are_refused(
    line, runner, clock, scheduler
):
    clock.set("2027-03-18 08:00")
    add_leaders(1, "3801")
    staff = province_staff(line, runner)
    fill_form(staff)
    staff.tap("ส่งเลย")
    line.settle()
    staff.say("ประกาศวันประเมิน")
    listing = staff.last
    officer = officer_of(line, runner, "3801")
    other = province_staff(line, runner, "เจ้าหน้าที่นครพนม", "48")
    for person in (officer, other):
        person.tap("ยกเลิกประกาศ", listing)
        assert "ไม่ใช่ของจังหวัดที่คุณรับผิดชอบ" in person.last_text
        person.postback(f"a=bc.cancel.yes&b={broadcast_row().id}")
        assert "ไม่ใช่ของจังหวัดที่คุณรับผิดชอบ" in person.last_text
        person.pick("เปลี่ยนวันเวลา", "2027-06-27T13:00", listing)
        assert "ไม่ใช่ของจังหวัดที่คุณรับผิดชอบ" in person.last_text
    row = broadcast_row()
    assert (row.status, row.revision) == ("sending", 1)
    assert row.starts_at == datetime(2027, 6, 20, 9, 30, tzinfo=BANGKOK)


# The cards at their largest ----------------------------------------------------------------
def test_broadcast_cards_at_their_largest(app, line_platform):
    tz = "Asia/Bangkok"
    start = datetime(2027, 9, 30, 23, 59, tzinfo=BANGKOK)
    biggest = Broadcast(
        id=999_999_999,
        revision=999_999,
        province_code="10",  # Bangkok: 50 districts
        starts_at=start,
        send_at=start,
        place=long_text(broadcasts.PLACE_MAX),
        note=long_text(broadcasts.NOTE_MAX),
        audience="districts",
        district_codes=[f"10{n:02d}" for n in range(1, 51)],
        status="sending",
        recipients=9_999_999,
    )
    cards = [
        appointment_card(biggest, role, kind, tz)
        for role in ("leader", "officer")
        for kind in ("new", "changed", "cancelled")
    ]
    report = broadcasts.Report(9_999_999, 9_999_999, 9_999_999, {long_text(60): 1, "x": 2})
    cards.append(report_message(biggest, report, tz))
    cards.append(
        summary_card(
            long_text(100),
            long_text(400),
            [(long_text(60), long_text(40))] * 8,
            lines_title=long_text(100),
            lines=[long_text(400)] * 16,
            footnote=long_text(400),
            buttons=[render.button(render.postback_action(long_text(40), "a=x"), "primary")] * 4,
        )
    )
    with db.transaction() as session:
        staff = User(line_user_id="U" + "e" * 32, role="province", status="active", area_code="10")
        session.add(staff)
        session.flush()
        for n in range(15):
            row = Broadcast(
                **{
                    c: getattr(biggest, c)
                    for c in ("starts_at", "place", "note", "audience", "district_codes")
                },
                province_code="10",
                created_by=staff.id,
                status="scheduled" if n % 2 else "sending",
                send_at=start,
                recipients=9_999_999,
            )
            session.add(row)
        session.flush()
        ctx = SimpleNamespace(
            session=session, timezone=tz, now=utcnow(), today=start.date(), user=staff
        )
        items = broadcasts.upcoming(session, "10", utcnow(), LIST_MAX)
        cards.append(list_card(ctx, items))  # type: ignore[arg-type]
    options = [
        {
            "on": True,
            "action": render.postback_action(
                "✓ " + long_text(40), "f=broadcast&s=99999&a=toggle&d=1050"
            ),
        }
    ]
    cards.append(
        render.flex(
            "broadcast_districts.json",
            "x",
            title=long_text(100),
            chosen=long_text(300),
            pages=[options * 10] * 5,
            done=render.postback_action("เสร็จ", "f=broadcast&s=99999&a=done"),
        )
    )
    push_all(app, line_platform, cards, "broadcast")
    assert len(cards[-2]["contents"]["contents"]) == 12


def test_a_scheduled_broadcast_no_scheduler_sent_before_its_date_is_told_to_its_sender(
    line, runner, clock, scheduler
):
    """The scheduler was down from before the send time until after the appointment: nothing
    goes to the leaders (an invitation to a past date helps nobody), and the sender learns it."""
    clock.set("2027-06-01 08:00")
    leaders = add_leaders(2, "3801")
    staff = province_staff(line, runner)
    fill_form(staff)
    staff.pick("ตั้งเวลาส่ง", "2027-06-10T09:00")
    assert "ตั้งเวลาส่งประกาศแล้วค่ะ" in staff.last_text
    staff.received()

    clock.set("2027-06-21 08:00")  # the appointment (20 June, 09:30) has passed
    assert scheduler.run("broadcasts")
    line.settle()
    assert multicasts(line) == [] and appointments() == []
    assert all(line.platform.deliveries(leader) == [] for leader in leaders)
    told = staff.received()
    assert len(told) == 1
    assert (
        "ประกาศนัดประเมินวันอาทิตย์ที่ 20 มิถุนายน 2570 เวลา 09:30 น." in staff.last_text
        and "ยังไม่ได้ส่งออก" in staff.last_text
    )
    with db.transaction() as session:
        assert session.scalars(select(Broadcast.status)).all() == ["expired"]

    assert scheduler.run("broadcasts")  # told once
    line.settle()
    assert staff.received() == []

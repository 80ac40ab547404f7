"""The leaders' morning reminders, as leaders get them in LINE: one push a morning at most,
snoozing it, turning reminders off and on. The clock is set to FY2570 (Oct 2569 – Sep 2570)."""

from __future__ import annotations

import json
import threading
from datetime import date, datetime
from typing import Any

from sqlalchemy import event, func, select

from bot.db import db
from bot.models import (
    Appointment,
    AuditLog,
    LeaderProfile,
    Notification,
    OutboxMessage,
    Plan,
    PlanItem,
    ReminderSnooze,
    User,
)
from bot.services import fiscal, plans, reminders
from scheduler.jobs import JOBS, JobContext
from tests.conftest import BANGKOK
from tests.test_invites import consented, create_code
from tests.test_registration import register
from tests.test_templates import long_text

YEAR = 2570


# Set-ups ----------------------------------------------------------------------------------
def leader(line, name: str):
    person = line.user(name)
    register(person)
    return person


def user_of(person) -> User:
    with db.transaction() as session:
        return session.scalar(select(User).where(User.line_user_id == person.user_id))


def make_plan(
    person,
    items: list[tuple[str, str] | tuple[str, str, str]],
    *,
    status: str = "approved",
    ready_on: str | None = None,
    assessment: str | None = None,
) -> tuple[int, dict[str, int]]:
    """A plan of FY2570 with activities (name, ISO end date[, state]); its id and item ids."""
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.line_user_id == person.user_id))
        plan = plans.get_or_create(session, user, YEAR)
        component = plans.edition(session, plan).areas[0].components[0]
        first = fiscal.bounds(YEAR)[0]
        rows = [
            PlanItem(
                plan_id=plan.id,
                component_id=component.id,
                position=n,
                activity=activity,
                mode="self",
                method="วิธีการ",
                responsible="ตนเอง",
                starts_on=first,
                ends_on=date.fromisoformat(ends_on),
                state=state[0] if state else "not_started",
            )
            for n, (activity, ends_on, *state) in enumerate(items, start=1)
        ]
        session.add_all(rows)
        plan.status = status
        plan.ready_on = date.fromisoformat(ready_on) if ready_on else None
        plan.assessment_status = assessment
        session.flush()
        return plan.id, {row.activity: row.id for row in rows}


def appointment(person, local: str, place: str, *, cancelled: bool = False) -> int:
    starts_at = datetime.fromisoformat(local).replace(tzinfo=BANGKOK)
    with db.transaction() as session:
        row = Appointment(
            leader_id=user_of(person).id,
            kind="assessment",
            starts_at=starts_at,
            place=place,
            cancelled_at=starts_at if cancelled else None,
        )
        session.add(row)
        session.flush()
        return row.id


def morning(clock, scheduler, line, local: str) -> None:
    """The scheduler's 08:00 run on a given day, and everything it queued sent."""
    clock.set(local)
    assert scheduler.run("morning")
    line.settle()


# Reading what arrived ---------------------------------------------------------------------
def reminder_pushes(line, person) -> list[dict[str, Any]]:
    """The morning pushes the fake platform accepted for this person, oldest first."""
    found = []
    for r in line.platform.requests:
        if r.endpoint == "push" and r.status == 200 and r.json["to"] == person.user_id:
            found += [m for m in r.json["messages"] if m.get("altText", "").startswith("แจ้งเตือน ")]
    return found


def _walk(node: Any, key: str) -> list[Any]:
    if isinstance(node, dict):
        found = [node] if node.get("type") == key else []
        for value in node.values():
            found += _walk(value, key)
        return found
    if isinstance(node, list):
        return [x for value in node for x in _walk(value, key)]
    return []


def texts(message: dict[str, Any]) -> list[str]:
    """The bubble's texts top to bottom (header and body; buttons are read by `buttons`)."""
    contents = message["contents"]
    return [t["text"] for part in ("header", "body") for t in _walk(contents[part], "text")]


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, postback data or typed text) of the bubble's buttons."""
    return [
        (b["action"]["label"], b["action"].get("data") or b["action"].get("text"))
        for b in _walk(message["contents"]["footer"], "button")
    ]


def audit_actions(person) -> list[str]:
    with db.transaction() as session:
        return list(
            session.scalars(
                select(AuditLog.action)
                .where(AuditLog.actor_user_id == user_of(person).id)
                .where(AuditLog.action.like("remind%"))
                .order_by(AuditLog.id)
            )
        )


# The morning run --------------------------------------------------------------------------
def test_the_morning_run_sends_one_push_per_leader_with_what_is_due(line, clock, scheduler, runner):
    clock.set("2027-03-18 07:30")
    somsri, malee, chujai, prapai, boonmee, thongbai = (
        leader(line, name) for name in ("สมศรี ใจดี", "มาลี ศรีสุข", "ชูใจ", "ประไพ", "บุญมี", "ทองใบ")
    )
    somsri_plan, somsri_items = make_plan(
        somsri,
        [
            ("อบรมอาชีพเสริม", "2027-03-25"),  # in 7 days
            ("ประชุมทีมปราชญ์", "2027-03-21"),  # in 3 days
            ("ลงพื้นที่เยี่ยมครัวเรือน", "2027-03-19", "in_progress"),  # tomorrow
            ("จัดทำบัญชีครัวเรือน", "2027-03-17"),  # 1 day late
            ("ศึกษาดูงาน", "2027-03-11"),  # 7 days late
            ("สำรวจกลุ่มอาชีพ", "2027-02-16"),  # 30 days late
            ("ทำแผนชุมชน", "2027-03-10"),  # 8 days late: said on days 1, 7 and 30 only
            ("ฝึกทำสบู่", "2027-03-20"),  # in 2 days: not a reminder day
            ("ตลาดนัดชุมชน", "2027-03-21", "done"),  # done: nothing to remind
        ],
        ready_on="2027-03-25",
    )
    # Malee asked for her assessment: her ready date is not repeated; her activity is.
    make_plan(
        malee,
        [("เพาะเห็ดนางฟ้า", "2027-03-19")],
        status="submitted",
        ready_on="2027-03-21",
        assessment="requested",
    )
    # Nothing on a reminder day: no push at all.
    make_plan(
        chujai,
        [("ออมทรัพย์กลุ่ม", "2027-03-20"), ("ทำปุ๋ยหมัก", "2027-03-16"), ("จักสาน", "2027-03-18")],
        ready_on="2027-03-20",
    )
    # A plan still in draft: its dates are not reminded (and the 18th is not the 1st or 16th).
    make_plan(prapai, [("ปลูกผักสวนครัว", "2027-03-21")], status="draft")
    # Reminders turned off, and a leader who blocked the bot: nothing for them.
    make_plan(boonmee, [("เลี้ยงไก่ไข่", "2027-03-21")])
    boonmee.say("ปิดการแจ้งเตือน")
    make_plan(thongbai, [("ทอผ้าไหม", "2027-03-21")])
    thongbai.unfollow()
    # A district officer gets no leader's reminder.
    officer = consented(line, "พัฒนากร สมชาย")
    officer.say(create_code(runner, "officer", "3801"))

    morning(clock, scheduler, line, "2027-03-18 08:00")

    [push] = reminder_pushes(line, somsri)
    assert push["altText"] == (
        "แจ้งเตือน 18 มีนาคม 2570: เลยกำหนด 3 กิจกรรม · ใกล้ครบกำหนด 3 กิจกรรม"
        " · พร้อมรับการประเมิน 25 มีนาคม 2570"
    )
    assert texts(push) == [
        "แจ้งเตือนประจำวัน 18 มีนาคม 2570",
        "เลยกำหนดแล้ว 3 กิจกรรม",
        "• สำรวจกลุ่มอาชีพ",
        "ครบกำหนด 16 กุมภาพันธ์ 2570 (เลยมา 30 วัน)",
        "• ศึกษาดูงาน",
        "ครบกำหนด 11 มีนาคม 2570 (เลยมา 7 วัน)",
        "• จัดทำบัญชีครัวเรือน",
        "ครบกำหนด 17 มีนาคม 2570 (เลยมา 1 วัน)",
        "ใกล้ครบกำหนด 3 กิจกรรม",
        "• ลงพื้นที่เยี่ยมครัวเรือน",
        "ครบกำหนด 19 มีนาคม 2570 (อีก 1 วัน)",
        "• ประชุมทีมปราชญ์",
        "ครบกำหนด 21 มีนาคม 2570 (อีก 3 วัน)",
        "• อบรมอาชีพเสริม",
        "ครบกำหนด 25 มีนาคม 2570 (อีก 7 วัน)",
        "วันพร้อมรับการประเมินใกล้เข้ามา",
        "• 25 มีนาคม 2570 (อีก 7 วัน)",
        "เตรียมหลักฐานให้พร้อม แล้วขอรับการประเมินจากการ์ดความคืบหน้าค่ะ",
    ]
    somsri_id = user_of(somsri).id
    assert buttons(push) == [
        ("อัปเดต: สำรวจกลุ่มอาชีพ", f"a=progress.item&i={somsri_items['สำรวจกลุ่มอาชีพ']}"),
        ("ดูความคืบหน้า", f"a=progress.view&p={somsri_plan}"),
        ("เตือนพรุ่งนี้", f"a=remind.snooze&u={somsri_id}&d=2027-03-18&n=1"),
        ("เตือนอีก 3 วัน", f"a=remind.snooze&u={somsri_id}&d=2027-03-18&n=3"),
        ("ปิดการแจ้งเตือน", "a=remind.off"),
    ]

    [push] = reminder_pushes(line, malee)
    assert texts(push) == [
        "แจ้งเตือนประจำวัน 18 มีนาคม 2570",
        "ใกล้ครบกำหนด 1 กิจกรรม",
        "• เพาะเห็ดนางฟ้า",
        "ครบกำหนด 19 มีนาคม 2570 (อีก 1 วัน)",
    ]
    for person in (chujai, prapai, boonmee, thongbai, officer):
        assert reminder_pushes(line, person) == []
    with db.transaction() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.topic.is_(None)))
        assert sum(1 for r in rows if r.quiet) == 2  # the two pushes, and nothing else unasked

    # The buttons open the cards they name.
    somsri.received()
    somsri.tap("ดูความคืบหน้า")
    assert "ความคืบหน้า ปีงบประมาณ 2570" in somsri.last_text
    assert "เลยกำหนด 4 กิจกรรม" in somsri.last_text  # the progress card counts every late one
    somsri.tap("อัปเดต: สำรวจกลุ่มอาชีพ", [push_of(line, somsri)])
    assert 'กิจกรรม "สำรวจกลุ่มอาชีพ"' in somsri.last_text
    assert "เลือกสถานะใหม่" in somsri.last_text


def push_of(line, person) -> dict[str, Any]:
    return reminder_pushes(line, person)[-1]


def test_a_second_run_and_a_catch_up_send_nothing_more(line, clock, scheduler):
    clock.set("2027-03-18 07:00")
    somsri = leader(line, "สมศรี ใจดี")
    make_plan(somsri, [("อบรมอาชีพเสริม", "2027-03-21")])

    morning(clock, scheduler, line, "2027-03-18 08:00")
    assert len(reminder_pushes(line, somsri)) == 1

    clock.set("2027-03-18 09:15")
    assert not scheduler.run("morning")  # this morning's slot is done
    assert "morning" not in scheduler.catch_up()
    # Even the job run again by force records and sends nothing new.
    runtime = scheduler.runtime
    JOBS["morning"].run(JobContext(runtime, db, clock.now(), clock.now(), scheduler.quiet))
    line.settle()
    assert len(reminder_pushes(line, somsri)) == 1
    with db.transaction() as session:
        kinds = session.execute(
            select(Notification.kind, Notification.day).where(
                Notification.recipient_id == user_of(somsri).id
            )
        ).all()
    assert kinds == [("morning", date(2027, 3, 18))]

    # The next morning is a new day: the activity, due in 2 days, is not a reminder day.
    morning(clock, scheduler, line, "2027-03-19 08:00")
    assert len(reminder_pushes(line, somsri)) == 1
    morning(clock, scheduler, line, "2027-03-20 08:00")  # due tomorrow
    assert [texts(p)[3] for p in reminder_pushes(line, somsri)[1:]] == [
        "ครบกำหนด 21 มีนาคม 2570 (อีก 1 วัน)"
    ]


def test_a_run_in_the_quiet_hours_is_delivered_at_seven(line, clock, scheduler, app):
    clock.set("2027-03-18 20:30")
    somsri = leader(line, "สมศรี ใจดี")
    make_plan(somsri, [("อบรมอาชีพเสริม", "2027-03-21")])
    clock.set("2027-03-18 21:00")  # e.g. a scheduler that was down all day
    assert scheduler.run("morning")
    with db.transaction() as session:
        row = session.scalar(select(OutboxMessage).where(OutboxMessage.quiet.is_(True)))
    assert row.next_attempt_at == datetime(2027, 3, 19, 7, 0, tzinfo=BANGKOK)
    assert app.extensions["runtime"].sender.deliver(row.id) == "pending"  # held, even if asked
    assert reminder_pushes(line, somsri) == []

    clock.set("2027-03-19 07:00")
    line.settle()
    [push] = reminder_pushes(line, somsri)
    assert texts(push)[:2] == ["แจ้งเตือนประจำวัน 18 มีนาคม 2570", "ใกล้ครบกำหนด 1 กิจกรรม"]


# Snoozing ---------------------------------------------------------------------------------
def test_snoozed_reminders_stay_away_until_their_day_and_come_back_if_still_due(
    line, clock, scheduler
):
    clock.set("2027-03-18 07:00")
    somsri = leader(line, "สมศรี ใจดี")
    _, ids = make_plan(
        somsri,
        [
            ("ประชุมทีมปราชญ์", "2027-03-21"),
            ("อบรมอาชีพเสริม", "2027-03-25"),
            ("ศึกษาดูงาน", "2027-03-27"),
        ],
    )

    morning(clock, scheduler, line, "2027-03-18 08:00")
    somsri.received()
    assert texts(push_of(line, somsri))[1:] == [
        "ใกล้ครบกำหนด 2 กิจกรรม",
        "• ประชุมทีมปราชญ์",
        "ครบกำหนด 21 มีนาคม 2570 (อีก 3 วัน)",
        "• อบรมอาชีพเสริม",
        "ครบกำหนด 25 มีนาคม 2570 (อีก 7 วัน)",
    ]
    somsri.tap("เตือนพรุ่งนี้")
    assert somsri.last_text == "รับทราบค่ะ จะเตือน 2 เรื่องนี้อีกครั้งวันที่ 19 มีนาคม 2570 นะคะ"

    # The 19th is no reminder day for either: they come back because she asked.
    morning(clock, scheduler, line, "2027-03-19 08:30")
    somsri.received()
    assert texts(push_of(line, somsri))[1:] == [
        "ใกล้ครบกำหนด 2 กิจกรรม",
        "• ประชุมทีมปราชญ์",
        "ครบกำหนด 21 มีนาคม 2570 (อีก 2 วัน) · ตามที่ขอให้เตือนอีกครั้ง",
        "• อบรมอาชีพเสริม",
        "ครบกำหนด 25 มีนาคม 2570 (อีก 6 วัน) · ตามที่ขอให้เตือนอีกครั้ง",
    ]
    # She taps one button, then thinks better of it and taps the other: the later one counts.
    push = push_of(line, somsri)
    somsri.tap("เตือนพรุ่งนี้", [push])
    assert "วันที่ 20 มีนาคม 2570" in somsri.last_text
    somsri.tap("เตือนอีก 3 วัน", [push])
    assert somsri.last_text == "รับทราบค่ะ จะเตือน 2 เรื่องนี้อีกครั้งวันที่ 22 มีนาคม 2570 นะคะ"
    with db.transaction() as session:
        snoozes = session.execute(select(ReminderSnooze.subject, ReminderSnooze.until)).all()
    assert sorted(snoozes) == sorted(
        [
            (f"item:{ids['ประชุมทีมปราชญ์']}", date(2027, 3, 22)),
            (f"item:{ids['อบรมอาชีพเสริม']}", date(2027, 3, 22)),
        ]
    )

    # The 20th: ประชุมทีมปราชญ์ is due tomorrow but snoozed; ศึกษาดูงาน (in 7 days) is new.
    morning(clock, scheduler, line, "2027-03-20 08:00")
    assert texts(push_of(line, somsri))[1:] == [
        "ใกล้ครบกำหนด 1 กิจกรรม",
        "• ศึกษาดูงาน",
        "ครบกำหนด 27 มีนาคม 2570 (อีก 7 วัน)",
    ]
    # The 21st: she finishes ประชุมทีมปราชญ์; nothing else is due, so no push at all.
    with db.transaction() as session:
        session.get(PlanItem, ids["ประชุมทีมปราชญ์"]).state = "done"
    count = len(reminder_pushes(line, somsri))
    morning(clock, scheduler, line, "2027-03-21 08:00")
    assert len(reminder_pushes(line, somsri)) == count
    # The 22nd: only what is still to do comes back.
    morning(clock, scheduler, line, "2027-03-22 08:00")
    assert texts(push_of(line, somsri))[1:] == [
        "ใกล้ครบกำหนด 1 กิจกรรม",
        "• อบรมอาชีพเสริม",
        "ครบกำหนด 25 มีนาคม 2570 (อีก 3 วัน) · ตามที่ขอให้เตือนอีกครั้ง",
    ]
    assert audit_actions(somsri) == ["reminder.snooze"] * 3


def test_someone_elses_snooze_button_is_refused(line, clock, scheduler, runner):
    clock.set("2027-03-18 07:00")
    somsri, malee = leader(line, "สมศรี ใจดี"), leader(line, "มาลี ศรีสุข")
    make_plan(somsri, [("อบรมอาชีพเสริม", "2027-03-21")])
    make_plan(malee, [("เพาะเห็ดนางฟ้า", "2027-03-21")])
    officer = consented(line, "พัฒนากร สมชาย")
    officer.say(create_code(runner, "officer", "3801"))
    morning(clock, scheduler, line, "2027-03-18 08:00")
    snooze = dict(buttons(push_of(line, somsri)))["เตือนอีก 3 วัน"]

    for other in (malee, officer):  # malee had a push that day too: still not hers to snooze
        other.received()
        other.postback(snooze)
        assert other.last_text == "ขออภัยค่ะ ปุ่มนี้ไม่ใช่การแจ้งเตือนของคุณ จึงใช้ไม่ได้นะคะ"
        assert audit_actions(other) == ["reminder.snooze.denied"]
    # Her own button for a day she had no push: refused as stale.
    somsri.received()
    somsri.postback(snooze.replace("2027-03-18", "2027-03-17"))
    assert somsri.last_text == "ขออภัยค่ะ ไม่พบการแจ้งเตือนนี้แล้ว ปุ่มอาจเก่าเกินไปค่ะ"
    somsri.postback(snooze.replace("n=3", "n=30"))
    assert "ไม่พบการแจ้งเตือนนี้" in somsri.last_text
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ReminderSnooze)) == 0

    # Her own tap works; a later push leaves the activity out.
    somsri.postback(snooze)
    assert "จะเตือน 1 เรื่องนี้อีกครั้งวันที่ 21 มีนาคม 2570" in somsri.last_text
    morning(clock, scheduler, line, "2027-03-20 08:00")  # due tomorrow, but snoozed
    assert len(reminder_pushes(line, somsri)) == 1
    assert len(reminder_pushes(line, malee)) == 2


# Off and on -------------------------------------------------------------------------------
def test_reminders_off_and_on_through_the_chat_and_the_push(line, clock, scheduler):
    clock.set("2027-03-18 07:00")
    somsri = leader(line, "สมศรี ใจดี")
    make_plan(
        somsri,
        [
            ("อบรมอาชีพเสริม", "2027-03-21"),
            ("ประชุมทีมปราชญ์", "2027-03-20"),
            ("ศึกษาดูงาน", "2027-03-27"),
            ("ทำบัญชีครัวเรือน", "2027-03-28"),
        ],
    )
    morning(clock, scheduler, line, "2027-03-18 08:00")
    somsri.received()
    somsri.tap("ปิดการแจ้งเตือน")
    assert somsri.last_text.startswith("ปิดการแจ้งเตือนประจำวันแล้วค่ะ")
    assert 'พิมพ์ "เปิดการแจ้งเตือน"' in somsri.last_text
    assert not user_of(somsri).reminders
    morning(clock, scheduler, line, "2027-03-19 08:00")  # ประชุมทีมปราชญ์ due tomorrow
    assert len(reminder_pushes(line, somsri)) == 1

    somsri.say("การแจ้งเตือน")
    assert "ตอนนี้: ปิดอยู่" in somsri.last_text
    somsri.tap("เปิดการแจ้งเตือน")
    assert somsri.last_text.startswith("เปิดการแจ้งเตือนแล้วค่ะ")
    morning(clock, scheduler, line, "2027-03-20 08:00")  # ศึกษาดูงาน in 7 days
    assert len(reminder_pushes(line, somsri)) == 2

    somsri.received()
    somsri.say("ปิดการแจ้งเตือน")
    assert somsri.last_text.startswith("ปิดการแจ้งเตือนประจำวันแล้วค่ะ")
    somsri.say("ปิดการแจ้งเตือน")
    assert somsri.last_text.startswith("การแจ้งเตือนปิดอยู่แล้วค่ะ")
    morning(clock, scheduler, line, "2027-03-21 08:00")  # ทำบัญชีครัวเรือน in 7 days
    assert len(reminder_pushes(line, somsri)) == 2
    somsri.tap("เปิดการแจ้งเตือน")  # the chip under the confirmation
    assert somsri.last_text.startswith("เปิดการแจ้งเตือนแล้วค่ะ")
    somsri.say("การแจ้งเตือน")
    assert "ตอนนี้: เปิดอยู่ ✅" in somsri.last_text and "ปิดการแจ้งเตือน" in somsri.labels()
    assert user_of(somsri).reminders
    assert audit_actions(somsri) == ["reminders.off", "reminders.on"] * 2


# Appointments and the plan not sent -------------------------------------------------------
def test_an_appointment_tomorrow_is_said_as_it_stands_and_a_cancelled_one_is_not(
    line, clock, scheduler
):
    clock.set("2027-06-09 07:00")
    somsri = leader(line, "สมศรี ใจดี")
    moved = appointment(somsri, "2027-06-10 09:30", "ห้องประชุมที่ว่าการอำเภอเมืองบึงกาฬ")
    appointment(somsri, "2027-06-10 13:00", "ศาลากลางจังหวัดบึงกาฬ", cancelled=True)
    # Tomorrow in UTC but the day after in Bangkok: not tomorrow's yet.
    appointment(somsri, "2027-06-11 06:30", "ศาลาประชาคมหมู่ 5")

    morning(clock, scheduler, line, "2027-06-09 08:00")
    [push] = reminder_pushes(line, somsri)
    assert push["altText"] == "แจ้งเตือน 9 มิถุนายน 2570: พรุ่งนี้มีนัดตรวจประเมิน เวลา 09:30 น."
    assert texts(push) == [
        "แจ้งเตือนประจำวัน 9 มิถุนายน 2570",
        "นัดหมายพรุ่งนี้",
        "• ตรวจประเมิน 10 มิถุนายน 2570 เวลา 09:30 น.",
        "สถานที่: ห้องประชุมที่ว่าการอำเภอเมืองบึงกาฬ",
    ]
    assert buttons(push) == [("ปิดการแจ้งเตือน", "a=remind.off")]  # nothing to snooze

    # The province moved it to the 11th, 10:00 (another part of the bot moves the row).
    with db.transaction() as session:
        session.get(Appointment, moved).starts_at = datetime(2027, 6, 11, 10, 0, tzinfo=BANGKOK)
    morning(clock, scheduler, line, "2027-06-10 08:00")
    assert texts(push_of(line, somsri))[1:] == [
        "นัดหมายพรุ่งนี้",
        "• ตรวจประเมิน 11 มิถุนายน 2570 เวลา 06:30 น.",
        "สถานที่: ศาลาประชาคมหมู่ 5",
        "• ตรวจประเมิน 11 มิถุนายน 2570 เวลา 10:00 น.",
        "สถานที่: ห้องประชุมที่ว่าการอำเภอเมืองบึงกาฬ",
    ]
    assert len(reminder_pushes(line, somsri)) == 2


def test_a_plan_not_sent_is_reminded_on_the_1st_and_16th_from_february(line, clock, scheduler):
    clock.set("2027-01-16 07:00")
    nopplan, drafted, approved = (leader(line, n) for n in ("ไม่มีแผน", "ร่างแผน", "ส่งแล้ว"))
    make_plan(drafted, [("ปลูกผักสวนครัว", "2027-05-01")], status="draft")
    make_plan(approved, [("เลี้ยงปลา", "2027-05-01")])

    morning(clock, scheduler, line, "2027-01-16 08:00")  # before February: not yet
    morning(clock, scheduler, line, "2027-02-01 08:00")
    morning(clock, scheduler, line, "2027-02-02 08:00")  # not the 1st or 16th
    morning(clock, scheduler, line, "2027-02-16 08:00")

    assert [texts(p)[:3] for p in reminder_pushes(line, nopplan)] == [
        [f"แจ้งเตือนประจำวัน {d} กุมภาพันธ์ 2570", "ยังไม่ได้ส่งแผนพัฒนาตนเอง", line_]
        for d, line_ in (
            ("1", "• ยังไม่ได้เริ่มเขียนแผน ปีงบประมาณ 2570"),
            ("16", "• ยังไม่ได้เริ่มเขียนแผน ปีงบประมาณ 2570"),
        )
    ]
    assert [texts(p)[2] for p in reminder_pushes(line, drafted)] == [
        "• แผน ปีงบประมาณ 2570 ยังเป็นร่าง ยังไม่ได้ส่ง"
    ] * 2
    assert reminder_pushes(line, approved) == []

    nopplan.received()
    assert ("เริ่มเขียนแผน", "แผนของฉัน") in buttons(push_of(line, nopplan))
    nopplan.tap("เริ่มเขียนแผน")
    assert "ปีงบประมาณ 2570" in nopplan.last_text and "ร่าง" in nopplan.last_text
    drafted.received()
    drafted.tap("เปิดแผนของฉัน")
    assert "ปลูกผักสวนครัว" in drafted.last_text and "ส่งแผนให้เจ้าหน้าที่" in drafted.labels()


# Limits and cost --------------------------------------------------------------------------
def test_the_largest_push_stays_within_lines_limits(line, clock, scheduler):
    clock.set("2027-03-18 07:00")
    somsri = leader(line, "สมศรี ใจดี")
    name = long_text(plans.ACTIVITY_MAX)
    make_plan(
        somsri,
        [(f"{n:02d} {name}"[: plans.ACTIVITY_MAX], "2027-03-17") for n in range(15)]
        + [(f"{n:02d} {name}"[: plans.ACTIVITY_MAX], "2027-03-21") for n in range(15, 30)],
        ready_on="2027-03-19",
    )
    for hour in range(10, 15):
        appointment(somsri, f"2027-03-19 {hour}:00", long_text(300))

    morning(clock, scheduler, line, "2027-03-18 08:00")
    [push] = reminder_pushes(line, somsri)  # accepted by the fake (it checks LINE's limits)
    shown = texts(push)
    assert shown.count("และอีก 10 รายการ") == 2 and "และอีก 2 รายการ" in shown
    assert "เลยกำหนดแล้ว 15 กิจกรรม" in shown and "ใกล้ครบกำหนด 15 กิจกรรม" in shown
    assert len(json.dumps(push["contents"], ensure_ascii=False).encode()) < 30 * 1024
    assert all(len(label) <= 40 for label, _ in buttons(push))


def test_the_run_costs_the_same_statements_for_three_leaders_or_thirty(app, clock):
    """The benchmark's premise: no query per leader (set-based, grouped in Python)."""
    clock.set("2027-03-18 08:00")

    def add_leaders(start: int, count: int) -> None:
        with db.transaction() as session:
            for n in range(start, start + count):
                user = User(line_user_id=f"U{n:032x}", role="leader", status="active")
                session.add(user)
                session.flush()
                session.add(
                    LeaderProfile(
                        user_id=user.id,
                        full_name=f"ผู้นำ {n}",
                        subdistrict_code="380101",
                        district_code="3801",
                        province_code="38",
                    )
                )
                plan = plans.get_or_create(session, user, YEAR)
                plan.status = "approved"
                component = plans.edition(session, plan).areas[0].components[0]
                for day in (21, 25, 17, 19):
                    session.add(
                        PlanItem(
                            plan_id=plan.id,
                            component_id=component.id,
                            position=day,
                            activity=f"กิจกรรม {day}",
                            mode="self",
                            responsible="ตนเอง",
                            starts_on=date(2026, 10, 1),
                            ends_on=date(2027, 3, day),
                        )
                    )
                session.add(
                    Appointment(
                        leader_id=user.id,
                        kind="assessment",
                        starts_at=datetime(2027, 3, 19, 9, tzinfo=BANGKOK),
                        place="ที่ว่าการอำเภอ",
                    )
                )

    def run(day: date) -> tuple[int, int]:
        statements = []
        me = threading.get_ident()

        def count(*_: Any) -> None:
            if threading.get_ident() == me:  # not the outbox and workers of other threads
                statements.append(1)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            with db.transaction() as session:
                queued = reminders.morning(session, day, clock.now(), None)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return queued, len(statements)

    add_leaders(1, 3)
    few = run(date(2027, 3, 18))
    add_leaders(100, 30)
    many = run(date(2027, 3, 16))  # another day, so nothing is in the ledger yet
    assert few[0] == 3 and many[0] == 33
    assert few[1] == many[1]
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Plan)) == 33

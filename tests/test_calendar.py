"""The programme calendar: the department's default dates, a province's own, the reminders 14,
7 and 1 days before, and province staff changing their dates in LINE."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from bot import render
from bot.db import db
from bot.models import AuditLog, ProgrammeDate
from bot.services import calendar as programme
from bot.services.calendar import CalendarFileError
from scheduler.jobs import JOBS, JobContext
from tests.test_invites import consented, create_code
from tests.test_templates import long_text, push_all

FY = 2570  # 1 October 2026 to 30 September 2027

WORKSHOP = "ประชุมเชิงปฏิบัติการผู้นำสัมมาชีพชุมชน (ไตรมาส 2)"
APPLICANTS = "ส่งรายชื่อผู้สมัครเข้าสู่ระบบ มชช. ให้กรมฯ"
ASSESSMENT = "ช่วงประเมินโดยคณะกรรมการประเมินและรับรองมาตรฐานจังหวัด"
RESULTS = "รายงานผลผู้ผ่านการประเมินและรับรอง พร้อมภาพกิจกรรม ให้กรมฯ"
OUTSTANDING = "ส่งผู้นำที่โดดเด่นจังหวัดละ 1 คน (เอกสารและแผ่น CD) ให้กรมฯ"
FOOT = 'แตะ "ปฏิทินงาน" เพื่อดูวันสำคัญทั้งปีงบประมาณค่ะ'


def staff(line, runner, name: str, role: str, area: str):
    person = consented(line, name)
    person.say(create_code(runner, role, area))
    person.received()
    return person


def reminder(province: str, *entries: tuple[str, str, str, str]) -> str:
    """The reminder's exact text: (title, ref, date, countdown) per deadline."""
    lines = [f"📅 ใกล้ถึงกำหนดงาน มชช. ของ{province}ค่ะ"]
    for title, ref, when, left in entries:
        lines += [f"• {title} ({ref})", f"  {when} · {left}"]
    return "\n".join([*lines, FOOT])


def morning(line, scheduler, clock, day: str) -> None:
    clock.set(f"{day} 08:00")
    assert scheduler.run("calendar")
    line.settle()


def texts(person) -> list[str]:
    return [m["text"] for m in person.received() if m["type"] == "text"]


def card_entries(message: dict) -> list[list[str]]:
    """Each calendar entry's lines as the card shows them."""
    boxes = message["contents"]["body"]["contents"]
    return [
        [c["text"] for c in box["contents"] if c["type"] == "text"]
        for box in boxes
        if box["type"] == "box"
    ]


def own_dates() -> dict[str, tuple[date, date | None]]:
    with db.transaction() as session:
        rows = session.scalars(select(ProgrammeDate).where(ProgrammeDate.province_code == "38"))
        return {r.key: (r.starts_on, r.ends_on) for r in rows}


# The calendar as data -----------------------------------------------------------------------
def test_the_department_defaults_for_a_fiscal_year_and_a_province_override(app):
    assert [(d.key, d.starts_on, d.ends_on, d.own) for d in programme.default_deadlines(FY)] == [
        ("workshop", date(2027, 2, 15), None, False),
        ("applicants", date(2027, 3, 25), None, False),
        ("assessment", date(2027, 8, 1), date(2027, 8, 31), False),
        ("outstanding", date(2027, 9, 15), None, False),
        ("results", date(2027, 9, 15), None, False),
    ]
    with db.transaction() as session:
        session.add(
            ProgrammeDate(
                province_code="38",
                fiscal_year=FY,
                key="assessment",
                starts_on=date(2027, 7, 20),
                ends_on=date(2027, 8, 10),
            )
        )
        session.add(
            ProgrammeDate(
                province_code="40", fiscal_year=FY, key="workshop", starts_on=date(2027, 1, 9)
            )
        )
    with db.transaction() as session:
        bueng_kan = programme.deadlines(session, "38", FY)
        khon_kaen = programme.deadlines(session, "40", FY)
        next_year = programme.deadlines(session, "38", FY + 1)
    window = next(d for d in bueng_kan if d.key == "assessment")
    assert (window.starts_on, window.ends_on, window.own) == (
        date(2027, 7, 20),
        date(2027, 8, 10),
        True,
    )
    assert window.when() == "20 กรกฎาคม 2570 – 10 สิงหาคม 2570"
    assert [d.key for d in bueng_kan if d.own] == ["assessment"]
    assert [(d.key, d.starts_on) for d in khon_kaen if d.own] == [("workshop", date(2027, 1, 9))]
    # Another year is the department's again; 2028 is a leap year, 2027 not.
    assert all(not d.own for d in next_year)
    assert next(d for d in next_year if d.key == "applicants").starts_on == date(2028, 3, 25)


def test_a_broken_calendar_file_is_refused_with_the_reason():
    good = {"key": "x", "title": "ก", "ref": "ข้อ 1", "month": 10, "day": 31, "remind": ["officer"]}
    assert programme.parse({"entries": [good]})[0].on(FY, 10, 31) == date(2026, 10, 31)
    assert programme.parse({"entries": [{**good, "month": 2, "day": 29}]})[0].on(FY, 2, 29) == date(
        2027, 2, 28
    )
    for broken, reason in [
        ({**good, "month": 13}, "month"),
        ({**good, "day": 32}, "not a day"),
        ({**good, "remind": ["leader"]}, "remind"),
        ({**good, "month": 3, "day": 10, "end_month": 3, "end_day": 1}, "ends before"),
        ({**good, "title": " "}, "title"),
        ({**good, "ref": "ก" * (programme.REF_MAX + 1)}, "ref"),
    ]:
        with pytest.raises(CalendarFileError, match=reason):
            programme.parse({"entries": [broken]})
    with pytest.raises(CalendarFileError, match="used twice"):
        programme.parse({"entries": [good, good]})
    many = [{**good, "key": f"k{n}"} for n in range(programme.MAX_ENTRIES + 1)]
    with pytest.raises(CalendarFileError, match="entries must be a list"):
        programme.parse({"entries": many})


# Reminders ----------------------------------------------------------------------------------
def test_reminders_14_7_and_1_days_before_follow_the_province_dates(line, runner, scheduler, clock):
    clock.set("2027-01-20 09:00")
    province = staff(line, runner, "สำนักงานพัฒนาชุมชนจังหวัด", "province", "38")
    officer = staff(line, runner, "พัฒนากร สมชาย", "officer", "3801")
    elsewhere = staff(line, runner, "พัฒนากร ขอนแก่น", "officer", "4001")

    # The province moves its workshop from the default 15 to 24 February.
    province.say("ปฏิทินงาน")
    province.pick("เปลี่ยนวัน", "2027-02-24")
    assert own_dates() == {"workshop": (date(2027, 2, 24), None)}

    # 1 February: 14 days before the default workshop. Only Khon Kaen still has that date.
    morning(line, scheduler, clock, "2027-02-01")
    assert texts(elsewhere) == [
        reminder("จ.ขอนแก่น", (WORKSHOP, "แนวทาง มชช. ข้อ 2.2", "15 กุมภาพันธ์ 2570", "อีก 14 วัน"))
    ]
    assert texts(officer) == [] and texts(province) == []

    workshop = (WORKSHOP, "แนวทาง มชช. ข้อ 2.2", "24 กุมภาพันธ์ 2570")
    for day, left in [("2027-02-10", "อีก 14 วัน"), ("2027-02-17", "อีก 7 วัน")]:
        morning(line, scheduler, clock, day)
        assert texts(officer) == texts(province) == [reminder("จ.บึงกาฬ", (*workshop, left))]
        assert texts(elsewhere) == []
    morning(line, scheduler, clock, "2027-02-23")
    assert texts(officer) == [reminder("จ.บึงกาฬ", (*workshop, "พรุ่งนี้"))]
    assert texts(province) == [reminder("จ.บึงกาฬ", (*workshop, "พรุ่งนี้"))]

    # Days in between and the day itself: nothing.
    for day in ("2027-02-11", "2027-02-24", "2027-03-10"):
        morning(line, scheduler, clock, day)
        assert texts(officer) == texts(province) == texts(elsewhere) == []

    # The applicants list is everyone's, in both provinces.
    morning(line, scheduler, clock, "2027-03-11")
    applicants = (APPLICANTS, "แนวทาง มชช. ข้อ 3.1", "25 มีนาคม 2570", "อีก 14 วัน")
    assert texts(officer) == texts(province) == [reminder("จ.บึงกาฬ", applicants)]
    assert texts(elsewhere) == [reminder("จ.ขอนแก่น", applicants)]

    # A second run the same morning (a second scheduler, a forced run) sends nothing more.
    runtime = line.app.extensions["runtime"]
    JOBS["calendar"].run(JobContext(runtime, db, clock.now(), clock.now(), scheduler.quiet))
    assert not scheduler.run("calendar")
    line.settle()
    assert texts(officer) == texts(province) == texts(elsewhere) == []

    # The window is reminded of by its start.
    morning(line, scheduler, clock, "2027-07-31")
    window = (ASSESSMENT, "แนวทาง มชช. ข้อ 2.5", "1 – 31 สิงหาคม 2570", "เริ่มพรุ่งนี้")
    assert texts(officer) == texts(province) == [reminder("จ.บึงกาฬ", window)]
    assert texts(elsewhere) == [reminder("จ.ขอนแก่น", window)]

    # Two deadlines on one day make one push; these two are for province staff only.
    morning(line, scheduler, clock, "2027-09-08")
    assert texts(province) == [
        reminder(
            "จ.บึงกาฬ",
            (OUTSTANDING, "แนวทาง มชช. ข้อ 3.3", "15 กันยายน 2570", "อีก 7 วัน"),
            (RESULTS, "แนวทาง มชช. ข้อ 3.2", "15 กันยายน 2570", "อีก 7 วัน"),
        )
    ]
    assert texts(officer) == texts(elsewhere) == []


# Changing dates in LINE ----------------------------------------------------------------------
def test_province_staff_change_dates_in_line_and_officers_only_look(line, runner, scheduler, clock):
    clock.set("2027-03-18 10:00")
    province = staff(line, runner, "สำนักงานพัฒนาชุมชนจังหวัด", "province", "38")
    officer = staff(line, runner, "พัฒนากร สมชาย", "officer", "3801")

    officer.say("ปฏิทินงาน")
    assert len(officer.last) == 1 and officer.last[0]["type"] == "flex"
    assert officer.labels() == []  # nothing to change for officers
    header = [c["text"] for c in officer.last[0]["contents"]["header"]["contents"]]
    assert header == [
        "ปฏิทินงาน มชช. ปีงบประมาณ 2570",
        "จ.บึงกาฬ · แจ้งเตือนก่อนถึงกำหนด 14, 7 และ 1 วัน",
    ]
    default = "วันตามค่าเริ่มต้นของกรม"
    assert card_entries(officer.last[0]) == [
        [WORKSHOP, "15 กุมภาพันธ์ 2570 · ผ่านมาแล้ว", default, "แนวทาง มชช. ข้อ 2.2",
         "จังหวัดเป็นผู้กำหนดวันจริง"],
        [APPLICANTS, "25 มีนาคม 2570 · อีก 7 วัน", default, "แนวทาง มชช. ข้อ 3.1"],
        [ASSESSMENT, "1 – 31 สิงหาคม 2570 · เริ่มในอีก 136 วัน", default, "แนวทาง มชช. ข้อ 2.5"],
        [OUTSTANDING, "15 กันยายน 2570 · อีก 181 วัน", default, "แนวทาง มชช. ข้อ 3.3"],
        [RESULTS, "15 กันยายน 2570 · อีก 181 วัน", default, "แนวทาง มชช. ข้อ 3.2"],
    ]  # fmt: skip

    province.say("ปฏิทินงาน")
    assert province.labels() == [
        "เปลี่ยนวัน",
        "เปลี่ยนวัน",
        "เปลี่ยนวันเริ่ม",
        "เปลี่ยนวันสิ้นสุด",
        "เปลี่ยนวัน",
        "เปลี่ยนวัน",
    ]
    picker = province.find_action("เปลี่ยนวันสิ้นสุด")
    assert (picker["min"], picker["max"], picker["initial"]) == (
        "2026-10-01",
        "2027-09-30",
        "2027-08-31",
    )

    # The assessment window: its end before its start is refused, clearly, and nothing changes.
    province.pick("เปลี่ยนวันสิ้นสุด", "2027-07-15")
    assert province.last_text == (
        "วันสิ้นสุด (15 กรกฎาคม 2570) อยู่ก่อนวันเริ่ม (1 สิงหาคม 2570) ค่ะ กรุณาเลือกวันสิ้นสุดใหม่ หรือเปลี่ยนวันเริ่มก่อน"
    )
    assert own_dates() == {}

    # Start earlier, then end earlier: each saved, confirmed in BE, and the card comes again.
    province.say("ปฏิทินงาน")
    province.pick("เปลี่ยนวันเริ่ม", "2027-07-10")
    assert province.last[0]["text"] == (
        f'บันทึกวันเริ่มของ"{ASSESSMENT}" เป็น 10 กรกฎาคม 2570 – 31 สิงหาคม 2570 แล้วค่ะ '
        "การแจ้งเตือนของจ.บึงกาฬจะเป็นไปตามวันใหม่นะคะ"
    )
    assert card_entries(province.last[1])[2] == [
        ASSESSMENT,
        "10 กรกฎาคม 2570 – 31 สิงหาคม 2570 · เริ่มในอีก 114 วัน",
        "วันที่จังหวัดกำหนด",
        "แนวทาง มชช. ข้อ 2.5",
    ]
    province.pick("เปลี่ยนวันสิ้นสุด", "2027-07-31")
    assert "บันทึกวันสิ้นสุดของ" in province.last_text and "10 – 31 กรกฎาคม 2570" in province.last_text
    assert own_dates() == {"assessment": (date(2027, 7, 10), date(2027, 7, 31))}
    assert "ใช้วันของกรม" in province.labels()

    # Forged changes: from an officer, and from another province's staff. Refused, unchanged.
    other = staff(line, runner, "สำนักงานพัฒนาชุมชนจังหวัดขอนแก่น", "province", "40")
    forged = "a=cal.set&pv=38&y=2570&k=assessment&p=start"
    for person in (officer, other):
        person.postback(forged, {"date": "2027-06-01"})
        assert person.last_text == (
            "ขออภัยค่ะ การเปลี่ยนวันในปฏิทินงานทำได้เฉพาะเจ้าหน้าที่สำนักงานพัฒนาชุมชนจังหวัด สำหรับจังหวัดของตนเท่านั้น"
        )
        person.postback("a=cal.reset&pv=38&y=2570&k=assessment")
        assert "ทำได้เฉพาะเจ้าหน้าที่สำนักงานพัฒนาชุมชนจังหวัด" in person.last_text
    assert own_dates() == {"assessment": (date(2027, 7, 10), date(2027, 7, 31))}
    with db.transaction() as session:
        denied = session.scalars(
            select(AuditLog.action).where(AuditLog.action.like("calendar.%.denied"))
        ).all()
        assert sorted(denied) == ["calendar.reset.denied"] * 2 + ["calendar.set.denied"] * 2

    # A card of last year, and a date outside the year, explain themselves and change nothing.
    province.postback("a=cal.set&pv=38&y=2569&k=assessment&p=start", {"date": "2027-06-01"})
    assert "การ์ดนี้เป็นของปีงบประมาณอื่นแล้ว" in province.last_text
    province.postback("a=cal.set&pv=38&y=2570&k=applicants&p=start", {"date": "2027-10-01"})
    assert province.last_text == (
        "วันที่ 1 ตุลาคม 2570 อยู่นอกปีงบประมาณ 2570 ค่ะ กรุณาเลือกวันระหว่าง 1 ตุลาคม 2569 ถึง 30 กันยายน 2570"
    )
    assert own_dates() == {"assessment": (date(2027, 7, 10), date(2027, 7, 31))}

    # The officer sees the province's dates, marked as such.
    officer.say("ปฏิทินงาน")
    assert card_entries(officer.last[0])[2][1:3] == [
        "10 – 31 กรกฎาคม 2570 · เริ่มในอีก 114 วัน",
        "วันที่จังหวัดกำหนด",
    ]

    # The reminders follow: 7 days before the new start, none 14 days before the old one.
    morning(line, scheduler, clock, "2027-07-03")
    new_window = (ASSESSMENT, "แนวทาง มชช. ข้อ 2.5", "10 – 31 กรกฎาคม 2570", "เริ่มในอีก 7 วัน")
    assert texts(officer) == [reminder("จ.บึงกาฬ", new_window)]
    morning(line, scheduler, clock, "2027-07-18")
    assert texts(officer) == []

    # Back to the department's date, and so to its reminders.
    clock.set("2027-07-18 10:00")
    province.say("ปฏิทินงาน")
    province.tap("ใช้วันของกรม")
    assert province.last[0]["text"] == (
        f'กลับไปใช้วันตามค่าเริ่มต้นของกรมแล้วค่ะ: "{ASSESSMENT}" 1 – 31 สิงหาคม 2570'
    )
    assert "ใช้วันของกรม" not in province.labels()
    assert own_dates() == {}
    with db.transaction() as session:
        actions = session.scalars(
            select(AuditLog.action)
            .where(AuditLog.entity == "programme_date", AuditLog.action.not_like("%.denied"))
            .order_by(AuditLog.id)
        ).all()
    assert actions == ["calendar.set", "calendar.set", "calendar.reset"]
    morning(line, scheduler, clock, "2027-07-25")
    default_window = (ASSESSMENT, "แนวทาง มชช. ข้อ 2.5", "1 – 31 สิงหาคม 2570", "เริ่มในอีก 7 วัน")
    assert texts(officer) == [reminder("จ.บึงกาฬ", default_window)]


def test_other_roles_do_not_get_the_calendar(line, clock):
    clock.set("2027-03-18 10:00")
    guest = consented(line, "ผู้ใช้ทั่วไป")
    guest.say("ปฏิทินงาน")
    assert "ไม่เข้าใจข้อความนี้" in guest.last_text and guest.last[0]["type"] == "text"


def test_the_calendar_card_at_its_largest(app, line_platform, clock):
    """Every entry with the longest title, reference and note and all three buttons."""
    clock.set("2027-03-18 10:00")
    data = "a=cal.set&pv=38&y=2570&k=" + "k" * programme.KEY_MAX + "&p=end"
    picker = render.date_action("เปลี่ยนวันสิ้นสุด", data, "2027-08-31", "2026-10-01", "2027-09-30")
    entry = {
        "title": long_text(programme.TITLE_MAX),
        "when": "30 กันยายน 2570 – 30 กันยายน 2570",
        "countdown": "เริ่มในอีก 365 วัน",
        "past": False,
        "own": True,
        "source": "วันที่จังหวัดกำหนด",
        "ref": long_text(programme.REF_MAX),
        "note": long_text(programme.NOTE_MAX),
        "buttons": [picker, picker, render.postback_action("ใช้วันของกรม", "a=cal.reset")],
    }
    card = render.flex(
        "calendar.json",
        long_text(2000),
        year=FY,
        subtitle=long_text(100),
        entries=[entry] * programme.MAX_ENTRIES,
        hint=long_text(100),
    )
    push_all(app, line_platform, [card], "calendar")
    size = len(json.dumps(card["contents"], ensure_ascii=False).encode())
    print("largest calendar card (bytes):", size)

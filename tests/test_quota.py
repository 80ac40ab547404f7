"""The message quota: read from LINE once a day, a warning to province staff and administrators
at QUOTA_WARN_PERCENT once a month, and what a broadcast's preview says about it."""

from __future__ import annotations

import logging

from sqlalchemy import select

from bot.db import db
from bot.models import QuotaReading, User, utcnow
from tests.test_broadcast import add_leaders, fill_form, officer_of, province_staff, stats
from tests.test_registration import register

ADMIN = "U" + "ad" * 16


def readings() -> list[tuple[int | None, int]]:
    with db.transaction() as session:
        return [
            (r.limit, r.used)
            for r in session.scalars(select(QuotaReading).order_by(QuotaReading.id))
        ]


def warning(month: str, used: str, limit: str, percent: int, left: str) -> str:
    return (
        "⚠️ แจ้งเตือนโควตาข้อความ LINE ค่ะ\n"
        f"เดือน{month} ใช้ไปแล้ว {used} จาก {limit} ข้อความ ({percent}%) เหลือ {left} ข้อความ\n"
        "การแจ้งเตือนและประกาศนับโควตา (การตอบกลับในแชตไม่นับ) หากโควตาหมด "
        "ระบบจะส่งแจ้งเตือนและประกาศไม่ได้จนถึงต้นเดือนหน้า "
        "กรุณาวางแผนการประกาศ หรือติดต่อผู้ดูแลระบบเพื่อเพิ่มแพ็กเกจนะคะ"
    )


def test_staff_are_warned_at_80_percent_once_a_month(line, runner, clock, scheduler):
    clock.set("2027-03-18 08:00")
    somsri = line.user("สมศรี ใจดี")
    register(somsri)
    officer = officer_of(line, runner)
    staff = province_staff(line, runner)
    other = province_staff(line, runner, "เจ้าหน้าที่นครพนม", "48")
    with db.transaction() as session:
        session.add(User(line_user_id=ADMIN, role="admin", status="active", consent_at=utcnow()))
    line.platform.set_quota(10_000)

    line.platform.set_usage(7_999)
    assert scheduler.run("quota")
    line.settle()
    assert readings() == [(10_000, 7_999)]
    assert staff.received() == [] and other.received() == []

    clock.set("2027-03-19 08:00")
    line.platform.set_usage(8_000)
    assert scheduler.run("quota")
    line.settle()
    expected = warning("มีนาคม 2570", "8,000", "10,000", 80, "2,000")
    for person in (staff, other):
        assert [m["text"] for m in person.received()] == [expected]
    assert [m["text"] for m in line.platform.deliveries(ADMIN)] == [expected]
    assert officer.received() == [] and somsri.received() == []

    # Not again the same month, however high the use climbs.
    clock.set("2027-03-25 08:00")
    line.platform.set_usage(9_700)
    assert scheduler.run("quota")
    line.settle()
    assert staff.received() == [] and len(line.platform.deliveries(ADMIN)) == 1
    assert readings()[-1] == (10_000, 9_700)

    # A new month starts afresh.
    clock.set("2027-04-20 08:00")
    line.platform.set_usage(8_500)
    assert scheduler.run("quota")
    line.settle()
    assert [m["text"] for m in staff.received()] == [
        warning("เมษายน 2570", "8,500", "10,000", 85, "1,500")
    ]


def test_no_limit_means_no_warning(line, runner, clock, scheduler):
    clock.set("2027-03-18 08:00")
    staff = province_staff(line, runner)
    line.platform.set_quota(None)
    line.platform.set_usage(1_000_000)
    assert scheduler.run("quota")
    line.settle()
    assert readings() == [(None, 1_000_000)]
    assert staff.received() == []


def test_a_line_error_while_reading_is_logged_and_read_again_next_day(
    line, runner, clock, scheduler, caplog
):
    clock.set("2027-03-18 08:00")
    staff = province_staff(line, runner)
    line.platform.set_quota(1_000)
    line.platform.set_usage(900)
    line.platform.fail("quota", 500)
    with caplog.at_level(logging.WARNING, logger="scheduler.broadcasts"):
        assert scheduler.run("quota")  # ran, and did not raise
    assert "trying again tomorrow" in caplog.text
    assert readings() == []

    clock.set("2027-03-19 08:00")
    line.platform.fail("quota.consumption", 503)
    assert scheduler.run("quota")
    assert readings() == []

    clock.set("2027-03-20 08:00")
    assert scheduler.run("quota")
    line.settle()
    assert readings() == [(1_000, 900)]
    assert "ใช้ไปแล้ว 900 จาก 1,000 ข้อความ (90%)" in staff.received()[0]["text"]


def test_the_preview_shows_what_the_broadcast_will_consume(line, runner, clock, scheduler):
    clock.set("2027-02-27 08:00")
    add_leaders(3, "3801", following=True)
    staff = province_staff(line, runner)
    line.platform.set_quota(1_000)
    line.platform.set_usage(998)
    assert scheduler.run("quota")

    clock.set("2027-03-01 08:00")  # a new month: February's reading says nothing about March
    fill_form(staff)
    assert stats(staff.last[1])["ใช้โควตา"] == "3 ข้อความ"
    assert "ใช้ไปแล้วเดือนนี้" not in stats(staff.last[1])
    assert "ยังไม่มีข้อมูลโควตาของเดือนนี้ (ระบบอ่านจาก LINE วันละครั้ง)" in staff.last_text
    staff.say("ยกเลิก")

    line.platform.set_usage(998)  # February's warning was a push, and counted
    assert scheduler.run("quota")  # March's reading: 998 of 1,000
    fill_form(staff)
    summary = stats(staff.last[1])
    assert (summary["ใช้ไปแล้วเดือนนี้"], summary["เหลือหลังส่ง"]) == ("998 / 1,000", "-1 ข้อความ")
    assert "⚠️ โควตาที่เหลือไม่พอสำหรับประกาศนี้ ข้อความบางส่วนอาจส่งไม่สำเร็จ" in staff.last_text
    assert "ข้อมูลโควตา ณ 1 มี.ค. 70 08:00 น." in staff.last_text
    staff.say("ยกเลิก")

    line.platform.set_quota(None)
    clock.set("2027-03-02 08:00")
    assert scheduler.run("quota")
    fill_form(staff)
    assert stats(staff.last[1])["โควตาเดือนนี้"] == "ไม่จำกัด"

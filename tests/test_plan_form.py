"""The add-activity form under real use: bad answers, typed dates, stale buttons, leaving and
coming back, and another leader's buttons."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from bot.db import db
from bot.models import AuditLog, ConversationState, InboxEvent, User, utcnow
from bot.services.thai import parse_date
from tests.test_plan import be, choices, fill_plan, items_of, this_year
from tests.test_registration import register


@pytest.fixture
def somsri(line):
    person = line.user("สมศรี ใจดี")
    register(person)
    person.say("แผนของฉัน")
    return person


def to_activity_step(person) -> None:
    person.tap("เพิ่มกิจกรรม")
    person.tap("ด้านการบริหารตนเอง")
    person.tap(choices(person)[0])  # the only component


def to_start_step(person) -> None:
    to_activity_step(person)
    person.say("อบรมการทำบัญชีครัวเรือน")
    person.tap("พัฒนาด้วยตนเอง")
    person.say("เรียนออนไลน์")
    person.tap("ตนเอง")
    assert "วันเริ่มกิจกรรม" in person.last_text


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("15 ส.ค. 69", date(2026, 8, 15)),
        ("๑๕/๐๘/๒๕๖๙", date(2026, 8, 15)),
        ("2026-08-15", date(2026, 8, 15)),
        ("15 สิงหาคม 2569", date(2026, 8, 15)),
        ("วันที่ 3 มีนาคม พ.ศ. 2570", date(2027, 3, 3)),
        ("15/8/2026", date(2026, 8, 15)),
        ("1/10/2569", date(2026, 10, 1)),
        ("31-12-2026", date(2026, 12, 31)),
        ("13/13/2569", None),
        ("31 ก.พ. 69", None),
        ("พรุ่งนี้", None),
        ("15 ส.ค.", None),
        ("", None),
    ],
)
def test_typed_dates_in_the_forms_thais_write(typed, expected):
    assert parse_date(typed) == expected


def test_bad_answers_are_explained_and_asked_again_without_the_whole_form(somsri):
    year, first, last = this_year()
    to_activity_step(somsri)

    somsri.say("   ")
    assert "กรุณาพิมพ์กิจกรรม" in somsri.last_text
    somsri.say("ก" * 301)
    assert "ไม่เกิน 300 ตัวอักษร" in somsri.last_text and "301" in somsri.last_text
    assert len(somsri.last) == 1 and somsri.last[0]["type"] == "text"  # no card redrawn
    somsri.say("อบรมการทำบัญชีครัวเรือน 😊 <b>ตัวหนา</b>")
    assert "ข้อ 4" in somsri.last_text
    somsri.tap("พัฒนาด้วยตนเอง")
    somsri.say("ข" * 501)
    assert "ไม่เกิน 500 ตัวอักษร" in somsri.last_text
    somsri.say("เรียนออนไลน์")
    somsri.say("ค" * 101)
    assert "ไม่เกิน 100 ตัวอักษร" in somsri.last_text
    somsri.tap("ตนเอง")

    somsri.say("เมื่อวานนี้")
    assert "อ่านวันที่ไม่ออก" in somsri.last_text
    outside = last + timedelta(days=1)
    somsri.say(f"{outside.day}/{outside.month}/{be(outside)}")
    assert f"อยู่นอกปีงบประมาณ {year}" in somsri.last_text
    start = date(first.year + 1, 3, 1)
    somsri.say(f"{start.day} มี.ค. {be(start) % 100}")  # "1 มี.ค. 70"
    assert "วันสิ้นสุดกิจกรรม" in somsri.last_text
    with pytest.raises(AssertionError, match="outside"):  # the picker cannot go before it
        somsri.pick("เลือกจากปฏิทิน", (start - timedelta(days=1)).isoformat())
    somsri.say((start - timedelta(days=1)).isoformat())
    assert "อยู่ก่อนวันเริ่ม" in somsri.last_text
    somsri.say(f"{start.year}-06-30")
    assert "ตรวจสอบกิจกรรมก่อนบันทึก" in somsri.last_text
    assert "<b>ตัวหนา</b>" in somsri.last_text  # shown back as typed, safely inside a JSON string
    somsri.tap("บันทึก")
    [item] = items_of(somsri)
    assert (item.starts_on, item.ends_on) == (start, date(start.year, 6, 30))
    assert item.responsible == "ตนเอง" and item.method == "เรียนออนไลน์"


def test_back_help_and_cancel_at_any_step(somsri):
    to_activity_step(somsri)
    somsri.say("ช่วยเหลือ")
    assert "ด้วยคำของคุณเอง" in somsri.last_text and "ข้อ 3" in somsri.last_text
    somsri.say("ย้อนกลับ")
    assert "ข้อ 2" in somsri.last_text
    somsri.say("ย้อนกลับ")
    somsri.say("ย้อนกลับ")
    assert "นี่คือคำถามแรกแล้ว" in somsri.last_text
    somsri.say("ยกเลิก")
    assert "ไม่ได้บันทึก" in somsri.last_text
    assert items_of(somsri) == []
    with db.transaction() as session:
        assert session.scalar(select(ConversationState)) is None


def test_an_old_card_cannot_change_the_form(somsri):
    to_activity_step(somsri)
    area_card = None
    somsri.say("ย้อนกลับ")
    somsri.say("ย้อนกลับ")
    area_card = somsri.last
    somsri.tap("ด้านการบริหารงาน")
    somsri.tap(choices(somsri)[0])
    assert "ข้อ 3" in somsri.last_text
    # A tap on the earlier area card: refused, the current question is asked again.
    somsri.tap("ด้านการบริหารสังคม", messages=area_card)
    assert "ขั้นตอนก่อนหน้า" in somsri.last_text and "ข้อ 3" in somsri.last_text
    assert "ด้านการบริหารงาน" in somsri.last_text and "ด้านการบริหารสังคม" not in somsri.last_text


def test_leaving_mid_form_and_returning_is_offered_to_continue(somsri):
    to_start_step(somsri)
    # A menu tap in the middle is not taken as an answer: it is done, the form kept.
    somsri.say("แผนของฉัน")
    assert "สถานะ: ร่าง" in somsri.last_text
    somsri.say("อะไรนะ")
    assert "กรอกกิจกรรมของแผนค้างไว้" in somsri.last_text
    somsri.tap("ทำต่อ")
    assert "วันเริ่มกิจกรรม" in somsri.last_text and "อบรมการทำบัญชีครัวเรือน" in somsri.last_text

    # Hours later, the first message gets the same offer instead of being an answer.
    with db.transaction() as session:
        session.execute(update(ConversationState).values(updated_at=utcnow() - timedelta(hours=3)))
    somsri.say("สวัสดีค่ะ")
    assert "ค้างไว้" in somsri.last_text and "ทำต่อ" in somsri.labels()
    # Tapping "เพิ่มกิจกรรม" on the plan card offers to continue or start again.
    somsri.say("แผนของฉัน")
    somsri.tap("เพิ่มกิจกรรม")
    assert "ทำต่อ" in somsri.labels() and "เริ่มใหม่" in somsri.labels()
    somsri.tap("เริ่มใหม่")
    assert "ข้อ 1" in somsri.last_text and "อบรมการทำบัญชีครัวเรือน" not in somsri.last_text


def test_submit_needs_activities_and_a_ready_date(somsri):
    somsri.tap("ส่งแผนให้เจ้าหน้าที่")
    assert "อย่างน้อย 1 กิจกรรม" in somsri.last_text
    somsri.tap("แผนของฉัน")
    to_start_step(somsri)
    _, first, _ = this_year()
    somsri.pick("เลือกจากปฏิทิน", first.isoformat())
    somsri.pick("เลือกจากปฏิทิน", first.isoformat())
    somsri.tap("บันทึก")
    somsri.tap("ส่งแผนให้เจ้าหน้าที่")
    assert "กำหนดวันที่พร้อมรับการประเมิน" in somsri.last_text
    with db.transaction() as session:
        assert session.scalar(select(AuditLog).where(AuditLog.action == "plan.submit")) is None


def test_another_leaders_buttons_and_deleted_items_are_refused(line, somsri):
    to_start_step(somsri)
    _, first, _ = this_year()
    somsri.pick("เลือกจากปฏิทิน", first.isoformat())
    somsri.pick("เลือกจากปฏิทิน", first.isoformat())
    somsri.tap("บันทึก")
    [item] = items_of(somsri)
    plan_id = item.plan_id

    other = line.user("มานี มีสุข")
    register(other, "ต.วิศิษฐ์")
    for forged in (f"a=item.edit&i={item.id}", f"a=item.delete.yes&i={item.id}"):
        other.postback(forged)
        assert "ไม่พบกิจกรรมนี้" in other.last_text
    for forged in (f"a=plan.add&p={plan_id}", f"a=plan.submit&p={plan_id}", "a=plan.add&p=x"):
        other.postback(forged)
        assert "ไม่ใช่แผนของคุณ" in other.last_text
    # Nor can a leader review, even with a well-formed officer's button.
    other.postback(f"a=review.approve&p={plan_id}&r=1")
    assert "ตรวจได้เฉพาะแผนของผู้นำในอำเภอ" in other.last_text
    assert len(items_of(somsri)) == 1

    # Somsri deletes it; the delete button of the same card then finds nothing.
    somsri.tap("ดูกิจกรรม")
    listing = somsri.last
    somsri.tap("ลบ")
    somsri.tap("ลบกิจกรรม")
    somsri.tap("แก้ไข", messages=listing)
    assert "ไม่พบกิจกรรมนี้แล้ว" in somsri.last_text
    with db.transaction() as session:
        denied = session.scalars(
            select(AuditLog.action).where(AuditLog.action.like("%.denied"))
        ).all()
        other_id = session.scalar(select(User.id).where(User.line_user_id == other.user_id))
    assert "item.edit.denied" in denied and "plan.add.denied" in denied
    assert other_id is not None


def test_the_activity_list_pages_twelve_cards_at_a_time(somsri):
    fill_plan(somsri, 15)
    somsri.say("แผนของฉัน")
    assert "และอีก 10 กิจกรรม" in somsri.last_text  # the card lists five per area
    somsri.tap("ดูกิจกรรม")
    [page] = somsri.last
    assert page["altText"] == "กิจกรรมที่ 1–11 จาก 15 กิจกรรม"
    assert len(page["contents"]["contents"]) == 12 and "อีก 4 กิจกรรม" in somsri.last_text
    somsri.tap("ดูเพิ่มเติม")
    [page] = somsri.last
    assert len(page["contents"]["contents"]) == 4 and "กิจกรรม 14" in somsri.last_text
    assert "ดูเพิ่มเติม" not in somsri.labels()


def test_keeping_an_activity_and_odd_ids_in_buttons(somsri):
    fill_plan(somsri, 1)
    somsri.say("แผนของฉัน")
    somsri.tap("ดูกิจกรรม")
    somsri.tap("ลบ")
    somsri.tap("ไม่ลบ")
    assert "ไม่ได้ลบกิจกรรม" in somsri.last_text and len(items_of(somsri)) == 1
    odd = {
        "a=item.edit&i=²": "ไม่พบกิจกรรมนี้",
        "a=plan.add&p=99999999999999999999": "ไม่ใช่แผนของคุณ",
        "a=leader&id=²": "เฉพาะผู้นำในพื้นที่",
    }
    for data, answer in odd.items():
        somsri.postback(data)
        assert answer in somsri.last_text, data
    with db.transaction() as session:
        assert session.scalar(select(InboxEvent).where(InboxEvent.status != "done")) is None

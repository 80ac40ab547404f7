"""Carrying out the plan: progress, the work-management figures, asking for assessment and the
summary document for the committee."""

from __future__ import annotations

import io
from datetime import date

from pypdf import PdfReader
from sqlalchemy import select

from bot.db import db
from bot.models import Plan, SummaryDocument, User
from bot.services import fiscal
from tests.test_documents import _thai
from tests.test_evidence import photo
from tests.test_plan import fill_plan, items_of, leader_and_officer


def plan_of(person) -> Plan:
    with db.transaction() as session:
        return session.scalar(
            select(Plan)
            .join(User, User.id == Plan.leader_id)
            .where(User.line_user_id == person.user_id)
        )


def approve(person) -> None:
    with db.transaction() as session:
        plan = session.get(Plan, plan_of(person).id)
        plan.status = "approved"


def update(person, nth: int, state: str, note: str = "ไม่มีบันทึก") -> None:
    person.say("แผนของฉัน")
    person.tap("ดูกิจกรรม")
    person.tap("อัปเดตความคืบหน้า", nth=nth)
    assert "เลือกสถานะใหม่" in person.last_text
    person.tap(state)
    if "ส่งหลักฐานก่อนไหม" in person.last_text:
        person.tap("บันทึกว่าเสร็จเลย")
    assert "บันทึกความคืบหน้าสั้น ๆ" in person.last_text
    person.say(note)
    assert "บันทึกแล้วค่ะ" in person.last_text


def test_progress_card_counts_states_evidence_late_and_the_targets(line, runner):
    somsri, _ = leader_and_officer(line, runner)
    somsri.say("แผนของฉัน")
    fill_plan(somsri, 3)  # all end in the fiscal year's first days: late by the year's end
    update(somsri, 0, "เสร็จแล้ว", "อบรมครบ 3 ครั้ง")
    update(somsri, 1, "กำลังดำเนินการ")
    # Evidence for the activity in progress.
    somsri.say("แผนของฉัน")
    somsri.tap("ดูกิจกรรม")
    somsri.tap("ส่งหลักฐาน", nth=1)
    somsri.send_photos(photo(1), photo(2))
    somsri.say("เสร็จแล้ว")

    somsri.say("ความคืบหน้า")
    card = somsri.last_text
    assert "เสร็จแล้ว 1 จาก 3 กิจกรรม · หลักฐาน 2 รายการ" in card
    assert "เสร็จ 1 · กำลังทำ 1 · ยังไม่เริ่ม 1 · หลักฐาน 2" in card
    assert "ยังไม่ได้บันทึกจำนวนครัวเรือนและรายได้" in card
    year = fiscal.year_of(date.today())
    first = fiscal.bounds(year)[0]
    if date.today() > first + __import__("datetime").timedelta(days=2):
        assert "เลยกำหนด 2 กิจกรรม" in card  # the done one is never late

    somsri.tap("บันทึกผลด้านการบริหารงาน")
    somsri.say("๒๐")  # Thai digits
    somsri.say("25")
    assert "มากกว่าจำนวนที่อบรม (20 ครัวเรือน)" in somsri.last_text
    somsri.say("18")
    somsri.say("45,000")
    somsri.say("เยอะมาก")
    assert "กรุณาพิมพ์เป็นจำนวนเงิน" in somsri.last_text
    somsri.say("47000 บาท")
    card = somsri.last_text
    assert "บันทึกผลด้านการบริหารงานแล้ว" in card
    assert "มีอาชีพ 90.0% (เป้าหมาย 85%) ✅ ผ่าน" in card
    assert "รายได้ 45,000 → 47,000 บาท (+4.4%, เป้าหมาย 3%) ✅ ผ่าน" in card
    with db.transaction() as session:
        plan = session.get(Plan, plan_of(somsri).id)
        assert (plan.households_trained, plan.households_with_occupation) == (20, 18)
        assert [i.state for i in plan.items] == ["done", "in_progress", "not_started"]
        assert plan.items[0].note == "อบรมครบ 3 ครั้ง"


def test_marking_done_without_evidence_offers_to_send_it_first(line, runner):
    somsri, _ = leader_and_officer(line, runner)
    somsri.say("แผนของฉัน")
    fill_plan(somsri, 1)
    somsri.say("แผนของฉัน")
    somsri.tap("ดูกิจกรรม")
    somsri.tap("อัปเดตความคืบหน้า")
    somsri.tap("เสร็จแล้ว")
    assert "ยังไม่มีหลักฐานเลยค่ะ ส่งหลักฐานก่อนไหม" in somsri.last_text
    somsri.tap("ส่งหลักฐานก่อน")
    assert "ส่งรูป วิดีโอ หรือไฟล์ของกิจกรรม" in somsri.last_text
    somsri.send_photos(photo(3))
    assert somsri.last_text == "รับรูปที่ 1 แล้วค่ะ"
    assert items_of(somsri)[0].state == "not_started"  # unchanged until she says so
    # With evidence now, done goes straight to the note.
    somsri.say("เสร็จแล้ว")
    somsri.tap("อัปเดตความคืบหน้า")
    somsri.tap("เสร็จแล้ว")
    assert "บันทึกความคืบหน้าสั้น ๆ" in somsri.last_text


def test_assessment_request_goes_to_the_officer_who_asks_for_more_then_accepts(line, runner):
    somsri, officer = leader_and_officer(line, runner)
    somsri.say("แผนของฉัน")
    fill_plan(somsri, 2)
    somsri.say("ความคืบหน้า")
    assert "ขอรับการประเมิน" not in somsri.labels()  # not before the plan is approved
    somsri.postback(f"a=assess.request&p={plan_of(somsri).id}")
    assert "เมื่อเจ้าหน้าที่เห็นชอบแผนแล้ว" in somsri.last_text
    approve(somsri)

    somsri.say("ความคืบหน้า")
    somsri.tap("ขอรับการประเมิน")
    assert "ส่งคำขอรับการประเมินแล้ว" in somsri.last_text and "แจ้งเจ้าหน้าที่อำเภอแล้ว" in somsri.last_text
    officer.received()
    assert "สมศรี ใจดี ขอรับการประเมิน" in officer.last_text
    push = officer.last
    somsri.say("ความคืบหน้า")
    assert "ขอรับการประเมิน" not in somsri.labels()  # asked already

    officer.tap("ขอข้อมูลเพิ่มเติม", push)
    officer.say("ขอรูปการอบรมเพิ่ม")
    assert "ส่งข้อความถึง สมศรี ใจดี แล้ว" in officer.last_text
    somsri.received()
    assert "ขอรูปการอบรมเพิ่ม" in somsri.last_text
    # The old push's buttons no longer act on a request that was answered.
    officer.tap("ตรวจประเมินได้", push)
    assert "คำขอนี้ตอบไปแล้ว" in officer.last_text

    somsri.say("ความคืบหน้า")
    somsri.tap("ขอรับการประเมิน")
    officer.received()
    officer.tap("ตรวจประเมินได้")
    assert "รับเรื่องของ สมศรี ใจดี แล้ว" in officer.last_text
    assert "ความคืบหน้า ปีงบประมาณ" in officer.last_text  # the card to inspect from
    somsri.received()
    assert "จะติดต่อนัดวันตรวจประเมิน" in somsri.last_text
    assert plan_of(somsri).assessment_status == "accepted"


def test_the_summary_document_is_built_off_the_request_path_and_pushed(line, runner, client):
    somsri, _ = leader_and_officer(line, runner)
    somsri.say("แผนของฉัน")
    fill_plan(somsri, 2)
    somsri.say("แผนของฉัน")
    somsri.tap("ดูกิจกรรม")
    somsri.tap("ส่งหลักฐาน")
    somsri.send_photos(*(photo(n) for n in range(6)))
    somsri.say("ลงพื้นที่สำรวจกลุ่มอาชีพ")
    somsri.say("เสร็จแล้ว")

    somsri.say("ความคืบหน้า")
    messages = somsri.tap("เอกสารสรุปผลงาน (PDF)")
    # The reply says it is on its way; the link comes as a push once built (settled here).
    assert "กำลังจัดทำเอกสารสรุปผลงาน" in somsri.last_text or any(
        "กำลังจัดทำ" in str(m) for m in messages
    )
    texts = line.platform.texts(somsri.user_id)
    assert any("กำลังจัดทำเอกสารสรุปผลงาน" in t for t in texts)
    somsri.received()
    link_card = [m for m in line.platform.deliveries(somsri.user_id) if "เปิดเอกสาร" in str(m)]
    assert link_card, "no link was pushed"
    url = somsri.find_action("เปิดเอกสาร (PDF)", link_card)["uri"]
    response = client.get(url.removeprefix("https://bot.example.test"))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = PdfReader(io.BytesIO(response.data))
    text = _thai("".join(page.extract_text() for page in pdf.pages))
    assert "สมศรีใจดี" in text and "กิจกรรม" in text
    assert "ลงพื้นที่สำรวจกลุ่มอาชีพ" in text
    images = sum(len(page.images) for page in pdf.pages)
    assert images == 4  # four of the six photos of the one activity that has them
    with db.transaction() as session:
        job = session.scalar(select(SummaryDocument))
        assert job.status == "ready" and job.pages == len(pdf.pages)
    # A leader who is not her cannot open it, even with a validly signed link of his own.
    links = client.application.extensions["runtime"].site.links
    other = line.user("อื่น")
    other.follow()
    with db.transaction() as session:
        other_id = session.scalar(select(User.id).where(User.line_user_id == other.user_id))
    forged = links.url("/files/summary", "summary", d=job.id, u=other_id)
    assert client.get(forged.removeprefix("https://bot.example.test")).status_code == 403

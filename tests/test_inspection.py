"""The district officer records the inspection in LINE: opinion, reasons, date, confirm; the
leader is told; the summary document carries the opinion. Refusals change nothing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from bot.db import db
from bot.models import AuditLog, ConversationState, Inspection, Plan, User
from bot.services import committee
from bot.summaries import document_of
from tests.workspace import leader, officer_of, plan_at, staff_of, user_of


def inspection_of(plan_id: int) -> Inspection | None:
    with db.transaction() as session:
        row = session.scalar(select(Inspection).where(Inspection.plan_id == plan_id))
        if row is not None:
            session.expunge(row)
        return row


def actions() -> list[str]:
    with db.transaction() as session:
        return list(session.scalars(select(AuditLog.action).order_by(AuditLog.id)))


def in_a_flow(person) -> bool:
    with db.transaction() as session:
        return session.get(ConversationState, user_of(person).id) is not None


def test_the_officer_records_the_inspection_end_to_end(line, runner, clock):
    clock.set("2027-03-18 08:00")
    officer = officer_of(line, runner)
    somsri = leader(line, "สมศรี ใจดี")
    plan_id = plan_at(somsri, "approved", officer)
    officer.received()

    officer.say("ผู้นำในอำเภอ")
    officer.tap("บันทึกผลการตรวจ")
    assert "บันทึกผลการตรวจของ สมศรี ใจดี" in officer.last_text and "ขั้นที่ 1/3" in officer.last_text
    officer.say("ไม่แน่ใจ")  # not one of the two opinions
    assert "กรุณาเลือก เสนอรับรอง หรือ ยังไม่เสนอ ค่ะ" in officer.last_text
    officer.tap("เสนอรับรอง")
    assert "ขั้นที่ 2/3" in officer.last_text and "(เสนอรับรอง)" in officer.last_text

    officer.say("\u200b")  # looks empty: nothing to read
    assert "กรุณาพิมพ์เหตุผลประกอบความเห็นค่ะ" in officer.last_text
    officer.say("ก" * 1001)
    assert "เกิน 1,000 ตัวอักษร" in officer.last_text
    officer.say("ดำเนินกิจกรรมครบตามแผน มีหลักฐานครบถ้วน")
    assert "ขั้นที่ 3/3 วันที่ตรวจ" in officer.last_text
    picker = officer.find_action("เลือกวันที่ตรวจ")
    assert (picker["min"], picker["max"]) == ("2026-10-01", "2027-03-18")

    # A future day, typed or forged past the picker's limit, is refused; so is nonsense.
    officer.say("20 มี.ค. 70")
    assert "วันที่ตรวจต้องไม่เกินวันนี้ค่ะ" in officer.last_text
    officer.postback(picker["data"], {"date": "2027-04-01"})
    assert "วันที่ตรวจต้องไม่เกินวันนี้ค่ะ" in officer.last_text
    officer.say("1 ม.ค. 2500")
    assert "วันที่ตรวจต้องไม่ก่อน 1 ตุลาคม 2569 ค่ะ" in officer.last_text
    officer.say("เมื่อวานซืน")
    assert "อ่านวันที่ไม่ออกค่ะ" in officer.last_text
    assert inspection_of(plan_id) is None

    officer.pick("เลือกวันที่ตรวจ", "2027-03-17")
    assert "ตรวจสอบก่อนบันทึก" in officer.last_text
    for shown in ("ความเห็น: เสนอรับรอง", "ดำเนินกิจกรรมครบตามแผน", "17 มีนาคม 2570"):
        assert shown in officer.last_text
    officer.tap("บันทึกผลการตรวจ")
    assert "บันทึกผลการตรวจของ สมศรี ใจดี แล้ว และแจ้งผู้นำแล้วค่ะ" in officer.last_text

    row = inspection_of(plan_id)
    assert row is not None
    assert (row.opinion, row.reasons, row.inspected_on) == (
        "recommend",
        "ดำเนินกิจกรรมครบตามแผน มีหลักฐานครบถ้วน",
        date(2027, 3, 17),
    )
    assert row.officer_id == user_of(officer).id
    with db.transaction() as session:
        assert session.get(Plan, plan_id).assessment_status == "inspected"
    assert "inspection.record" in actions()
    assert not in_a_flow(officer)

    [told] = somsri.received()
    assert "บันทึกผลการตรวจของคุณ ปีงบประมาณ 2570 แล้วค่ะ" in told["text"]
    assert "ความเห็น: เสนอรับรอง" in told["text"]
    assert "ดำเนินกิจกรรมครบตามแผน" in told["text"] and "17 มีนาคม 2570" in told["text"]

    # The card now says so, and offers a correction: not yet, today.
    officer.say("ผู้นำในอำเภอ")
    assert "ตรวจประเมินแล้ว" in officer.last_text
    officer.tap("แก้ผลการตรวจ")
    officer.tap("ยังไม่เสนอ")
    officer.say("ควรเก็บหลักฐานการอบรมเพิ่ม")
    officer.say("วันนี้")
    assert "18 มีนาคม 2570" in officer.last_text
    officer.say("ย้อนกลับ")  # the shared fallbacks work here too
    assert "ขั้นที่ 3/3" in officer.last_text
    officer.say("วันนี้")
    officer.tap("บันทึกผลการตรวจ")
    row = inspection_of(plan_id)
    assert row is not None and (row.opinion, row.inspected_on) == ("not_yet", date(2027, 3, 18))
    assert actions().count("inspection.correct") == 1
    assert "ความเห็น: ยังไม่เสนอ" in somsri.received()[0]["text"]


def test_cancel_keeps_everything_as_it_was(line, runner, clock):
    clock.set("2027-03-18 08:00")
    officer = officer_of(line, runner)
    plan_id = plan_at(leader(line, "สมศรี ใจดี"), "approved", officer)
    officer.say("ผู้นำในอำเภอ")
    officer.tap("บันทึกผลการตรวจ")
    officer.tap("เสนอรับรอง")
    officer.say("ยกเลิก")
    assert "ยกเลิกแล้วค่ะ ยังไม่ได้บันทึกผลการตรวจ" in officer.last_text
    assert inspection_of(plan_id) is None and not in_a_flow(officer)


def test_a_plan_not_approved_cannot_be_inspected(line, runner, clock):
    clock.set("2027-03-18 08:00")
    officer = officer_of(line, runner)
    plan_id = plan_at(leader(line, "สมศรี ใจดี"), "submitted")
    officer.received()
    officer.say("ผู้นำในอำเภอ")
    assert "บันทึกผลการตรวจ" not in officer.labels()

    officer.postback(f"a=inspect&p={plan_id}")
    assert "บันทึกผลการตรวจได้เมื่อแผนได้รับความเห็นชอบแล้วค่ะ" in officer.last_text
    assert not in_a_flow(officer) and inspection_of(plan_id) is None


def test_forged_postbacks_from_elsewhere_are_refused_and_audited(line, runner, clock):
    clock.set("2027-03-18 08:00")
    officer = officer_of(line, runner)
    somsri = leader(line, "สมศรี ใจดี")
    plan_id = plan_at(somsri, "approved", officer)
    far_officer = officer_of(line, runner, "3803", "พัฒนากร โซ่พิสัย")

    for person in (far_officer, somsri):
        person.postback(f"a=inspect&p={plan_id}")
        assert "เฉพาะผู้นำในอำเภอที่คุณรับผิดชอบ" in person.last_text
        assert "สมศรี" not in person.last_text
    for forged in ("a=inspect&p=999999", "a=inspect&p=abc", "a=inspect"):
        far_officer.postback(forged)
        assert "ขออภัยค่ะ" in far_officer.last_text
    assert actions().count("inspection.denied") == 5
    assert inspection_of(plan_id) is None
    with db.transaction() as session:
        assert session.get(Plan, plan_id).assessment_status is None

    # A card from the officer's own flow, replayed by someone else, is stale for them.
    officer.say("ผู้นำในอำเภอ")
    officer.tap("บันทึกผลการตรวจ")
    opinion = officer.find_action("เสนอรับรอง")["data"]
    far_officer.postback(opinion)
    assert "ใช้ไม่ได้แล้ว" in far_officer.last_text
    assert inspection_of(plan_id) is None


def test_a_decision_made_meanwhile_stops_the_save(line, runner, clock):
    clock.set("2027-03-18 08:00")
    officer = officer_of(line, runner)
    staff = staff_of(line, runner)
    somsri = leader(line, "สมศรี ใจดี")
    plan_id = plan_at(somsri, "inspected", officer, opinion="not_yet")
    officer.say("ผู้นำในอำเภอ")
    officer.tap("แก้ผลการตรวจ")
    officer.tap("เสนอรับรอง")
    officer.say("ปรับปรุงแล้ว")
    officer.say("วันนี้")
    staff_id = user_of(staff).id
    with db.transaction() as session:  # the committee decides while the officer types
        staff_user = session.get(User, staff_id)
        committee.decide(
            session,
            session.get(Plan, plan_id),
            staff_user,
            "not_certified",
            date(2027, 3, 18),
            "ยังขาดหลักฐาน",
            date(2027, 3, 18),
        )
    somsri.received()
    officer.tap("บันทึกผลการตรวจ")
    assert "คณะกรรมการจังหวัดพิจารณาผู้นำคนนี้แล้ว จึงแก้ผลการตรวจไม่ได้ค่ะ" in officer.last_text
    assert "ยังไม่ได้บันทึกผลการตรวจค่ะ" in officer.last_text
    row = inspection_of(plan_id)
    assert row is not None and row.opinion == "not_yet"
    assert somsri.received() == []
    officer.say("ผู้นำในอำเภอ")
    assert "คณะกรรมการไม่รับรองแล้ว" in officer.last_text
    assert "แก้ผลการตรวจ" not in officer.labels()


def test_the_summary_document_carries_the_district_opinion(line, runner, clock):
    clock.set("2027-03-18 08:00")
    officer = officer_of(line, runner, name="พัฒนากร สมชาย")
    inspected = plan_at(leader(line, "สมศรี ใจดี"), "inspected", officer)
    approved = plan_at(leader(line, "มานี มีนา"), "approved", officer)
    with db.transaction() as session:
        doc, _ = document_of(session, session.get(Plan, inspected))
        bare, _ = document_of(session, session.get(Plan, approved))
        assert session.scalar(select(func.count()).select_from(Inspection)) == 1
    assert doc.opinion == "ความเห็น: เสนอรับรอง\nเหตุผล: ทำกิจกรรมครบตามแผน"
    assert doc.opinion_by == "พัฒนากร สมชาย"
    assert doc.opinion_on == date(2027, 3, 18)
    assert (bare.opinion, bare.opinion_by, bare.opinion_on) == (None, None, None)


def test_the_plan_card_of_an_approved_plan_leads_to_the_inspection(line, runner):
    officer = officer_of(line, runner)
    somsri = leader(line, "สมศรี ใจดี")
    plan_at(somsri, "submitted")
    officer.received()
    officer.postback(f"a=plan.view&l={user_of(somsri).id}")
    assert "บันทึกผลการตรวจ" not in officer.labels()  # not before the plan is approved

    officer.tap("เห็นชอบแผน")
    officer.postback(f"a=plan.view&l={user_of(somsri).id}")
    officer.tap("บันทึกผลการตรวจ")
    assert "บันทึกผลการตรวจของ สมศรี ใจดี" in officer.last_text

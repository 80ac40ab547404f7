"""The provincial committee in LINE: decisions with certificate numbers in sequence, the
leader's push, corrections, the outstanding leader and her consent to publish."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from bot import render
from bot.db import db
from bot.models import AuditLog, CommitteeDecision, Plan
from bot.services import committee
from handlers.committee import PAGE
from tests.chat import _walk_actions
from tests.workspace import leader, officer_of, plan_at, staff_of

CERTIFICATE_LINK = re.compile(r"https://bot\.example\.test/files/certificate/\S+")


def open_card(staff, name: str) -> None:
    """Tap the button under this leader's card in the committee's list."""
    for message in staff.last:
        for action in _walk_actions(message):
            if action.get("type") == "postback" and name in action.get("displayText", ""):
                staff.postback(action["data"])
                return
    raise AssertionError(f"no card for {name}: {staff.labels()}")


def decide(staff, name: str, result: str, day: str, reasons: str = "ข้าม") -> None:
    staff.say("ผลคณะกรรมการ")
    open_card(staff, name)
    assert "ขั้นที่ 1/4" in staff.last_text
    staff.tap(result)
    staff.pick("เลือกวันที่ประชุม", day)
    assert "ขั้นที่ 3/4" in staff.last_text
    staff.say(reasons)
    assert "ตรวจสอบก่อนบันทึก" in staff.last_text and name in staff.last_text
    staff.tap("บันทึกผล")


def decision_of(plan_id: int) -> CommitteeDecision:
    with db.transaction() as session:
        row = session.scalar(select(CommitteeDecision).where(CommitteeDecision.plan_id == plan_id))
        assert row is not None
        session.expunge(row)
        return row


def denials(action: str) -> int:
    with db.transaction() as session:
        return len(session.scalars(select(AuditLog).where(AuditLog.action == action)).all())


@pytest.fixture
def team(line, runner, clock) -> dict[str, Any]:
    clock.set("2027-03-18 08:00")  # fiscal year 2570
    officer = officer_of(line, runner)
    staff = staff_of(line, runner)
    people: dict[str, Any] = {"officer": officer, "staff": staff, "plans": {}}
    for name in ("สมศรี ใจดี", "บุญมา ขยัน", "ทองใบ ตั้งใจ"):
        person = leader(line, name)
        people[name] = person
        people["plans"][name] = plan_at(person, "inspected", officer, staff)
    return people


def test_two_certified_get_numbers_in_sequence_and_are_told_with_the_link(team):
    staff, somsri, boonma = team["staff"], team["สมศรี ใจดี"], team["บุญมา ขยัน"]

    staff.say("ผลคณะกรรมการ")
    assert "รอพิจารณา 3 คน" in staff.last_text
    assert "เสนอรับรอง" in staff.last_text and "ทำกิจกรรมครบตามแผน" in staff.last_text
    assert staff.labels().count("บันทึกผล") == 3

    decide(staff, "สมศรี ใจดี", "รับรอง", "2027-03-17")
    first = committee.certificate_no("38", 2570, 1)
    assert first == "38-0001/2570"
    assert f"เลขที่เกียรติบัตร {first}" in staff.last_text
    somsri.received()
    assert first in somsri.last_text and "ยินดี" in somsri.last_text
    link = CERTIFICATE_LINK.search(somsri.last_text)
    assert link is not None

    decide(staff, "บุญมา ขยัน", "รับรอง", "2027-03-18")
    second = committee.certificate_no("38", 2570, 2)
    assert f"เลขที่เกียรติบัตร {second}" in staff.last_text
    boonma.received()
    assert second in boonma.last_text and CERTIFICATE_LINK.search(boonma.last_text)
    assert CERTIFICATE_LINK.search(boonma.last_text).group() != link.group()
    assert decision_of(team["plans"]["บุญมา ขยัน"]).certificate_no == second

    staff.say("ผลคณะกรรมการ")
    assert "รอพิจารณา 1 คน บันทึกผลแล้ว 2 คน" in staff.last_text
    assert f"รับรองแล้ว เลขที่ {first}" in staff.last_text
    assert staff.labels().count("แก้ไขผล") == 2


def test_the_meeting_date_cannot_be_after_today(team):
    staff = team["staff"]
    staff.say("ผลคณะกรรมการ")
    open_card(staff, "สมศรี ใจดี")
    staff.tap("รับรอง")
    with pytest.raises(AssertionError, match="outside"):
        staff.pick("เลือกวันที่ประชุม", "2027-03-19")
    staff.say("19 มี.ค. 70")  # typed instead of picked
    assert "ต้องไม่เกินวันนี้" in staff.last_text
    staff.say("ยกเลิก")
    with db.transaction() as session:
        assert session.scalar(select(CommitteeDecision)) is None


def test_not_certified_needs_reasons_and_the_leader_reads_them(team):
    staff, tongbai = team["staff"], team["ทองใบ ตั้งใจ"]
    staff.say("ผลคณะกรรมการ")
    open_card(staff, "ทองใบ ตั้งใจ")
    staff.tap("ไม่รับรอง")
    staff.pick("เลือกวันที่ประชุม", "2027-03-18")
    staff.say("ข้าม")
    assert "กรุณาพิมพ์เหตุผลที่ไม่รับรองค่ะ" in staff.last_text
    staff.say("หลักฐานกิจกรรมที่ 2 ยังไม่ครบ")
    staff.tap("บันทึกผล")
    assert "ไม่รับรอง" in staff.last_text and "เลขที่" not in staff.last_text

    tongbai.received()
    assert "ยังไม่รับรอง" in tongbai.last_text
    assert "หลักฐานกิจกรรมที่ 2 ยังไม่ครบ" in tongbai.last_text
    assert not CERTIFICATE_LINK.search(tongbai.last_text)
    row = decision_of(team["plans"]["ทองใบ ตั้งใจ"])
    assert row.result == "not_certified" and row.certificate_no is None


def test_a_correction_keeps_the_number_and_never_reuses_one(team):
    staff, somsri = team["staff"], team["สมศรี ใจดี"]
    decide(staff, "สมศรี ใจดี", "รับรอง", "2027-03-17")
    decide(staff, "บุญมา ขยัน", "รับรอง", "2027-03-17")

    decide(staff, "สมศรี ใจดี", "ไม่รับรอง", "2027-03-18", "พบว่ากิจกรรมยังไม่ได้ทำจริง")
    assert decision_of(team["plans"]["สมศรี ใจดี"]).certificate_no is None
    somsri.received()
    assert "แจ้งแก้ไขผล" in somsri.last_text and "ยังไม่รับรอง" in somsri.last_text

    decide(staff, "สมศรี ใจดี", "รับรอง", "2027-03-18")
    assert "เลขที่เกียรติบัตร 38-0001/2570" in staff.last_text
    decide(staff, "ทองใบ ตั้งใจ", "รับรอง", "2027-03-18")
    assert "เลขที่เกียรติบัตร 38-0003/2570" in staff.last_text
    with db.transaction() as session:
        assert session.scalar(select(AuditLog).where(AuditLog.action == "committee.correct"))


def test_others_cannot_decide_and_are_audited(team, line, runner):
    plan_id = team["plans"]["สมศรี ใจดี"]
    bangkok = staff_of(line, runner, "เจ้าหน้าที่ กทม.", "10")
    officer, somsri = team["officer"], team["สมศรี ใจดี"]

    bangkok.postback(f"a=cm.pick&p={plan_id}")
    assert "เฉพาะผู้นำในจังหวัดที่คุณรับผิดชอบ" in bangkok.last_text
    bangkok.say("ผลคณะกรรมการ")
    assert "สมศรี ใจดี" not in bangkok.last_text
    for person in (officer, somsri):
        person.received()
        person.postback(f"a=cm.pick&p={plan_id}")
        assert "ใช้ได้เฉพาะเจ้าหน้าที่สำนักงานพัฒนาชุมชนจังหวัด" in person.last_text
    somsri.say("ผลคณะกรรมการ")
    assert "ใช้ได้เฉพาะเจ้าหน้าที่สำนักงานพัฒนาชุมชนจังหวัด" in somsri.last_text
    assert denials("committee.pick.denied") == 3
    with db.transaction() as session:
        assert session.scalar(select(CommitteeDecision)) is None


def test_a_plan_not_inspected_cannot_be_decided(team, line):
    staff = team["staff"]
    approved = leader(line, "มะลิ ยังไม่ตรวจ")
    plan_id = plan_at(approved, "approved", team["officer"])

    staff.postback(f"a=cm.pick&p={plan_id}")
    assert "อำเภอยังไม่ได้บันทึกผลการตรวจ" in staff.last_text
    with db.transaction() as session:
        assert session.get(Plan, plan_id) is not None
        assert session.scalar(select(CommitteeDecision)) is None


def test_the_list_is_paged_ten_at_a_time(line, runner, clock):
    clock.set("2027-03-18 08:00")
    officer, staff = officer_of(line, runner), staff_of(line, runner)
    names = "กขคฆงจฉชซฌญ"
    for letter in names:
        plan_at(leader(line, f"ผู้นำ {letter}ใจดี"), "inspected", officer, staff)
    staff.say("ผลคณะกรรมการ")
    assert "หน้า 1 จาก 2" in staff.last_text and staff.labels().count("บันทึกผล") == 10
    staff.tap("หน้าถัดไป")
    assert "หน้า 2 จาก 2" in staff.last_text and staff.labels().count("บันทึกผล") == 1


# The outstanding leader ----------------------------------------------------------------------
def pick_outstanding(staff, name: str, story: str) -> None:
    staff.say("ผู้นำดีเด่น")
    label = next(label for label in staff.labels() if name in label)
    staff.tap(label)
    assert "ประวัติและผลงาน" in staff.last_text
    staff.say(story)


def test_outstanding_moves_from_one_leader_to_another(team):
    staff, somsri, boonma = team["staff"], team["สมศรี ใจดี"], team["บุญมา ขยัน"]
    decide(staff, "สมศรี ใจดี", "รับรอง", "2027-03-17")
    decide(staff, "บุญมา ขยัน", "รับรอง", "2027-03-17")
    somsri.received()

    pick_outstanding(staff, "สมศรี ใจดี", "รวมกลุ่มทอผ้าขายได้ปีละ 2 แสนบาท")
    assert "เป็นผู้นำดีเด่นของจังหวัด" in staff.last_text
    somsri.received()
    assert {"เผยแพร่ทั้งหมด", "ไม่เผยแพร่รูป", "เฉพาะชื่อและพื้นที่", "ไม่ยินยอม"} <= set(somsri.labels())
    staff.say("ผู้นำดีเด่น")
    assert "⭐ สมศรี ใจดี (38-0001/2570)" in staff.labels()

    boonma.received()
    pick_outstanding(staff, "บุญมา ขยัน", "ข้าม")
    assert "แทน สมศรี ใจดี" in staff.last_text
    boonma.received()
    assert "ไม่ยินยอม" in boonma.labels()
    with db.transaction() as session:
        now = committee.outstanding_of(session, "38", 2570)
        assert now is not None and now.plan_id == team["plans"]["บุญมา ขยัน"]
    first = decision_of(team["plans"]["สมศรี ใจดี"])
    assert not first.outstanding and first.story == "รวมกลุ่มทอผ้าขายได้ปีละ 2 แสนบาท"


def test_publish_consent_is_the_leaders_own(team, line, runner):
    staff, somsri, boonma = team["staff"], team["สมศรี ใจดี"], team["บุญมา ขยัน"]
    decide(staff, "สมศรี ใจดี", "รับรอง", "2027-03-17")
    pick_outstanding(staff, "สมศรี ใจดี", "ผู้นำกลุ่มออมทรัพย์")
    somsri.received()
    card = list(somsri.last)
    decision_id = decision_of(team["plans"]["สมศรี ใจดี"]).id

    for other in (boonma, staff, staff_of(line, runner, "เจ้าหน้าที่ กทม.", "10")):
        other.received()
        other.tap("เผยแพร่ทั้งหมด", card)
        assert "ใช้ได้เฉพาะผู้นำที่ได้รับเลือก" in other.last_text
    assert decision_of(team["plans"]["สมศรี ใจดี"]).publish is None
    assert denials("profile.publish.denied") == 3

    staff.received()
    somsri.tap("ไม่เผยแพร่รูป", card)
    assert "ชื่อ-นามสกุล, ตำบล อำเภอ, ประวัติและผลงาน" in somsri.last_text
    row = decision_of(team["plans"]["สมศรี ใจดี"])
    assert row.id == decision_id and row.publish == ["name", "area", "story"]
    assert row.publish_answered_at is not None
    staff.received()
    assert "สมศรี ใจดี ตอบเรื่องการเผยแพร่แล้ว" in staff.last_text
    assert "รูปกิจกรรม" not in staff.last_text

    somsri.say("ผู้นำดีเด่น")
    assert "การเลือกผู้นำดีเด่นใช้ได้เฉพาะเจ้าหน้าที่" in somsri.last_text


def test_a_full_page_of_cards_at_their_longest_is_accepted(app, line_platform):
    from tests.test_templates import long_text, push_all

    card = {
        "status": "รับรองแล้ว เลขที่ 38-0001/2570",
        "color": "#1F6E43",
        "name": long_text(120),
        "area": long_text(80),
        "rows": [
            {"label": "ความเห็นของอำเภอ", "value": "เสนอรับรอง (ตรวจเมื่อ 18 มี.ค. 70)"},
            {"label": "เหตุผลของอำเภอ", "value": long_text(committee.REASONS_MAX)},
            {"label": "วันที่ประชุม", "value": "18 มีนาคม 2570"},
            {"label": "เหตุผลของคณะกรรมการ", "value": long_text(committee.REASONS_MAX)},
        ],
        "pending": False,
        "action": render.postback_action("แก้ไขผล", "a=cm.pick&p=123456789", long_text(300)),
    }
    cards = render.flex("committee_cards.json", long_text(500), cards=[card] * PAGE)
    push_all(app, line_platform, [render.with_quick(cards, [render.tap("หน้าถัดไป", "a=x")])], "cm")

"""The self-development plan, as a leader and her district officer live it in LINE."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from bot.db import db
from bot.models import AuditLog, Plan, PlanItem, User
from bot.services import fiscal, plans
from bot.services.plans import ItemDraft
from tests.test_invites import consented, create_code
from tests.test_registration import register


def this_year() -> tuple[int, date, date]:
    year = fiscal.year_of(date.today())
    return (year, *fiscal.bounds(year))


def be(day: date) -> int:
    return day.year + 543


def leader_and_officer(line, runner):
    somsri = line.user("สมศรี ใจดี")
    register(somsri)
    officer = consented(line, "พัฒนากร สมชาย")
    officer.say(create_code(runner, "officer", "3801"))
    officer.received()
    return somsri, officer


def add_activity(
    person,
    area: str,
    component_nth: int,
    activity: str,
    mode: str,
    detail: str,
    responsible: str | None,
    start: str,
    end: str,
) -> None:
    """Walk the add-activity form; `start`/`end` ISO dates go through the picker."""
    person.tap("เพิ่มกิจกรรม")
    assert "ข้อ 1" in person.last_text
    person.tap(area)
    assert "ข้อ 2" in person.last_text
    labels = [lbl for lbl in person.labels() if lbl not in {"ย้อนกลับ", "ยกเลิก", "ช่วยเหลือ"}]
    person.tap(labels[component_nth])
    assert "ข้อ 3" in person.last_text
    person.say(activity)
    assert "ข้อ 4" in person.last_text and activity in person.last_text  # the card is redrawn
    person.tap(mode)
    assert "ข้อ 5" in person.last_text
    person.say(detail)
    assert "ข้อ 6" in person.last_text
    if responsible is None:
        person.tap("ตนเอง")
    else:
        person.say(responsible)
    assert "วันเริ่มกิจกรรม" in person.last_text
    person.pick("เลือกจากปฏิทิน", start)
    assert "วันสิ้นสุดกิจกรรม" in person.last_text
    person.pick("เลือกจากปฏิทิน", end)
    assert "ตรวจสอบกิจกรรมก่อนบันทึก" in person.last_text
    person.tap("บันทึก")
    assert "บันทึกกิจกรรมในแผนแล้ว" in person.last_text


def choices(person) -> list[str]:
    """The card's buttons, without the chips every step has."""
    return [label for label in person.labels() if label not in {"ย้อนกลับ", "ยกเลิก", "ช่วยเหลือ"}]


def fill_plan(person, count: int) -> None:
    year = fiscal.year_of(date.today())
    first, _ = fiscal.bounds(year)
    with db.transaction() as session:
        leader = session.scalar(select(User).where(User.line_user_id == person.user_id))
        plan = session.scalar(select(Plan).where(Plan.leader_id == leader.id))
        component = plans.edition(session, plan).areas[0].components[0]
        for n in range(count):
            draft = ItemDraft(
                component.id,
                f"กิจกรรม {n}",
                "self",
                "วิธีการ",
                "ตนเอง",
                first,
                first + timedelta(days=n),
            )
            plans.add_item(session, plan, draft, leader)


def items_of(person) -> list[PlanItem]:
    with db.transaction() as session:
        return list(
            session.scalars(
                select(PlanItem)
                .join(Plan)
                .join(User, User.id == Plan.leader_id)
                .where(User.line_user_id == person.user_id)
                .order_by(PlanItem.position)
            )
        )


def test_the_whole_plan_from_first_activity_to_approval(line, runner, client):
    year, first, last = this_year()
    somsri, officer = leader_and_officer(line, runner)

    somsri.say("แผนของฉัน")
    assert f"ปีงบประมาณ {year}" in somsri.last_text and "ร่าง" in somsri.last_text
    assert "ยังไม่มีกิจกรรม" in somsri.last_text

    add_activity(
        somsri,
        "ด้านการบริหารตนเอง",
        0,
        "ศึกษาดูงานการทำปุ๋ยหมักชีวภาพ",
        "พัฒนาด้วยตนเอง",
        "ดูงานที่ศูนย์เรียนรู้ตำบล",
        None,
        first.replace(day=15).isoformat(),
        first.replace(month=12, day=31).isoformat(),
    )
    add_activity(
        somsri,
        "ด้านการบริหารสังคม",
        0,
        "สร้างทีมปราชญ์ชุมชน 5 คน",
        "ขอความร่วมมือ/สนับสนุน",
        "สำนักงานพัฒนาชุมชนอำเภอ ขอวิทยากร",
        "กลุ่มปราชญ์",
        date(first.year + 1, 1, 10).isoformat(),
        date(first.year + 1, 3, 31).isoformat(),
    )
    add_activity(
        somsri,
        "ด้านการบริหารงาน",
        0,
        "ส่งเสริมอาชีพทอผ้า 20 ครัวเรือน",
        "พัฒนาด้วยตนเอง",
        "จัดอบรมเดือนละครั้ง",
        None,
        date(first.year + 1, 2, 1).isoformat(),
        last.isoformat(),
    )
    card = somsri.last_text
    assert "1. ศึกษาดูงานการทำปุ๋ยหมักชีวภาพ" in card and "3. ส่งเสริมอาชีพทอผ้า" in card
    assert "พัฒนาด้วยตนเอง 2 กิจกรรม" in card and "ขอความร่วมมือ/สนับสนุนจากผู้อื่น 1 กิจกรรม" in card
    assert f"เริ่มพัฒนาตนเอง เดือนตุลาคม {be(first)}" in card

    # Edit the second activity from the list: change only its text.
    somsri.tap("ดูกิจกรรม")
    assert "กิจกรรมที่ 2" in somsri.last_text and "สำนักงานพัฒนาชุมชนอำเภอ" in somsri.last_text
    somsri.tap("แก้ไข", nth=1)
    assert "แก้ไขกิจกรรม" in somsri.last_text and "สร้างทีมปราชญ์ชุมชน 5 คน" in somsri.last_text
    somsri.tap("แก้ไข", nth=2)  # the activity line of the review card
    somsri.say("สร้างทีมปราชญ์ชุมชน 7 คน")
    assert "สร้างทีมปราชญ์ชุมชน 7 คน" in somsri.last_text and "บันทึก" in somsri.labels()
    somsri.tap("บันทึก")
    assert "บันทึกการแก้ไขแล้ว" in somsri.last_text

    # Delete the third, after confirming.
    somsri.tap("ดูกิจกรรม")
    somsri.tap("ลบ", nth=2)
    assert "ลบกิจกรรมนี้ใช่ไหม" in somsri.last_text
    somsri.tap("ลบกิจกรรม")
    assert "ลบกิจกรรมแล้ว" in somsri.last_text and "ทอผ้า" not in somsri.last_text
    assert [i.activity for i in items_of(somsri)] == [
        "ศึกษาดูงานการทำปุ๋ยหมักชีวภาพ",
        "สร้างทีมปราชญ์ชุมชน 7 คน",
    ]

    ready = date(first.year + 1, 8, 15)
    somsri.pick("วันพร้อมรับการประเมิน", ready.isoformat())
    assert f"15 สิงหาคม {be(ready)}" in somsri.last_text

    # Submit: the district officer gets the plan card with the review buttons.
    somsri.tap("ส่งแผนให้เจ้าหน้าที่")
    assert "ส่งแผนเรียบร้อยแล้ว" in somsri.last_text and "แจ้งเจ้าหน้าที่อำเภอแล้ว" in somsri.last_text
    assert "เพิ่มกิจกรรม" not in somsri.labels()  # locked while under review
    line.platform.wait_for(lambda: len(line.platform.deliveries(officer.user_id)) > 0)
    officer.received()
    assert "สมศรี ใจดี ส่งแผนพัฒนาตนเอง" in officer.last_text
    first_card = officer.last

    # The officer returns it with a comment; the leader sees the comment on her card.
    officer.tap("ส่งกลับให้แก้ไข")
    assert "พิมพ์ความเห็นถึง สมศรี ใจดี" in officer.last_text
    officer.say("กิจกรรมที่ 2 กรุณาระบุชื่อวิทยากร")
    assert "ส่งแผนกลับให้ สมศรี ใจดี แก้ไขแล้ว" in officer.last_text
    somsri.received()
    assert "ส่งแผนพัฒนาตนเองกลับให้แก้ไข" in somsri.last_text
    assert "กิจกรรมที่ 2 กรุณาระบุชื่อวิทยากร" in somsri.last_text
    assert "เจ้าหน้าที่ส่งกลับให้แก้ไข" in somsri.last_text

    # She fixes it and submits again.
    somsri.tap("ดูกิจกรรม")
    somsri.tap("แก้ไข", nth=1)
    somsri.tap("แก้ไข", nth=4)  # the helper line
    somsri.say("สำนักงานพัฒนาชุมชนอำเภอ ขอวิทยากร นายมานะ ขยันดี")
    somsri.tap("บันทึก")
    somsri.say("แผนของฉัน")
    somsri.tap("ส่งแผนให้เจ้าหน้าที่")
    assert "ส่งแผนเรียบร้อยแล้ว" in somsri.last_text

    # The first card's approve button is for a version the officer has not seen: refused.
    officer.received()
    officer.tap("เห็นชอบแผน", messages=first_card)
    assert "มีการเปลี่ยนแปลงหลังจากการ์ดนี้" in officer.last_text
    with db.transaction() as session:
        assert session.scalar(select(Plan.status)) == "submitted"

    officer.tap("เห็นชอบแผน")
    assert "เห็นชอบแผนของ สมศรี ใจดี แล้ว" in officer.last_text
    somsri.received()
    assert "ได้รับความเห็นชอบจากเจ้าหน้าที่แล้ว" in somsri.last_text
    assert "เจ้าหน้าที่เห็นชอบแล้ว" in somsri.last_text

    # Every change of state is in the audit log, with who did it.
    with db.transaction() as session:
        log = session.execute(
            select(AuditLog.action, User.display_name)
            .join(User, User.id == AuditLog.actor_user_id)
            .where(AuditLog.entity == "plan")
            .order_by(AuditLog.id)
        ).all()
    actions = [(action, who) for action, who in log if action != "plan.download.link"]
    assert [a for a, _ in actions] == [
        "plan.create",
        "plan.ready",
        "plan.submit",
        "plan.return",
        "plan.submit",
        "plan.review.denied",  # the old card's approve
        "plan.approve",
    ]
    assert dict(actions)["plan.return"] == "พัฒนากร สมชาย"
    assert dict(actions)["plan.approve"] == "พัฒนากร สมชาย"


def test_province_staff_read_a_plan_but_do_not_review_it(line, runner):
    _, first, _ = this_year()
    somsri, _ = leader_and_officer(line, runner)
    somsri.say("แผนของฉัน")
    fill_plan(somsri, 1)
    somsri.say("แผนของฉัน")
    somsri.pick("วันพร้อมรับการประเมิน", first.isoformat())
    somsri.tap("ส่งแผนให้เจ้าหน้าที่")

    staff = consented(line, "จังหวัด บึงกาฬ")
    staff.say(create_code(runner, "province", "38"))
    with db.transaction() as session:
        leader_id, plan_id, revision = session.execute(
            select(Plan.leader_id, Plan.id, Plan.revision)
        ).one()
    staff.postback(f"a=plan.view&l={leader_id}")
    assert "กิจกรรม 0" in staff.last_text and "ส่งแล้ว รอเจ้าหน้าที่ตรวจ" in staff.last_text
    assert "เห็นชอบแผน" not in staff.labels() and "ดาวน์โหลดแผน" in staff.labels()
    staff.postback(f"a=review.approve&p={plan_id}&r={revision}")
    assert "ตรวจได้เฉพาะ" in staff.last_text
    with db.transaction() as session:
        assert session.scalar(select(Plan.status)) == "submitted"


def test_an_old_card_after_submitting_and_an_officer_who_changes_his_mind(line, runner):
    _, first, _ = this_year()
    somsri, officer = leader_and_officer(line, runner)
    somsri.say("แผนของฉัน")
    fill_plan(somsri, 1)
    somsri.say("แผนของฉัน")
    draft_card = somsri.last
    somsri.pick("วันพร้อมรับการประเมิน", first.isoformat())
    somsri.tap("ส่งแผนให้เจ้าหน้าที่")

    # The card from before submitting still has "เพิ่มกิจกรรม": it now says why not.
    somsri.tap("เพิ่มกิจกรรม", messages=draft_card)
    assert "ส่งให้เจ้าหน้าที่แล้ว" in somsri.last_text
    somsri.tap("ส่งแผนให้เจ้าหน้าที่", messages=draft_card)
    assert "กำลังรอตรวจ" in somsri.last_text

    officer.received()
    officer.tap("ส่งกลับให้แก้ไข")
    officer.say("ยกเลิก")
    assert "แผนยังรอการตรวจอยู่" in officer.last_text
    with db.transaction() as session:
        assert session.scalar(select(Plan.status)) == "submitted"
        assert session.scalar(select(Plan.review_comment)) is None
    somsri.received()
    assert somsri.last == []  # nothing was sent to her

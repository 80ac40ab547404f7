"""The district officers' pushes: the Monday digest of their leaders, and the news that a
leader of their district has registered."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import event, func, select

from bot import render
from bot.db import db
from bot.models import LeaderProfile, Notification, PlanItem, User
from bot.services import plans
from scheduler.jobs import JOBS, JobContext
from scheduler.officers import digest_message
from tests.conftest import BANGKOK
from tests.test_calendar import staff
from tests.test_registration import register
from tests.test_templates import long_text, push_all

FY = 2570
_ids = itertools.count(1)


def local(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=BANGKOK)


def add_leader(
    name: str,
    subdistrict: str,
    *,
    registered: str = "2027-01-05 07:00",
    seen: str | None = "2027-03-12 09:00",
    status: str | None = None,
    assessment: str | None = None,
    items: tuple[tuple[str, str, str], ...] = (),
    year: int = FY,
) -> int:
    """A registered leader (as if imported), with her plan of `year` in `status` and
    activities (activity, state, end date) if given. Returns her user id."""
    with db.transaction() as session:
        user = User(
            line_user_id=f"Uleader{next(_ids):026d}",
            display_name=name,
            role="leader",
            status="active",
            area_code=subdistrict,
            consent_at=local(registered),
            last_seen_at=local(seen) if seen else None,
        )
        session.add(user)
        session.flush()
        session.add(
            LeaderProfile(
                user_id=user.id,
                full_name=name,
                subdistrict_code=subdistrict,
                district_code=subdistrict[:4],
                province_code=subdistrict[:2],
                registered_at=local(registered),
            )
        )
        if status is not None:
            plan = plans.get_or_create(session, user, year)
            plan.status, plan.assessment_status = status, assessment
            component = plans.edition(session, plan).areas[0].components[0].id
            for n, (activity, state, ends) in enumerate(items, start=1):
                session.add(
                    PlanItem(
                        plan_id=plan.id,
                        component_id=component,
                        position=n,
                        activity=activity,
                        mode="self",
                        method="ด้วยตนเอง",
                        responsible="ตนเอง",
                        starts_on=date(2026, 10, 1),
                        ends_on=date.fromisoformat(ends),
                        state=state,
                    )
                )
        return user.id


def add_officer(district: str, n: int) -> None:
    with db.transaction() as session:
        session.add(
            User(
                line_user_id=f"U{district}{n:028d}",
                role="officer",
                status="active",
                area_code=district,
            )
        )


def bubble_texts(message: dict[str, Any], part: str) -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "text":
                found.append(node["text"])
            for value in node.get("contents", []):
                walk(value)

    walk(message["contents"][part])
    return found


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    actions = [b["action"] for b in message["contents"]["footer"]["contents"]]
    return [(a["label"], a.get("data") or a.get("text")) for a in actions]


def pushes(person) -> list[dict[str, Any]]:
    return person.received()


# The weekly digest ------------------------------------------------------------------------
def test_the_monday_digest_for_two_districts(line, runner, scheduler, clock):
    clock.set("2027-02-15 09:00")
    somchai = staff(line, runner, "พัฒนากร สมชาย", "officer", "3801")
    somying = staff(line, runner, "พัฒนากร สมหญิง", "officer", "3801")
    phon = staff(line, runner, "พัฒนากร พรเจริญ", "officer", "3802")
    empty = staff(line, runner, "พัฒนากร โซ่พิสัย", "officer", "3803")
    gone = staff(line, runner, "พัฒนากร เลิกติดตาม", "officer", "3801")
    gone.unfollow()
    gone.received()

    # อ.เมืองบึงกาฬ: a leader in every state.
    add_leader("กนกพร ไม่มีแผน", "380101", seen=None)  # silent: registered long ago, never seen
    add_leader("กนกพร ไม่มีแผน ปีก่อน", "380101", status="approved", year=FY - 1)
    add_leader("ขวัญใจ ร่างแผน", "380102", status="draft", seen="2027-02-20 07:00")
    add_leader("คำปุน แก้แผน", "380103", status="returned")
    waiting = add_leader("จันทร์ ส่งแผน", "380104", status="submitted")
    late = add_leader(
        "ชาญ เห็นชอบ",
        "380105",
        status="approved",
        items=(
            ("ปลูกผักปลอดสาร", "not_started", "2027-03-01"),
            ("อบรม", "not_started", "2027-06-30"),
        ),
    )
    add_leader(
        "ดวงใจ ทำงาน",
        "380106",
        status="approved",
        items=(("ทำบัญชีครัวเรือน", "in_progress", "2027-03-10"), ("ดูงาน", "done", "2027-02-01")),
    )
    asking = add_leader(
        "ทองดี ขอประเมิน",
        "380107",
        status="approved",
        assessment="requested",
        items=(("ตั้งกลุ่มอาชีพ", "done", "2027-02-01"),),
    )
    add_leader("นภา ตรวจแล้ว", "380108", status="approved", assessment="inspected")
    # อ.พรเจริญ: two leaders, both asking for assessment, all in order.
    add_leader("บุญมี ประเมิน", "380201", status="approved", assessment="accepted")
    add_leader("ประยูร ขอข้อมูล", "380202", status="approved", assessment="more_info")
    # Another province's leader is nobody's business here.
    add_leader("ผู้นำ ขอนแก่น", "400101", seen=None)

    clock.set("2027-03-15 08:00")  # a Monday
    assert scheduler.run("digest")
    line.settle()

    [digest] = pushes(somchai)
    assert pushes(somying) == [digest]  # the same card for each officer of the district
    assert digest["altText"] == (
        "สรุปประจำสัปดาห์: ผู้นำในอ.เมืองบึงกาฬ จ.บึงกาฬ 9 คน · รอตรวจแผน 1 คน · "
        "เลยกำหนด 2 กิจกรรม · ไม่ได้ติดต่อเกิน 14 วัน 2 คน"
    )
    assert bubble_texts(digest, "header") == [
        "สรุปประจำสัปดาห์",
        "ผู้นำในอ.เมืองบึงกาฬ จ.บึงกาฬ 9 คน",
        "ปีงบประมาณ 2570 · ข้อมูล ณ 15 มีนาคม 2570",
    ]
    assert bubble_texts(digest, "body") == [
        *("ยังไม่มีแผน", "2 คน"),
        *("ร่าง/แก้ไข", "2 คน"),
        *("ส่งแล้วรอตรวจ", "1 คน"),
        *("เห็นชอบแล้ว", "1 คน"),
        *("กำลังดำเนินการ", "1 คน"),
        *("ขอรับการประเมิน", "1 คน"),
        *("ตรวจประเมินแล้ว", "1 คน"),
        "กิจกรรมเลยกำหนด 2 กิจกรรม",
        "ชาญ เห็นชอบ — ปลูกผักปลอดสาร (1 มีนาคม 2570)",
        "ดวงใจ ทำงาน — ทำบัญชีครัวเรือน (10 มีนาคม 2570)",
        "ไม่ได้ติดต่อเกิน 14 วัน 2 คน",
        "กนกพร ไม่มีแผน (ไม่ได้ติดต่อ 69 วัน)",
        "ขวัญใจ ร่างแผน (ไม่ได้ติดต่อ 23 วัน)",
    ]
    assert buttons(digest) == [
        ("ผู้นำในอำเภอ", "ผู้นำในอำเภอ"),
        ("รอตรวจแผน: จันทร์ ส่งแผน", f"a=leader&id={waiting}"),
        ("ขอรับการประเมิน: ทองดี ขอประเมิน", f"a=leader&id={asking}"),
        ("เลยกำหนด 1 กิจกรรม: ชาญ เห็นชอบ", f"a=leader&id={late}"),
        ("ปฏิทินงาน", "ปฏิทินงาน"),
    ]

    [other] = pushes(phon)
    assert bubble_texts(other, "header")[1] == "ผู้นำในอ.พรเจริญ จ.บึงกาฬ 2 คน"
    assert bubble_texts(other, "body") == [
        *("ยังไม่มีแผน", "0 คน"),
        *("ร่าง/แก้ไข", "0 คน"),
        *("ส่งแล้วรอตรวจ", "0 คน"),
        *("เห็นชอบแล้ว", "0 คน"),
        *("กำลังดำเนินการ", "0 คน"),
        *("ขอรับการประเมิน", "2 คน"),
        *("ตรวจประเมินแล้ว", "0 คน"),
        "ไม่มีกิจกรรมที่เลยกำหนด 👍",
        "ทุกคนติดต่อเข้ามาภายใน 14 วัน 👍",
    ]
    assert buttons(other) == [("ผู้นำในอำเภอ", "ผู้นำในอำเภอ"), ("ปฏิทินงาน", "ปฏิทินงาน")]
    assert pushes(empty) == []  # no leaders in the district, no push
    assert pushes(gone) == []  # she blocked the account

    # A second run the same Monday (a restart, a second scheduler, a forced run): nothing more.
    assert not scheduler.run("digest")
    runtime = line.app.extensions["runtime"]
    JOBS["digest"].run(JobContext(runtime, db, clock.now(), clock.now(), scheduler.quiet))
    line.settle()
    assert pushes(somchai) == pushes(somying) == pushes(phon) == []
    with db.transaction() as session:
        assert session.scalar(select(func.count()).where(Notification.kind == "digest")) == 3

    # The buttons act: the leader waiting for review, and the district's list.
    somchai.tap("รอตรวจแผน: จันทร์ ส่งแผน", messages=[digest])
    assert somchai.last[0]["altText"] == "ผู้นำ: จันทร์ ส่งแผน"
    somchai.tap("ผู้นำในอำเภอ", messages=[digest])
    assert "ผู้นำในอ.เมืองบึงกาฬ จ.บึงกาฬ 9 คน" in somchai.last_text

    # The next Monday brings the next digest.
    clock.set("2027-03-22 08:00")
    assert scheduler.run("digest")
    line.settle()
    [next_week] = pushes(somchai)
    assert "ปีงบประมาณ 2570 · ข้อมูล ณ 22 มีนาคม 2570" in bubble_texts(next_week, "header")


def test_the_digest_card_at_its_largest(app, line_platform, clock):
    from bot.services import digest

    clock.set("2027-09-27 08:00")
    now = clock.now()
    place = digest.District("3801")
    for n in range(40):
        leader = digest.Leader(
            n, long_text(120), "draft", local("2026-10-01 08:00"), True, True, 30
        )
        place.leaders.append(leader)
        place.late += [digest.LateActivity(n, leader.name, long_text(300), date(2027, 9, 1))] * 30
    card = digest_message(place, now.date(), FY, now)
    push_all(app, line_platform, [card], "digest")
    assert len(card["contents"]["footer"]["contents"]) == 5
    assert "และอีก 1195 กิจกรรม" in bubble_texts(card, "body")
    assert "และอีก 35 คน" in bubble_texts(card, "body")


# What the jobs cost the database ----------------------------------------------------------
class Statements:
    """SQL statements run by this thread (the scheduler's, in tests) while recording."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.recording = False
        self.thread = threading.get_ident()
        event.listen(db.engine, "before_cursor_execute", self._on_execute)

    def _on_execute(self, conn, cursor, statement, *_: Any) -> None:  # type: ignore[no-untyped-def]
        if self.recording and threading.get_ident() == self.thread:
            self.seen.append(" ".join(statement.split()[:4]))

    def during(self, act: Callable[[], Any]) -> list[str]:
        self.seen, self.recording = [], True
        try:
            act()
        finally:
            self.recording = False
        return self.seen

    def close(self) -> None:
        event.remove(db.engine, "before_cursor_execute", self._on_execute)


def notifications(kind: str) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).where(Notification.kind == kind)) or 0


def test_the_digest_costs_the_same_statements_for_ten_times_the_officers(
    app, scheduler, clock, line
):
    clock.set("2027-03-01 07:00")
    add_officer("3801", 1)
    add_leader("สมศรี ใจดี", "380101", status="approved", items=(("ก", "not_started", "2027-02-01"),))
    add_leader("สมพร ใจงาม", "380102")
    statements = Statements()
    try:
        clock.set("2027-03-01 08:00")
        small = statements.during(lambda: scheduler.run("digest"))
        assert notifications("digest") == 1

        for district in ("3801", "3802", "3803", "3804", "3805"):
            for n in range(2, 4):
                add_officer(district, n)
            for n in range(1, 9):
                add_leader(
                    f"ผู้นำ {district} คนที่ {n}",
                    f"{district}{n:02d}",
                    status=("draft", "submitted", "approved")[n % 3],
                    items=(("ข", "in_progress", "2027-02-01"), ("ค", "done", "2027-02-02")),
                )
        clock.set("2027-03-08 08:00")
        large = statements.during(lambda: scheduler.run("digest"))
        assert notifications("digest") == 1 + 11
    finally:
        statements.close()
    assert large == small, (small, large)
    print("digest statements:", len(small), small)
    line.settle()


def test_the_calendar_reminders_cost_the_same_statements_for_more_provinces(
    app, scheduler, clock, line
):
    clock.set("2027-03-11 07:00")
    add_officer("3801", 1)
    statements = Statements()
    try:
        clock.set("2027-03-11 08:00")  # 14 days before the applicants list
        small = statements.during(lambda: scheduler.run("calendar"))
        assert notifications("calendar") == 1
        for district in ("3802", "4001", "4002", "1001", "5001"):
            add_officer(district, 1)
        with db.transaction() as session:
            for province in ("38", "40", "10"):
                session.add(
                    User(
                        line_user_id=f"Uprovince{province}" + "0" * 22,
                        role="province",
                        status="active",
                        area_code=province,
                    )
                )
        clock.set("2027-03-18 08:00")  # 7 days before
        large = statements.during(lambda: scheduler.run("calendar"))
        assert notifications("calendar") == 1 + 9
    finally:
        statements.close()
    assert large == small, (small, large)
    line.settle()


# The registration push --------------------------------------------------------------------
def test_a_new_leader_is_announced_to_her_district_officers_only(line, runner, clock):
    clock.set("2027-03-18 10:00")
    officer = staff(line, runner, "พัฒนากร สมชาย", "officer", "3801")
    other = staff(line, runner, "พัฒนากร พรเจริญ", "officer", "3802")

    somsri = line.user("สมศรี ใจดี")
    register(somsri)  # ต.หอคำ อ.เมืองบึงกาฬ
    with db.transaction() as session:
        somsri_id = session.scalar(select(User.id).where(User.line_user_id == somsri.user_id))

    [news] = officer.received()
    assert news["altText"] == "ผู้นำ สมศรี ใจดี ต.หอคำ ลงทะเบียนแล้วค่ะ"
    body = news["contents"]["body"]["contents"]
    assert [t["text"] for t in body] == [
        "ผู้นำ สมศรี ใจดี ต.หอคำ ลงทะเบียนแล้วค่ะ",
        "ต.หอคำ อ.เมืองบึงกาฬ จ.บึงกาฬ\nแตะปุ่มเพื่อดูข้อมูลผู้นำ",
    ]
    assert officer.find_action("ดูข้อมูลผู้นำ")["data"] == f"a=leader&id={somsri_id}"
    assert other.received() == []

    officer.tap("ดูข้อมูลผู้นำ")
    assert officer.last[0]["altText"] == "ผู้นำ: สมศรี ใจดี"

    # Editing her details later is not news.
    somsri.say("แก้ไขข้อมูล")
    somsri.tap("ยืนยัน")
    assert "ลงทะเบียนเรียบร้อย" in somsri.last_text
    assert officer.received() == [] and other.received() == []

    # The card at its largest: the longest name.
    card = render.flex(
        "buttons.json",
        "x",
        title=f"ผู้นำ {long_text(120)} ต.{long_text(40)} ลงทะเบียนแล้วค่ะ",
        body=long_text(200),
        buttons=[render.button(render.postback_action("ดูข้อมูลผู้นำ", "a=leader&id=1"))],
    )
    push_all(line.app, line.platform, [card], "registered")

"""The district officer's leaders in LINE: the paged carousel, its counts, the state filter,
search by name or subdistrict, and never a leader of another district."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from sqlalchemy import event, select

from bot import render
from bot.db import db
from bot.models import Evidence, Plan, PlanItem, User, utcnow
from bot.services import workspace
from handlers.officer import list_data
from tests.test_templates import long_text, push_all
from tests.workspace import leader, officer_of, plan_at, user_of

SOI = "ต.โซ่"  # อ.โซ่พิสัย, another district of บึงกาฬ
_messages = itertools.count(1)
TWELVE = "กขคงจฉชซญฎฏฐ"  # in the order any collation sorts them


def carousel(person) -> dict[str, Any]:
    shown = [m for m in person.last if m["type"] == "flex"]
    assert shown and shown[-1]["contents"]["type"] == "carousel"
    return shown[-1]


def bubbles(person) -> list[dict[str, Any]]:
    """The leaders' bubbles of the latest carousel (not the "more" bubble)."""
    return [b for b in carousel(person)["contents"]["contents"] if "header" in b]


def names(person) -> list[str]:
    return [b["header"]["contents"][1]["text"] for b in bubbles(person)]


def texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["text"]] if node.get("type") == "text" else []
        return own + [t for k, v in node.items() if k != "action" for t in texts(v)]
    if isinstance(node, list):
        return [t for v in node for t in texts(v)]
    return []


def bubble_of(person, name: str) -> dict[str, Any]:
    [found] = [b for b in bubbles(person) if b["header"]["contents"][1]["text"] == name]
    return found


def buttons(bubble: dict[str, Any]) -> list[str]:
    return [c["action"]["label"] for c in bubble["footer"]["contents"]]


def test_twelve_leaders_make_two_pages_and_other_districts_never_show(line, runner, clock):
    clock.set("2027-03-18 08:00")
    officer = officer_of(line, runner)
    for letter in TWELVE:
        leader(line, f"ผู้นำ {letter}")
    leader(line, "ไกล ต่างอำเภอ", SOI)

    officer.say("ผู้นำในอำเภอ")
    assert names(officer) == [f"ผู้นำ {letter}" for letter in TWELVE[:10]]
    assert carousel(officer)["altText"] == "ผู้นำในอ.เมืองบึงกาฬ จ.บึงกาฬ 12 คน · คนที่ 1–10"
    assert "อีก 2 คน" in officer.last_text
    assert "ไกล" not in officer.last_text

    officer.tap("ดูเพิ่มเติม")
    assert names(officer) == ["ผู้นำ ฏ", "ผู้นำ ฐ"]
    assert "คนที่ 11–12" in officer.last_text
    assert "ดูเพิ่มเติม" not in officer.labels() and "ถัดไป" not in officer.labels()

    # A forged page past the end, and a forged filter, answer politely.
    officer.postback("a=officer.leaders&st=all&o=40")
    assert "ไม่มีรายชื่อเพิ่มเติมแล้วค่ะ" in officer.last_text
    officer.postback("a=officer.leaders&st=nosuch&o=0")
    assert len(names(officer)) == 10

    # The other district's officer sees only his own leader.
    other = officer_of(line, runner, "3803", "พัฒนากร โซ่พิสัย")
    other.say("ผู้นำในอำเภอ")
    assert names(other) == ["ไกล ต่างอำเภอ"]


def _evidence(session, item: PlanItem, uploader: int, **values: Any) -> None:
    session.add(
        Evidence(
            plan_item_id=item.id,
            uploaded_by=uploader,
            line_message_id=f"m{next(_messages)}",
            kind="file",  # a file needs no thumbnail: the workers leave the row alone
            status=values.get("status", "stored"),
            deleted_at=values.get("deleted_at"),
        )
    )


def test_each_card_counts_progress_evidence_and_late_work(line, runner, clock):
    clock.set("2027-03-18 08:00")
    officer = officer_of(line, runner)
    nobody = leader(line, "ก ยังไม่เริ่ม")
    writing = leader(line, "ข กำลังเขียน")
    waiting = leader(line, "ค รอตรวจ")
    working = leader(line, "ง ทำงานอยู่")
    asking = leader(line, "จ ขอประเมิน")
    plan_at(writing, "draft")
    plan_at(waiting, "submitted")
    working_plan = plan_at(working, "approved", officer, activities=3)
    asking_plan = plan_at(asking, "approved", officer)
    with db.transaction() as session:
        items = session.scalars(
            select(PlanItem).where(PlanItem.plan_id == working_plan).order_by(PlanItem.position)
        ).all()
        items[0].state = "done"
        items[1].state, items[1].ends_on = "in_progress", date(2027, 3, 1)  # late
        items[2].ends_on = date(2027, 3, 17)  # late, not started
        uploader = items[0].plan.leader_id
        for _ in range(3):
            _evidence(session, items[0], uploader)
        _evidence(session, items[1], uploader)
        _evidence(session, items[1], uploader, status="failed")  # never stored
        _evidence(session, items[1], uploader, deleted_at=utcnow())  # deleted
        session.get(Plan, asking_plan).assessment_status = "requested"

    officer.say("ผู้นำในอำเภอ")
    assert names(officer) == ["ก ยังไม่เริ่ม", "ข กำลังเขียน", "ค รอตรวจ", "ง ทำงานอยู่", "จ ขอประเมิน"]
    card = bubble_of(officer, "ง ทำงานอยู่")
    assert texts(card) == [
        "ต.หอคำ",
        "ง ทำงานอยู่",
        "กำลังดำเนินการ",
        "ความก้าวหน้า",
        "เสร็จ 1 · กำลังทำ 1 · ยังไม่เริ่ม 1",
        "หลักฐาน",
        "4 รายการ",
        "เลยกำหนด",
        "2 กิจกรรม",
    ]
    assert buttons(card) == ["ดูแผน", "ความก้าวหน้า", "บันทึกผลการตรวจ"]
    assert texts(bubble_of(officer, "ก ยังไม่เริ่ม"))[2:5] == ["ยังไม่มีแผน", "ความก้าวหน้า", "ยังไม่มีกิจกรรม"]
    assert buttons(bubble_of(officer, "ก ยังไม่เริ่ม")) == ["ดูแผน"]
    assert texts(bubble_of(officer, "ข กำลังเขียน"))[2] == "ร่าง/แก้ไข"
    assert texts(bubble_of(officer, "ค รอตรวจ"))[2] == "ส่งแล้วรอตรวจ"
    assert buttons(bubble_of(officer, "ค รอตรวจ")) == ["ดูแผน", "ความก้าวหน้า"]
    asking_card = bubble_of(officer, "จ ขอประเมิน")
    assert texts(asking_card)[2] == "ขอรับการประเมิน"
    assert buttons(asking_card) == [
        "ดูแผน",
        "ความก้าวหน้า",
        "ตรวจประเมินได้",
        "ขอข้อมูลเพิ่มเติม",
        "บันทึกผลการตรวจ",
    ]

    # The buttons act: the plan, the progress card, the answer to the request.
    officer.tap("ดูแผน", messages=[{"contents": card}])
    assert "แผนพัฒนาตนเองของ ง ทำงานอยู่" in officer.last_text
    officer.say("ผู้นำในอำเภอ")
    officer.tap("ความก้าวหน้า", messages=[{"contents": bubble_of(officer, "ง ทำงานอยู่")}])
    assert "ความคืบหน้าของ ง ทำงานอยู่: เสร็จ 1/3 กิจกรรม" in officer.last_text
    officer.say("ผู้นำในอำเภอ")
    officer.tap("ตรวจประเมินได้")
    assert "รับเรื่องของ จ ขอประเมิน แล้วค่ะ" in officer.last_text
    with db.transaction() as session:
        assert session.get(Plan, asking_plan).assessment_status == "accepted"
    assert "รับคำขอรับการประเมินของคุณแล้ว" in "".join(texts(asking.received()))

    # The leader's own card, opened from her name.
    officer.say("ผู้นำในอำเภอ")
    officer.tap("ง ทำงานอยู่")
    assert officer.last[0]["altText"] == "ผู้นำ: ง ทำงานอยู่"
    assert "กำลังดำเนินการ" in officer.last_text
    assert officer.labels() == ["ดูแผนพัฒนาตนเอง", "ความก้าวหน้าและหลักฐาน", "บันทึกผลการตรวจ"]
    assert nobody.received() == []


def test_the_state_filter_and_its_counts(line, runner, clock):
    clock.set("2027-03-18 08:00")
    officer = officer_of(line, runner)
    leader(line, "ก ยังไม่มีแผน")
    plan_at(leader(line, "ข ส่งแผน"), "submitted")
    plan_at(leader(line, "ค ส่งแผนด้วย"), "submitted")
    plan_at(leader(line, "ง ตรวจแล้ว"), "inspected", officer)
    plan_at(leader(line, "ไกล รอตรวจ", SOI), "submitted")

    officer.say("ผู้นำในอำเภอ")
    assert len(names(officer)) == 4
    assert {"ยังไม่มีแผน 1", "รอตรวจแผน 2", "ตรวจแล้ว 1", "เห็นชอบแล้ว 0"} <= set(officer.labels())

    officer.tap("รอตรวจแผน 2")
    assert names(officer) == ["ข ส่งแผน", "ค ส่งแผนด้วย"]
    assert "ผู้นำในอ.เมืองบึงกาฬ จ.บึงกาฬ 2 คน · สถานะ: รอตรวจแผน" in officer.last_text
    assert "ทั้งหมด 4" in officer.labels()

    officer.tap("ตรวจแล้ว 1")
    assert names(officer) == ["ง ตรวจแล้ว"]
    assert buttons(bubble_of(officer, "ง ตรวจแล้ว"))[-1] == "แก้ผลการตรวจ"

    officer.tap("ขอรับการประเมิน 0")
    assert "ไม่มีผู้นำในสถานะ ขอรับการประเมิน ค่ะ" in officer.last_text
    officer.tap("ทั้งหมด 4")
    assert len(names(officer)) == 4


def test_search_by_name_or_subdistrict_typed_or_tapped(line, runner, clock):
    clock.set("2027-03-18 08:00")
    officer = officer_of(line, runner)
    somsri = leader(line, "สมศรี ใจดี")
    leader(line, "สมศักดิ์ รักถิ่น", "ต.บึงกาฬ")
    leader(line, "มานี มีนา", "ต.บึงกาฬ")
    leader(line, "สมใจ ไกลบ้าน", SOI)

    officer.say("ค้นหา สม")
    assert names(officer) == ["สมศักดิ์ รักถิ่น", "สมศรี ใจดี"]  # subdistrict first, then name
    assert 'ค้นหา "สม"' in officer.last_text

    # Filters keep the search; clearing it shows everyone.
    officer.tap("ยังไม่มีแผน 2")
    assert names(officer) == ["สมศักดิ์ รักถิ่น", "สมศรี ใจดี"]
    officer.tap("ล้างการค้นหา")
    assert len(names(officer)) == 3

    # Tapped, then typed: the subdistrict's name finds its leaders.
    officer.tap("ค้นหา")
    assert "พิมพ์ชื่อผู้นำ หรือชื่อตำบล" in officer.last_text
    officer.say("ต.บึงกาฬ")
    assert names(officer) == ["มานี มีนา", "สมศักดิ์ รักถิ่น"]
    officer.say("ค้นหา หอคำ")
    assert names(officer) == ["สมศรี ใจดี"]

    # Another district's leader and subdistrict are never found.
    officer.say("ค้นหา ไกลบ้าน")
    assert 'ไม่พบผู้นำที่ชื่อหรือตำบลตรงกับ "ไกลบ้าน"' in officer.last_text
    officer.say("ค้นหา โซ่")
    assert "ไม่พบผู้นำ" in officer.last_text and "ไกลบ้าน" not in officer.last_text
    officer.say("ค้นหา 100%_")  # LIKE's wildcards are taken as typed
    assert "ไม่พบผู้นำ" in officer.last_text

    # For a leader "ค้นหา …" is just text; an officer's search flow can be cancelled.
    somsri.say("ค้นหา สมศักดิ์")
    assert "ไม่เข้าใจ" in somsri.last_text and "รักถิ่น" not in somsri.last_text
    officer.say("ค้นหา")
    officer.say("ยกเลิก")
    assert "ยกเลิกการค้นหาแล้วค่ะ" in officer.last_text


def test_the_service_is_scoped_and_uses_few_queries(app, line, runner, clock):
    clock.set("2027-03-18 08:00")
    officer = officer_of(line, runner)
    somsri = leader(line, "สมศรี ใจดี")
    leader(line, "ไกล ต่างอำเภอ", SOI)
    plan_at(somsri, "submitted")
    statements: list[str] = []
    officer_id, somsri_id = user_of(officer).id, user_of(somsri).id

    with db.transaction() as session:
        viewer = session.get(User, officer_id)
        # This session's connection only: the app's workers share the engine.
        connection = session.connection()
        listen = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(connection, "before_cursor_execute", listen)
        try:
            page = workspace.leaders(session, viewer, today=date(2027, 3, 18))
        finally:
            event.remove(connection, "before_cursor_execute", listen)
        as_leader = session.get(User, somsri_id)
        assert workspace.leaders(session, as_leader, today=date(2027, 3, 18)).rows == []
    assert [r.name for r in page.rows] == ["สมศรี ใจดี"]
    assert page.counts["submitted"] == 1 and page.total == 1 and page.next_offset is None
    assert len(statements) == 2  # the counts per state, and the page


def test_the_carousel_at_its_largest(app, line_platform):
    row = {
        "open": render.postback_action(long_text(120), "a=leader&id=999999999", long_text(300)),
        "subdistrict": long_text(40),
        "name": long_text(120),
        "state": long_text(40),
        "state_color": "#1F6E43",
        "rows": [{"label": long_text(20), "value": long_text(60), "color": "#111111"}] * 3,
        "buttons": [render.button(render.postback_action(long_text(40), "a=inspect&p=999999999"))]
        * 5,
    }
    # The longest search there can be, typed in Thai, rides on every paging button.
    page = workspace.Page([], 99999, 0, 10, "assessment", workspace.clean_search("ก" * 99))
    assert len(page.search) == workspace.SEARCH_MAX
    more = {
        "text": "อีก 99999 คน",
        "action": render.postback_action("ดูเพิ่มเติม", list_data(page, offset=99990)),
    }
    card = render.flex("officer_leaders.json", long_text(1600), leaders=[row] * 10, more=more)
    push_all(app, line_platform, [card], "officer-leaders")
    assert len(card["contents"]["contents"]) == 11


def test_ready_for_next_year_without_plans(line, runner, clock):
    """A plan of last fiscal year does not count as this year's."""
    clock.set("2027-09-20 08:00")
    officer = officer_of(line, runner)
    plan_at(leader(line, "สมศรี ใจดี"), "submitted")
    clock.advance(days=15)  # 5 October 2027: fiscal year 2571
    officer.say("ผู้นำในอำเภอ")
    assert texts(bubble_of(officer, "สมศรี ใจดี"))[2] == "ยังไม่มีแผน"

"""Province staff in LINE: the overview per district of their province, and the district's
inspected leaders awaiting the committee."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.db import db
from bot.models import AuditLog
from tests.workspace import leader, officer_of, plan_at, staff_of

SOI = "3803"  # อ.โซ่พิสัย, where ต.โซ่ is


def _rows(node: Any) -> dict[str, list[str]]:
    """The overview's table as the staff reads it: each tappable district row's texts."""
    found: dict[str, list[str]] = {}
    if isinstance(node, dict):
        action = node.get("action")
        if node.get("type") == "box" and isinstance(action, dict):
            found[action["label"]] = [c["text"] for c in node["contents"]]
        for value in node.values():
            found |= _rows(value)
    elif isinstance(node, list):
        for value in node:
            found |= _rows(value)
    return found


def _totals(node: Any) -> list[str] | None:
    if isinstance(node, dict):
        contents = node.get("contents")
        if isinstance(contents, list) and contents and contents[0].get("text") == "รวมทั้งจังหวัด":
            return [c["text"] for c in contents]
        for value in node.values():
            if (hit := _totals(value)) is not None:
                return hit
    elif isinstance(node, list):
        for value in node:
            if (hit := _totals(value)) is not None:
                return hit
    return None


def _scenario(line, runner, clock):
    clock.set("2027-03-18 08:00")  # fiscal year 2570
    officer = officer_of(line, runner)
    soi_officer = officer_of(line, runner, SOI, "พัฒนากร โซ่พิสัย")
    staff = staff_of(line, runner)
    people = {}
    for stage in ("registered", "draft", "submitted", "approved", "inspected", "certified"):
        people[stage] = leader(line, f"ผู้นำ {stage}")
        plan_at(people[stage], stage, officer, staff)
    people["soi waiting"] = leader(line, "บุญมี รอผล", "ต.โซ่")
    plan_at(people["soi waiting"], "inspected", soi_officer, staff)
    people["soi certified"] = leader(line, "มาลี ได้รับรอง", "ต.โซ่")
    plan_at(people["soi certified"], "certified", soi_officer, staff)
    people["soi refused"] = leader(line, "สมปอง ยังไม่ผ่าน", "ต.โซ่")
    plan_at(people["soi refused"], "certified", soi_officer, staff, result="not_certified")
    return staff, officer, people


def test_overview_counts_each_district_and_lists_those_awaiting(line, runner, clock):
    staff, _, _ = _scenario(line, runner, clock)

    staff.say("ภาพรวมจังหวัด")
    assert "ภาพรวมจ.บึงกาฬ" in staff.last_text and "ปีงบประมาณ 2570" in staff.last_text
    rows = _rows(staff.last)
    # leaders, sent for review, approved, inspected, certified
    assert rows["เมืองบึงกาฬ"] == ["เมืองบึงกาฬ", "6", "4", "3", "2", "1"]
    assert rows["โซ่พิสัย"] == ["โซ่พิสัย", "3", "3", "3", "3", "1"]
    assert rows["เซกา"] == ["เซกา", "0", "0", "0", "0", "0"]
    assert len(rows) == 8  # every district of บึงกาฬ, with nobody or not
    assert _totals(staff.last) == ["รวมทั้งจังหวัด", "9", "7", "6", "5", "2"]

    staff.tap("โซ่พิสัย")
    assert "รอพิจารณา 1 คน" in staff.last_text
    assert "บุญมี รอผล" in staff.last_text
    assert "มาลี ได้รับรอง" not in staff.last_text and "สมปอง ยังไม่ผ่าน" not in staff.last_text
    assert "เสนอรับรอง" in staff.last_text and "ทำกิจกรรมครบตามแผน" in staff.last_text
    assert "บันทึกผล" in staff.labels()

    staff.say("ภาพรวมจังหวัด")
    staff.tap("เมืองบึงกาฬ")
    assert "ผู้นำ inspected" in staff.last_text and "ผู้นำ approved" not in staff.last_text

    staff.say("ภาพรวมจังหวัด")
    staff.tap("เซกา")
    assert "ยังไม่มีผู้นำในอ.เซกา" in staff.last_text


def test_a_district_of_another_province_is_refused_and_audited(line, runner, clock):
    _, officer, people = _scenario(line, runner, clock)
    bangkok = staff_of(line, runner, "เจ้าหน้าที่ กทม.", "10")

    for person in (bangkok, officer, people["inspected"]):
        person.received()  # what earlier pushes brought
        person.postback(f"a=prov.district&d={SOI}")
        assert person.last_text.startswith("ขออภัยค่ะ")
        assert "บุญมี รอผล" not in person.last_text
    with db.transaction() as session:
        denied = session.scalars(
            select(AuditLog).where(AuditLog.action == "province.district.denied")
        ).all()
    assert len(denied) == 3

    people["inspected"].say("ภาพรวมจังหวัด")
    assert "ภาพรวมจังหวัดใช้ได้เฉพาะเจ้าหน้าที่" in people["inspected"].last_text
    assert not _rows(people["inspected"].last)


def test_bangkok_overview_pages_its_fifty_districts(line, runner, line_platform):
    bangkok = staff_of(line, runner, "เจ้าหน้าที่ กทม.", "10")

    bangkok.say("ภาพรวมจังหวัด")
    carousel = bangkok.last[-1]["contents"]
    assert len(carousel["contents"]) == 4  # 50 districts, 15 a page
    assert len(_rows(bangkok.last)) == 50
    assert "หน้า 1 จาก 4" in bangkok.last_text
    assert not line_platform.errors, line_platform.errors

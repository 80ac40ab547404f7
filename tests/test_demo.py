"""`flask --app wsgi demo seed`: Bueng Kan's demo, seen through the chat as its people see it."""

from __future__ import annotations

import io
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskCliRunner
from PIL import Image
from sqlalchemy import func, select

from bot import demo
from bot.db import db
from bot.models import (
    AuditLog,
    CommitteeDecision,
    Evidence,
    Inspection,
    InviteCode,
    LeaderProfile,
    Plan,
    PlanItem,
    User,
)
from bot.services import fiscal
from tests.chat import Chat, Person

COUNTED = (User, LeaderProfile, Plan, PlanItem, Evidence, Inspection, CommitteeDecision)
COUNTED += (InviteCode, AuditLog)


def seed(runner: FlaskCliRunner) -> str:
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    return result.output


def chat_as(line: Chat, key: str) -> Person:
    who = demo.person(key)
    return line.user(who.name, user_id=who.line_user_id)


def counts() -> dict[str, int]:
    with db.transaction() as session:
        return {
            m.__name__: session.scalar(select(func.count()).select_from(m)) or 0 for m in COUNTED
        }


def plans_by_leader() -> dict[str, Plan]:
    with db.transaction() as session:
        rows = session.execute(
            select(User.line_user_id, Plan).join(Plan, Plan.leader_id == User.id)
        )
        found = {uid: plan for uid, plan in rows}
        session.expunge_all()
    return {p.key: found[p.line_user_id] for p in demo.PEOPLE if p.line_user_id in found}


def test_demo_seed_shows_every_stage_in_the_chat(app, runner, line, client, clock):
    now = clock.set("2026-11-25 10:00")
    output = seed(runner)
    assert "จ.บึงกาฬ (38): 8 districts" in output
    certified = "บุญมี รักถิ่น (ต.บึงกาฬ อ.เมืองบึงกาฬ จ.บึงกาฬ): ได้รับการรับรองแล้ว"
    assert f"{certified}; 3/3 activities done; certificate 38-0001/2570" in output

    # Each leader stands where the demo says, everything dated in the fiscal year so far.
    found = plans_by_leader()
    assert set(found) == {"thongbai", "sudjai", "somsri", "pranom", "boonmee", "malai"}
    assert found["thongbai"].status == found["malai"].status == "draft"
    assert found["sudjai"].status == "submitted"
    assert found["somsri"].status == "approved" and found["somsri"].assessment_status is None
    assert found["pranom"].assessment_status == "requested"
    assert found["boonmee"].assessment_status == "inspected"
    first, _ = fiscal.bounds(2570)
    start = datetime.combine(first, time(0), ZoneInfo("Asia/Bangkok"))
    with db.transaction() as session:
        stamps = [p.created_at for p in session.scalars(select(Plan))]
        stamps += [p.submitted_at for p in session.scalars(select(Plan)) if p.submitted_at]
        stamps += [p.updated_at for p in session.scalars(select(Plan))]
        stamps += [
            t for i in session.scalars(select(PlanItem)) for t in (i.created_at, i.updated_at)
        ]
        stamps += [e.created_at for e in session.scalars(select(Evidence))]
        stamps += [e.taken_at for e in session.scalars(select(Evidence))]
        stamps += [i.created_at for i in session.scalars(select(Inspection))]
        stamps += [p.registered_at for p in session.scalars(select(LeaderProfile))]
        stamps += [u.last_seen_at for u in session.scalars(select(User)) if u.last_seen_at]
        decided = session.scalars(select(CommitteeDecision.decided_on)).all()
    assert all(start <= s <= now for s in stamps), stamps
    assert decided and all(first <= d <= now.date() for d in decided)

    # The district officer of อ.เมืองบึงกาฬ sees the leaders of her district, not the others'.
    officer = chat_as(line, "officer")
    officer.say("ผู้นำในอำเภอ")
    district = [p for p in demo.PEOPLE if p.role == "leader" and p.area_code.startswith("3801")]
    assert f"ผู้นำในอ.เมืองบึงกาฬ จ.บึงกาฬ {len(district)} คน" in officer.last_text
    for who in district:
        assert who.name in officer.last_text
    assert "มาลัย ทองดี" not in officer.last_text  # อ.พรเจริญ
    assert "รอตรวจแผน 1" in officer.labels() and "ขอรับการประเมิน 1" in officer.labels()

    # The leader carrying out her plan sees what is done, under way and the photos she sent.
    somsri = chat_as(line, "somsri")
    somsri.say("ความคืบหน้า")
    assert "เสร็จแล้ว 1 จาก 4 กิจกรรม · หลักฐาน 6 รายการ" in somsri.last_text
    assert "เสร็จ 1 · กำลังทำ 1 · ยังไม่เริ่ม 0 · หลักฐาน 5" in somsri.last_text  # work area

    # Her photos, captioned, in the evidence carousel, and in her summary document.
    somsri.say("แผนของฉัน")
    somsri.tap("ดูกิจกรรม")
    somsri.tap("ดูหลักฐาน (3)")
    assert somsri.last_text.count("กองปุ๋ยหมักชุดแรก ผสมฟางข้าวกับมูลวัว") == 2
    assert "แจกปุ๋ยหมักให้สมาชิก 12 ครัวเรือน" in somsri.last_text
    thumb_url = somsri.last[0]["contents"]["contents"][0]["hero"]["url"]
    shown = client.get(thumb_url.removeprefix("https://bot.example.test"))
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg"
    somsri.say("ความคืบหน้า")
    asked = somsri.tap("เอกสารสรุปผลงาน (PDF)") + somsri.received()
    assert "เอกสารสรุปผลงาน ปีงบประมาณ 2570" in str(asked)

    pranom = chat_as(line, "pranom")
    pranom.say("ความคืบหน้า")
    assert "ขอรับการประเมินแล้ว รอเจ้าหน้าที่" in pranom.last_text

    # The province sees the committee's decision with its certificate number.
    staff = chat_as(line, "province")
    staff.say("ผลคณะกรรมการ")
    assert "บุญมี รักถิ่น" in staff.last_text and "เลขที่ 38-0001/2570" in staff.last_text


def test_demo_photos_are_real_images_in_storage(app, runner):
    seed(runner)
    storage = app.extensions["runtime"].storage
    with db.transaction() as session:
        rows = session.scalars(select(Evidence)).all()
        assert len(rows) == 15
        assert all(r.status == "stored" and r.plan_item_id and r.caption for r in rows)
        keys = [(r.storage_key, r.thumb_key, r.size_bytes) for r in rows]
    for key, thumb_key, size in keys:
        with storage.open(key) as f:
            data = f.read()
        assert len(data) == size
        with Image.open(io.BytesIO(data)) as photo:
            assert (photo.format, photo.size) == ("JPEG", (1200, 900))
        with storage.open(thumb_key) as f, Image.open(f) as thumb:
            assert thumb.format == "JPEG" and max(thumb.size) == 800
            assert not thumb.getexif()  # what others see carries no metadata


# The story fits the year however little or much of it has passed.
@pytest.mark.parametrize("moment", ["2026-10-01 08:00", "2027-09-30 23:30"])
def test_seeding_twice_changes_nothing(app, runner, clock, moment):
    clock.set(moment)
    seed(runner)
    before = counts()
    assert seed(runner).strip() == demo.ALREADY_THERE
    assert counts() == before
    assert before["User"] == len(demo.PEOPLE) and before["CommitteeDecision"] == 1


def test_demo_ids_are_line_user_ids():
    ids = [p.line_user_id for p in demo.PEOPLE]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 33 and i[0] == "U" and int(i[1:], 16) >= 0 for i in ids)
    assert demo.person("somsri").label == "ผู้นำ ต.หอคำ · กำลังดำเนินการ มีหลักฐาน"

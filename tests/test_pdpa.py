"""People can see what the bot keeps about them and have it deleted."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bot.db import db
from bot.models import (
    AuditLog,
    Base,
    ConversationState,
    Evidence,
    InboxEvent,
    LeaderProfile,
    Plan,
    SummaryDocument,
    User,
)
from bot.services import committee, privacy
from tests.test_evidence import photo
from tests.test_plan import leader_and_officer
from tests.test_registration import register
from tests.workspace import plan_at, staff_of


def test_a_leader_sees_her_data_and_deletes_it(line):
    somsri = line.user("สมศรี ใจดี")
    register(somsri)
    somsri.say("ข้อมูลของฉัน")
    assert "สมศรี ใจดี" in somsri.last_text and "081-234-5678" in somsri.last_text
    somsri.tap("ลบข้อมูลของฉัน")
    assert "ย้อนกลับไม่ได้" in somsri.last_text
    somsri.tap("ลบเลย")
    assert "ลบข้อมูลส่วนบุคคลของคุณแล้ว" in somsri.last_text
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.line_user_id == somsri.user_id))
        assert user.display_name is None and user.consent_at is None and user.role == "guest"
        assert session.get(LeaderProfile, user.id) is None
        assert session.get(ConversationState, user.id) is None
    somsri.say("ลงทะเบียน")  # and can come back
    assert "ยินยอม" in somsri.last_text


# Erasing a leader who got far: what names her goes, the province's numbers stay ---------------
NAME, PHONE = "สมศรี ใจดี", "0812345678"


def _names_her(value: object, needles: list[str]) -> bool:
    if value is None or isinstance(value, (int, float, bool)):
        return False
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    # JSON columns may keep Thai as \u escapes.
    return any(n in text or json.dumps(n)[1:-1] in text for n in needles)


def rows_naming(needles: list[str]) -> list[tuple[str, dict]]:
    """Every row of every table that holds one of `needles` in any column."""
    found = []
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(table.select()).mappings():
                if any(_names_her(v, needles) for v in row.values()):
                    found.append((table.name, dict(row)))
    return found


def test_erasure_leaves_nothing_that_names_her_and_keeps_the_counts(
    line, runner, client, clock, scheduler, app
):
    somsri, officer = leader_and_officer(line, runner)
    staff = staff_of(line, runner)
    plan_id = plan_at(somsri, "certified", officer, staff)
    somsri.say("แผนของฉัน")
    somsri.tap("ดูกิจกรรม")
    somsri.tap("ส่งหลักฐาน")
    somsri.send_photos(photo(1, exif=True), photo(2))
    somsri.say(f"{NAME} อบรมกลุ่มทอผ้า")  # her name in a caption too
    somsri.say("เสร็จแล้ว")
    somsri.tap("ดูหลักฐาน")
    thumb = somsri.last[0]["contents"]["contents"][0]["hero"]["url"]
    somsri.say("ความคืบหน้า")
    somsri.tap("เอกสารสรุปผลงาน (PDF)")
    somsri.received()
    link = [m for m in line.platform.deliveries(somsri.user_id) if "เปิดเอกสาร" in str(m)]
    document = somsri.find_action("เปิดเอกสาร (PDF)", link)["uri"]
    officer.say("ผู้นำในอำเภอ")  # the officer's list names her: a send about her
    for url in (thumb, document):
        assert client.get(url.removeprefix("https://bot.example.test")).status_code == 200
    storage = app.extensions["runtime"].storage
    with db.transaction() as session:
        year = session.get(Plan, plan_id).fiscal_year
        counts = committee.overview(session, "38", year)
        keys = [
            k for e in session.scalars(select(Evidence)) for k in (e.storage_key, e.thumb_key) if k
        ] + [d.storage_key for d in session.scalars(select(SummaryDocument))]
    assert len(keys) == 5 and all(storage.exists(k) for k in keys)
    assert rows_naming([NAME, PHONE])  # the scan finds her before

    somsri.say("ข้อมูลของฉัน")
    shown = somsri.last_text
    assert "1 แผน 2 กิจกรรม" in shown and "รูปและไฟล์ 2 รายการ" in shown
    assert "เอกสารสรุป" in shown and "ลบเองเมื่อครบ 30 วัน" in shown
    somsri.tap("ลบข้อมูลของฉัน")
    assert "ตัวเลขสถิติที่ไม่ระบุตัวตน" in somsri.last_text
    somsri.tap("ลบเลย")
    assert "ลบข้อมูลส่วนบุคคลของคุณแล้ว" in somsri.last_text

    # At once: the links stop opening, and the numbers of the province are the same.
    for url in (thumb, document):
        assert client.get(url.removeprefix("https://bot.example.test")).status_code == 404
    with db.transaction() as session:
        assert committee.overview(session, "38", year) == counts
        plan = session.get(Plan, plan_id)
        stand_in = session.get(User, plan.leader_id)
        assert stand_in.status == "erased" and not stand_in.following
        assert session.get(LeaderProfile, stand_in.id).full_name == privacy.ERASED_NAME
        assert session.scalar(select(AuditLog).where(AuditLog.action == "user.forget"))
    assert rows_naming([NAME, PHONE]) == []

    # Within minutes: the files are gone from storage too.
    clock.advance(minutes=11)
    scheduler.run("purge_documents")
    deadline = time.monotonic() + 15
    while any(storage.exists(k) for k in keys) and time.monotonic() < deadline:
        time.sleep(0.2)  # evidence objects are purged by the intake worker in the background
    assert [k for k in keys if storage.exists(k)] == []
    with db.transaction() as session:
        assert session.scalar(select(SummaryDocument)) is None

    # She may come back as a newcomer, with nothing of before.
    register(somsri)
    somsri.say("แผนของฉัน")
    assert "ยังไม่มีกิจกรรม" in somsri.last_text


def test_an_erased_leader_gets_no_pushes_and_officers_no_review_to_do(line, runner):
    somsri, officer = leader_and_officer(line, runner)
    plan_id = plan_at(somsri, "submitted", officer)
    officer.say("ผู้นำในอำเภอ")
    officer.tap("ดูแผน")
    card = officer.last
    assert officer.find_action("เห็นชอบแผน", card)
    somsri.say("ข้อมูลของฉัน")
    somsri.tap("ลบข้อมูลของฉัน")
    somsri.tap("ลบเลย")
    with db.transaction() as session:
        plan = session.get(Plan, plan_id)
        assert plan.status == "draft"  # withdrawn: nobody is left to answer a review
        assert {i.activity for i in plan.items} == {privacy.ERASED_TEXT}
    # The officer's review card from before her erasure no longer acts.
    officer.tap("เห็นชอบแผน", card)
    assert "ไม่ได้อยู่ระหว่างรอตรวจ" in officer.last_text  # refused politely, in Thai
    with db.transaction() as session:
        assert session.get(Plan, plan_id).status == "draft"


def test_retention_is_configurable_per_kind(app, clock, scheduler):
    app.config["RETENTION_MESSAGES_DAYS"] = 3
    now = clock.now()
    with db.transaction() as session:
        for n, (status, age) in enumerate(
            [("done", 2), ("done", 4), ("failed", 4), ("failed", 100)]
        ):
            session.add(
                InboxEvent(
                    webhook_event_id=f"kept-{n}",
                    source_key="U1",
                    event_type="message",
                    timestamp_ms=n,
                    payload={"text": "ข้อความ"},
                    status=status,
                    received_at=now - timedelta(days=age),
                )
            )
    assert scheduler.run("purge_handled")
    with db.transaction() as session:
        left = sorted(session.scalars(select(InboxEvent.webhook_event_id)))
    assert left == ["kept-0", "kept-2"]  # failed ones stay RETENTION_FAILED_DAYS (90)


def test_old_documents_and_audit_entries_go_after_their_retention(
    app, clock, scheduler, line, runner
):
    somsri, officer = leader_and_officer(line, runner)
    plan_id = plan_at(somsri, "approved", officer)
    storage = app.extensions["runtime"].storage
    source = app.instance_path + "/doc.pdf"
    with open(source, "wb") as out:
        out.write(b"%PDF-1.4 old document")
    storage.put("documents/old.pdf", Path(source), "application/pdf")
    now = clock.now()
    with db.transaction() as session:
        user_id = session.get(Plan, plan_id).leader_id
        session.add(
            SummaryDocument(
                plan_id=plan_id,
                requested_by=user_id,
                status="ready",
                storage_key="documents/old.pdf",
                ready_at=now - timedelta(days=91),
            )
        )
        session.add(AuditLog(action="old.thing", entity="user", at=now - timedelta(days=1826)))
    scheduler.run("purge_documents")
    scheduler.run("purge_audit")
    assert not storage.exists("documents/old.pdf")
    with db.transaction() as session:
        document = session.scalar(select(SummaryDocument))
        assert document.status == "expired" and document.storage_key is None
        actions = set(session.scalars(select(AuditLog.action)))
        assert "old.thing" not in actions and "plan.submit" in actions


def test_the_officers_digest_does_not_count_an_erased_leader_as_a_leader_to_follow(
    line, runner, clock, scheduler
):
    clock.set("2027-02-15 09:00")
    somsri, officer = leader_and_officer(line, runner)
    plan_at(somsri, "draft", officer)
    somsri.say("ข้อมูลของฉัน")
    somsri.tap("ลบข้อมูลของฉัน")
    somsri.tap("ลบเลย")
    clock.set("2027-03-15 08:00")  # a Monday, a month after: she would be "silent" by now
    scheduler.run("digest")
    line.settle()
    digests = [m for m in line.platform.deliveries(officer.user_id) if "สรุปประจำสัปดาห์" in str(m)]
    assert digests == [] or all(privacy.ERASED_NAME not in str(m) for m in digests)

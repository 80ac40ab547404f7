"""Officers see the leaders of their district and province staff their province; no one else."""

from __future__ import annotations

from sqlalchemy import select

from bot.db import db
from bot.models import AuditLog, LeaderProfile, User
from tests.test_invites import consented, create_code
from tests.test_registration import register


def profile_id(person) -> int:
    with db.transaction() as session:
        return session.scalar(
            select(User.id).join(LeaderProfile).where(User.line_user_id == person.user_id)
        )


def test_an_officer_sees_only_the_leaders_of_the_district(line, runner):
    near = line.user("ใกล้ บ้านเรา")
    register(near, "ต.หอคำ")  # อ.เมืองบึงกาฬ
    far = line.user("ไกล ต่างอำเภอ")
    register(far, "ต.โซ่")  # อ.โซ่พิสัย

    officer = consented(line, "พัฒนากร")
    officer.say(create_code(runner, "officer", "3801"))
    officer.say("ผู้นำในอำเภอ")
    assert "ใกล้ บ้านเรา" in officer.labels()[0]
    assert not any("ไกล" in label for label in officer.labels())

    officer.tap(officer.labels()[0])
    assert "ใกล้ บ้านเรา" in officer.last_text and "081-234-5678" in officer.last_text

    # A forged postback for the other district's leader: refused, nothing shown, logged.
    officer.postback(f"a=leader&id={profile_id(far)}")
    assert "เฉพาะผู้นำในพื้นที่" in officer.last_text
    assert "ไกล" not in officer.last_text
    with db.transaction() as session:
        assert (
            session.scalar(select(AuditLog).where(AuditLog.action == "leader.view.denied"))
            is not None
        )


def test_province_staff_see_their_province_and_leaders_cannot_peek(line, runner):
    somsri = line.user("สมศรี ใจดี")
    register(somsri)
    other = line.user("อีกคน ที่นี่")
    register(other, "ต.บึงกาฬ")

    staff = consented(line, "จังหวัด")
    staff.say(create_code(runner, "province", "38"))
    staff.say("ภาพรวมจังหวัด")
    assert "ผู้นำ 2 คน" in staff.last_text  # both of the province, in one district
    assert "เมืองบึงกาฬ\n2\n" in staff.last_text
    staff.postback(f"a=leader&id={profile_id(somsri)}")
    assert "สมศรี ใจดี" in staff.last_text

    elsewhere = consented(line, "จังหวัดอื่น")
    elsewhere.say(create_code(runner, "province", "10"))
    elsewhere.postback(f"a=leader&id={profile_id(somsri)}")
    assert "เฉพาะผู้นำในพื้นที่" in elsewhere.last_text

    somsri.postback(f"a=leader&id={profile_id(other)}")  # a leader peeking at another
    assert "เฉพาะผู้นำในพื้นที่" in somsri.last_text
    somsri.say("ผู้นำในอำเภอ")  # an officer's keyword means nothing to a leader
    assert "ไม่เข้าใจ" in somsri.last_text


def test_forged_and_truncated_postbacks_are_refused_politely(line):
    person = line.user()
    register(person)
    for data in (
        "a=leader&id=abc",
        "a=leader",
        "a=nosuchaction",
        "f=register&s=1&a=confirm",
        "%%%",
    ):
        person.postback(data)
        assert person.last, data  # always an answer
        assert "ขออภัย" in person.last_text or "ใช้ไม่ได้" in person.last_text

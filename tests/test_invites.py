"""Officers and province staff get their role only from an administrator's invite code."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from bot.db import db
from bot.models import InviteCode, User, utcnow
from bot.services import invites


def create_code(runner, role: str = "officer", area: str = "3801") -> str:
    result = runner.invoke(args=["invite", "create", "--role", role, "--area", area])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]  # the code is the last line


def user(person) -> User:
    with db.transaction() as session:
        return session.scalar(select(User).where(User.line_user_id == person.user_id))


def consented(line, name: str = "พัฒนากร สมชาย"):
    person = line.user(name)
    person.follow()
    person.tap("ยอมรับ")
    person.say("ยกเลิก")  # officers do not fill in the leader form
    return person


def test_officer_types_the_code_and_takes_the_role(line, runner):
    code = create_code(runner)
    with db.transaction() as session:
        stored = session.scalars(select(InviteCode.code_hash)).one()
    assert code.replace("-", "") not in stored  # only a hash is kept

    officer = consented(line)
    officer.say(code.lower())  # typed by hand, in lower case
    assert "เจ้าหน้าที่พัฒนาชุมชนอำเภอ" in officer.last_text and "อ.เมืองบึงกาฬ" in officer.last_text
    assert (user(officer).role, user(officer).area_code) == ("officer", "3801")

    other = consented(line, "คนอื่น")
    other.say(code)  # single use
    assert "ไม่ถูกต้อง หมดอายุ หรือถูกใช้ไปแล้ว" in other.last_text
    assert user(other).role == "guest"


def test_the_keyword_asks_for_the_code(line, runner):
    code = create_code(runner, "province", "38")
    staff = consented(line, "เจ้าหน้าที่จังหวัด")
    staff.say("รหัสเชิญ")
    assert "พิมพ์รหัสเชิญ" in staff.last_text
    staff.say("ผิดแน่นอน")
    assert "ลองได้อีก 4 ครั้ง" in staff.last_text
    staff.say(code)
    assert "สำนักงานพัฒนาชุมชนจังหวัด" in staff.last_text
    assert (user(staff).role, user(staff).area_code) == ("province", "38")


def test_expired_and_revoked_codes_are_refused(line, runner):
    expired, revoked = create_code(runner), create_code(runner)
    with db.transaction() as session:
        session.execute(
            update(InviteCode)
            .where(InviteCode.id == 1)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert "revoked" in runner.invoke(args=["invite", "revoke", "2"]).output
    listing = runner.invoke(args=["invite", "list"]).output
    assert "expired" in listing and "revoked" in listing
    person = consented(line)
    for code in (expired, revoked):
        person.say(code)
        assert "ไม่ถูกต้อง หมดอายุ หรือถูกใช้ไปแล้ว" in person.last_text
    assert user(person).role == "guest"


def test_brute_force_stops_after_five_wrong_codes_an_hour(line, runner):
    code = create_code(runner)
    person = consented(line)
    for n in range(invites.MAX_WRONG_PER_HOUR):
        person.say(f"AAAA-BBBB-C{n + 2}")
    person.say(code)  # even the right code waits now
    assert "เกิน 5 ครั้ง" in person.last_text
    assert user(person).role == "guest"


def test_a_code_needs_consent_first(line, runner):
    code = create_code(runner)
    person = line.user()
    person.follow()
    person.say(code)
    assert "ยินยอม" in person.last_text
    assert user(person).role == "guest"


def test_cli_refuses_bad_roles_and_areas(runner):
    assert (
        runner.invoke(args=["invite", "create", "--role", "admin", "--area", "38"]).exit_code != 0
    )
    bad_area = runner.invoke(args=["invite", "create", "--role", "officer", "--area", "38"])
    assert bad_area.exit_code != 0 and "district" in bad_area.output
    unknown = runner.invoke(args=["invite", "create", "--role", "officer", "--area", "9999"])
    assert unknown.exit_code != 0

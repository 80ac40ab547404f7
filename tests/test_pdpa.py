"""People can see what the bot keeps about them and have it deleted."""

from __future__ import annotations

from sqlalchemy import select

from bot.db import db
from bot.models import ConversationState, LeaderProfile, User
from tests.test_registration import register


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

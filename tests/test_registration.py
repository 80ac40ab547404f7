"""A leader follows the account, consents, and registers — as she would in LINE."""

from __future__ import annotations

from sqlalchemy import select

from bot.db import db
from bot.models import AuditLog, LeaderProfile, User


def _user(line_user_id: str) -> User | None:
    with db.transaction() as session:
        return session.scalar(select(User).where(User.line_user_id == line_user_id))


def _profile(user: User) -> LeaderProfile | None:
    with db.transaction() as session:
        return session.get(LeaderProfile, user.id)


def register(person, subdistrict_text: str = "ต.หอคำ", phone: str = "๐๘๑-๒๓๔-๕๖๗๘") -> None:
    person.follow()
    person.tap("ยอมรับ")
    person.tap("ใช้ชื่อนี้")
    person.say(subdistrict_text)
    person.say(phone)
    person.tap("ยืนยัน")


def test_follow_consent_and_register_end_to_end(line):
    somsri = line.user("สมศรี ใจดี")

    somsri.follow()
    assert "ยินยอม" in somsri.last_text and "ข้อมูลส่วนบุคคล" in somsri.last_text
    # Before consent only the LINE user ID is kept.
    assert _user(somsri.user_id).display_name is None

    somsri.tap("ยอมรับ")
    assert "ชื่อ-นามสกุล" in somsri.last_text and "สมศรี ใจดี" in somsri.last_text
    somsri.tap("ใช้ชื่อนี้")
    assert "เลือกจังหวัด" in somsri.last_text

    somsri.tap("บึงกาฬ")
    assert "เลือกอำเภอ" in somsri.last_text and "เซกา" in somsri.labels()
    somsri.tap("เมืองบึงกาฬ")
    assert "หอคำ" in somsri.labels()
    somsri.tap("หอคำ")
    assert "เบอร์โทรศัพท์" in somsri.last_text

    somsri.say("12345")
    assert "เบอร์โทรศัพท์ไม่ถูกต้อง" in somsri.last_text
    somsri.say("๐๘๑-๒๓๔-๕๖๗๘")
    assert "ตรวจสอบข้อมูลการลงทะเบียน" in somsri.last_text
    assert "ต.หอคำ อ.เมืองบึงกาฬ จ.บึงกาฬ" in somsri.last_text
    assert "081-234-5678" in somsri.last_text
    assert _profile(_user(somsri.user_id)) is None  # nothing saved before ยืนยัน

    somsri.tap("ยืนยัน")
    assert "ลงทะเบียนเรียบร้อย" in somsri.last_text
    user = _user(somsri.user_id)
    profile = _profile(user)
    assert (user.role, user.status, user.area_code) == ("leader", "active", "380104")
    assert (profile.full_name, profile.phone, profile.district_code) == (
        "สมศรี ใจดี",
        "0812345678",
        "3801",
    )
    with db.transaction() as session:
        actions = session.scalars(select(AuditLog.action).where(AuditLog.actor_user_id == user.id))
        assert {"consent.accept", "leader.register"} <= set(actions)


def test_typed_area_names_are_found_with_geothai(line):
    daeng = line.user("แดง")
    daeng.follow()
    daeng.tap("ยอมรับ")
    daeng.say("แดง มีสุข")
    daeng.say("เมืองบึงกาฬ")  # a district: the bot asks for its subdistricts
    assert "เลือกตำบลใน อ.เมืองบึงกาฬ" in daeng.last_text
    daeng.say("หอคำ")
    assert "เบอร์โทรศัพท์" in daeng.last_text
    daeng.tap("ข้าม")
    assert "ต.หอคำ อ.เมืองบึงกาฬ จ.บึงกาฬ" in daeng.last_text and "ไม่ระบุ" in daeng.last_text


def test_unknown_area_and_ambiguous_names(line):
    person = line.user("นก")
    person.follow()
    person.tap("ยอมรับ")
    person.say("นก บินได้")
    person.say("ไม่มีที่นี่แน่นอน")
    assert "ไม่พบพื้นที่" in person.last_text
    person.say("บึงกาฬ")  # a province and a subdistrict share the name
    assert "พบหลายพื้นที่" in person.last_text
    person.tap("จ.บึงกาฬ")
    assert "เลือกอำเภอ" in person.last_text


def test_decline_keeps_only_the_refusal_and_says_how_to_start_again(line):
    person = line.user("ไม่ยอม")
    person.follow()
    person.tap("ไม่ยอมรับ")
    assert "ลงทะเบียน" in person.last_text
    user = _user(person.user_id)
    assert user.status == "declined" and user.consent_refused_at is not None
    assert user.display_name is None and _profile(user) is None
    person.say("ลงทะเบียน")
    assert "ยินยอม" in person.last_text


def test_back_help_cancel_and_edit_from_summary(line):
    person = line.user("มาลี")
    person.follow()
    person.tap("ยอมรับ")
    person.say("ช่วยเหลือ")
    assert "สมศรี ใจดี" in person.last_text  # the help gives an example
    person.say("ab")
    assert "สั้นเกินไป" in person.last_text
    person.say("มาลี ศรีสุข")
    person.say("ย้อนกลับ")
    assert "ชื่อ-นามสกุล" in person.last_text
    person.say("มาลี ศรีสุข")
    person.say("ต.หอคำ")
    person.tap("ข้าม")
    person.tap("แก้ไข")  # the first แก้ไข: the name
    assert "ชื่อ-นามสกุล" in person.last_text
    person.say("มาลี ใจงาม")
    assert "ตรวจสอบข้อมูล" in person.last_text and "มาลี ใจงาม" in person.last_text
    person.say("ยกเลิก")
    assert "ยกเลิกการลงทะเบียนแล้ว" in person.last_text
    assert _profile(_user(person.user_id)) is None


def test_tap_on_an_old_card_is_refused_and_changes_nothing(line):
    person = line.user("ชบา")
    person.follow()
    person.tap("ยอมรับ")
    person.say("ชบา ดีใจ")
    province_card = person.last
    person.tap("บึงกาฬ")
    person.tap("บุ่งคล้า")
    person.tap("กาญจนบุรี", province_card)  # back to the old province card
    assert "ขั้นตอนก่อนหน้า" in person.last_text
    assert "เลือกตำบลใน อ.บุ่งคล้า" in person.last_text  # and asked the current question again


def test_leaving_mid_form_and_coming_back_continues(line):
    person = line.user("ดาว")
    person.follow()
    person.tap("ยอมรับ")
    person.say("ดาว ประกาย")
    person.say("สวัสดี")  # not an area: the form stays where it is
    assert "ไม่พบพื้นที่" in person.last_text
    person.unfollow()
    person.follow()
    assert "ต่อ" in person.last_text and "เลือกจังหวัด" in person.last_text


def test_free_text_outside_any_flow_gets_a_pointer(line):
    person = line.user()
    register(person)
    person.say("วันนี้อากาศดีจัง")
    assert "ไม่เข้าใจ" in person.last_text and "ช่วยเหลือ" in person.last_text
    person.say("ช่วยเหลือ")
    assert "ข้อมูลของฉัน" in person.last_text


def test_a_registered_leader_edits_her_phone(line):
    person = line.user("ลำดวน ใจงาม")
    register(person)
    person.say("แก้ไขข้อมูล")
    assert "ตรวจสอบข้อมูลการลงทะเบียน" in person.last_text and "081-234-5678" in person.last_text
    person.tap("แก้ไข", nth=2)  # the third row: the phone
    assert "เบอร์โทรศัพท์" in person.last_text
    person.say("0923456789")
    person.tap("ยืนยัน")
    assert "ลงทะเบียนเรียบร้อย" in person.last_text
    profile = _profile(_user(person.user_id))
    assert profile.phone == "0923456789" and profile.full_name == "ลำดวน ใจงาม"
    with db.transaction() as session:
        assert session.scalar(select(AuditLog).where(AuditLog.action == "leader.update"))


def test_stickers_photos_and_stray_words_never_meet_silence(line):
    from fakeline import webhook as events

    person = line.user()
    register(person)
    token = line.platform.issue_reply_token(person.user_id)
    sticker = events.text_event(person.user_id, "x", token)
    sticker["message"] = {
        "id": "1",
        "type": "sticker",
        "packageId": "446",
        "stickerId": "1988",
        "stickerResourceType": "STATIC",
        "quoteToken": "q",
    }
    line.send(sticker)
    line.settle()
    assert "เข้าใจเฉพาะข้อความ" in "\n".join(line.platform.texts(person.user_id)[-2:])
    person.say("ยกเลิก")  # nothing to cancel outside a form
    assert "ไม่มีรายการที่ทำค้างอยู่" in person.last_text


def test_registering_again_or_re_tapping_consent_changes_nothing(line):
    person = line.user()
    register(person)
    consent_card = next(m for m in line.platform.deliveries(person.user_id) if m["type"] == "flex")
    before = _profile(_user(person.user_id))
    person.tap("ยอมรับ", [consent_card])  # the old consent card, tapped again
    assert "ให้ความยินยอมไว้แล้ว" in person.last_text
    person.say("ลงทะเบียน")
    assert "ลงทะเบียนไว้แล้ว" in person.last_text
    after = _profile(_user(person.user_id))
    assert (after.full_name, after.phone, after.subdistrict_code) == (
        before.full_name,
        before.phone,
        before.subdistrict_code,
    )
    assert _user(person.user_id).role == "leader"

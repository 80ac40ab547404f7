"""The outstanding leader's profile (3.3/3.4): the PDF for the department, and the public page
that shows only what she agreed to publish."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from bot.db import db
from bot.models import CommitteeDecision, User
from bot.services import committee
from tests.test_certificates import decision_of, text_of
from tests.test_evidence import photo
from tests.test_exports import desk_of
from tests.workspace import leader, officer_of, plan_at, staff_of, user_of

PAGE = "/p/38/2570"
STORY = "ตั้งกลุ่มทอผ้าไหมบ้านหอคำ สมาชิกมีรายได้เพิ่มขึ้น"


@pytest.fixture
def outstanding(line, runner, clock):  # type: ignore[no-untyped-def]
    """สมศรี, certified and marked outstanding with a story, one evidence photo sent."""
    clock.set("2027-03-18 08:00")
    officer, staff = officer_of(line, runner), staff_of(line, runner)
    somsri = leader(line, "สมศรี ใจดี")
    decision = decision_of(plan_at(somsri, "certified", officer, staff))
    somsri.say("แผนของฉัน")
    somsri.tap("ดูกิจกรรม")
    somsri.tap("ส่งหลักฐาน")
    somsri.send_photos(photo(31, exif=True))
    staff_user = user_of(staff)
    with db.transaction() as session:
        row = session.get(CommitteeDecision, decision.id)
        committee.mark_outstanding(session, row, session.merge(staff_user), STORY)
    return {"staff": staff, "somsri": somsri, "decision": decision.id}


def publish(decision_id: int, fields: list[str]) -> None:
    with db.transaction() as session:
        row = session.get(CommitteeDecision, decision_id)
        committee.set_publish(
            session, row, session.get(User, row.leader_id), fields, row.updated_at
        )


def test_nothing_is_shown_before_she_agrees(outstanding, client):
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "ยังไม่ได้อนุญาตให้เผยแพร่" in page.text
    assert "สมศรี" not in page.text and "ทอผ้า" not in page.text and "หอคำ" not in page.text
    assert client.get(PAGE + "/photo/1.jpg").status_code == 404

    publish(outstanding["decision"], [])
    page = client.get(PAGE)
    assert "ยังไม่ได้อนุญาตให้เผยแพร่" in page.text and "สมศรี" not in page.text


def test_only_the_fields_she_agreed_to_appear(outstanding, client):
    publish(outstanding["decision"], ["area", "story"])
    page = client.get(PAGE)
    assert "ตำบลหอคำ อำเภอเมืองบึงกาฬ" in page.text and STORY in page.text
    assert "สมศรี" not in page.text and "/photo/" not in page.text
    assert client.get(PAGE + "/photo/1.jpg").status_code == 404

    publish(outstanding["decision"], ["name", "photos"])
    page = client.get(PAGE)
    assert "สมศรี ใจดี" in page.text and STORY not in page.text and "หอคำ" not in page.text
    [src] = re.findall(r'src="([^"]+)"', page.text)
    image = client.get(src)
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert not Image.open(io.BytesIO(image.data)).getexif() and b"Exif" not in image.data
    assert client.get(PAGE + "/photo/2.jpg").status_code == 404


def test_no_outstanding_leader_is_a_thai_404(outstanding, client):
    for path in ("/p/38/2569", "/p/10/2570", "/p/99/2570", "/p/38/2569/photo/1.jpg"):
        missing = client.get(path)
        assert missing.status_code == 404, path
    assert "ไม่พบข้อมูลผู้นำดีเด่น" in client.get("/p/38/2569").text


def test_the_profile_pdf_for_the_department(outstanding, app, line, runner):
    response = desk_of(app, outstanding["staff"]).get("/web/exports/outstanding.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = " ".join(text_of(response.data))
    for expected in ("ผู้นำสัมมาชีพชุมชนดีเด่น", "สมศรี ใจดี", "38-0001/2570", "ทอผ้าไหม", "หอคำ"):
        assert expected in text, expected
    assert "กิจกรรมที่ 1 ของ" in text and "ภาพกิจกรรม" in text

    bangkok = desk_of(app, staff_of(line, runner, "เจ้าหน้าที่ กทม.", "10"))
    assert bangkok.get("/web/exports/outstanding.pdf").status_code == 404

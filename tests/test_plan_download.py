"""The plan as a file: the leader and her officer get signed links in the chat; the files hold
the letter's form; a link cannot be guessed, altered, reused after a day or after a role change."""

from __future__ import annotations

import io
import json
import re
from urllib.parse import urlsplit

from openpyxl import load_workbook
from pypdf import PdfReader
from pythainlp.util import arabic_digit_to_thai_digit
from sqlalchemy import select, update

from bot.db import db
from bot.models import AuditLog, Plan, User
from tests.test_plan import add_activity, leader_and_officer, this_year
from tests.test_registration import register


def links(person) -> dict[str, str]:
    person.tap("ดาวน์โหลดแผน")
    found = {}
    for label in ("PDF (สำหรับพิมพ์)", "Excel (แก้ไขได้)"):
        action = person.find_action(label)
        assert action["type"] == "uri" and action["uri"].startswith("https://bot.example.test/")
        found[label.split()[0]] = urlsplit(action["uri"]).path
    return found


def thai_only(text: str) -> str:
    # fpdf2 maps only the first glyph of a shaped cluster back to text, so compare letters.
    return re.sub(r"[^\u0e01-\u0e4f]", "", text)


def test_leader_and_officer_download_the_official_form(line, runner, client):
    year, first, last = this_year()
    somsri, officer = leader_and_officer(line, runner)
    somsri.say("แผนของฉัน")
    add_activity(
        somsri,
        "ด้านการบริหารสังคม",
        0,
        "สร้างทีมปราชญ์ชุมชน",
        "ขอความร่วมมือ/สนับสนุน",
        "องค์การบริหารส่วนตำบลหอคำ ขอสถานที่",
        None,
        first.isoformat(),
        last.isoformat(),
    )
    urls = links(somsri)

    pdf = client.get(urls["PDF"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "no-store" in pdf.headers["Cache-Control"]
    reader = PdfReader(io.BytesIO(pdf.data))
    page = reader.pages[0]
    assert round(float(page.mediabox.width)) == 842 and round(float(page.mediabox.height)) == 595
    raw = "".join(p.extract_text() for p in reader.pages)
    text = thai_only(raw)
    for expected in (
        "แผนการพัฒนาตนเอง",
        "สมศรี ใจดี",
        "ด้าน/องค์ประกอบ",
        "แนวทาง/กิจกรรมการพัฒนาตนเอง",
        "พัฒนาด้วยตนเอง",
        "ผู้รับผิดชอบ",
        "ระยะเวลาดำเนินการ",
        "สร้างทีมปราชญ์ชุมชน",
        "องค์การบริหารส่วนตำบลหอคำ",
        "ด้านการบริหารสังคม",
    ):
        assert thai_only(expected) in text, expected
    assert arabic_digit_to_thai_digit(str(year)) in raw and str(year) not in raw

    xlsx = client.get(urls["Excel"])
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    cells = " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value)
    assert "สร้างทีมปราชญ์ชุมชน" in cells and "ขอความร่วมมือ/สนับสนุน" in cells
    assert "สมศรี ใจดี" in cells and str(year) not in cells  # Thai digits: ๒๕๗๐

    # Her officer downloads it from the leader's card.
    officer.say("ผู้นำในอำเภอ")
    officer.tap(officer.labels()[0])
    officer.tap("ดูแผนพัฒนาตนเอง")
    assert "สร้างทีมปราชญ์ชุมชน" in officer.last_text
    officer_urls = links(officer)
    assert client.get(officer_urls["PDF"]).status_code == 200

    # An altered link, and the officer's link once he is no longer an officer, are refused.
    broken = urls["PDF"][:-3] + ("abc" if not urls["PDF"].endswith("abc") else "xyz")
    assert client.get(broken).status_code == 404
    with db.transaction() as session:
        session.execute(
            update(User).where(User.line_user_id == officer.user_id).values(status="disabled")
        )
    refused = client.get(officer_urls["PDF"])
    assert refused.status_code == 403 and "ไม่มีสิทธิ์" in refused.get_data(as_text=True)
    with db.transaction() as session:
        actions = session.scalars(select(AuditLog.action)).all()
    assert actions.count("plan.download") == 3 and "plan.download.denied" in actions


def test_links_expire_and_another_leader_cannot_ask_for_one(line, runner, client, app, monkeypatch):
    somsri, _ = leader_and_officer(line, runner)
    somsri.say("แผนของฉัน")
    urls = links(somsri)
    monkeypatch.setattr(app.extensions["runtime"].site.links, "max_age", -1)
    expired = client.get(urls["PDF"])
    assert expired.status_code == 410 and "หมดอายุ" in expired.get_data(as_text=True)

    other = line.user("มานี มีสุข")
    register(other, "ต.วิศิษฐ์")
    with db.transaction() as session:
        plan_id = session.scalar(select(Plan.id))
    other.postback(f"a=plan.download&p={plan_id}")
    assert "ไม่ใช่แผนของคุณ" in other.last_text
    assert "https://" not in str(other.last)


def test_without_a_public_address_the_chat_says_downloads_are_not_set_up(line, app, monkeypatch):
    somsri = line.user()
    register(somsri)
    somsri.say("แผนของฉัน")
    monkeypatch.setattr(app.extensions["runtime"].site.links, "public_base_url", None)
    somsri.tap("ดาวน์โหลดแผน")
    assert "ยังไม่ได้ตั้งค่าที่อยู่เว็บ" in somsri.last_text
    assert "https://" not in json.dumps(somsri.last)

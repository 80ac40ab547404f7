"""Certificates (เกียรติบัตร, 3.5): from the web desk one by one or all at once, and the signed
link a certified leader gets in LINE."""

from __future__ import annotations

import io
import re
import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from pypdf import PdfReader
from sqlalchemy import select

from bot.db import db
from bot.models import CommitteeDecision
from bot.services import committee
from tests.test_exports import desk_of
from tests.workspace import leader, officer_of, plan_at, staff_of, user_of


def text_of(data: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(data))
    # pypdf reads stray control codes after a shaped ำ; they are not in the document's text.
    return [
        re.sub(r"\s+", " ", re.sub(r"[\x00-\x08\x0b-\x1f]", "", page.extract_text()))
        for page in reader.pages
    ]


def decision_of(plan_id: int) -> CommitteeDecision:
    with db.transaction() as session:
        row = session.scalar(select(CommitteeDecision).where(CommitteeDecision.plan_id == plan_id))
        session.expunge(row)
        return row


@pytest.fixture
def certified(line, runner, clock):  # type: ignore[no-untyped-def]
    clock.set("2027-03-18 08:00")
    officer, staff = officer_of(line, runner), staff_of(line, runner)
    somsri, somying = leader(line, "สมศรี ใจดี"), leader(line, "สมหญิง รักถิ่น")
    first = decision_of(plan_at(somsri, "certified", officer, staff))
    refused = decision_of(plan_at(somying, "certified", officer, staff, result="not_certified"))
    return {"officer": officer, "staff": staff, "somsri": somsri, "somying": somying,
            "first": first, "refused": refused}  # fmt: skip


def test_a_certificate_names_leader_number_date_and_signer(certified, app):
    staff_user = user_of(certified["staff"])
    with db.transaction() as session:
        staff = session.merge(staff_user)
        committee.save_settings(session, "38", staff, "นายประเสริฐ มั่นคง", "รองผู้ว่าราชการจังหวัดบึงกาฬ")
    desk = desk_of(app, certified["staff"])
    response = desk.get(f"/web/certificates/{certified['first'].id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    [page] = text_of(response.data)
    for expected in (
        "เกียรติบัตร",
        "สำนักงานพัฒนาชุมชนจังหวัดบึงกาฬ",
        "สมศรี ใจดี",
        "ได้รับการรับรองมาตรฐานการพัฒนาชุมชน",
        "ผู้นำสัมมาชีพชุมชน",
        "เลขที่ 38-0001/2570",
        "18 มีนาคม 2570",
        "(นายประเสริฐ มั่นคง)",
        "รองผู้ว่าราชการจังหวัดบึงกาฬ",
    ):
        assert expected in page, expected

    refused = desk.get(f"/web/certificates/{certified['refused'].id}.pdf")
    assert refused.status_code == 404 and "ยังไม่ได้รับการรับรอง" in refused.text


def test_without_a_signer_the_line_is_left_blank_and_all_come_in_one_file(
    certified, app, line, runner
):
    staff = certified["staff"]
    plan_at(leader(line, "มาลี ขยันยิ่ง"), "certified", certified["officer"], staff)
    pages = text_of(desk_of(app, staff).get("/web/certificates.pdf").data)
    assert len(pages) == 2  # the refused leader has none
    assert "สมศรี ใจดี" in pages[0] and "38-0001/2570" in pages[0]
    assert "มาลี ขยันยิ่ง" in pages[1] and "38-0002/2570" in pages[1]
    assert "(......" in pages[0] and "นายประเสริฐ" not in pages[0]

    mine = text_of(desk_of(app, certified["officer"]).get("/web/certificates.pdf").data)
    assert len(mine) == 2
    other = desk_of(app, officer_of(line, runner, "3803", "พัฒนากร โซ่พิสัย"))
    assert "สมศรี" not in "".join(text_of(other.get("/web/certificates.pdf").data))
    assert other.get(f"/web/certificates/{certified['first'].id}.pdf").status_code == 403
    bangkok = desk_of(app, staff_of(line, runner, "เจ้าหน้าที่ กทม.", "10"))
    assert bangkok.get(f"/web/certificates/{certified['first'].id}.pdf").status_code == 403
    assert desk_of(app, certified["somsri"]).get("/web/certificates.pdf").status_code == 403


def _link(app, decision_id: int, user_id: int) -> str:  # type: ignore[no-untyped-def]
    url = app.extensions["runtime"].site.links.url(
        "/files/certificate", "certificate", d=decision_id, u=user_id
    )
    return url.removeprefix("https://bot.example.test")


def test_the_leaders_own_link_works_and_is_refused_otherwise(certified, app, client):
    somsri_id = user_of(certified["somsri"]).id
    first = certified["first"].id
    own = client.get(_link(app, first, somsri_id))
    assert own.status_code == 200 and own.mimetype == "application/pdf"
    assert "สมศรี ใจดี" in text_of(own.data)[0]

    officer_id = user_of(certified["officer"]).id
    assert client.get(_link(app, first, officer_id)).status_code == 200

    other = user_of(certified["somying"]).id
    denied = client.get(_link(app, first, other))
    assert denied.status_code == 403 and "ไม่มีสิทธิ์" in denied.text
    not_certified = client.get(_link(app, certified["refused"].id, other))
    assert not_certified.status_code == 404 and "ยังไม่ได้รับการรับรอง" in not_certified.text

    path = _link(app, first, somsri_id)
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert client.get(tampered).status_code == 404
    plan_link = app.extensions["runtime"].site.links.token("plan", p=1, u=somsri_id, f="pdf")
    assert client.get(f"/files/certificate/{plan_link}").status_code == 404

    def signed_days_ago(days: int) -> str:
        class Then(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(time.time()) - days * 24 * 3600

        return URLSafeTimedSerializer(
            app.config["SECRET_KEY"], salt="file-link", signer=Then
        ).dumps({"k": "certificate", "d": first, "u": somsri_id})

    # A keepsake in her chat: still good after a month, not after a year.
    assert client.get(f"/files/certificate/{signed_days_ago(30)}").status_code == 200
    expired = client.get(f"/files/certificate/{signed_days_ago(367)}")
    assert expired.status_code == 410 and "หมดอายุ" in expired.text

"""The province's outstanding leader of the year (3.3/3.4): what her profile holds, and the PDF
the province sends to the department (A4 portrait, Sarabun).

The PDF is for the department and shows the whole profile; the public page shows only what
the leader agreed to publish (`CommitteeDecision.publish`). Photos are the EXIF-free
thumbnails, never the originals.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from bot.documents.certificate import office_of
from bot.documents.pdf import FAMILY, FIT_SLACK_MM, DocumentPDF, fit_lines, printable
from bot.models import CommitteeDecision, LeaderProfile, Plan
from bot.services import areas, evidence, plans

log = logging.getLogger(__name__)

MAX_PHOTOS = 4
TITLE = "ผู้นำสัมมาชีพชุมชนดีเด่น"
TEXT_PT = 14
LINE_MM = TEXT_PT * 0.3528 * 1.5
PHOTO_W_MM = 88
PHOTO_H_MM = 66


@dataclass
class Profile:
    decision_id: int
    name: str
    area: str  # 'ตำบลหอคำ อำเภอเมืองบึงกาฬ จังหวัดบึงกาฬ'
    office: str
    fiscal_year: int
    certificate_no: str
    story: str | None
    activities: list[tuple[str, str]]  # (activity, state label)
    photo_keys: list[str] = field(default_factory=list)  # thumbnails in storage
    publish: list[str] | None = None


def _area(profile: LeaderProfile) -> str:
    label = areas.label(profile.subdistrict_code)
    if profile.province_code == areas.BANGKOK:
        return label
    return label.replace("ต.", "ตำบล", 1).replace("อ.", "อำเภอ", 1).replace("จ.", "จังหวัด", 1)


def profile_of(session: Session, decision: CommitteeDecision) -> Profile | None:
    leader = session.get(LeaderProfile, decision.leader_id)
    plan = session.get(Plan, decision.plan_id)
    if leader is None or plan is None:
        return None
    photos: list[str] = []
    for item in plan.items:
        for row in evidence.shown(session, item.id):
            if row.kind == "image" and row.thumb_key and len(photos) < MAX_PHOTOS:
                photos.append(row.thumb_key)
    return Profile(
        decision_id=decision.id,
        name=leader.full_name,
        area=_area(leader),
        office=office_of(decision.province_code),
        fiscal_year=decision.fiscal_year,
        certificate_no=decision.certificate_no or "-",
        story=decision.story,
        activities=[(i.activity, plans.STATE_LABELS.get(i.state, i.state)) for i in plan.items],
        photo_keys=photos,
        publish=decision.publish,
    )


class _ProfilePDF(DocumentPDF):
    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(FAMILY, size=9)
        self.cell(0, 5, f"หน้า {self.page_no()}/{{nb}}", align="R")


def render_profile(profile: Profile, photos: list[bytes]) -> bytes:
    """`photos`: the thumbnails' JPEG bytes, at most MAX_PHOTOS are drawn."""
    pdf = _ProfilePDF(orientation="portrait", title=f"{TITLE} {profile.name}")
    pdf.add_page()
    _lines(pdf, f"{TITLE} {profile.office}", 20, "B", align="C")
    _lines(pdf, f"ปีงบประมาณ พ.ศ. {profile.fiscal_year}", 16, "", align="C")
    pdf.ln(4)
    for label, value in (
        ("ชื่อ-นามสกุล", profile.name),
        ("พื้นที่", profile.area),
        ("เลขที่เกียรติบัตร", profile.certificate_no),
    ):
        _lines(pdf, f"{label}: {value}", TEXT_PT, "")
    _heading(pdf, "ประวัติและผลงาน")
    _lines(pdf, profile.story or "ยังไม่ได้บันทึก", TEXT_PT, "")
    _heading(pdf, "กิจกรรมตามแผนพัฒนาตนเอง")
    if not profile.activities:
        _lines(pdf, "ยังไม่มีกิจกรรม", TEXT_PT, "")
    for number, (activity, state) in enumerate(profile.activities, start=1):
        _lines(pdf, f"{number}. {activity} ({state})", TEXT_PT, "")
    if photos:
        _heading(pdf, "ภาพกิจกรรม")
        _photos(pdf, photos[:MAX_PHOTOS])
    return bytes(pdf.output())


def _heading(pdf: DocumentPDF, text: str) -> None:
    if pdf.will_page_break(LINE_MM * 3):
        pdf.add_page()
    pdf.ln(3)
    _lines(pdf, text, 16, "B")


def _lines(pdf: DocumentPDF, text: str, size: float, style: str, align: str = "L") -> None:
    pdf.set_font(FAMILY, style, size)
    height = size * 0.3528 * 1.5
    for line in fit_lines(pdf, printable(text), pdf.epw - FIT_SLACK_MM):
        pdf.cell(0, height, line, align=align, new_x="LMARGIN", new_y="NEXT")


def _photos(pdf: DocumentPDF, photos: list[bytes]) -> None:
    gap = pdf.epw - 2 * PHOTO_W_MM
    for index, data in enumerate(photos):
        if index % 2 == 0:
            if pdf.will_page_break(PHOTO_H_MM + 4):
                pdf.add_page()
            top = pdf.get_y() + 2
        x = pdf.l_margin + (index % 2) * (PHOTO_W_MM + gap)
        try:
            pdf.image(io.BytesIO(data), x, top, PHOTO_W_MM, PHOTO_H_MM, keep_aspect_ratio=True)
        except (OSError, ValueError, RuntimeError) as error:
            log.warning("profile photo %s not drawn: %s", index, error)
        if index % 2 == 1 or index == len(photos) - 1:
            pdf.set_y(top + PHOTO_H_MM + 2)

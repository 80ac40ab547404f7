"""The certificate (เกียรติบัตร) the province gives each certified leader (3.5): A4 landscape,
one page per leader, in Sarabun with HarfBuzz shaping (`DocumentPDF`).

`certificates_of` gathers what a page needs from the database; `render_certificates` only draws.
Dates use Arabic digits with BE years, as `thai_date` writes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.documents.pdf import FAMILY, FIT_SLACK_MM, DocumentPDF, fit_lines, printable
from bot.models import CommitteeDecision, LeaderProfile
from bot.services import areas, committee
from bot.services.thai import thai_date

TITLE = "เกียรติบัตร"
STANDARD = "ได้รับการรับรองมาตรฐานการพัฒนาชุมชน (มชช.)"
KIND = "ประเภทผู้นำสัมมาชีพชุมชน"
BLANK_LINE = "........................................................"
BORDER_MM = 8
GOLD = (160, 120, 40)


@dataclass(frozen=True)
class Certificate:
    leader_name: str
    place: str  # 'ตำบลหอคำ อำเภอเมืองบึงกาฬ'
    office: str  # 'สำนักงานพัฒนาชุมชนจังหวัดบึงกาฬ'
    fiscal_year: int
    number: str
    decided: str  # Thai BE date of the committee's decision
    signer_name: str | None
    signer_position: str | None


def office_of(province_code: str) -> str:
    found = areas.find(province_code)
    name = found.name if found else province_code
    if province_code == areas.BANGKOK:
        return f"สำนักงานพัฒนาชุมชน{name}"
    return f"สำนักงานพัฒนาชุมชนจังหวัด{name}"


def _place(profile: LeaderProfile) -> str:
    bangkok = profile.province_code == areas.BANGKOK
    sub, dist = areas.find(profile.subdistrict_code), areas.find(profile.district_code)
    parts = []
    if sub:
        parts.append(("แขวง" if bangkok else "ตำบล") + sub.name)
    if dist:
        parts.append(dist.name if dist.name.startswith("เขต") else "อำเภอ" + dist.name)
    return " ".join(parts)


def certificate_of(session: Session, decision: CommitteeDecision) -> Certificate | None:
    """The page for one decision; None unless the leader was certified. A leader who had her
    data erased has no certificate any more: one made out to nobody certifies nothing."""
    profile = session.get(LeaderProfile, decision.leader_id)
    if decision.result != "certified" or not decision.certificate_no or profile is None:
        return None
    if profile.user.status == "erased":
        return None
    settings = committee.settings_of(session, decision.province_code)
    return Certificate(
        leader_name=profile.full_name,
        place=_place(profile),
        office=office_of(decision.province_code),
        fiscal_year=decision.fiscal_year,
        number=decision.certificate_no,
        decided=thai_date(decision.decided_on),
        signer_name=settings.signer_name,
        signer_position=settings.signer_position,
    )


def certified(
    session: Session, province_code: str, year: int, district_code: str | None = None
) -> list[Certificate]:
    """Every certified leader of the province and year (or one district), by number."""
    rows = committee.certified(session, province_code, year, district_code)
    pages = (certificate_of(session, decision) for decision, _ in rows)
    return [page for page in pages if page is not None]


class _CertificatePDF(DocumentPDF):
    def __init__(self) -> None:
        super().__init__(orientation="landscape", title=TITLE)
        self.set_auto_page_break(False)


def render_certificates(pages: list[Certificate]) -> bytes:
    pdf = _CertificatePDF()
    for page in pages:
        _draw(pdf, page)
    if not pages:
        pdf.add_page()
        _line(pdf, "ยังไม่มีผู้นำที่ได้รับการรับรอง", 20, "", 12)
    return bytes(pdf.output())


def _draw(pdf: _CertificatePDF, page: Certificate) -> None:
    pdf.add_page()
    pdf.set_draw_color(*GOLD)
    pdf.set_line_width(1.2)
    pdf.rect(BORDER_MM, BORDER_MM, pdf.w - 2 * BORDER_MM, pdf.h - 2 * BORDER_MM)
    pdf.set_line_width(0.4)
    inner = BORDER_MM + 2.5
    pdf.rect(inner, inner, pdf.w - 2 * inner, pdf.h - 2 * inner)
    pdf.set_draw_color(0)

    pdf.set_y(24)
    _line(pdf, page.office, 20, "B", 11)
    pdf.ln(2)
    pdf.set_text_color(*GOLD)
    _line(pdf, TITLE, 40, "B", 18)
    pdf.set_text_color(0)
    _line(pdf, "ให้ไว้เพื่อแสดงว่า", 18, "", 10)
    pdf.ln(2)
    _line(pdf, page.leader_name, 30, "B", 15, shrink=True)
    if page.place:
        _line(pdf, f"ผู้นำสัมมาชีพชุมชน {page.place}", 16, "", 9)
    pdf.ln(2)
    _line(pdf, STANDARD, 20, "B", 11)
    _line(pdf, f"{KIND} ประจำปีงบประมาณ พ.ศ. {page.fiscal_year}", 18, "", 10)
    _line(pdf, f"ให้ไว้ ณ วันที่ {page.decided}", 16, "", 10)

    pdf.set_y(pdf.h - 58)
    _signature(pdf, page)
    pdf.set_xy(inner + 6, pdf.h - inner - 12)
    pdf.set_font(FAMILY, size=12)
    pdf.cell(100, 7, f"เลขที่ {page.number}")


def _signature(pdf: _CertificatePDF, page: Certificate) -> None:
    name = f"({page.signer_name})" if page.signer_name else f"({BLANK_LINE})"
    lines = [("", BLANK_LINE), ("", name), ("", page.signer_position or BLANK_LINE)]
    for style, text in lines:
        pdf.set_font(FAMILY, style, 16)
        text = printable(text)
        pdf.set_x(pdf.w / 2 - 10)
        pdf.cell(pdf.w / 2 - 30, 9, (fit_lines(pdf, text, pdf.w / 2 - 32) or [""])[0], align="C")
        pdf.ln(9)


def _line(
    pdf: DocumentPDF, text: str, size: float, style: str, height: float, shrink: bool = False
) -> None:
    """A centred line; long text wraps between Thai words (or, with `shrink`, gets smaller)."""
    width = pdf.w - 2 * (BORDER_MM + 12) - FIT_SLACK_MM
    text = printable(text)
    pdf.set_font(FAMILY, style, size)
    while shrink and size > 16 and pdf.get_string_width(text) > width:
        size -= 2
        pdf.set_font(FAMILY, style, size)
    for part in fit_lines(pdf, text, width):
        pdf.set_x(BORDER_MM + 12)
        pdf.cell(width, height, part, align="C", new_x="LMARGIN", new_y="NEXT")

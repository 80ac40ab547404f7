"""The province's reports to the department: 3.1 the applicants list (XLSX, CSV) and 3.2 the
certification results (XLSX) with a ZIP of photos. Flask free: rows from the database, bytes out.

Who is an applicant of a fiscal year: a leader with a plan of that year, or one who registered
within the year (1 October to 30 September, Bangkok time) even before starting a plan. The
letter's 3.1 list is due by 25 March, when most applicants have a plan but some have only just
been recruited; both belong on it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from bot.models import CommitteeDecision, Inspection, LeaderProfile, Plan, User
from bot.services import areas, committee, fiscal, inspection
from bot.services.thai import format_phone, thai_date

BANGKOK = ZoneInfo("Asia/Bangkok")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FONT = "Sarabun"
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADING_FILL = PatternFill("solid", fgColor="E6E6E6")
WRAP = Alignment(wrap_text=True, vertical="top")

APPLICANT_HEADERS = ("ที่", "ชื่อ-นามสกุล", "ตำบล", "อำเภอ", "จังหวัด", "โทรศัพท์", "วันที่ลงทะเบียน")
APPLICANT_WIDTHS = (6, 30, 20, 22, 16, 16, 22)
RESULT_HEADERS = (
    "ที่",
    "ชื่อ-นามสกุล",
    "ตำบล",
    "อำเภอ",
    "ความเห็นของอำเภอ",
    "เหตุผลของอำเภอ",
    "ผลการพิจารณาของคณะกรรมการ",
    "วันที่พิจารณา",
    "เลขที่เกียรติบัตร",
    "เหตุผลของคณะกรรมการ",
)
RESULT_WIDTHS = (6, 28, 18, 20, 16, 36, 18, 20, 18, 36)
PENDING = "ยังไม่พิจารณา"


@dataclass(frozen=True)
class Scope:
    """The rows a viewer may take out: a province, or one district of it (an officer)."""

    province_code: str
    district_code: str | None = None

    def condition(self) -> ColumnElement[bool]:
        if self.district_code:
            return LeaderProfile.district_code == self.district_code
        return LeaderProfile.province_code == self.province_code

    def place(self) -> str:
        """'จังหวัดบึงกาฬ' or 'อำเภอโซ่พิสัย จังหวัดบึงกาฬ', for titles."""
        province = province_name(self.province_code)
        if self.district_code and (district := areas.find(self.district_code)):
            prefix = "เขต" if self.province_code == areas.BANGKOK else "อำเภอ"
            name = district.name if district.name.startswith("เขต") else prefix + district.name
            return f"{name} {province}"
        return province


def province_name(code: str) -> str:
    found = areas.find(code)
    if found is None:
        return code
    return found.name if code == areas.BANGKOK else f"จังหวัด{found.name}"


@dataclass(frozen=True)
class Place:
    subdistrict: str
    district: str
    province: str


def place_of(profile: LeaderProfile) -> Place:
    names = [areas.find(profile.subdistrict_code[:n]) for n in (6, 4, 2)]
    sub, dist, prov = (a.name if a else "-" for a in names)
    return Place(sub, dist, prov)


# 3.1 Applicants ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ApplicantRow:
    name: str
    subdistrict: str
    district: str
    province: str
    phone: str
    registered: str  # Thai BE date


def _year_span(year: int) -> tuple[datetime, datetime]:
    starts, ends = fiscal.bounds(year)
    first = datetime.combine(starts, time.min, BANGKOK)
    after = datetime.combine(ends, time.max, BANGKOK)
    return first, after


def applicant_rows(session: Session, scope: Scope, year: int) -> list[ApplicantRow]:
    first, last = _year_span(year)
    found = session.execute(
        select(LeaderProfile)
        .join(User, User.id == LeaderProfile.user_id)
        .outerjoin(Plan, and_(Plan.leader_id == LeaderProfile.user_id, Plan.fiscal_year == year))
        .where(
            User.role == "leader",
            scope.condition(),
            or_(
                Plan.id.is_not(None),
                LeaderProfile.registered_at.between(first, last),
            ),
        )
        .order_by(
            LeaderProfile.district_code, LeaderProfile.subdistrict_code, LeaderProfile.full_name
        )
    ).scalars()
    rows = []
    for profile in found:
        place = place_of(profile)
        rows.append(
            ApplicantRow(
                name=profile.full_name,
                subdistrict=place.subdistrict,
                district=place.district,
                province=place.province,
                phone=format_phone(profile.phone) if profile.phone else "",
                registered=thai_date(profile.registered_at),
            )
        )
    return rows


def applicants_title(scope: Scope, year: int) -> str:
    return (
        "บัญชีรายชื่อผู้สมัครเข้ารับการรับรองมาตรฐานการพัฒนาชุมชน ผู้นำสัมมาชีพชุมชน "
        f"{scope.place()} ปีงบประมาณ พ.ศ. {year}"
    )


def applicants_xlsx(rows: list[ApplicantRow], title: str) -> bytes:
    values = [
        (n, r.name, r.subdistrict, r.district, r.province, r.phone, r.registered)
        for n, r in enumerate(rows, start=1)
    ]
    return _sheet("ผู้สมัคร", title, APPLICANT_HEADERS, APPLICANT_WIDTHS, values)


def applicants_csv(rows: Iterable[ApplicantRow]) -> Iterator[bytes]:
    """UTF-8 with a byte order mark: without it Excel reads the Thai as mojibake."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(values: Iterable[object]) -> bytes:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue().encode("utf-8")

    yield "\ufeff".encode() + line(APPLICANT_HEADERS)
    for n, r in enumerate(rows, start=1):
        yield line((n, r.name, r.subdistrict, r.district, r.province, r.phone, r.registered))


# 3.2 Results ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ResultRow:
    name: str
    subdistrict: str
    district: str
    opinion: str
    opinion_reasons: str
    result: str
    decided: str  # Thai BE date, or ""
    certificate_no: str
    reasons: str


def result_rows(session: Session, scope: Scope, year: int) -> list[ResultRow]:
    """Every plan of the year the district has inspected, with the committee's decision if any."""
    found = session.execute(
        select(LeaderProfile, Inspection, CommitteeDecision)
        .join(Plan, Plan.leader_id == LeaderProfile.user_id)
        .join(Inspection, Inspection.plan_id == Plan.id)
        .outerjoin(CommitteeDecision, CommitteeDecision.plan_id == Plan.id)
        .where(Plan.fiscal_year == year, scope.condition())
        .order_by(
            LeaderProfile.district_code, LeaderProfile.subdistrict_code, LeaderProfile.full_name
        )
    ).all()
    rows = []
    for profile, checked, decision in found:
        place = place_of(profile)
        rows.append(
            ResultRow(
                name=profile.full_name,
                subdistrict=place.subdistrict,
                district=place.district,
                opinion=inspection.OPINIONS.get(checked.opinion, checked.opinion),
                opinion_reasons=checked.reasons,
                result=committee.RESULTS.get(decision.result, "") if decision else PENDING,
                decided=thai_date(decision.decided_on) if decision else "",
                certificate_no=(decision.certificate_no or "") if decision else "",
                reasons=(decision.reasons or "") if decision else "",
            )
        )
    return rows


def results_title(scope: Scope, year: int) -> str:
    return f"ผลการรับรองมาตรฐานการพัฒนาชุมชน ผู้นำสัมมาชีพชุมชน {scope.place()} ปีงบประมาณ พ.ศ. {year}"


def results_xlsx(rows: list[ResultRow], title: str) -> bytes:
    values = [
        (
            n,
            r.name,
            r.subdistrict,
            r.district,
            r.opinion,
            r.opinion_reasons,
            r.result,
            r.decided,
            r.certificate_no,
            r.reasons,
        )
        for n, r in enumerate(rows, start=1)
    ]
    return _sheet("ผลการรับรอง", title, RESULT_HEADERS, RESULT_WIDTHS, values)


def _sheet(
    name: str,
    title: str,
    headers: tuple[str, ...],
    widths: tuple[int, ...],
    values: list[tuple[object, ...]],
) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = name
    for col, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    sheet["A1"].font = Font(name=FONT, size=14, bold=True)
    sheet["A1"].alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet.row_dimensions[1].height = 42
    sheet.append(list(headers))
    for cell in sheet[2]:
        cell.font = Font(name=FONT, size=12, bold=True)
        cell.fill, cell.border = HEADING_FILL, BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    body = Font(name=FONT, size=12)
    for row in values:
        sheet.append(list(row))
        for cell in sheet[sheet.max_row]:
            cell.font, cell.border, cell.alignment = body, BOX, WRAP
    sheet.freeze_panes = "A3"
    sheet.print_title_rows = "2:2"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

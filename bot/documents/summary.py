"""The leader's summary document (เอกสารสรุปผลงาน) for the provincial committee, as an A4 PDF.

Cover, the plan in the letter's form (landscape pages drawn by `bot.documents.pdf`), one block per
activity with up to four evidence photos, the work-management figures against the letter's targets
(85% of trained households with an occupation, income up 3%) and the district officer's opinion.

Plain data in, a file out: the service layer gathers the leader's data and the photos (already
re-encoded JPEGs on local disk) and calls `render_summary`. The text uses Arabic digits; the plan
form keeps the letter's Thai digits, as `render_pdf` draws it.

Every line is wrapped here (`fit_lines`, between Thai words) and drawn with a one-line `cell`, so
the page arithmetic below decides every page break, and fpdf2's own line breaking (slow with
shaping) is never used. Photos are passed to fpdf2 by path: it embeds each JPEG's bytes as they are
(DCTDecode), without decoding them.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path

from pythainlp.tokenize import word_tokenize

from bot.documents.pdf import FAMILY, FIT_SLACK_MM, DocumentPDF, fit_lines, printable, write_plan
from bot.documents.plan_form import PlanForm
from bot.services.thai import thai_date, to_arabic_digits

log = logging.getLogger(__name__)

TITLE = "เอกสารสรุปผลงานการพัฒนาตนเอง"
SUBTITLE = "ผู้นำสัมมาชีพชุมชน"
ACTIVITIES_HEADING = "ผลการดำเนินงานตามแผนการพัฒนาตนเอง"
NO_ACTIVITIES = "ยังไม่มีกิจกรรม"
FIGURES_HEADING = "ด้านการบริหารงาน: อาชีพและรายได้ของครัวเรือนที่ได้รับการฝึกอบรม"
OPINION_HEADING = "ความเห็นของเจ้าหน้าที่พัฒนาชุมชนอำเภอ"
NOT_RECORDED = "ยังไม่ได้บันทึก"
CANNOT_COMPUTE = "คำนวณไม่ได้"
PASSED = "ผ่านเป้าหมาย"
NOT_PASSED = "ยังไม่ผ่านเป้าหมาย"
BLANK_SIGNATURE = "..............................."

# The letter's targets for ด้านการบริหารงาน.
OCCUPATION_TARGET = Decimal(85)  # percent of the trained households with an occupation
INCOME_TARGET = Decimal(3)  # percent rise of the average household income
MAX_PHOTOS = 4

# Layout, in mm on A4 portrait (186 mm between the 12 mm margins).
TEXT_PT = 12
TEXT_LINE_MM = TEXT_PT * 0.3528 * 1.5
SMALL_PT = 10
SMALL_LINE_MM = SMALL_PT * 0.3528 * 1.5
TABLE_PT = 11
TABLE_LINE_MM = TABLE_PT * 0.3528 * 1.5
TABLE_PAD_MM = 1.0
SECTION_PT = 15
SECTION_MM = 12.0  # a section heading with the space under it
BAR_MM = 8.0  # the shaded "กิจกรรมที่ N" bar
GAP_MM = 2.0
BLOCK_GAP_MM = 6.0  # after each activity, the figures and the opinion
LABEL_MM = 36.0  # the label column of an activity's fields
PHOTO_GAP_MM = 6.0  # between the two photos of a row
PHOTO_BOX_MM = 64.0  # the height a photo is scaled into (keeping its aspect ratio)
CAPTION_LINES = 2
# The photo box, the date line, the caption lines and a little air.
PHOTO_ROW_MM = PHOTO_BOX_MM + 1 + SMALL_LINE_MM * (1 + CAPTION_LINES) + 3
# รายการ, ผลการดำเนินงาน, เป้าหมาย, ผลการประเมิน.
FIGURE_COLS_MM = (66.0, 40.0, 46.0, 34.0)
FIGURE_HEADINGS = ("รายการ", "ผลการดำเนินงาน", "เป้าหมาย", "ผลการประเมิน")


@dataclass
class SummaryPhoto:
    path: Path  # a JPEG on local disk, already re-encoded, at most 1024 px, no EXIF
    taken_on: date | None  # the EXIF date or the upload date
    caption: str | None


@dataclass
class SummaryActivity:
    number: int
    area: str  # "ด้านความรู้ › การพัฒนาความรู้": area › component
    activity: str
    state: str  # ยังไม่เริ่ม / กำลังดำเนินการ / เสร็จแล้ว
    period: str  # already-formatted Thai BE period text
    note: str | None  # the leader's progress note
    evidence_count: int  # all evidence, not only the photos shown
    photos: list[SummaryPhoto] = field(default_factory=list)  # at most four are drawn


@dataclass
class SummaryFigures:
    households_trained: int | None
    households_with_occupation: int | None
    income_before: Decimal | None  # baht per year, average per household
    income_after: Decimal | None

    @property
    def occupation_share(self) -> Decimal | None:
        """Percent of the trained households that have an occupation."""
        trained, working = self.households_trained, self.households_with_occupation
        if trained is None or working is None or trained <= 0:
            return None
        return Decimal(working) * 100 / Decimal(trained)

    @property
    def income_change(self) -> Decimal | None:
        """Percent change of the average household income (negative when it fell)."""
        before, after = self.income_before, self.income_after
        if before is None or after is None or before <= 0:
            return None
        return (Decimal(after) - Decimal(before)) * 100 / Decimal(before)

    @property
    def meets_occupation(self) -> bool | None:
        share = self.occupation_share
        return None if share is None else share >= OCCUPATION_TARGET

    @property
    def meets_income(self) -> bool | None:
        change = self.income_change
        return None if change is None else change >= INCOME_TARGET


@dataclass
class SummaryDoc:
    leader_name: str
    subdistrict: str
    district: str
    province: str
    fiscal_year: int  # BE, e.g. 2570
    plan: PlanForm
    activities: list[SummaryActivity]
    figures: SummaryFigures | None
    opinion: str | None  # the district officer's opinion, when it exists
    opinion_by: str | None
    opinion_on: date | None
    made_on: date


class _SummaryPDF(DocumentPDF):
    def __init__(self, doc: SummaryDoc) -> None:
        super().__init__(orientation="portrait", title=f"{TITLE} {SUBTITLE}")
        self.doc = doc
        # Nothing is drawn above this height of the current page (but a section heading).
        self.fresh_y = self.t_margin

    def header(self) -> None:
        self.fresh_y = self.t_margin

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(FAMILY, size=9)
        self.set_text_color(90)
        if self.page_no() > 1:
            left = _text(f"{self.doc.leader_name}  {TITLE} ปีงบประมาณ พ.ศ. {self.doc.fiscal_year}")
            width = self.epw - 25  # the rest is the page number's
            self.cell(width, 5, (fit_lines(self, left, width) or [""])[0])
            self.set_x(self.l_margin)
        self.cell(0, 5, f"หน้า {self.page_no()}/{{nb}}", align="R")
        self.set_text_color(0)


def render_summary(doc: SummaryDoc, out: Path) -> int:
    """Write the summary document of `doc` as a PDF to `out`; return its number of pages."""
    pdf = _SummaryPDF(doc)
    _write_cover(pdf, doc)
    pdf.add_page(orientation="landscape")
    write_plan(pdf, doc.plan)
    pdf.add_page(orientation="portrait")
    _write_section_heading(pdf, ACTIVITIES_HEADING)
    if not doc.activities:
        _text_line(pdf, NO_ACTIVITIES)
        pdf.ln(BLOCK_GAP_MM)
    for activity in doc.activities:
        _write_activity(pdf, activity)
    _write_figures(pdf, doc.figures)
    if doc.opinion and doc.opinion.strip():
        _write_opinion(pdf, doc)
    pages = pdf.pages_count
    pdf.output(str(out))
    return pages


# Cover ------------------------------------------------------------------------------------------
def _write_cover(pdf: _SummaryPDF, doc: SummaryDoc) -> None:
    pdf.add_page()
    pdf.set_y(65)
    _centered(pdf, TITLE, 24, "B", 14)
    _centered(pdf, SUBTITLE, 22, "B", 14)
    pdf.ln(28)
    _centered(pdf, doc.leader_name, 18, "B", 10)
    _centered(pdf, _place(doc), 16, "", 9)
    _centered(pdf, f"ปีงบประมาณ พ.ศ. {doc.fiscal_year}", 16, "", 9)
    pdf.ln(28)
    committee = "เสนอต่อคณะกรรมการรับรองมาตรฐานการพัฒนาชุมชน" + _province(doc.province)
    _centered(pdf, committee, 14, "", 8)
    pdf.set_y(pdf.page_break_trigger - 20)
    _centered(pdf, f"วันที่จัดทำ {thai_date(doc.made_on)}", 14, "", 8)


def _centered(pdf: _SummaryPDF, text: str, size: float, style: str, line_mm: float) -> None:
    pdf.set_font(FAMILY, style, size)
    for line in fit_lines(pdf, _text(text), pdf.epw - FIT_SLACK_MM):
        pdf.cell(0, line_mm, line, align="C", new_x="LMARGIN", new_y="NEXT")


def _place(doc: SummaryDoc) -> str:
    bangkok = _is_bangkok(doc.province)
    return " ".join(
        part
        for part in (
            _prefixed("แขวง" if bangkok else "ตำบล", doc.subdistrict),
            _prefixed("เขต" if bangkok else "อำเภอ", doc.district),
            _province(doc.province),
        )
        if part
    )


def _province(name: str) -> str:
    return name.strip() if _is_bangkok(name) else _prefixed("จังหวัด", name)


def _is_bangkok(name: str) -> bool:
    return name.strip() in {"กรุงเทพมหานคร", "กรุงเทพฯ"}


def _prefixed(prefix: str, name: str) -> str:
    name = name.strip()
    if not name or name.startswith(prefix):
        return name
    return prefix + name


# Activities -------------------------------------------------------------------------------------
def _write_activity(pdf: _SummaryPDF, activity: SummaryActivity) -> None:
    """One activity as a block; a block that does not fit the rest of the page starts a new one.

    Only a block taller than a whole page (very long texts) is split: its text runs on line by
    line, and its photos move on a row at a time.
    """
    value_width = pdf.epw - LABEL_MM - FIT_SLACK_MM
    pdf.set_font(FAMILY, size=TEXT_PT)
    texts = [
        ("ด้าน/องค์ประกอบ", activity.area),
        ("กิจกรรม", activity.activity),
        ("สถานะ", activity.state),
        ("ระยะเวลา", activity.period),
    ]
    if activity.note and activity.note.strip():
        texts.append(("ความก้าวหน้า", activity.note))
    fields = [(label, fit_lines(pdf, _text(value), value_width) or ["-"]) for label, value in texts]
    photos = activity.photos[:MAX_PHOTOS]
    evidence = f"หลักฐานทั้งหมด {activity.evidence_count:,} รายการ"
    if photos:
        evidence += f" (แสดงภาพถ่าย {len(photos)} ภาพ)"
    _keep_together(pdf, activity_height(sum(len(lines) for _, lines in fields), len(photos)))

    _ensure(pdf, BAR_MM + GAP_MM + TEXT_LINE_MM)
    pdf.set_font(FAMILY, "B", TEXT_PT + 1)
    pdf.set_fill_color(230, 230, 230)
    pdf.cell(0, BAR_MM, f"กิจกรรมที่ {activity.number}", fill=True, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(GAP_MM)
    for label, lines in fields:
        for index, line in enumerate(lines):
            _ensure(pdf, TEXT_LINE_MM)
            if index == 0:
                pdf.set_font(FAMILY, "B", TEXT_PT)
                pdf.cell(LABEL_MM, TEXT_LINE_MM, label)
            pdf.set_x(pdf.l_margin + LABEL_MM)
            pdf.set_font(FAMILY, size=TEXT_PT)
            pdf.cell(0, TEXT_LINE_MM, line, new_x="LMARGIN", new_y="NEXT")
    _ensure(pdf, TEXT_LINE_MM)
    pdf.set_font(FAMILY, "B", TEXT_PT)
    pdf.cell(0, TEXT_LINE_MM, evidence, new_x="LMARGIN", new_y="NEXT")
    if photos:
        pdf.ln(GAP_MM)
    width = (pdf.epw - PHOTO_GAP_MM) / 2
    for row in range(0, len(photos), 2):
        _ensure(pdf, PHOTO_ROW_MM)
        top = pdf.get_y()
        for column, photo in enumerate(photos[row : row + 2]):
            _write_photo(pdf, photo, pdf.l_margin + column * (width + PHOTO_GAP_MM), top, width)
        pdf.set_y(top + PHOTO_ROW_MM)
    pdf.ln(BLOCK_GAP_MM)


def activity_height(text_lines: int, photos: int) -> float:
    """The height of an activity block with `text_lines` field lines and `photos` photos drawn."""
    rows = math.ceil(min(photos, MAX_PHOTOS) / 2)
    return (
        BAR_MM
        + GAP_MM
        + (text_lines + 1) * TEXT_LINE_MM  # the fields and the evidence line
        + (GAP_MM + rows * PHOTO_ROW_MM if rows else 0)
    )


def _write_photo(pdf: _SummaryPDF, photo: SummaryPhoto, x: float, y: float, width: float) -> None:
    pdf.set_draw_color(190)
    pdf.set_line_width(0.2)
    pdf.rect(x, y, width, PHOTO_BOX_MM)
    try:
        pdf.image(photo.path, x + 0.5, y + 0.5, width - 1, PHOTO_BOX_MM - 1, keep_aspect_ratio=True)
    except (OSError, ValueError) as error:
        # A missing or broken file must not cost the leader the whole document.
        log.warning("summary photo %s not drawn: %s", photo.path, error)
        pdf.set_font(FAMILY, size=SMALL_PT)
        pdf.set_xy(x, y + PHOTO_BOX_MM / 2 - SMALL_LINE_MM / 2)
        pdf.cell(width, SMALL_LINE_MM, "ไม่พบไฟล์ภาพ", align="C")
    pdf.set_draw_color(0)
    pdf.set_font(FAMILY, size=SMALL_PT)
    lines = [f"วันที่ {thai_date(photo.taken_on)}"] if photo.taken_on else []
    if photo.caption:
        lines += _clip(pdf, fit_lines(pdf, _text(photo.caption), width - 2), width - 2)
    for index, line in enumerate(lines):
        pdf.set_xy(x, y + PHOTO_BOX_MM + 1 + index * SMALL_LINE_MM)
        pdf.cell(width, SMALL_LINE_MM, line, align="C")


def _clip(pdf: _SummaryPDF, lines: list[str], width: float) -> list[str]:
    """At most CAPTION_LINES lines, the last one ending in '…' when text was left out."""
    if len(lines) <= CAPTION_LINES:
        return lines
    words = word_tokenize(lines[CAPTION_LINES - 1], keep_whitespace=True)
    while words and pdf.get_string_width("".join(words).rstrip() + "…") > width:
        words.pop()
    return [*lines[: CAPTION_LINES - 1], "".join(words).rstrip() + "…"]


# Figures ----------------------------------------------------------------------------------------
def _write_figures(pdf: _SummaryPDF, figures: SummaryFigures | None) -> None:
    rows = _figure_rows(figures or SummaryFigures(None, None, None, None))
    pdf.set_font(FAMILY, size=TABLE_PT)
    cells = [_table_cells(pdf, row) for row in [FIGURE_HEADINGS, *rows]]
    heights = [max(len(lines) for lines in row) * TABLE_LINE_MM + 2 * TABLE_PAD_MM for row in cells]
    _keep_together(pdf, SECTION_MM + sum(heights))
    _write_section_heading(pdf, FIGURES_HEADING)
    for index, (row, height) in enumerate(zip(cells, heights, strict=True)):
        _ensure(pdf, height)
        _table_row(pdf, row, height, heading=index == 0)
    pdf.ln(BLOCK_GAP_MM)


def _figure_rows(figures: SummaryFigures) -> list[tuple[str, str, str, str]]:
    trained, working = figures.households_trained, figures.households_with_occupation
    share, change = figures.occupation_share, figures.income_change
    share_text = _percent(share) if share is not None else _missing(trained, working)
    if change is None:
        change_text = _missing(figures.income_before, figures.income_after)
    elif change > 0:
        change_text = f"เพิ่มขึ้น{_percent(change)}"
    elif change < 0:
        change_text = f"ลดลง{_percent(-change)}"
    else:
        change_text = "ไม่เปลี่ยนแปลง"
    return [
        ("ครัวเรือนที่ได้รับการฝึกอบรม", _households(trained), "", ""),
        ("ครัวเรือนที่มีอาชีพ", _households(working), "", ""),
        (
            "สัดส่วนครัวเรือนที่มีอาชีพ",
            share_text,
            f"ไม่น้อยกว่า{_percent(OCCUPATION_TARGET)}",
            _outcome(figures.meets_occupation),
        ),
        ("รายได้เฉลี่ยต่อครัวเรือนก่อนดำเนินการ", _baht(figures.income_before), "", ""),
        ("รายได้เฉลี่ยต่อครัวเรือนหลังดำเนินการ", _baht(figures.income_after), "", ""),
        (
            "รายได้ที่เปลี่ยนแปลง",
            change_text,
            f"เพิ่มขึ้นไม่น้อยกว่า{_percent(INCOME_TARGET)}",
            _outcome(figures.meets_income),
        ),
    ]


def _missing(*values: object) -> str:
    """Why a share cannot be shown: a value is not recorded, or the base is zero."""
    return NOT_RECORDED if any(value is None for value in values) else CANNOT_COMPUTE


def _households(value: int | None) -> str:
    return NOT_RECORDED if value is None else f"{value:,} ครัวเรือน"


def _baht(value: Decimal | None) -> str:
    if value is None:
        return NOT_RECORDED
    text = f"{Decimal(value).quantize(Decimal('0.01')):,.2f}".removesuffix(".00")
    return f"{text} บาท/ปี"


def _percent(value: Decimal) -> str:
    """'ร้อยละ 87.5'. Rounded down, so a share just under a target never reads as the target."""
    text = f"{value.quantize(Decimal('0.01'), rounding=ROUND_FLOOR):,.2f}"
    return f"ร้อยละ {text.rstrip('0').rstrip('.')}"


def _outcome(meets: bool | None) -> str:
    if meets is None:
        return NOT_RECORDED
    return PASSED if meets else NOT_PASSED


def _table_cells(pdf: _SummaryPDF, row: tuple[str, ...]) -> list[list[str]]:
    return [
        fit_lines(pdf, _text(text), width - 2 * TABLE_PAD_MM - FIT_SLACK_MM) or [""]
        for text, width in zip(row, FIGURE_COLS_MM, strict=True)
    ]


def _table_row(pdf: _SummaryPDF, row: list[list[str]], height: float, heading: bool) -> None:
    top, x = pdf.get_y(), pdf.l_margin
    pdf.set_font(FAMILY, "B" if heading else "", TABLE_PT)
    pdf.set_fill_color(230, 230, 230)
    pdf.set_line_width(0.2)
    for column, (lines, width) in enumerate(zip(row, FIGURE_COLS_MM, strict=True)):
        pdf.rect(x, top, width, height, style="DF" if heading else "D")
        for index, line in enumerate(lines):
            pdf.set_xy(x + TABLE_PAD_MM, top + TABLE_PAD_MM + index * TABLE_LINE_MM)
            align = "L" if column == 0 and not heading else "C"
            pdf.cell(width - 2 * TABLE_PAD_MM, TABLE_LINE_MM, line, align=align)
        x += width
    pdf.set_y(top + height)


# Opinion ----------------------------------------------------------------------------------------
def _write_opinion(pdf: _SummaryPDF, doc: SummaryDoc) -> None:
    pdf.set_font(FAMILY, size=TEXT_PT)
    lines = fit_lines(pdf, _text(doc.opinion or ""), pdf.epw - FIT_SLACK_MM)
    signed = f"ผู้ให้ความเห็น {_text(doc.opinion_by) or BLANK_SIGNATURE}"
    dated = f"วันที่ {thai_date(doc.opinion_on)}" if doc.opinion_on else ""
    _keep_together(pdf, opinion_height(len(lines)))
    _write_section_heading(pdf, OPINION_HEADING)
    pdf.set_font(FAMILY, size=TEXT_PT)
    for line in lines:
        _text_line(pdf, line)
    _ensure(pdf, GAP_MM + 2 * TEXT_LINE_MM)
    pdf.ln(GAP_MM)
    for line in (signed, dated):
        pdf.cell(0, TEXT_LINE_MM, line, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(BLOCK_GAP_MM)


def opinion_height(text_lines: int) -> float:
    return SECTION_MM + text_lines * TEXT_LINE_MM + GAP_MM + 2 * TEXT_LINE_MM


# Shared -----------------------------------------------------------------------------------------
def _write_section_heading(pdf: _SummaryPDF, text: str) -> None:
    _ensure(pdf, SECTION_MM + TEXT_LINE_MM)
    top = pdf.get_y()
    pdf.set_font(FAMILY, "B", SECTION_PT)
    pdf.cell(0, SECTION_MM - 2, _text(text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(top + SECTION_MM)
    if top <= pdf.fresh_y + 0.01:
        pdf.fresh_y = pdf.get_y()  # a heading alone at the top is not worth a page of its own


def _text_line(pdf: _SummaryPDF, line: str) -> None:
    _ensure(pdf, TEXT_LINE_MM)
    pdf.set_font(FAMILY, size=TEXT_PT)
    pdf.cell(0, TEXT_LINE_MM, line, new_x="LMARGIN", new_y="NEXT")


def _keep_together(pdf: _SummaryPDF, height: float) -> None:
    """Start a new page unless `height` fits below, or the page holds nothing yet."""
    if pdf.get_y() + height > pdf.page_break_trigger and pdf.get_y() > pdf.fresh_y + 0.01:
        pdf.add_page()


def _ensure(pdf: _SummaryPDF, height: float) -> None:
    if pdf.get_y() + height > pdf.page_break_trigger:
        pdf.add_page()


def _text(value: str | None) -> str:
    """User text as drawn here: Arabic digits, nothing Sarabun cannot draw."""
    return printable(to_arabic_digits(value or ""))

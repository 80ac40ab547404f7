"""The self-development plan rendered as PDF and XLSX in the layout of the department's letter."""

from __future__ import annotations

import io
import logging
import re
from dataclasses import replace
from datetime import date

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from pypdf import PdfReader
from pypdf.generic import DictionaryObject
from pythainlp.tokenize import word_tokenize

from bot.documents.pdf import render_pdf
from bot.documents.plan_form import (
    COL_ABILITY,
    COL_ACTIVITY,
    COL_AREA,
    COL_HELP,
    COL_NUMBER,
    COL_PERIOD,
    COL_RESPONSIBLE,
    COL_SELF,
    NO_ROWS_TEXT,
    TITLE,
    PlanForm,
    PlanRow,
)
from bot.documents.xlsx import FIRST_DATA_ROW, HEADING_ROW, SHEET_TITLE, render_xlsx

HEADINGS = (
    COL_NUMBER,
    COL_AREA,
    COL_ACTIVITY,
    COL_ABILITY,
    COL_SELF,
    COL_HELP,
    COL_RESPONSIBLE,
    COL_PERIOD,
)
SUMMARY = (
    "สรุป : ๑. กิจกรรมที่ต้องดำเนินการพัฒนาด้วยตนเอง จำนวน ๓ กิจกรรม",
    "๒. กิจกรรมที่จะดำเนินการพัฒนาโดยขอความร่วมมือและขอรับการสนับสนุนจากหน่วยงานอื่น จำนวน ๑ กิจกรรม",
    "๓. เริ่มพัฒนาตนเองตั้งแต่เดือน ตุลาคม พ.ศ. ๒๕๖๙",
    "๔. พร้อมขอให้คณะกรรมการตรวจประเมินฯ ดำเนินการประเมินได้ ตั้งแต่วันที่ ๑๕ เดือน สิงหาคม พ.ศ. ๒๕๗๐",
)
EMPTY_SUMMARY = (
    "สรุป : ๑. กิจกรรมที่ต้องดำเนินการพัฒนาด้วยตนเอง จำนวน.....กิจกรรม",
    "๒. กิจกรรมที่จะดำเนินการพัฒนาโดยขอความร่วมมือและขอรับการสนับสนุนจากหน่วยงานอื่น จำนวน.....กิจกรรม",
    "๓. เริ่มพัฒนาตนเองตั้งแต่เดือน.....พ.ศ.....",
    "๔. พร้อมขอให้คณะกรรมการตรวจประเมินฯ ดำเนินการประเมินได้ ตั้งแต่วันที่.....เดือน.....พ.ศ.....",
)
LONG = ("การพัฒนาศักยภาพผู้นำสัมมาชีพชุมชนให้มีความรู้ความเข้าใจในการบริหารจัดการอาชีพ 😀👍🏽 " * 8)[:500]


def _row(number: int, area: str, component: str, activity: str, **fields: object) -> PlanRow:
    values: dict = {
        "by_self": "",
        "with_help": "",
        "responsible": "นายสมชาย ใจดี",
        "starts_on": date(2026, 10, 1),
        "ends_on": date(2026, 12, 31),
    } | fields
    return PlanRow(number=number, area=area, component=component, activity=activity, **values)


def _plan() -> PlanForm:
    rows = [
        _row(
            1,
            "ด้านการบริหารตนเอง",
            "การพัฒนาความรู้และทักษะของตนเอง",
            "เข้ารับการอบรมหลักสูตรการบริหารจัดการกลุ่มอาชีพ และศึกษาดูงาน 2 ครั้ง",
            by_self="ศึกษาด้วยตนเองจากเอกสารและสื่อออนไลน์ของกรมการพัฒนาชุมชน",
        ),
        _row(
            2,
            "ด้านการบริหารสังคม",
            "การสร้างทีมปราชญ์ชุมชน",
            "ประชุมคัดเลือกปราชญ์ชาวบ้านในตำบลหอคำ จำนวน 5 คน",
            with_help="สำนักงานพัฒนาชุมชนอำเภอเมืองบึงกาฬ ขอวิทยากรและค่าอาหารว่าง",
            responsible="ผู้ใหญ่บ้านหมู่ 3",
            starts_on=date(2027, 1, 5),
            ends_on=date(2027, 3, 31),
        ),
        _row(
            3,
            "ด้านการบริหารงาน",
            "การส่งเสริมอาชีพครัวเรือน",
            "ติดตามครัวเรือนให้มีอาชีพร้อยละ 85 และรายได้เพิ่มขึ้นร้อยละ 3",
            by_self="ออกเยี่ยมครัวเรือนเดือนละครั้ง",
            starts_on=date(2027, 4, 1),
            ends_on=date(2027, 7, 31),
        ),
        _row(
            4,
            "ด้านการบริหารงาน",
            "การจัดทำเอกสารสรุปผลงาน",
            "รวบรวมภาพถ่ายและจัดทำเอกสารสรุปผลงาน",
            by_self="จัดทำรูปเล่มด้วยตนเอง",
            starts_on=date(2027, 7, 1),
            ends_on=date(2027, 8, 10),
        ),
    ]
    return PlanForm(
        leader_name="นายสมชาย ใจดี",
        area_label="ต.หอคำ อ.เมืองบึงกาฬ จ.บึงกาฬ",
        fiscal_year=2570,
        rows=rows,
        ready_on=date(2027, 8, 15),
        status_label="ร่าง",
    )


def _stress_plan() -> PlanForm:
    rows = [
        _row(i, LONG, LONG, LONG, by_self=LONG, with_help=LONG, responsible=LONG)
        for i in range(1, 31)
    ]
    return PlanForm(leader_name="นายสมชาย 😀", area_label=LONG, fiscal_year=2570, rows=rows)


def _squash(text: str) -> str:
    """Text without whitespace: where the renderer broke lines is not what is asserted."""
    return re.sub(r"\s+", "", text)


def _thai(text: str) -> str:
    """Only the Thai letters, marks and digits of `text`.

    fpdf2 gives a ToUnicode entry only to the first glyph of a shaped cluster, and HarfBuzz draws
    ำ (sara am) as two extra glyphs, so pypdf reads their raw codes as stray characters such as
    '\x10' or '.'. Those codes are below U+0E00, so Thai text compares cleanly this way.
    """
    return re.sub(r"[^\u0e00-\u0e7f]", "", text)


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _pdf_fonts(data: bytes) -> list[DictionaryObject]:
    fonts = {}
    for page in PdfReader(io.BytesIO(data)).pages:
        for ref in page["/Resources"]["/Font"].values():
            fonts[ref.idnum] = ref.get_object()
    return list(fonts.values())


def _drawn_characters(data: bytes) -> set[str]:
    """Every character some glyph in the PDF stands for, from the fonts' ToUnicode maps."""
    drawn = set()
    for font in _pdf_fonts(data):
        cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
        for target in re.findall(r"<[0-9A-F]{4}> <([0-9A-F]+)>", cmap):
            drawn.update(bytes.fromhex(target).decode("utf-16-be"))
    return drawn


# PDF --------------------------------------------------------------------------------------------
def test_pdf_holds_the_letters_table_and_summary() -> None:
    data = render_pdf(_plan())
    text = _thai(_pdf_text(data))

    assert _thai(TITLE) in text
    assert _thai("(ชื่อ - สกุล นายสมชาย ใจดี)") in text
    assert _thai("ต.หอคำ อ.เมืองบึงกาฬ จ.บึงกาฬ  ปีงบประมาณ พ.ศ. ๒๕๗๐") in text
    for heading in HEADINGS:
        assert _thai(heading) in text, heading
    for area in ("ด้านการบริหารตนเอง", "ด้านการบริหารสังคม", "ด้านการบริหารงาน"):
        assert area in text
    assert "การสร้างทีมปราชญ์ชุมชน" in text
    assert "เข้ารับการอบรมหลักสูตรการบริหารจัดการกลุ่มอาชีพและศึกษาดูงาน๒ครั้ง" in text
    assert "ประชุมคัดเลือกปราชญ์ชาวบ้านในตำบลหอคำจำนวน๕คน" in text
    assert "ติดตามครัวเรือนให้มีอาชีพร้อยละ๘๕และรายได้เพิ่มขึ้นร้อยละ๓" in text
    assert "สำนักงานพัฒนาชุมชนอำเภอเมืองบึงกาฬขอวิทยากรและค่าอาหารว่าง" in text
    assert "ผู้ใหญ่บ้านหมู่๓" in text
    assert _thai("๑ ต.ค. ๖๙ – ๓๑ ธ.ค. ๖๙") in text
    assert _thai("๕ ม.ค. ๗๐ – ๓๑ มี.ค. ๗๐") in text
    for line in SUMMARY:
        assert _thai(line) in text, line
    drawn = _drawn_characters(data)
    assert {"๑", "๓", "๕", "๘"} <= drawn
    assert not drawn & set("0123456789"), "every number is written in Thai digits"


def test_pdf_is_a4_landscape_with_sarabun_embedded() -> None:
    data = render_pdf(_plan())
    page = PdfReader(io.BytesIO(data)).pages[0]

    assert float(page.mediabox.width) == pytest.approx(841.89, abs=1)
    assert float(page.mediabox.height) == pytest.approx(595.28, abs=1)
    fonts = _pdf_fonts(data)
    assert {str(font["/BaseFont"]).split("+")[-1] for font in fonts} == {"Sarabun", "SarabunBold"}
    for font in fonts:
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        assert "/FontFile2" in descriptor, (
            "the font is embedded, not looked up on the reader's system"
        )


def test_pdf_breaks_thai_lines_only_between_words() -> None:
    activity = "การพัฒนาคุณภาพชีวิตของประชาชนในชุมชนให้เข้มแข็งและพึ่งพาตนเองได้อย่างยั่งยืน" * 3
    form = replace(_plan(), rows=[_row(1, "ด้านการบริหารตนเอง", "องค์ประกอบ", activity)])
    text = _pdf_text(render_pdf(form))

    match = re.search(r"\s*".join(map(re.escape, activity)), text)
    assert match, "the activity is printed whole"
    breaks, offset = [], 0
    for char in match.group():
        if char.isspace():
            breaks.append(offset)
        else:
            offset += 1
    words, offset = set(), 0
    for word in word_tokenize(activity):
        offset += len(word)
        words.add(offset)
    assert len(set(breaks)) >= 3, "a long cell wraps over several lines"
    assert set(breaks) <= words, "lines break between words, never inside one"
    assert "\u200b" not in text and "\u25cc" not in text, "no zero-width marks or dotted circles"


def test_pdf_survives_long_text_emoji_and_many_rows(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        data = render_pdf(_stress_plan())
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)

    assert len(reader.pages) >= 5
    assert not [r for r in caplog.records if "missing" in r.getMessage()], "no missing glyphs"
    assert "😀" not in text, "Sarabun has no emoji, so they are left out"
    assert "การพัฒนาศักยภาพผู้นำสัมมาชีพชุมชน" in _thai(text)
    assert "จำนวน๓๐กิจกรรม" in _thai(text)
    assert "๓๐" in _thai(reader.pages[-2].extract_text() + reader.pages[-1].extract_text())


def test_pdf_of_an_empty_plan_shows_the_blank_form() -> None:
    form = PlanForm(leader_name="", area_label="", fiscal_year=2570)
    text = _pdf_text(render_pdf(form))

    assert _thai(TITLE) in _thai(text)
    assert _thai(COL_RESPONSIBLE) in _thai(text)
    assert NO_ROWS_TEXT in _thai(text)
    for line in EMPTY_SUMMARY:
        assert _thai(line) in _thai(text), line
    assert _squash(text).count(".....") >= 6, "the letter's dotted blanks for missing values"


# XLSX -------------------------------------------------------------------------------------------
def _sheet(form: PlanForm) -> Worksheet:
    return load_workbook(io.BytesIO(render_xlsx(form))).active


def _column(sheet: Worksheet, col: int, first: int, last: int) -> list[object]:
    return [sheet.cell(row, col).value for row in range(first, last + 1)]


def test_xlsx_has_the_letters_two_row_heading() -> None:
    sheet = _sheet(_plan())
    top, sub = HEADING_ROW, HEADING_ROW + 1
    merged = {str(cells) for cells in sheet.merged_cells.ranges}

    assert sheet.title == SHEET_TITLE
    assert sheet.cell(1, 1).value == TITLE
    assert sheet.cell(2, 1).value == "(ชื่อ - สกุล นายสมชาย ใจดี)"
    assert sheet.cell(3, 1).value == "ต.หอคำ อ.เมืองบึงกาฬ จ.บึงกาฬ  ปีงบประมาณ พ.ศ. ๒๕๗๐"
    assert f"D{top}:E{top}" in merged, "ความสามารถฯ spans its two sub-columns"
    for col in "ABCFG":
        assert f"{col}{top}:{col}{sub}" in merged, "the other headings span both heading rows"
    assert [sheet.cell(top, col).value for col in (1, 2, 3, 4, 6, 7)] == [
        COL_NUMBER,
        COL_AREA,
        COL_ACTIVITY,
        COL_ABILITY,
        COL_RESPONSIBLE,
        COL_PERIOD,
    ]
    assert [sheet.cell(sub, 4).value, sheet.cell(sub, 5).value] == [COL_SELF, COL_HELP]
    assert sheet.cell(top, 1).font.name == "Sarabun"
    assert sheet.cell(top, 1).font.b
    assert sheet.print_title_rows == f"${top}:${sub}"
    assert sheet.page_setup.orientation == "landscape"
    assert int(sheet.page_setup.paperSize) == int(sheet.PAPERSIZE_A4)


def test_xlsx_rows_and_summary_in_thai_digits() -> None:
    sheet = _sheet(_plan())
    last = FIRST_DATA_ROW + 3

    assert _column(sheet, 1, FIRST_DATA_ROW, last) == ["๑", "๒", "๓", "๔"]
    assert _column(sheet, 2, FIRST_DATA_ROW, FIRST_DATA_ROW + 1) == [
        "ด้านการบริหารตนเอง\nการพัฒนาความรู้และทักษะของตนเอง",
        "ด้านการบริหารสังคม\nการสร้างทีมปราชญ์ชุมชน",
    ]
    assert sheet.cell(FIRST_DATA_ROW + 2, 3).value == (
        "ติดตามครัวเรือนให้มีอาชีพร้อยละ ๘๕ และรายได้เพิ่มขึ้นร้อยละ ๓"
    )
    help_row = FIRST_DATA_ROW + 1
    assert sheet.cell(help_row, 4).value is None
    assert sheet.cell(help_row, 5).value.startswith("สำนักงานพัฒนาชุมชนอำเภอเมืองบึงกาฬ")
    assert sheet.cell(help_row, 6).value == "ผู้ใหญ่บ้านหมู่ ๓"
    assert sheet.cell(FIRST_DATA_ROW, 7).value == "๑ ต.ค. ๖๙ – ๓๑ ธ.ค. ๖๙"
    cell = sheet.cell(FIRST_DATA_ROW, 3)
    assert cell.alignment.wrap_text and cell.alignment.vertical == "top"
    assert cell.border.left.style == "thin" and cell.font.name == "Sarabun"

    texts = [str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None]
    summary_at = texts.index(SUMMARY[0])
    assert tuple(texts[summary_at : summary_at + 4]) == SUMMARY
    assert not [t for t in texts if re.search(r"[0-9]", t)], "every number is in Thai digits"


def test_xlsx_survives_long_text_emoji_and_many_rows() -> None:
    sheet = _sheet(_stress_plan())
    last = FIRST_DATA_ROW + 29

    assert _column(sheet, 1, last - 1, last) == ["๒๙", "๓๐"]
    assert sheet.cell(last, 3).value.startswith("การพัฒนาศักยภาพผู้นำสัมมาชีพชุมชน")
    assert 100 < sheet.row_dimensions[last].height <= 409.5, "room for wrapped text, within Excel"


def test_xlsx_of_an_empty_plan_shows_the_blank_form() -> None:
    sheet = _sheet(PlanForm(leader_name="", area_label="", fiscal_year=2570))
    texts = [str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None]

    assert "(ชื่อ - สกุล.....)" in texts
    assert COL_PERIOD in texts
    assert NO_ROWS_TEXT in texts
    summary_at = texts.index(EMPTY_SUMMARY[0])
    assert tuple(texts[summary_at : summary_at + 4]) == EMPTY_SUMMARY

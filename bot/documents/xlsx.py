"""The self-development plan as an XLSX sheet in the letter's table layout (openpyxl).

Spreadsheet programs break Thai lines at word boundaries themselves, so cells only get wrap text;
row heights are estimated here because wrapped rows next to merged cells are not auto-fitted.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Sequence
from io import BytesIO

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

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
    SUMMARY_LABEL,
    TITLE,
    PlanForm,
    PlanRow,
    name_line,
    period_text,
    status_line,
    summary_lines,
    thai_digits,
    year_line,
)

SHEET_TITLE = "แผนพัฒนาตนเอง"
FONT_NAME = "Sarabun"
BODY_PT = 12
# ที่, ด้าน/องค์ประกอบ, แนวทาง, พัฒนาด้วยตนเอง, ขอความร่วมมือ, ผู้รับผิดชอบ, ระยะเวลา.
COL_WIDTHS = (6, 28, 34, 30, 30, 18, 22)
NCOLS = len(COL_WIDTHS)
HEADING_ROW = 5  # rows 1-4: title, name, area and year, status
FIRST_DATA_ROW = HEADING_ROW + 2
# From Sarabun's metrics: a 12 pt line is 22 pt tall (usWinAscent + usWinDescent = 1.85 em) and
# a Thai letter averages 0.55 em, about 0.8 of the width unit (a Calibri '0', 5.25 pt).
LINE_PT = 22
CHARS_PER_WIDTH_UNIT = 0.8
MAX_ROW_PT = 409.5  # Excel's limit; a taller row makes it "repair" the file

THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADING_FILL = PatternFill("solid", fgColor="E6E6E6")
BODY = Font(name=FONT_NAME, size=BODY_PT)
BOLD = Font(name=FONT_NAME, size=BODY_PT, bold=True)
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
WRAP_TOP_CENTER = Alignment(wrap_text=True, horizontal="center", vertical="top")
WRAP_CENTER = Alignment(wrap_text=True, horizontal="center", vertical="center")


def render_xlsx(form: PlanForm) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET_TITLE
    for col, width in enumerate(COL_WIDTHS, 1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    _write_header(sheet, form)
    _write_headings(sheet)
    last = _write_rows(sheet, form)
    last = _write_summary(sheet, form, last + 2)
    _set_up_printing(sheet, last)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _write_header(sheet: Worksheet, form: PlanForm) -> None:
    lines = (
        (TITLE, Font(name=FONT_NAME, size=BODY_PT + 4, bold=True), "center"),
        (_clean(name_line(form)), BODY, "center"),
        (_clean(year_line(form)), BODY, "center"),
        (_clean(status_line(form)), Font(name=FONT_NAME, size=BODY_PT - 2), "right"),
    )
    for row, (text, font, align) in enumerate(lines, 1):
        cell = _merged(sheet, row, 1, row, NCOLS, text)
        cell.font = font
        cell.alignment = Alignment(horizontal=align, vertical="center")
        sheet.row_dimensions[row].height = LINE_PT * font.size / BODY_PT


def _write_headings(sheet: Worksheet) -> None:
    top, sub = HEADING_ROW, HEADING_ROW + 1
    for col, text in ((1, COL_NUMBER), (2, COL_AREA), (3, COL_ACTIVITY)):
        _merged(sheet, top, col, sub, col, text)
    _merged(sheet, top, 4, top, 5, COL_ABILITY)
    sheet.cell(sub, 4, COL_SELF)
    sheet.cell(sub, 5, COL_HELP)
    for col, text in ((6, COL_RESPONSIBLE), (7, COL_PERIOD)):
        _merged(sheet, top, col, sub, col, text)
    for row in (top, sub):
        for col in range(1, NCOLS + 1):
            cell = sheet.cell(row, col)
            cell.font, cell.alignment, cell.border, cell.fill = BOLD, WRAP_CENTER, BOX, HEADING_FILL
    sheet.row_dimensions[top].height = _height((COL_ABILITY,), (4,))
    sheet.row_dimensions[sub].height = _height((COL_SELF, COL_HELP), (4, 5))


def _write_rows(sheet: Worksheet, form: PlanForm) -> int:
    """Write one sheet row per plan row; returns the last row written."""
    if not form.rows:
        cell = _merged(sheet, FIRST_DATA_ROW, 1, FIRST_DATA_ROW, NCOLS, NO_ROWS_TEXT)
        for col in range(1, NCOLS + 1):
            sheet.cell(FIRST_DATA_ROW, col).border = BOX
        cell.font, cell.alignment = BODY, WRAP_CENTER
        return FIRST_DATA_ROW
    for row, plan_row in enumerate(form.rows, FIRST_DATA_ROW):
        texts = _cells(plan_row)
        for col, text in enumerate(texts, 1):
            cell = sheet.cell(row, col, text)
            cell.font, cell.border = BODY, BOX
            cell.alignment = WRAP_TOP_CENTER if col in (1, NCOLS) else WRAP_TOP
        sheet.row_dimensions[row].height = _height(texts, range(1, NCOLS + 1))
    return FIRST_DATA_ROW + len(form.rows) - 1


def _cells(row: PlanRow) -> list[str]:
    texts = [
        row.area + "\n" + row.component,
        row.activity,
        row.by_self,
        row.with_help,
        row.responsible,
    ]
    # Text, not numbers: the form's numbering is in Thai digits like the rest of the letter.
    return [thai_digits(str(row.number)), *(_clean(text) for text in texts), period_text(row)]


def _write_summary(sheet: Worksheet, form: PlanForm, first: int) -> int:
    """Write the summary block from row `first`; returns its last row."""
    lines = summary_lines(form)
    for row, line in enumerate(lines, first):
        text = f"{SUMMARY_LABEL} {line}" if row == first else line
        cell = _merged(sheet, row, 1, row, NCOLS, text)
        cell.font = BODY
        # The later items sit under the first item, past the 'สรุป :' label, as in the letter.
        cell.alignment = Alignment(
            horizontal="left", vertical="center", indent=0 if row == first else 3
        )
        sheet.row_dimensions[row].height = LINE_PT
    return first + len(lines) - 1


def _set_up_printing(sheet: Worksheet, last_row: int) -> None:
    sheet.page_setup.orientation = sheet.ORIENTATION_LANDSCAPE
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.print_title_rows = f"{HEADING_ROW}:{HEADING_ROW + 1}"
    sheet.print_area = f"A1:{get_column_letter(NCOLS)}{last_row}"
    sheet.print_options.horizontalCentered = True
    sheet.freeze_panes = sheet.cell(FIRST_DATA_ROW, 1)


def _merged(sheet: Worksheet, row: int, col: int, end_row: int, end_col: int, text: str) -> Cell:
    if (row, col) != (end_row, end_col):
        sheet.merge_cells(start_row=row, start_column=col, end_row=end_row, end_column=end_col)
    return sheet.cell(row, col, text or None)


def _height(texts: Sequence[str], cols: Iterable[int]) -> float:
    """Points for a row whose tallest wrapped cell decides, estimated from letters per line."""
    lines = 1
    for text, col in zip(texts, cols, strict=True):
        per_line = max(1, int(COL_WIDTHS[col - 1] * CHARS_PER_WIDTH_UNIT))
        wrapped = sum(
            max(1, math.ceil(_spacing_letters(part) / per_line)) for part in text.split("\n")
        )
        lines = max(lines, wrapped)
    return min(lines * LINE_PT + 4, MAX_ROW_PT)


def _spacing_letters(text: str) -> int:
    """Letters that take width: Thai vowels and tone marks above or below a letter take none."""
    return sum(1 for char in text if not unicodedata.category(char).startswith("M"))


def _clean(text: str) -> str:
    """User text in Thai digits, without control characters that XLSX cannot store."""
    text = thai_digits(text.replace("\r\n", "\n").replace("\r", "\n"))
    return "".join(char for char in text if char in "\n\t" or unicodedata.category(char) != "Cc")

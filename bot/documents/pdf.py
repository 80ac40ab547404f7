"""The self-development plan as an A4 landscape PDF in the letter's table layout.

fpdf2 with HarfBuzz shaping places Thai tone marks and vowels; Sarabun comes from the
`fontpkg-sarabun` package so the output never depends on the host's fonts. Thai has no spaces
between words and fpdf2 only breaks at spaces, so cells are wrapped here at pythainlp's word
boundaries and handed to the table as explicit lines.

`DocumentPDF` (fonts and shaping), `fit_lines` (Thai wrapping), `printable` and `write_plan` are
shared with the summary document (`bot.documents.summary`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from functools import cache

from fontpkg_sarabun import ROOT
from fontTools.ttLib import TTFont
from fpdf import FPDF, FontFace
from pythainlp.tokenize import word_tokenize

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
    short_date,
    status_line,
    summary_lines,
    thai_digits,
    year_line,
)

FONT_DIR = ROOT / "files"
FAMILY = "Sarabun"
MARGIN_MM = 12
BODY_PT = 11
TITLE_PT = 15
# Sarabun's stacked marks (e.g. ปี่) need more leading than Latin text.
LINE_MM = BODY_PT * 0.3528 * 1.5
PAD_X_MM = 1.5
PAD_Y_MM = 1.0
# ที่, ด้าน/องค์ประกอบ, แนวทาง, พัฒนาด้วยตนเอง, ขอความร่วมมือ, ผู้รับผิดชอบ, ระยะเวลา: 273 mm.
COL_WIDTHS_MM = (11, 44, 56, 52, 52, 27, 31)
ALIGNS = ("CENTER", "LEFT", "LEFT", "LEFT", "LEFT", "LEFT", "CENTER")
HEADINGS_STYLE = FontFace(emphasis="BOLD", fill_color=(230, 230, 230))
# fpdf2 measures with floats and would re-wrap a line that fits only to the last hundredth.
FIT_SLACK_MM = 0.5


class DocumentPDF(FPDF):
    """An A4 page in Sarabun with HarfBuzz shaping; shared by the plan and the summary document."""

    def __init__(self, orientation: str = "portrait", title: str = TITLE) -> None:
        super().__init__(orientation=orientation, unit="mm", format="A4")
        self._widths: dict[tuple[str, float, str], float] = {}
        self.add_font(FAMILY, "", FONT_DIR / "Sarabun-Regular.ttf")
        self.add_font(FAMILY, "B", FONT_DIR / "Sarabun-Bold.ttf")
        self.set_text_shaping(True)
        self.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
        self.set_auto_page_break(True, margin=MARGIN_MM + 2)
        self.set_title(title)
        self.set_lang("th")

    def word_width(self, word: str) -> float:
        """A word's width, remembered: shaping every word of every candidate line is slow."""
        key = (self.font_style, self.font_size_pt, word)
        if key not in self._widths:
            self._widths[key] = self.get_string_width(word)
        return self._widths[key]


class _PlanPDF(DocumentPDF):
    def __init__(self) -> None:
        super().__init__(orientation="landscape")

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(FAMILY, size=9)
        self.cell(0, 5, f"หน้า {thai_digits(str(self.page_no()))}", align="R")


def render_pdf(form: PlanForm) -> bytes:
    pdf = _PlanPDF()
    pdf.add_page()
    write_plan(pdf, form)
    return bytes(pdf.output())


def write_plan(pdf: DocumentPDF, form: PlanForm) -> None:
    """The letter's plan form from the current position of a landscape page."""
    _write_header(pdf, form)
    _write_table(pdf, form)
    _write_summary(pdf, form)


def _write_header(pdf: DocumentPDF, form: PlanForm) -> None:
    status = status_line(form)
    if status:
        pdf.set_font(FAMILY, size=9)
        pdf.cell(0, 4, _drawable(status), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "B", TITLE_PT)
    pdf.cell(0, 9, TITLE, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, size=BODY_PT + 2)
    width = pdf.epw - 2 * pdf.c_margin - FIT_SLACK_MM
    for line in (name_line(form), year_line(form)):
        text = _join(fit_lines(pdf, _drawable(line), width))
        pdf.multi_cell(0, LINE_MM + 1, text, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def _write_table(pdf: DocumentPDF, form: PlanForm) -> None:
    pdf.set_font(FAMILY, "B", BODY_PT)
    number, area, activity, responsible, period = (
        fit_lines(pdf, text, _inner_width(col))
        for col, text in (
            (0, COL_NUMBER),
            (1, COL_AREA),
            (2, COL_ACTIVITY),
            (5, COL_RESPONSIBLE),
            (6, COL_PERIOD),
        )
    )
    ability = fit_lines(pdf, COL_ABILITY, _inner_width(3, span=2))
    by_self, with_help = (
        fit_lines(pdf, COL_SELF, _inner_width(3)),
        fit_lines(pdf, COL_HELP, _inner_width(4)),
    )
    heading_lines = max(
        *(len(lines) for lines in (number, area, activity, responsible, period)),
        len(ability) + max(len(by_self), len(with_help)),
    )
    pdf.set_font(FAMILY, size=BODY_PT)
    with pdf.table(
        col_widths=COL_WIDTHS_MM,
        width=sum(COL_WIDTHS_MM),
        align="LEFT",
        text_align=ALIGNS,
        v_align="TOP",
        line_height=LINE_MM,
        padding=(PAD_Y_MM, PAD_X_MM),
        headings_style=HEADINGS_STYLE,
        num_heading_rows=2,
        repeat_headings=1,
    ) as table:
        top = table.row(v_align="MIDDLE")
        for lines in (number, area, activity):
            top.cell(_join(lines), align="CENTER", rowspan=2)
        top.cell(_join(ability), align="CENTER", colspan=2)
        for lines in (responsible, period):
            top.cell(_join(lines), align="CENTER", rowspan=2)
        sub = table.row(v_align="MIDDLE")
        for lines in (by_self, with_help):
            sub.cell(_join(lines), align="CENTER")

        if not form.rows:
            table.row().cell(NO_ROWS_TEXT, align="CENTER", colspan=len(COL_WIDTHS_MM))
        capacity = _lines_per_page(pdf, heading_lines)
        for row in form.rows:
            for chunk in _chunks(_row_lines(pdf, row), capacity):
                cells = table.row()
                for lines in chunk:
                    cells.cell(_join(lines))


def _write_summary(pdf: DocumentPDF, form: PlanForm) -> None:
    pdf.set_font(FAMILY, "B", BODY_PT + 1)
    label = f"{SUMMARY_LABEL} "
    indent = pdf.get_string_width(label)
    lines = summary_lines(form)
    block_mm = 3 + len(lines) * (LINE_MM + 1)
    # The summary is one block in the letter: never leave it split over two pages.
    if pdf.will_page_break(block_mm):
        pdf.add_page()
    pdf.ln(3)
    pdf.cell(indent, LINE_MM + 1, label)
    pdf.set_font(FAMILY, size=BODY_PT + 1)
    for line in lines:
        pdf.set_x(MARGIN_MM + indent)
        pdf.cell(0, LINE_MM + 1, line, new_x="LMARGIN", new_y="NEXT")


def _row_lines(pdf: DocumentPDF, row: PlanRow) -> list[list[str]]:
    """Each cell of a plan row as the lines it will print, in column order."""
    start, end = short_date(row.starts_on), short_date(row.ends_on)
    one_line = f"{start} – {end}"
    period = [one_line] if _fits(pdf, one_line, 6) else [f"{start} –", end]
    texts = (
        row.area + "\n" + row.component,
        row.activity,
        row.by_self,
        row.with_help,
        row.responsible,
    )
    return [
        [thai_digits(str(row.number))],
        *(fit_lines(pdf, _drawable(text), _inner_width(col)) for col, text in enumerate(texts, 1)),
        period,
    ]


def _chunks(cells: list[list[str]], capacity: int) -> Iterator[list[list[str]]]:
    """Split a row taller than a page into rows of at most `capacity` lines.

    fpdf2 moves a whole row to the next page and refuses one taller than a page, so a very long
    cell is continued in a further row (number left blank) on the next page instead.
    """
    height = max(len(lines) for lines in cells)
    for start in range(0, height, capacity):
        chunk = [lines[start : start + capacity] for lines in cells]
        if start:
            chunk[0] = []
        yield chunk


def _lines_per_page(pdf: DocumentPDF, heading_lines: int) -> int:
    heading_mm = heading_lines * LINE_MM + 4 * PAD_Y_MM
    usable_mm = pdf.page_break_trigger - pdf.t_margin - heading_mm - 2 * PAD_Y_MM
    return max(1, int(usable_mm / LINE_MM) - 1)


def _inner_width(col: int, span: int = 1) -> float:
    return sum(COL_WIDTHS_MM[col : col + span]) - 2 * PAD_X_MM - FIT_SLACK_MM


def _fits(pdf: DocumentPDF, text: str, col: int) -> bool:
    return pdf.get_string_width(text) <= _inner_width(col)


def _join(lines: list[str]) -> str:
    return "\n".join(lines)


def fit_lines(pdf: DocumentPDF, text: str, width: float) -> list[str]:
    """Break `text` into lines no wider than `width`, between Thai words where possible."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(_fit_paragraph(pdf, paragraph, width))
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _fit_paragraph(pdf: DocumentPDF, paragraph: str, width: float) -> list[str]:
    lines: list[str] = []
    line, line_width = "", 0.0
    for piece in _pieces(pdf, paragraph, width):
        piece_width = pdf.word_width(piece)
        if line and line_width + piece_width > width:
            lines.append(line.rstrip())
            line, line_width = "", 0.0
            if piece.isspace():
                continue
        line, line_width = line + piece, line_width + piece_width
    lines.append(line.rstrip())
    # Summed word widths can differ from the shaped line by a hair; a line fpdf2 re-wraps would
    # break the page arithmetic, so any such line is split once more on its real width.
    return [part for line in lines for part in _split_if_wide(pdf, line, width)]


def _split_if_wide(pdf: DocumentPDF, line: str, width: float) -> list[str]:
    if pdf.get_string_width(line) <= width:
        return [line]
    words = list(_pieces(pdf, line, width))
    for cut in range(len(words) - 1, 0, -1):
        head = "".join(words[:cut]).rstrip()
        if pdf.get_string_width(head) <= width:
            return [head, *_split_if_wide(pdf, "".join(words[cut:]).lstrip(), width)]
    return [line]


def _pieces(pdf: DocumentPDF, paragraph: str, width: float) -> Iterator[str]:
    """pythainlp's words, with any word wider than a line cut between character clusters."""
    for word in word_tokenize(paragraph, keep_whitespace=True):
        if pdf.word_width(word) <= width:
            yield word
            continue
        part = ""
        for cluster in _clusters(word):
            if part and pdf.get_string_width(part + cluster) > width:
                yield part
                part = ""
            part += cluster
        yield part


def _clusters(word: str) -> Iterator[str]:
    """Base characters with their marks, so a cut never strands a tone mark or vowel."""
    cluster = ""
    for char in word:
        if cluster and unicodedata.category(char).startswith("M"):
            cluster += char
            continue
        if cluster:
            yield cluster
        cluster = char
    if cluster:
        yield cluster


def _drawable(text: str) -> str:
    """User text in Thai digits, without what Sarabun cannot draw (emoji, zero-width joiners)."""
    return printable(thai_digits(text))


def printable(text: str) -> str:
    """User text without what Sarabun cannot draw (emoji, zero-width joiners), tabs as spaces."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    glyphs = _sarabun_chars()
    return "".join(char for char in text if char == "\n" or ord(char) in glyphs)


@cache
def _sarabun_chars() -> frozenset[int]:
    chars = []
    for name in ("Sarabun-Regular.ttf", "Sarabun-Bold.ttf"):
        with TTFont(FONT_DIR / name, lazy=True) as font:
            chars.append(frozenset(font.getBestCmap()))
    return chars[0] & chars[1]

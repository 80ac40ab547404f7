"""The leader's summary document (เอกสารสรุปผลงาน) for the provincial committee, as a PDF."""

from __future__ import annotations

import logging
import math
import re
import shutil
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from pypdf import PageObject, PdfReader
from pypdf.generic import DictionaryObject
from pythainlp.tokenize import word_tokenize

from bot.documents.pdf import FAMILY, MARGIN_MM, DocumentPDF
from bot.documents.plan_form import PlanForm, PlanRow
from bot.documents.summary import (
    BAR_MM,
    BLOCK_GAP_MM,
    FIGURES_HEADING,
    GAP_MM,
    NO_ACTIVITIES,
    NOT_PASSED,
    NOT_RECORDED,
    OPINION_HEADING,
    PASSED,
    PHOTO_ROW_MM,
    SECTION_MM,
    SUBTITLE,
    TABLE_LINE_MM,
    TABLE_PAD_MM,
    TEXT_LINE_MM,
    TEXT_PT,
    TITLE,
    SummaryActivity,
    SummaryDoc,
    SummaryFigures,
    SummaryPhoto,
    render_summary,
)

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
# Photos per activity: none, one, a full grid, more than the grid holds (only four are drawn).
PHOTO_COUNTS = (4, 0, 1, 6, 4, 2, 0, 3, 4, 1, 6, 0, 4, 2, 1, 4, 0, 3, 6, 1)
STATES = ("ยังไม่เริ่ม", "กำลังดำเนินการ", "เสร็จแล้ว")
CAPTION_END = "ท้ายคำบรรยายที่ถูกตัด"
LONG_CAPTION = "ประชุมชี้แจงครัวเรือนเป้าหมายเรื่องการทำบัญชีครัวเรือนและการออมเงิน " * 4 + CAPTION_END
MONTHS = (
    "มกราคม",
    "กุมภาพันธ์",
    "มีนาคม",
    "เมษายน",
    "พฤษภาคม",
    "มิถุนายน",
    "กรกฎาคม",
    "สิงหาคม",
    "กันยายน",
    "ตุลาคม",
    "พฤศจิกายน",
    "ธันวาคม",
)
A4_PORTRAIT = (595.28, 841.89)  # points
PAGE_BOTTOM_MM = 297 - (MARGIN_MM + 2)  # where the body stops: the auto page break's margin


# Data -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def photo_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """80 distinct JPEGs like the re-encoded uploads: 1024 px on the long side, every one different.

    fpdf2 would embed identical files once, so each has its own colour, noise and a marked corner.
    """
    folder = tmp_path_factory.mktemp("photos")
    paths = []
    for index in range(80):
        size = (768, 1024) if index % 5 == 0 else (1024, 768)  # some portrait photos too
        colour = ((index * 53) % 256, (index * 97) % 256, (index * 151) % 256)
        noise = Image.effect_noise((size[0] // 8, size[1] // 8), 60).resize(size).convert("RGB")
        image = Image.blend(Image.new("RGB", size, colour), noise, 0.35)
        ImageDraw.Draw(image).rectangle(
            (index * 8, index * 5, index * 8 + 200, index * 5 + 150), fill=(255 - colour[0], 40, 90)
        )
        path = folder / f"photo-{index:02d}.jpg"
        image.save(path, format="JPEG", quality=85)
        paths.append(path)
    return paths


def _plan() -> PlanForm:
    def row(number: int, area: str, component: str, activity: str, **fields: object) -> PlanRow:
        values: dict = {
            "by_self": "",
            "with_help": "",
            "responsible": "นางสมศรี ใจดี",
            "starts_on": date(2026, 10, 1),
            "ends_on": date(2026, 12, 31),
        } | fields
        return PlanRow(number, area, component, activity, **values)

    return PlanForm(
        leader_name="นางสมศรี ใจดี",
        area_label="ต.หอคำ อ.เมืองบึงกาฬ จ.บึงกาฬ",
        fiscal_year=2570,
        rows=[
            row(1, "ด้านการบริหารตนเอง", "การพัฒนาความรู้", "อบรมหลักสูตรผู้นำ", by_self="ศึกษาเอง"),
            row(2, "ด้านการบริหารสังคม", "ทีมปราชญ์", "ตั้งทีมปราชญ์ 5 คน", with_help="อำเภอ"),
            row(3, "ด้านการบริหารงาน", "อาชีพครัวเรือน", "ติดตามครัวเรือน", by_self="เยี่ยมบ้าน"),
        ],
        ready_on=date(2027, 8, 15),
        status_label="อนุมัติแล้ว",
    )


def _caption(number: int, index: int) -> str | None:
    if number == 3 and index == 0:
        return LONG_CAPTION
    if (number + index) % 4 == 3:
        return None
    return f"ภาพที่ {index + 1} ของกิจกรรม {number} การอบรมอาชีพ"


def _taken_on(number: int, index: int) -> date | None:
    return None if (number + index) % 5 == 4 else date(2027, 1 + number % 9, 1 + index)


def _activity(number: int, photos: list[SummaryPhoto]) -> SummaryActivity:
    return SummaryActivity(
        number=number,
        area=f"ด้านการบริหารงาน › การส่งเสริมอาชีพ {number}",
        activity=f"อบรมการทำน้ำพริกแกงครั้งที่ {number}",
        state=STATES[number % 3],
        period=f"{number} ม.ค. 70 – {number} มี.ค. 70",
        note=f"อบรมแล้ว {number} รุ่น ผู้เข้าร่วมพึงพอใจ" if number % 2 else None,
        evidence_count=len(photos) + number % 3,
        photos=photos,
    )


def _doc(activities: list[SummaryActivity]) -> SummaryDoc:
    return SummaryDoc(
        leader_name="นางสมศรี ใจดี",
        subdistrict="หอคำ",
        district="เมืองบึงกาฬ",
        province="บึงกาฬ",
        fiscal_year=2570,
        plan=_plan(),
        activities=activities,
        figures=SummaryFigures(
            households_trained=1200,
            households_with_occupation=1050,
            income_before=Decimal("45000"),
            income_after=Decimal("47000.50"),
        ),
        opinion="ผู้นำมีความตั้งใจ เห็นควรเสนอคณะกรรมการรับรอง",
        opinion_by="นายพัฒนา ชุมชนดี",
        opinion_on=date(2027, 7, 1),
        made_on=date(2027, 7, 20),
    )


def _mixed_doc(photo_files: list[Path]) -> SummaryDoc:
    files = iter(photo_files)
    activities = [
        _activity(
            number,
            [
                SummaryPhoto(next(files), _taken_on(number, index), _caption(number, index))
                for index in range(count)
            ],
        )
        for number, count in enumerate(PHOTO_COUNTS, 1)
    ]
    return _doc(activities)


# Reading the PDF --------------------------------------------------------------------------------
def _plain(text: str) -> str:
    """Text without whitespace and the stray control codes pypdf reads after a shaped ำ."""
    return re.sub(r"[\s\x00-\x1f]+", "", text)


def _page_texts(reader: PdfReader) -> list[str]:
    return [page.extract_text() for page in reader.pages]


def _images(page: PageObject) -> list[DictionaryObject]:
    xobjects = page["/Resources"].get("/XObject", {})
    found = [ref.get_object() for ref in xobjects.values()]
    return [xobject for xobject in found if xobject["/Subtype"] == "/Image"]


def _image_count(reader: PdfReader) -> int:
    """Distinct image objects over all pages."""
    ids = set()
    for page in reader.pages:
        for ref in page["/Resources"].get("/XObject", {}).values():
            if ref.get_object()["/Subtype"] == "/Image":
                ids.add(ref.idnum)
    return len(ids)


def _is_portrait(page: PageObject) -> bool:
    return float(page.mediabox.height) > float(page.mediabox.width)


def _expected_pages(doc: SummaryDoc, plan_pages: int) -> int:
    """The page count by the layout rules, for a doc whose every field fits on one line.

    Cover, the plan, then blocks from the top of a portrait page below the section heading: an
    activity (bar, fields, evidence line, photo rows of two), the figures (heading and a table of
    seven one-line rows) and the opinion. A block that does not fit below starts a new page.
    """
    pages = 1 + plan_pages + 1
    y = fresh = MARGIN_MM + SECTION_MM

    def place(height: float) -> None:
        nonlocal pages, y, fresh
        if y + height > PAGE_BOTTOM_MM and y > fresh:
            pages += 1
            y = fresh = MARGIN_MM
        y += height + BLOCK_GAP_MM

    for activity in doc.activities:
        lines = 4 + (1 if activity.note else 0) + 1  # the fields, the note, the evidence line
        rows = math.ceil(min(len(activity.photos), 4) / 2)
        photos = GAP_MM + rows * PHOTO_ROW_MM if rows else 0
        place(BAR_MM + GAP_MM + lines * TEXT_LINE_MM + photos)
    place(SECTION_MM + 7 * (TABLE_LINE_MM + 2 * TABLE_PAD_MM))
    if doc.opinion:
        place(SECTION_MM + TEXT_LINE_MM + GAP_MM + 2 * TEXT_LINE_MM)
    return pages


@pytest.fixture(scope="module")
def mixed(
    photo_files: list[Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[SummaryDoc, int, PdfReader]:
    doc = _mixed_doc(photo_files)
    out = tmp_path_factory.mktemp("summary") / "summary.pdf"
    pages = render_summary(doc, out)
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copyfile(out, ARTIFACTS / "summary-sample.pdf")  # for people to look at
    return doc, pages, PdfReader(out)


# Tests ------------------------------------------------------------------------------------------
def test_summary_holds_cover_activities_figures_and_opinion(
    mixed: tuple[SummaryDoc, int, PdfReader],
) -> None:
    doc, pages, reader = mixed
    texts = _page_texts(reader)
    cover, text = _plain(texts[0]), _plain("\n".join(texts))

    for part in (
        TITLE,
        SUBTITLE,
        "นางสมศรี ใจดี",
        "ตำบลหอคำ อำเภอเมืองบึงกาฬ จังหวัดบึงกาฬ",
        "ปีงบประมาณ พ.ศ. 2570",
        "วันที่จัดทำ 20 กรกฎาคม 2570",
    ):
        assert _plain(part) in cover, part
    assert _plain("แผนการพัฒนาตนเอง สำหรับผู้นำสัมมาชีพชุมชน") in _plain(texts[1])
    assert "ตั้งทีมปราชญ์๕คน" in _plain(texts[1]), "the plan form keeps the letter's Thai digits"

    for activity in doc.activities:
        for part in (activity.area, activity.activity, activity.state, activity.period):
            assert _plain(part) in text, part
        if activity.note:
            assert _plain(activity.note) in text
        assert _plain(f"หลักฐานทั้งหมด {activity.evidence_count} รายการ") in text
    assert _plain("(แสดงภาพถ่าย 4 ภาพ)") in text
    assert text.count("ความก้าวหน้า") == sum(1 for a in doc.activities if a.note)

    dated = 0
    for photo in (photo for activity in doc.activities for photo in activity.photos[:4]):
        if photo.caption and photo.caption != LONG_CAPTION:
            assert _plain(photo.caption) in text
        if photo.taken_on:
            day = photo.taken_on
            be_date = f"วันที่ {day.day} {MONTHS[day.month - 1]} {day.year + 543}"
            assert _plain(be_date) in text, "photo dates in Thai BE"
            dated += 1
    assert dated >= 30
    for photo in (photo for activity in doc.activities for photo in activity.photos[4:]):
        assert not photo.caption or _plain(photo.caption) not in text, "at most four photos"
    assert _plain(LONG_CAPTION[:30]) in text
    assert _plain(CAPTION_END) not in text and "…" in text, "a caption is clipped to two lines"

    assert _plain(FIGURES_HEADING) in text
    assert _plain("ครัวเรือนที่ได้รับการฝึกอบรม 1,200 ครัวเรือน") in text
    assert _plain("ครัวเรือนที่มีอาชีพ 1,050 ครัวเรือน") in text
    assert _plain("สัดส่วนครัวเรือนที่มีอาชีพ ร้อยละ 87.5 ไม่น้อยกว่าร้อยละ 85 ผ่านเป้าหมาย") in text
    assert _plain("45,000 บาท/ปี") in text and _plain("47,000.50 บาท/ปี") in text
    assert _plain("เพิ่มขึ้นร้อยละ 4.44 เพิ่มขึ้นไม่น้อยกว่าร้อยละ 3 ผ่านเป้าหมาย") in text
    assert NOT_PASSED not in text and NOT_RECORDED not in text

    assert _plain(OPINION_HEADING) in text
    assert _plain("ผู้นำมีความตั้งใจ เห็นควรเสนอคณะกรรมการรับรอง") in text
    assert _plain("ผู้ให้ความเห็น นายพัฒนา ชุมชนดี") in text
    assert _plain("วันที่ 1 กรกฎาคม 2570") in text

    assert not re.search(r"[๐-๙]", "".join(texts[:1] + texts[2:])), "Arabic digits outside the plan"
    for number, page_text in enumerate(texts, 1):
        assert f"หน้า {number}/{pages}" in page_text


def test_summary_layout_pages_and_photos(mixed: tuple[SummaryDoc, int, PdfReader]) -> None:
    doc, pages, reader = mixed
    texts = _page_texts(reader)
    drawn = sum(min(len(activity.photos), 4) for activity in doc.activities)

    assert pages == len(reader.pages)
    orientations = [_is_portrait(page) for page in reader.pages]
    assert orientations[0] and not orientations[1], "a portrait cover, then the landscape plan"
    plan_pages = orientations[1:].index(True)
    assert plan_pages == 1, "the three-row plan fits one landscape page"
    assert all(orientations[1 + plan_pages :]), "activities and the rest in portrait"
    page = reader.pages[0]
    assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(
        A4_PORTRAIT, abs=1
    )
    # Fourteen activities with photo rows: at least one page per two of them, and never more
    # than the cover, the plan and one page for every block.
    assert 2 + plan_pages + 7 <= pages <= 1 + plan_pages + len(doc.activities) + 2
    assert pages == _expected_pages(doc, plan_pages)

    assert _image_count(reader) == drawn == 46
    assert sum(len(_images(page)) for page in reader.pages) == drawn
    for page in reader.pages:
        for image in _images(page):
            assert image["/Filter"] == "/DCTDecode", "the JPEG embedded as it is, not re-encoded"

    # Each activity's heading sits on the page of its photos.
    for activity in doc.activities:
        heading = f"กิจกรรมที่ {activity.number}\n"
        (where,) = [index for index, text in enumerate(texts) if heading in text]
        photos = activity.photos[:4]
        on_page = len(_images(reader.pages[where]))
        assert on_page >= len(photos), activity.number
        if photos and photos[-1].caption and photos[-1].caption != LONG_CAPTION:
            assert _plain(photos[-1].caption) in _plain(texts[where])


def test_summary_without_figures_or_opinion(tmp_path: Path) -> None:
    doc = replace(_doc([]), figures=None, opinion=None, opinion_by=None, opinion_on=None)
    pages = render_summary(doc, tmp_path / "summary.pdf")
    reader = PdfReader(tmp_path / "summary.pdf")
    text = _plain("\n".join(_page_texts(reader)))

    assert pages == len(reader.pages) == 3, "cover, plan, and one page for the rest"
    assert NO_ACTIVITIES in text
    assert _plain(FIGURES_HEADING) in text
    # Four values, the two shares and their two outcomes.
    assert text.count(NOT_RECORDED) == 8
    assert PASSED not in text and NOT_PASSED not in text
    assert _plain(OPINION_HEADING) not in text
    assert "ผู้ให้ความเห็น" not in text
    assert _image_count(reader) == 0

    blank = replace(doc, opinion="  \n ")
    render_summary(blank, tmp_path / "blank.pdf")
    assert _plain(OPINION_HEADING) not in _plain(
        "\n".join(_page_texts(PdfReader(tmp_path / "blank.pdf")))
    )


def test_summary_survives_a_missing_photo(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    photo = SummaryPhoto(tmp_path / "gone.jpg", date(2027, 3, 1), "ภาพที่หายไป")
    doc = _doc([_activity(1, [photo])])
    with caplog.at_level(logging.WARNING):
        render_summary(doc, tmp_path / "summary.pdf")
    reader = PdfReader(tmp_path / "summary.pdf")
    text = _plain("\n".join(_page_texts(reader)))

    assert "ไม่พบไฟล์ภาพ" in text and "ภาพที่หายไป" in text
    assert _image_count(reader) == 0
    assert any("gone.jpg" in record.getMessage() for record in caplog.records)


def test_summary_targets_are_judged_on_exact_values(tmp_path: Path) -> None:
    exact = SummaryFigures(200, 170, Decimal("100000"), Decimal("103000"))
    assert exact.occupation_share == 85 and exact.meets_occupation is True
    assert exact.income_change == 3 and exact.meets_income is True
    short = SummaryFigures(3, 2, Decimal("100000"), Decimal("102999.99"))
    assert short.meets_occupation is False and short.meets_income is False
    assert SummaryFigures(0, 0, Decimal(0), Decimal(100)).occupation_share is None
    assert SummaryFigures(0, 0, Decimal(0), Decimal(100)).income_change is None
    assert SummaryFigures(None, 5, None, Decimal(1)).meets_occupation is None

    doc = replace(
        _doc([]),
        figures=short,
        opinion="เห็นควรปรับปรุง",
        opinion_by=None,
        opinion_on=None,
    )
    render_summary(doc, tmp_path / "summary.pdf")
    text = _plain("\n".join(_page_texts(PdfReader(tmp_path / "summary.pdf"))))

    # Rounded down: a share just under a target never reads as reaching it.
    assert _plain("ร้อยละ 66.66 ไม่น้อยกว่าร้อยละ 85 ยังไม่ผ่านเป้าหมาย") in text
    assert _plain("เพิ่มขึ้นร้อยละ 2.99 เพิ่มขึ้นไม่น้อยกว่าร้อยละ 3 ยังไม่ผ่านเป้าหมาย") in text
    assert _plain("102,999.99 บาท/ปี") in text
    assert _plain("ผู้ให้ความเห็น ....") in text, "a blank to sign when the officer is not known"

    fell = replace(doc, figures=SummaryFigures(10, 9, Decimal("50000"), Decimal("49000")))
    render_summary(fell, tmp_path / "fell.pdf")
    text = _plain("\n".join(_page_texts(PdfReader(tmp_path / "fell.pdf"))))
    assert _plain("ลดลงร้อยละ 2 เพิ่มขึ้นไม่น้อยกว่าร้อยละ 3 ยังไม่ผ่านเป้าหมาย") in text
    assert _plain("ร้อยละ 90 ไม่น้อยกว่าร้อยละ 85 ผ่านเป้าหมาย") in text


def test_summary_wraps_long_thai_text(
    photo_files: list[Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    words = "การพัฒนาศักยภาพผู้นำสัมมาชีพชุมชนให้มีความรู้ความเข้าใจในการบริหารจัดการอาชีพ"
    activity_text = (words * 20)[:1000]
    note = ("ครัวเรือนเป้าหมายเข้าร่วมกิจกรรมครบทุกครัวเรือน 😀 และมีรายได้เพิ่มขึ้น " * 10)[:500]
    area = "ด้านการบริหารสังคม › การสร้างเครือข่ายปราชญ์ชาวบ้านและภาคีการพัฒนาในตำบล" * 3
    # Long captions in the left column only, so no extracted line joins two photos' captions.
    photos = [
        SummaryPhoto(
            path, None if index % 2 else date(2027, 2, 1), None if index % 2 else LONG_CAPTION
        )
        for index, path in enumerate(photo_files[:4])
    ]
    long = replace(_activity(1, photos), activity=activity_text, note=note, area=area)
    doc = replace(_doc([long, _activity(2, [])]), opinion=note * 2)
    with caplog.at_level(logging.WARNING):
        pages = render_summary(doc, tmp_path / "long.pdf")
    reader = PdfReader(tmp_path / "long.pdf")
    texts = _page_texts(reader)
    text = _plain("\n".join(texts))

    assert not [r for r in caplog.records if "missing" in r.getMessage()], "no missing glyphs"
    assert _plain(activity_text) in text, "the 1000-character activity is printed whole"
    assert _plain(note.replace("😀", "")) in text, "the note too, without the emoji"
    assert _plain(area) in text
    assert _plain("กิจกรรมที่ 2") in text
    assert pages == len(reader.pages) >= 5
    assert _image_count(reader) == 4

    # No line is wider than the text area: each extracted body line, measured in the body font.
    pdf = DocumentPDF()
    pdf.add_page()
    pdf.set_font(FAMILY, size=TEXT_PT)
    body = [
        line
        for text in texts[2:]
        for line in text.splitlines()
        if line.strip() and not re.search(r"หน้า \d+/\d+", line)
    ]
    for line in body:
        assert pdf.get_string_width(re.sub(r"[\x00-\x1f]", "", line)) <= pdf.epw + 1, line

    # The activity's lines, in order after its label, make up the text, broken between words.
    first = next(i for i, line in enumerate(body) if _plain(line).startswith("กิจกรรม" + words[:9]))
    printed, breaks = _plain(body[first]).removeprefix("กิจกรรม"), []
    for line in body[first + 1 :]:
        if not activity_text.startswith(printed + _plain(line)):
            break
        breaks.append(len(printed))
        printed += _plain(line)
    assert printed == activity_text
    assert len(breaks) >= 7, "wrapped over several lines"
    ends, offset = set(), 0
    for word in word_tokenize(activity_text):
        offset += len(word)
        ends.add(offset)
    assert set(breaks) <= ends, "lines break between words, never inside one"


def test_twenty_activities_with_four_photos_render_quickly(
    photo_files: list[Path], tmp_path: Path
) -> None:
    word_tokenize("อุ่นเครื่อง")  # pythainlp loads its dictionary once per process
    doc = _doc(
        [
            _activity(
                number,
                [
                    SummaryPhoto(photo_files[(number - 1) * 4 + index], date(2027, 3, 1), None)
                    for index in range(4)
                ],
            )
            for number in range(1, 21)
        ]
    )
    pages = render_summary(doc, tmp_path / "big.pdf")
    reader = PdfReader(tmp_path / "big.pdf")

    assert pages == len(reader.pages) == _expected_pages(doc, 1)
    assert _image_count(reader) == 80
    jpeg_bytes = sum(path.stat().st_size for path in photo_files)
    size = (tmp_path / "big.pdf").stat().st_size
    assert jpeg_bytes <= size <= jpeg_bytes + 1_000_000, "the JPEGs as they are, nothing more"

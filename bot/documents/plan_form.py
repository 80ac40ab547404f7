"""The self-development plan in the letter's table form, as plain data for the renderers.

Built from the database by `bot.services.plans.plan_form`; rendered by `bot.documents.pdf` and
`bot.documents.xlsx`. Renderers write every number in Thai digits, as official letters do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from pythainlp.util import arabic_digit_to_thai_digit, thai_strftime

from bot.services.thai import thai_date

# The column headings of the letter's example (ตัวอย่างแผนการพัฒนาตนเอง สำหรับผู้นำสัมมาชีพชุมชน).
TITLE = "แผนการพัฒนาตนเอง สำหรับผู้นำสัมมาชีพชุมชน"
COL_NUMBER = "ที่"
COL_AREA = "ด้าน/องค์ประกอบ"
COL_ACTIVITY = "แนวทาง/กิจกรรมการพัฒนาตนเอง"
COL_ABILITY = "ความสามารถในการพัฒนาตนเอง"
COL_SELF = "พัฒนาด้วยตนเอง (ระบุวิธีการ/กิจกรรมการพัฒนา)"
COL_HELP = "ขอความร่วมมือ/สนับสนุนจากบุคคล/หน่วยงานอื่น (ระบุชื่อบุคคล/หน่วยงาน/เรื่องที่จะขอความร่วมมือ/สนับสนุน)"
COL_RESPONSIBLE = "ผู้รับผิดชอบ"
COL_PERIOD = "ระยะเวลาดำเนินการ"


@dataclass(frozen=True)
class PlanRow:
    number: int
    area: str  # e.g. "ด้านการบริหารตนเอง"
    component: str  # e.g. "การพัฒนาความรู้และทักษะของตนเอง"
    activity: str
    by_self: str  # the method when developed by oneself, else ""
    with_help: str  # the person or agency and the matter when with help, else ""
    responsible: str
    starts_on: date
    ends_on: date


@dataclass(frozen=True)
class PlanForm:
    leader_name: str
    area_label: str  # "ต.หอคำ อ.เมืองบึงกาฬ จ.บึงกาฬ"
    fiscal_year: int  # BE, e.g. 2570
    rows: list[PlanRow] = field(default_factory=list)
    ready_on: date | None = None  # ready for the assessment committee from this day
    status_label: str = ""  # e.g. "ร่าง", "ส่งแล้ว", "อนุมัติแล้ว"

    @property
    def self_count(self) -> int:
        return sum(1 for row in self.rows if row.by_self)

    @property
    def help_count(self) -> int:
        return sum(1 for row in self.rows if row.with_help)

    @property
    def starts_on(self) -> date | None:
        """The summary's 'starts in month … year …': the earliest activity start."""
        return min((row.starts_on for row in self.rows), default=None)


# The letter's wording with the values filled in, shared by both renderers so they cannot drift.
BLANK = "....."  # the letter's dotted blank, for a value not known yet
SUMMARY_LABEL = "สรุป :"
NO_ROWS_TEXT = "ยังไม่มีกิจกรรมในแผน"


def thai_digits(text: str) -> str:
    return arabic_digit_to_thai_digit(text) if text else ""


def short_date(value: date) -> str:
    """'๑ ต.ค. ๖๙'."""
    return thai_digits(thai_date(value, short=True))


def period_text(row: PlanRow) -> str:
    return f"{short_date(row.starts_on)} – {short_date(row.ends_on)}"


def name_line(form: PlanForm) -> str:
    name = f" {form.leader_name}" if form.leader_name else BLANK
    return thai_digits(f"(ชื่อ - สกุล{name})")


def year_line(form: PlanForm) -> str:
    year = f" {form.fiscal_year}" if form.fiscal_year else BLANK
    return thai_digits(f"{form.area_label}  ปีงบประมาณ พ.ศ.{year}".strip())


def status_line(form: PlanForm) -> str:
    return f"สถานะ: {form.status_label}" if form.status_label else ""


def summary_lines(form: PlanForm) -> list[str]:
    """The four numbered lines of the letter's summary block (without the 'สรุป :' label)."""
    has_rows = bool(form.rows)
    self_count = f" {thai_digits(str(form.self_count))} " if has_rows else BLANK
    help_count = f" {thai_digits(str(form.help_count))} " if has_rows else BLANK
    return [
        f"๑. กิจกรรมที่ต้องดำเนินการพัฒนาด้วยตนเอง จำนวน{self_count}กิจกรรม",
        "๒. กิจกรรมที่จะดำเนินการพัฒนาโดยขอความร่วมมือและขอรับการสนับสนุนจากหน่วยงานอื่น "
        f"จำนวน{help_count}กิจกรรม",
        f"๓. เริ่มพัฒนาตนเองตั้งแต่เดือน{_month_year(form.starts_on)}",
        f"๔. พร้อมขอให้คณะกรรมการตรวจประเมินฯ ดำเนินการประเมินได้ ตั้งแต่วันที่{_day(form.ready_on)}"
        f"เดือน{_month_year(form.ready_on)}",
    ]


def _day(value: date | None) -> str:
    return f" {thai_digits(str(value.day))} " if value else BLANK


def _month_year(value: date | None) -> str:
    if value is None:
        return f"{BLANK}พ.ศ{BLANK}"  # as the letter writes the blank
    month = thai_strftime(datetime(value.year, value.month, value.day), "%B")
    return f" {month} พ.ศ. {thai_digits(str(value.year + 543))}"

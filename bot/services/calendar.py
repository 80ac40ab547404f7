"""The programme calendar: the department's default deadlines (a versioned data file) with each
province's own dates for a fiscal year on top (`ProgrammeDate` rows).

Free of Flask and LINE. Errors carry the Thai sentence to show the user; every change is
written to the audit log.
"""

from __future__ import annotations

import calendar as stdlib_calendar
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import ProgrammeDate, User, utcnow
from bot.services import audit, fiscal
from bot.services.thai import thai_date

DEFAULT_FILE = Path(__file__).resolve().parent.parent / "data" / "programme_calendar.json"
ROLES = frozenset({"officer", "province"})
KEY_MAX = 32  # ProgrammeDate.key
# The calendar card lists every entry with its buttons in one bubble (at most 30 KB).
MAX_ENTRIES = 10
TITLE_MAX, REF_MAX, NOTE_MAX = 100, 60, 100
REMIND_DAYS = (14, 7, 1)


class CalendarError(ValueError):
    """A date that cannot be set; str() is the Thai sentence to show."""


class CalendarFileError(ValueError):
    """The default calendar file is malformed (a bug in a pull request, not user input)."""


@dataclass(frozen=True)
class Entry:
    """A default deadline as the file has it: month and day within any fiscal year."""

    key: str
    title: str
    ref: str
    month: int
    day: int
    end: tuple[int, int] | None
    remind: frozenset[str]
    note: str

    def on(self, fiscal_year: int, month: int, day: int) -> date:
        """The day in that fiscal year (October to December belong to the year before)."""
        first, last = fiscal.bounds(fiscal_year)
        year = first.year if month >= 10 else last.year
        return date(year, month, min(day, stdlib_calendar.monthrange(year, month)[1]))

    def deadline(self, fiscal_year: int) -> Deadline:
        return Deadline(
            key=self.key,
            title=self.title,
            ref=self.ref,
            starts_on=self.on(fiscal_year, self.month, self.day),
            ends_on=self.on(fiscal_year, *self.end) if self.end else None,
            remind=self.remind,
            note=self.note,
            own=False,
        )


@dataclass(frozen=True)
class Deadline:
    """A deadline (or a window) of one province's fiscal year."""

    key: str
    title: str
    ref: str
    starts_on: date
    ends_on: date | None  # the last day of a window; None for a single date
    remind: frozenset[str]
    note: str
    own: bool  # the province set this date; False: the department's default

    @property
    def is_window(self) -> bool:
        return self.ends_on is not None

    def days_left(self, today: date) -> int:
        return (self.starts_on - today).days

    def when(self) -> str:
        if self.ends_on is None or self.ends_on == self.starts_on:
            return thai_date(self.starts_on)
        if (self.starts_on.year, self.starts_on.month) == (self.ends_on.year, self.ends_on.month):
            return f"{self.starts_on.day} – {thai_date(self.ends_on)}"
        return f"{thai_date(self.starts_on)} – {thai_date(self.ends_on)}"


# The default file --------------------------------------------------------------------------
def _fiscal_position(month: int, day: int) -> tuple[int, int]:
    """Order within a fiscal year: October first."""
    return ((month - 10) % 12, day)


def _month_day(raw: dict[str, Any], month_key: str, day_key: str, where: str) -> tuple[int, int]:
    month, day = raw.get(month_key), raw.get(day_key)
    if not isinstance(month, int) or not 1 <= month <= 12:
        raise CalendarFileError(f"{where}: {month_key} must be a month number 1-12")
    # 2024 is a leap year: 29 February is allowed (and moved to the 28th in other years).
    if not isinstance(day, int) or not 1 <= day <= stdlib_calendar.monthrange(2024, month)[1]:
        raise CalendarFileError(f"{where}: {day_key} is not a day of month {month}")
    return month, day


def _text(raw: dict[str, Any], key: str, where: str, limit: int, required: bool = True) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        raise CalendarFileError(f"{where}: {key} must be a non-empty text of at most {limit}")
    return value.strip()


def parse(data: Any) -> list[Entry]:
    """The entries of a calendar file, checked; raises CalendarFileError naming the problem."""
    raw_entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(raw_entries, list) or not 1 <= len(raw_entries) <= MAX_ENTRIES:
        raise CalendarFileError(f"entries must be a list of 1 to {MAX_ENTRIES}")
    entries: list[Entry] = []
    for n, raw in enumerate(raw_entries):
        where = f"entries[{n}]"
        if not isinstance(raw, dict):
            raise CalendarFileError(f"{where} must be an object")
        key = _text(raw, "key", where, KEY_MAX)
        if any(e.key == key for e in entries):
            raise CalendarFileError(f"{where}: key {key!r} used twice")
        month, day = _month_day(raw, "month", "day", where)
        end = None
        if "end_month" in raw or "end_day" in raw:
            end = _month_day(raw, "end_month", "end_day", where)
            if _fiscal_position(*end) < _fiscal_position(month, day):
                raise CalendarFileError(f"{where}: the window ends before it starts")
        remind = raw.get("remind")
        if not isinstance(remind, list) or not remind or not set(remind) <= ROLES:
            raise CalendarFileError(f"{where}: remind must list some of {sorted(ROLES)}")
        entries.append(
            Entry(
                key=key,
                title=_text(raw, "title", where, TITLE_MAX),
                ref=_text(raw, "ref", where, REF_MAX),
                month=month,
                day=day,
                end=end,
                remind=frozenset(remind),
                note=_text(raw, "note", where, NOTE_MAX, required=False),
            )
        )
    return entries


def read(path: Path) -> list[Entry]:
    try:
        return parse(json.loads(path.read_text(encoding="utf-8")))
    except json.JSONDecodeError as exc:
        raise CalendarFileError(f"{path.name} is not valid JSON: {exc}") from None


@cache
def defaults() -> tuple[Entry, ...]:
    return tuple(read(DEFAULT_FILE))


def entry(key: str) -> Entry | None:
    return next((e for e in defaults() if e.key == key), None)


# Reading -----------------------------------------------------------------------------------
def _merge(fiscal_year: int, rows: Iterable[ProgrammeDate]) -> list[Deadline]:
    own = {row.key: row for row in rows}
    result = []
    for default in defaults():
        deadline = default.deadline(fiscal_year)
        row = own.get(default.key)
        if row is not None:
            ends_on = (row.ends_on or deadline.ends_on) if deadline.is_window else None
            deadline = replace(deadline, starts_on=row.starts_on, ends_on=ends_on, own=True)
        result.append(deadline)
    return sorted(result, key=lambda d: (d.starts_on, d.key))


def default_deadlines(fiscal_year: int) -> list[Deadline]:
    """The department's calendar for the year, before any province's own dates."""
    return _merge(fiscal_year, [])


def deadlines(session: Session, province_code: str, fiscal_year: int) -> list[Deadline]:
    """The province's calendar for the year: the defaults, overridden by its own dates."""
    rows = session.scalars(
        select(ProgrammeDate).where(
            ProgrammeDate.province_code == province_code,
            ProgrammeDate.fiscal_year == fiscal_year,
        )
    )
    return _merge(fiscal_year, rows)


def by_province(
    session: Session, provinces: Iterable[str], fiscal_years: Iterable[int]
) -> dict[tuple[str, int], list[Deadline]]:
    """Several provinces' calendars for several years in one query, keyed (province, year)."""
    provinces, years = sorted(set(provinces)), sorted(set(fiscal_years))
    rows: dict[tuple[str, int], list[ProgrammeDate]] = {
        (p, y): [] for p in provinces for y in years
    }
    if provinces:
        for row in session.scalars(
            select(ProgrammeDate).where(
                ProgrammeDate.province_code.in_(provinces), ProgrammeDate.fiscal_year.in_(years)
            )
        ):
            rows[(row.province_code, row.fiscal_year)].append(row)
    return {(p, y): _merge(y, found) for (p, y), found in rows.items()}


def due(calendar: Iterable[Deadline], today: date, role: str) -> list[tuple[Deadline, int]]:
    """The deadlines `role` is reminded of today (starting exactly 14, 7 or 1 days ahead)."""
    return [
        (d, d.days_left(today))
        for d in calendar
        if role in d.remind and d.days_left(today) in REMIND_DAYS
    ]


def countdown(deadline: Deadline, today: date) -> str:
    """How far away the deadline is, as the calendar card and the reminders say it."""
    days = deadline.days_left(today)
    if days > 1:
        return f"เริ่มในอีก {days} วัน" if deadline.is_window else f"อีก {days} วัน"
    if days == 1:
        return "เริ่มพรุ่งนี้" if deadline.is_window else "พรุ่งนี้"
    if days == 0:
        return "เริ่มวันนี้" if deadline.is_window else "วันนี้"
    if deadline.ends_on is not None and today <= deadline.ends_on:
        return "อยู่ในช่วงนี้"
    return "ผ่านมาแล้ว"


# Changing ----------------------------------------------------------------------------------
def _known(key: str) -> Entry:
    found = entry(key)
    if found is None:
        raise CalendarError("ไม่พบรายการนี้ในปฏิทินงานแล้วค่ะ กรุณาเปิดปฏิทินงานอีกครั้ง")
    return found


def set_date(
    session: Session,
    province_code: str,
    fiscal_year: int,
    key: str,
    part: str,
    day: date,
    actor: User,
) -> Deadline:
    """Set the province's date of a deadline: its `part` "start", or "end" of a window."""
    _known(key)
    current = next(d for d in deadlines(session, province_code, fiscal_year) if d.key == key)
    first, last = fiscal.bounds(fiscal_year)
    if not first <= day <= last:
        raise CalendarError(
            f"วันที่ {thai_date(day)} อยู่นอกปีงบประมาณ {fiscal_year} ค่ะ "
            f"กรุณาเลือกวันระหว่าง {thai_date(first)} ถึง {thai_date(last)}"
        )
    starts_on, ends_on = current.starts_on, current.ends_on
    if part == "end":
        if ends_on is None:
            raise CalendarError("รายการนี้มีวันเดียว ไม่มีวันสิ้นสุดค่ะ")
        if day < starts_on:
            raise CalendarError(
                f"วันสิ้นสุด ({thai_date(day)}) อยู่ก่อนวันเริ่ม ({thai_date(starts_on)}) ค่ะ "
                "กรุณาเลือกวันสิ้นสุดใหม่ หรือเปลี่ยนวันเริ่มก่อน"
            )
        ends_on = day
    elif part == "start":
        if ends_on is not None and day > ends_on:
            raise CalendarError(
                f"วันเริ่ม ({thai_date(day)}) อยู่หลังวันสิ้นสุด ({thai_date(ends_on)}) ค่ะ "
                "กรุณาเลื่อนวันสิ้นสุดก่อน แล้วจึงเปลี่ยนวันเริ่ม"
            )
        starts_on = day
    else:
        raise CalendarError("ไม่พบรายการนี้ในปฏิทินงานแล้วค่ะ กรุณาเปิดปฏิทินงานอีกครั้ง")
    row = _row(session, province_code, fiscal_year, key)
    if row is None:
        row = ProgrammeDate(province_code=province_code, fiscal_year=fiscal_year, key=key)
        session.add(row)
    previous = (current.starts_on, current.ends_on)
    row.starts_on, row.ends_on = starts_on, ends_on
    row.updated_by, row.updated_at = actor.id, utcnow()
    session.flush()
    audit.record(
        session,
        "calendar.set",
        "programme_date",
        f"{province_code}:{fiscal_year}:{key}",
        actor=actor,
        part=part,
        day=day.isoformat(),
        previous=[d.isoformat() if d else None for d in previous],
    )
    return replace(current, starts_on=starts_on, ends_on=ends_on, own=True)


def set_dates(
    session: Session,
    province_code: str,
    fiscal_year: int,
    key: str,
    starts_on: date,
    ends_on: date | None,
    actor: User,
) -> Deadline:
    """Set a deadline's date, or both ends of a window at once (as the web form does), in
    the order that lets a window move past its own old dates."""
    _known(key)
    current = next(d for d in deadlines(session, province_code, fiscal_year) if d.key == key)
    if ends_on is not None and ends_on < starts_on:
        raise CalendarError(f"วันสิ้นสุด ({thai_date(ends_on)}) อยู่ก่อนวันเริ่ม ({thai_date(starts_on)}) ค่ะ")
    parts = [("start", starts_on)]
    if ends_on is not None and current.ends_on is not None:
        # Moving later: the end first, so the new start never lands after the old end.
        end_first = starts_on > current.ends_on
        parts = [("end", ends_on), *parts] if end_first else [*parts, ("end", ends_on)]
    for part, day in parts:
        current = set_date(session, province_code, fiscal_year, key, part, day, actor)
    return current


def reset(session: Session, province_code: str, fiscal_year: int, key: str, actor: User) -> bool:
    """Back to the department's default date; False when the province had not changed it."""
    _known(key)
    row = _row(session, province_code, fiscal_year, key)
    if row is not None:
        audit.record(
            session,
            "calendar.reset",
            "programme_date",
            f"{province_code}:{fiscal_year}:{key}",
            actor=actor,
            previous=[row.starts_on.isoformat(), row.ends_on.isoformat() if row.ends_on else None],
        )
        session.delete(row)
        session.flush()
    return row is not None


def _row(session: Session, province_code: str, fiscal_year: int, key: str) -> ProgrammeDate | None:
    return session.scalar(
        select(ProgrammeDate).where(
            ProgrammeDate.province_code == province_code,
            ProgrammeDate.fiscal_year == fiscal_year,
            ProgrammeDate.key == key,
        )
    )

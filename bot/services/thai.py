"""Thai conventions users expect: Thai digits, Buddhist Era dates, phone numbers."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from pythainlp.util import thai_digit_to_arabic_digit, thai_strftime, thai_strptime
from pythainlp.util.date import thai_abbr_months

# Zero-width marks make text look empty; control characters (NUL, escape, bell …) cannot be
# shown, and PostgreSQL and XLSX refuse some of them. Line breaks and tabs are kept.
_INVISIBLE = re.compile(r"[\u200b-\u200d\ufeff\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def without_invisible(value: str) -> str:
    """What a user typed without zero-width marks and control characters, line breaks as \\n."""
    return _INVISIBLE.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def clean_text(
    value: str,
    what: str,
    limit: int,
    error: type[ValueError] = ValueError,
    *,
    required: bool = True,
    one_line: bool = False,
) -> str:
    """What a user typed, tidied: zero-width marks dropped (they make text look empty), ends
    trimmed, and with `one_line` every run of spaces and line breaks made one space. Raises
    `error` with a Thai message naming `what` when it is empty (if `required`) or too long."""
    text = without_invisible(value)
    text = " ".join(text.split()) if one_line else text.strip()
    if required and not text:
        raise error(f"กรุณาพิมพ์{what}ค่ะ")
    if len(text) > limit:
        raise error(
            f"{what}ยาว {len(text):,} ตัวอักษร เกิน {limit:,} ตัวอักษรค่ะ กรุณาย่อให้ไม่เกิน {limit:,} ตัวอักษร"
        )
    return text


def to_arabic_digits(text: str) -> str:
    return thai_digit_to_arabic_digit(text)


def thai_date(value: date | datetime, tz: str = "Asia/Bangkok", short: bool = False) -> str:
    """'23 พฤศจิกายน 2569' (or '23 พ.ย. 69'); datetimes are shown in the app's time zone."""
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(tz))
    else:
        value = datetime(value.year, value.month, value.day)
    return thai_strftime(value, "%-d %b %y" if short else "%-d %B %Y")


def normalize_phone(text: str) -> str | None:
    """A Thai phone number as 9 or 10 digits starting with 0, or None if it cannot be one.

    Accepts Thai digits, spaces, dashes and a +66 prefix.
    """
    digits = re.sub(r"[\s\-().]", "", to_arabic_digits(text.strip()))
    if digits.startswith("+66"):
        digits = "0" + digits[3:]
    if not digits.isdigit() or not digits.startswith("0"):
        return None
    mobile = len(digits) == 10 and digits[1] in "689"
    landline = len(digits) == 9 and digits[1] in "23457"
    return digits if mobile or landline else None


def format_phone(digits: str) -> str:
    if len(digits) == 10:
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    return f"{digits[:2]}-{digits[2:5]}-{digits[5:]}"


_ISO = re.compile(r"(\d{4})\s+(\d{1,2})\s+(\d{1,2})")
_DMY = re.compile(r"(\d{1,2})\s+(\S+)\s+(\d{2}|\d{4})")


def parse_date(text: str) -> date | None:
    """A typed date, or None if it cannot be read: "15 ส.ค. 69", "15 สิงหาคม 2569",
    "๑๕/๐๘/๒๕๖๙", "15-8-2026" or "2026-08-15". Four-digit years below 2400 are CE;
    two-digit years are BE (as Thais write them)."""
    cleaned = " ".join(re.sub(r"[/\-,]", " ", to_arabic_digits(text)).split())
    cleaned = re.sub(r"^(วันที่|วัน)\s*", "", cleaned)
    cleaned = re.sub(r"\s*(พ\.ศ\.|พ\.ศ|พศ\.?)\s*", " ", cleaned).strip()
    iso = _ISO.fullmatch(cleaned)
    if iso:
        cleaned = f"{iso[3]} {iso[2]} {iso[1]}"
    dmy = _DMY.fullmatch(cleaned)
    if dmy is None:
        return None
    day, month, year_text = dmy[1], dmy[2], dmy[3]
    if month.isdigit():
        # pythainlp 5.4 reads numeric months 10-12 as January; its own month names are safe.
        if not 1 <= int(month) <= 12:
            return None
        month = thai_abbr_months[int(month) - 1]
    era = "ad" if len(year_text) == 4 and int(year_text) < 2400 else "be"
    try:
        return thai_strptime(f"{day} {month} {year_text}", "%d %B %Y", year=era).date()
    except (ValueError, IndexError, KeyError):
        return None

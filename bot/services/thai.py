"""Thai conventions users expect: Thai digits, Buddhist Era dates, phone numbers."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from pythainlp.util import thai_digit_to_arabic_digit, thai_strftime


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

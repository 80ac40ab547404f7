"""The monthly message quota: LINE's readings kept once a day, and a warning to province staff
and administrators when the month's use crosses QUOTA_WARN_PERCENT of the limit.

Free of Flask and LINE: the caller reads the two numbers from the gateway and passes them in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import notify
from bot.models import QuotaReading, User
from bot.notify import QuietHours

KIND = "quota"


def record(session: Session, limit: int | None, used: int, now: datetime) -> QuotaReading:
    reading = QuotaReading(read_at=now, limit=limit, used=used)
    session.add(reading)
    session.flush()
    return reading


def latest(session: Session, now: datetime, timezone: str) -> QuotaReading | None:
    """The newest reading of this (local) month; an older one says nothing about this month."""
    reading = session.scalar(select(QuotaReading).order_by(QuotaReading.read_at.desc()).limit(1))
    if reading is None:
        return None
    zone = ZoneInfo(timezone)
    read, today = reading.read_at.astimezone(zone), now.astimezone(zone)
    return reading if (read.year, read.month) == (today.year, today.month) else None


def percent(reading: QuotaReading) -> int | None:
    """The share of the limit used, rounded down; None when there is no limit."""
    if reading.limit is None or reading.limit <= 0:
        return None
    return reading.used * 100 // reading.limit


def left(reading: QuotaReading) -> int | None:
    return None if reading.limit is None else max(reading.limit - reading.used, 0)


def over(reading: QuotaReading, warn_percent: int) -> bool:
    return reading.limit is not None and reading.used * 100 >= warn_percent * reading.limit


def warn(
    session: Session,
    reading: QuotaReading,
    messages: Callable[[QuotaReading], list[dict[str, Any]]],
    *,
    warn_percent: int,
    today: date,
    now: datetime,
    quiet: QuietHours,
) -> int:
    """Warn every active province staff member and administrator, once a month each (the
    ledger's day is the first of the month). Returns how many were warned now."""
    if not over(reading, warn_percent):
        return 0
    staff = session.execute(
        select(User.id, User.line_user_id).where(
            User.role.in_(["province", "admin"]),
            User.status == "active",
            User.following.is_(True),
        )
    ).all()
    if not staff:
        return 0
    sent = messages(reading)
    month = today.replace(day=1)
    notices = [
        notify.Notice(user_id, line_id, KIND, month.strftime("%Y-%m"), sent)
        for user_id, line_id in staff
    ]
    return len(notify.send(session, notices, day=month, now=now, quiet=quiet))

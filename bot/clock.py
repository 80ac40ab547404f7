"""The app's one clock. Everything asks `now()` (through `bot.models.utcnow`), so a test can
set what time it is, e.g. 07:59 on the morning of a deadline, and the whole app (handlers,
outbox, scheduler) agrees; time keeps running from there, so waits and backoffs still pass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_offset = timedelta(0)


def now() -> datetime:
    return datetime.now(UTC) + _offset


def travel_to(moment: datetime) -> None:
    """From now on `now()` runs from `moment` (an aware datetime). For tests and benchmarks."""
    global _offset
    _offset = moment - datetime.now(UTC)


def reset() -> None:
    global _offset
    _offset = timedelta(0)

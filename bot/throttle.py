"""Rate limits on what is heavy to serve: the desk's exports and uploads (per person) and the
signed file links (per address). A ZIP of a province's photos or a folder of certificates
costs seconds of CPU and disk; without a limit one person, or a leaked link, could keep a
small server busy for everyone.

Counted per process in memory: with several gunicorn processes the limit is per process,
which still bounds the load each one takes.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import request
from werkzeug.exceptions import TooManyRequests

F = TypeVar("F", bound=Callable[..., Any])

# name -> (requests allowed, per seconds)
LIMITS: dict[str, tuple[int, float]] = {
    "export": (30, 600.0),  # spreadsheets and single PDFs
    "bulk": (6, 600.0),  # the photos ZIP and all certificates in one file
    "upload": (20, 600.0),  # forms of workshop and committee photos
    "file": (600, 60.0),  # signed file links: a carousel loads ten thumbnails at once
}
MAX_KEYS = 50_000  # forget the least recent callers beyond this, so memory stays bounded


class Windows:
    """Sliding windows of request times, per (limit name, caller)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], deque[float]] = {}

    def wait_needed(self, name: str, caller: str) -> float:
        """0 if the request may go now (and count it), else seconds until it may."""
        allowed, seconds = LIMITS[name]
        now = time.monotonic()
        with self._lock:
            times = self._seen.pop((name, caller), None) or deque()
            while times and times[0] <= now - seconds:
                times.popleft()
            self._seen[(name, caller)] = times  # re-inserted: the dict stays in recency order
            if len(times) >= allowed:
                return times[0] + seconds - now
            times.append(now)
            if len(self._seen) > MAX_KEYS:
                del self._seen[next(iter(self._seen))]
            return 0.0

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()


windows = Windows()


def too_often(wait: float) -> str:
    return f"ขอไฟล์ถี่เกินไปค่ะ กรุณารอประมาณ {max(1, round(wait / 60))} นาทีแล้วลองใหม่"


def refuse_if_over(name: str, caller: str) -> None:
    """Abort with 429 and Retry-After when `caller` is over limit `name`."""
    wait = windows.wait_needed(name, caller)
    if wait > 0:
        raise TooManyRequests(too_often(wait), retry_after=int(wait) + 1)


def limited(name: str, caller: Callable[[], str]) -> Callable[[F], F]:
    """Views limited by `name`, counted per `caller()` (a person's id or an address)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            refuse_if_over(name, caller())
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def address() -> str:
    return request.remote_addr or "unknown"

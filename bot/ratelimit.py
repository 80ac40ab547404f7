"""A small token bucket per LINE endpoint, so bursts stay under LINE's published rate limits."""

from __future__ import annotations

import threading
import time


class TokenBucket:
    def __init__(self, rate_per_second: float, burst: int) -> None:
        self.rate = rate_per_second
        self.capacity = burst
        self._tokens = float(burst)
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Block until one request may go out."""
        while True:
            with self._lock:
                now = time.monotonic()
                self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                wait = (1 - self._tokens) / self.rate
            time.sleep(wait)


def line_limits() -> dict[str, TokenBucket]:
    """LINE's limits, with some headroom (per channel, per process)."""
    return {
        "message": TokenBucket(1500, 200),  # reply, push, multicast: 2,000 requests/s
        "profile": TokenBucket(1500, 200),
        "content": TokenBucket(1500, 200),
        "loading": TokenBucket(80, 20),  # 100 requests/s
        "richmenu": TokenBucket(90 / 3600, 20),  # create/delete: 100 per hour
    }

"""Background work that must not hold up a reply: fetching evidence and building documents.

A few threads, in the web process by default or in `flask --app wsgi worker` processes; each
task claims its rows with leases in the database, so any mix of threads and processes agrees.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

Task = Callable[[], bool]  # does one unit of work; False when there was none


class Background:
    """`count` threads that run `tasks` until stopped, sleeping `poll_seconds` (or until
    `notify`) when none had work. The event workers use it too, with one task."""

    def __init__(
        self, tasks: list[Task], count: int, poll_seconds: float = 1.0, name: str = "background"
    ) -> None:
        self.tasks = tasks
        self.count = count
        self.poll_seconds = poll_seconds
        self.name = name
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for n in range(self.count):
            thread = threading.Thread(target=self._run, name=f"{self.name}-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    def notify(self) -> None:
        self._wake.set()

    def work_once(self) -> bool:
        """One unit of the most urgent task that has work: tasks are in priority order."""
        for task in self.tasks:
            try:
                if task():
                    return True
            except Exception:
                # The database may be restarting; keep the thread alive and try again.
                log.exception("background task %s: unexpected error", task)
        return False

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self.work_once():
                self._wake.wait(self.poll_seconds)
                self._wake.clear()

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


class Wakeup:
    """Wakes one waiting thread per notice. One new row needs one thread: waking them all (as
    a threading.Event does) made every other one run its claim query for nothing."""

    def __init__(self, limit: int) -> None:
        self._ready = threading.Condition()
        self._notices = 0
        self._limit = max(limit, 1)  # more notices than threads wake nobody more
        self._closed = False

    def notify(self) -> None:
        with self._ready:
            self._notices = min(self._notices + 1, self._limit)
            self._ready.notify()

    def wait(self, timeout: float) -> None:
        with self._ready:
            if not self._notices and not self._closed:
                self._ready.wait(timeout)
            if self._notices:
                self._notices -= 1

    def open(self) -> None:
        with self._ready:
            self._closed = False

    def close(self) -> None:
        """Wake everyone, and let nobody wait again until `open`: the threads are stopping."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()


class Background:
    """`count` threads that run `tasks` until stopped, sleeping `poll_seconds` (or until
    `notify`) when none had work. The event workers use it too, with one task.

    A notice wakes one thread; a thread that finds work twice in a row wakes one more, so a
    backlog still spreads over all of them. Every thread still polls: rows written by another
    process wake nobody here."""

    def __init__(
        self, tasks: list[Task], count: int, poll_seconds: float = 1.0, name: str = "background"
    ) -> None:
        self.tasks = tasks
        self.count = count
        self.poll_seconds = poll_seconds
        self.name = name
        self._wakeup = Wakeup(count)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self._stop.clear()
        self._wakeup.open()
        for n in range(self.count):
            thread = threading.Thread(target=self._run, name=f"{self.name}-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wakeup.close()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    def notify(self) -> None:
        self._wakeup.notify()

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
        streak = 0
        while not self._stop.is_set():
            if self.work_once():
                streak += 1
                if streak > 1:
                    self._wakeup.notify()  # a backlog: bring in one more thread
                continue
            streak = 0
            self._wakeup.wait(self.poll_seconds)

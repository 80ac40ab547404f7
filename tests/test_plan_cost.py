"""What one step of the activity form costs the database: every SQL statement the event worker
runs for it, from claiming the event to recording the reply as sent. The count must not grow
with the number of activities in the plan (no query per activity)."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import event

from bot.db import db
from bot.services import fiscal
from tests.test_plan import choices, fill_plan
from tests.test_registration import register

STEP_BUDGET = 10  # the aim


@pytest.fixture
def app_config(app_config: dict) -> dict:
    # One worker thread, so that every statement of a step runs on "inbox-0".
    return {**app_config, "INBOX_WORKERS": "1"}


class Statements:
    """Statements run by the event worker thread while recording."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.recording = False
        assert db.engine is not None
        event.listen(db.engine, "before_cursor_execute", self._on_execute)

    def _on_execute(self, conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if self.recording and threading.current_thread().name == "inbox-0":
            self.seen.append(statement.split()[0] + " " + " ".join(statement.split()[1:6]))

    def during(self, act) -> list[str]:  # type: ignore[no-untyped-def]
        self.seen, self.recording = [], True
        act()
        self.recording = False
        seen = self.seen
        # The worker may still be finishing the previous step when recording starts, and
        # looks for more work after this one: keep from the BEGIN that claims this event.
        # (SQLite shows its BEGIN IMMEDIATE; PostgreSQL's driver begins implicitly.)
        handler = next(i for i, s in enumerate(seen) if s.startswith("SAVEPOINT"))
        start = max(i for i, s in enumerate(seen[:handler]) if s.startswith("SELECT inbox_events"))
        if start and seen[start - 1].startswith("BEGIN"):
            start -= 1
        seen = seen[start:]
        while seen and seen[-1].startswith(("SELECT inbox_events", "BEGIN")):
            seen.pop()
        return seen

    def close(self) -> None:
        event.remove(db.engine, "before_cursor_execute", self._on_execute)


def step_costs(line, existing: int) -> dict[str, list[str]]:
    person = line.user("สมศรี ใจดี")
    register(person)
    person.say("แผนของฉัน")
    fill_plan(person, existing)
    statements = Statements()
    try:
        costs = {}
        person.say("แผนของฉัน")
        costs["tap add"] = statements.during(lambda: person.tap("เพิ่มกิจกรรม"))
        costs["pick area"] = statements.during(lambda: person.tap("ด้านการบริหารตนเอง"))
        costs["pick component"] = statements.during(lambda: person.tap(choices(person)[0]))
        costs["type activity"] = statements.during(lambda: person.say("อบรมทำบัญชีครัวเรือน"))
        costs["bad answer"] = statements.during(lambda: person.say("x" * 600))
        person.tap("พัฒนาด้วยตนเอง")
        person.say("เรียนออนไลน์")
        person.tap("ตนเอง")
        start = fiscal.bounds(fiscal.year_of(date.today()))[0].isoformat()
        costs["pick date"] = statements.during(lambda: person.pick("เลือกจากปฏิทิน", start))
        person.pick("เลือกจากปฏิทิน", start)
        saved = statements.during(lambda: person.tap("บันทึก"))
        assert "บันทึกกิจกรรมในแผนแล้ว" in person.last_text
        costs["save (not a question)"] = saved
    finally:
        statements.close()
    return costs


CONTROL = ("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK")


def queries(seen: list[str]) -> list[str]:
    """Statements that read or write data (transaction control aside)."""
    return [s for s in seen if not s.startswith(CONTROL)]


def test_a_form_step_costs_at_most_ten_statements_whatever_the_plan_size(line):
    small = step_costs(line, existing=0)
    large = step_costs(line, existing=25)
    for step, seen in small.items():
        print(
            f"{step}: {len(queries(seen))} queries + {len(seen) - len(queries(seen))} "
            f"transaction control (25 activities: {len(queries(large[step]))} queries)"
        )
    for step, seen in small.items():
        assert queries(seen) == queries(large[step]), step
        if step != "save (not a question)":
            assert len(queries(seen)) <= STEP_BUDGET, (step, queries(seen))

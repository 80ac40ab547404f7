"""Certificate numbers: one sequence per province and fiscal year, never given twice, even
when province staff decide at the same moment."""

from __future__ import annotations

import threading

from sqlalchemy import select

from bot.db import db
from bot.models import CommitteeDecision, Plan, User
from bot.services import committee, fiscal
from tests.workspace import leader, officer_of, plan_at, staff_of, today


def _decide(
    plan_id: int, staff_line_id: str, result: str, reasons: str | None = None
) -> str | None:
    with db.transaction() as session:
        plan = session.get(Plan, plan_id)
        staff = session.scalar(select(User).where(User.line_user_id == staff_line_id))
        row = committee.decide(session, plan, staff, result, today(), reasons, today())
        return row.certificate_no


def test_numbers_follow_the_province_sequence_and_survive_a_correction(line, runner):
    officer = officer_of(line, runner)
    staff = staff_of(line, runner)
    first, second = leader(line, "สมศรี ใจดี"), leader(line, "สมหญิง รักดี")
    first_plan = plan_at(first, "inspected", officer)
    second_plan = plan_at(second, "inspected", officer)
    year = fiscal.year_of(today())

    assert _decide(first_plan, staff.user_id, "certified") == f"38-0001/{year}"
    assert _decide(second_plan, staff.user_id, "certified") == f"38-0002/{year}"
    # Corrected to not certified: the number is withdrawn, and nobody else gets it.
    assert _decide(first_plan, staff.user_id, "not_certified", "เอกสารไม่ครบ") is None
    # Certified again after all: the same number comes back.
    assert _decide(first_plan, staff.user_id, "certified") == f"38-0001/{year}"


def test_staff_deciding_at_the_same_moment_get_different_numbers(line, runner):
    officer = officer_of(line, runner)
    staff = staff_of(line, runner)
    names = ["สมศรี ใจดี", "สมหญิง รักดี", "มาลี ศรีสุข", "บุญมี มีสุข", "ทองใบ ใจงาม", "สายใจ ดีงาม"]
    plan_ids = [plan_at(leader(line, name), "inspected", officer) for name in names]

    numbers: list[str | None] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(plan_ids))

    def decide(plan_id: int) -> None:
        start.wait()
        try:
            numbers.append(_decide(plan_id, staff.user_id, "certified"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=decide, args=(p,)) for p in plan_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors, errors
    assert len(set(numbers)) == len(plan_ids)
    with db.transaction() as session:
        seqs = sorted(session.scalars(select(CommitteeDecision.certificate_seq)))
    assert seqs == list(range(1, len(plan_ids) + 1))

"""The fiscal year's row is made on first use, even when many leaders come at once."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from bot.db import db
from bot.models import FiscalYear
from bot.services import fiscal


def test_leaders_opening_their_plans_at_once_share_one_new_fiscal_year(app):
    barrier = threading.Barrier(6)
    failures: list[BaseException] = []

    def open_plan() -> None:
        try:
            with db.transaction() as session:
                barrier.wait(10)
                row = fiscal.ensure(session, 2571)
                assert row.standard_version_id is not None
        except BaseException as exc:  # collected: a thread's exception would vanish
            failures.append(exc)

    threads = [threading.Thread(target=open_plan) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert failures == []
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(FiscalYear)) == 1
        row = session.get(FiscalYear, 2571)
        assert row is not None and fiscal.bounds(2571) == (row.starts_on, row.ends_on)

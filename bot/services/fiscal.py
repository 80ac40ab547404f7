"""Thai fiscal years (October to September), named by their Buddhist Era year."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.models import FiscalYear, StandardVersion

BE_OFFSET = 543


def year_of(day: date) -> int:
    """The BE fiscal year a day falls in: 1 Oct 2026 (BE 2569) starts FY2570."""
    return day.year + BE_OFFSET + (1 if day.month >= 10 else 0)


def bounds(year_be: int) -> tuple[date, date]:
    year_ce = year_be - BE_OFFSET
    return date(year_ce - 1, 10, 1), date(year_ce, 9, 30)


def ensure(session: Session, year_be: int) -> FiscalYear:
    """The fiscal year's row, created on first use with the newest edition of the standard
    (the one set for the closest earlier year, else the latest loaded)."""
    row = session.get(FiscalYear, year_be)
    if row is not None and row.standard_version_id is not None:
        return row
    earlier = session.scalar(
        select(FiscalYear.standard_version_id)
        .where(FiscalYear.year_be < year_be, FiscalYear.standard_version_id.is_not(None))
        .order_by(FiscalYear.year_be.desc())
        .limit(1)
    )
    latest = earlier or session.scalar(
        select(StandardVersion.id).order_by(StandardVersion.id.desc()).limit(1)
    )
    if row is None:
        # Leaders opening their plan at the same moment all find the year missing: the one
        # insert that wins stands, the others are no-ops instead of unique violations.
        starts, ends = bounds(year_be)
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(
            dialect.insert(FiscalYear)
            .values(year_be=year_be, starts_on=starts, ends_on=ends, standard_version_id=latest)
            .on_conflict_do_nothing()
        )
        row = session.get(FiscalYear, year_be, populate_existing=True)
        assert row is not None
    if row.standard_version_id is None:
        row.standard_version_id = latest
        session.flush()
    return row

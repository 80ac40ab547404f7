"""The officer's list of leaders: each leader's plan state, progress, evidence and late work,
filtered by state and searched by name or subdistrict, one page at a time.

Set-based: one GROUP BY query counts the leaders per state, one more reads the page, however
many leaders there are. Free of Flask and LINE.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, Select, and_, case, false, func, or_, select
from sqlalchemy.orm import Session

from bot.models import CommitteeDecision, Evidence, LeaderProfile, Plan, PlanItem, User
from bot.services import access, areas, fiscal
from bot.services.committee import RESULTS
from bot.services.digest import ASSESSMENT_ASKED, INSPECTED, STATES
from bot.services.thai import without_invisible

# Typed search text kept: it travels URL-encoded in postback data (max 300 characters), and
# a Thai character takes nine there.
SEARCH_MAX = 25
PAGE = 10  # LINE's 12 bubbles per carousel: ten leaders and a "more" bubble

# The filters the officer taps, each a set of the digest's states (None: everyone).
FILTERS: dict[str, tuple[str, frozenset[str] | None]] = {
    "all": ("ทั้งหมด", None),
    "no_plan": ("ยังไม่มีแผน", frozenset({"no_plan"})),
    "draft": ("กำลังเขียนแผน", frozenset({"draft"})),
    "submitted": ("รอตรวจแผน", frozenset({"submitted"})),
    "approved": ("เห็นชอบแล้ว", frozenset({"approved", "in_progress"})),
    "assessment": ("ขอรับการประเมิน", frozenset({"assessment"})),
    "inspected": ("ตรวจแล้ว", frozenset({"inspected"})),
}


@dataclass(frozen=True)
class LeaderRow:
    user_id: int
    name: str
    subdistrict_code: str
    plan_id: int | None
    plan_status: str | None
    assessment_status: str | None
    state: str  # a key of digest.STATES
    done: int
    in_progress: int
    not_started: int
    evidence: int
    late: int
    decision: str | None  # the committee's result, once decided

    @property
    def subdistrict(self) -> str:
        return areas.label(self.subdistrict_code).split(" ")[0]

    @property
    def state_label(self) -> str:
        if self.decision is not None:
            return f"คณะกรรมการ{RESULTS.get(self.decision, self.decision)}แล้ว"
        return STATES[self.state]

    @property
    def awaiting_answer(self) -> bool:
        """An assessment request the officer has not answered yet."""
        return self.assessment_status == "requested"

    @property
    def can_inspect(self) -> bool:
        return self.plan_status == "approved" and self.decision is None


@dataclass(frozen=True)
class Page:
    rows: list[LeaderRow]
    total: int  # leaders matching the filter and search
    offset: int
    limit: int
    state: str  # a key of FILTERS
    search: str
    counts: dict[str, int] = field(default_factory=dict)  # leaders per FILTERS key

    @property
    def next_offset(self) -> int | None:
        end = self.offset + len(self.rows)
        return end if end < self.total else None


def clean_search(text: str | None) -> str:
    return " ".join(without_invisible(text or "").split())[:SEARCH_MAX]


def _subdistricts_matching(viewer: User, text: str) -> list[str]:
    """Subdistrict codes in the viewer's area whose name contains the text ("ต.หอคำ", "หอคำ")."""
    wanted = text.removeprefix("ตำบล").removeprefix("ต.").removeprefix("แขวง").strip()
    area = viewer.area_code or ""
    if not wanted or viewer.role not in {"officer", "province"} or not area:
        return []
    districts = [area] if len(area) == 4 else [d.code for d in areas.districts(area)]
    return [s.code for d in districts for s in areas.subdistricts(d) if wanted in s.name.strip()]


def _search_condition(viewer: User, text: str) -> ColumnElement[bool]:
    codes = _subdistricts_matching(viewer, text)
    by_name = LeaderProfile.full_name.contains(text, autoescape=True)
    return or_(by_name, LeaderProfile.subdistrict_code.in_(codes)) if codes else by_name


def _rows_query(viewer: User, year: int, today: date, search: str) -> Select:
    """Every leader in the viewer's scope with her plan of the year and its counts."""
    items = (
        select(
            PlanItem.plan_id.label("plan_id"),
            func.sum(case((PlanItem.state == "done", 1), else_=0)).label("done"),
            func.sum(case((PlanItem.state == "in_progress", 1), else_=0)).label("in_progress"),
            func.sum(case((PlanItem.state == "not_started", 1), else_=0)).label("not_started"),
            func.sum(
                case((and_(PlanItem.state != "done", PlanItem.ends_on < today), 1), else_=0)
            ).label("late"),
        )
        .group_by(PlanItem.plan_id)
        .subquery()
    )
    shown = (
        select(PlanItem.plan_id.label("plan_id"), func.count(Evidence.id).label("evidence"))
        .join(Evidence, Evidence.plan_item_id == PlanItem.id)
        .where(Evidence.status == "stored", Evidence.deleted_at.is_(None))
        .group_by(PlanItem.plan_id)
        .subquery()
    )
    started = func.coalesce(items.c.done, 0) + func.coalesce(items.c.in_progress, 0) > 0
    state = case(
        (Plan.id.is_(None), "no_plan"),
        (Plan.assessment_status == INSPECTED, "inspected"),
        (Plan.assessment_status.in_(ASSESSMENT_ASKED), "assessment"),
        (and_(Plan.status == "approved", started), "in_progress"),
        (Plan.status == "approved", "approved"),
        (Plan.status == "submitted", "submitted"),
        else_="draft",
    ).label("state")
    query = (
        select(
            LeaderProfile.user_id,
            LeaderProfile.full_name,
            LeaderProfile.subdistrict_code,
            Plan.id.label("plan_id"),
            Plan.status,
            Plan.assessment_status,
            state,
            func.coalesce(items.c.done, 0),
            func.coalesce(items.c.in_progress, 0),
            func.coalesce(items.c.not_started, 0),
            func.coalesce(shown.c.evidence, 0),
            func.coalesce(items.c.late, 0),
            CommitteeDecision.result,
        )
        .join(User, User.id == LeaderProfile.user_id)
        .outerjoin(Plan, and_(Plan.leader_id == LeaderProfile.user_id, Plan.fiscal_year == year))
        .outerjoin(items, items.c.plan_id == Plan.id)
        .outerjoin(shown, shown.c.plan_id == Plan.id)
        .outerjoin(CommitteeDecision, CommitteeDecision.plan_id == Plan.id)
        .where(access.leader_scope(viewer), User.role == "leader")
    )
    if viewer.role == "leader":
        query = query.where(false())  # a leader has no list of leaders
    if search:
        query = query.where(_search_condition(viewer, search))
    return query


def leaders(
    session: Session,
    viewer: User,
    state: str | None = None,
    search: str | None = None,
    offset: int = 0,
    limit: int = PAGE,
    *,
    today: date,
) -> Page:
    """One page of the leaders the viewer may see, in subdistrict then name order."""
    chosen = state if state in FILTERS else "all"
    text = clean_search(search)
    listed = _rows_query(viewer, fiscal.year_of(today), today, text).subquery()
    per_state = dict(
        session.execute(select(listed.c.state, func.count()).group_by(listed.c.state)).all()
    )
    counts = {
        key: sum(n for s, n in per_state.items() if states is None or s in states)
        for key, (_, states) in FILTERS.items()
    }
    wanted = FILTERS[chosen][1]
    page_query = select(listed)
    if wanted is not None:
        page_query = page_query.where(listed.c.state.in_(sorted(wanted)))
    offset = max(offset, 0)
    rows = session.execute(
        page_query.order_by(listed.c.subdistrict_code, listed.c.full_name, listed.c.user_id)
        .offset(offset)
        .limit(limit)
    ).all()
    return Page(
        rows=[LeaderRow(*row) for row in rows],
        total=counts[chosen],
        offset=offset,
        limit=limit,
        state=chosen,
        search=text,
        counts=counts,
    )

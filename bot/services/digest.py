"""The officers' weekly digest: each district's leaders by the state of their plan, late
activities and leaders who have gone quiet.

Set-based: a fixed number of queries for all districts with an officer, however many officers
and leaders there are, grouped here in Python. Free of Flask and LINE.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session

from bot.models import LeaderProfile, Plan, PlanItem, User

# Set on Plan.assessment_status once an officer has inspected the leader (issue 6).
INSPECTED = "inspected"
ASSESSMENT_ASKED = frozenset({"requested", "accepted", "more_info"})
SILENT_AFTER = timedelta(days=14)
STARTED = ("in_progress", "done")

# The states in the digest's order, each leader in exactly one.
STATES: dict[str, str] = {
    "no_plan": "ยังไม่มีแผน",
    "draft": "ร่าง/แก้ไข",
    "submitted": "ส่งแล้วรอตรวจ",
    "approved": "เห็นชอบแล้ว",
    "in_progress": "กำลังดำเนินการ",
    "assessment": "ขอรับการประเมิน",
    "inspected": "ตรวจประเมินแล้ว",
}


@dataclass(frozen=True)
class Officer:
    user_id: int
    line_user_id: str
    district_code: str


@dataclass(frozen=True)
class LateActivity:
    leader_id: int
    leader_name: str
    activity: str
    ends_on: date


@dataclass
class Leader:
    user_id: int
    name: str
    state: str
    last_contact: datetime  # last seen, or registered if never seen
    silent: bool
    waiting_on_officer: bool  # a plan to review or an assessment request to answer
    late: int = 0

    def quiet_days(self, now: datetime) -> int:
        return (now - self.last_contact).days

    @property
    def urgency(self) -> tuple[int, int, str]:
        """Sort key: the officer's own to-dos first, then late work, silence, no plan."""
        if self.waiting_on_officer:
            rank = 0
        elif self.late:
            rank = 1
        elif self.silent:
            rank = 2
        elif self.state == "no_plan":
            rank = 3
        else:
            rank = 9
        return rank, -self.late, self.name

    @property
    def reason(self) -> str:
        if self.state == "submitted":
            return "รอตรวจแผน"
        if self.waiting_on_officer:
            return "ขอรับการประเมิน"
        if self.late:
            return f"เลยกำหนด {self.late} กิจกรรม"
        if self.silent:
            return "ไม่ได้ติดต่อเกิน 14 วัน"
        return STATES[self.state]


@dataclass
class District:
    code: str
    leaders: list[Leader] = field(default_factory=list)
    late: list[LateActivity] = field(default_factory=list)  # the oldest end date first

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATES, 0)
        for leader in self.leaders:
            counts[leader.state] += 1
        return counts

    @property
    def silent(self) -> list[Leader]:
        return sorted((x for x in self.leaders if x.silent), key=lambda x: x.name)

    def urgent(self, limit: int) -> list[Leader]:
        return sorted((x for x in self.leaders if x.urgency[0] < 9), key=lambda x: x.urgency)[
            :limit
        ]


def state_of(status: str | None, assessment: str | None, started: bool) -> str:
    """A leader's digest state from her plan of the year (None: no plan)."""
    if status is None:
        return "no_plan"
    if assessment == INSPECTED:
        return "inspected"
    if assessment in ASSESSMENT_ASKED:
        return "assessment"
    if status == "approved":
        return "in_progress" if started else "approved"
    if status == "submitted":
        return "submitted"
    return "draft"  # draft or returned


def _officers_query() -> Select[tuple[int, str, str | None]]:
    return select(User.id, User.line_user_id, User.area_code).where(
        User.role == "officer",
        User.status == "active",
        User.following.is_(True),
        User.area_code.is_not(None),
    )


def officers(session: Session) -> list[Officer]:
    """Every officer who gets the digest: active, following, with a district."""
    return [
        Officer(user_id, line_id, area or "")
        for user_id, line_id, area in session.execute(_officers_query())
    ]


def districts(
    session: Session, fiscal_year: int, today: date, now: datetime
) -> dict[str, District]:
    """The districts that have an officer and leaders, keyed by district code."""
    covered = _officers_query().with_only_columns(User.area_code).scalar_subquery()
    in_scope = LeaderProfile.district_code.in_(covered)
    leader_rows = session.execute(
        select(
            LeaderProfile.user_id,
            LeaderProfile.full_name,
            LeaderProfile.district_code,
            LeaderProfile.registered_at,
            User.last_seen_at,
            Plan.id,
            Plan.status,
            Plan.assessment_status,
        )
        .join(User, User.id == LeaderProfile.user_id)
        .outerjoin(
            Plan, and_(Plan.leader_id == LeaderProfile.user_id, Plan.fiscal_year == fiscal_year)
        )
        # An erased leader's anonymous stand-in counts in reports but is nobody's to-do.
        .where(in_scope, User.role == "leader", User.status != "erased")
    ).all()
    plans_in_scope = (
        select(Plan.id)
        .join(LeaderProfile, LeaderProfile.user_id == Plan.leader_id)
        .where(Plan.fiscal_year == fiscal_year, in_scope)
    )
    started = set(
        session.scalars(
            select(PlanItem.plan_id)
            .where(PlanItem.plan_id.in_(plans_in_scope), PlanItem.state.in_(STARTED))
            .distinct()
        )
    )
    late_rows = session.execute(
        select(PlanItem.plan_id, PlanItem.activity, PlanItem.ends_on)
        .where(
            PlanItem.plan_id.in_(plans_in_scope),
            PlanItem.state != "done",
            PlanItem.ends_on < today,
        )
        .order_by(PlanItem.ends_on, PlanItem.plan_id, PlanItem.position)
    ).all()

    result: dict[str, District] = {}
    by_plan: dict[int, tuple[Leader, District]] = {}
    for user_id, name, district, registered, seen, plan_id, status, assessment in leader_rows:
        contact = seen or registered
        waiting = status == "submitted" or assessment == "requested"
        state = state_of(status, assessment, plan_id in started)
        leader = Leader(user_id, name, state, contact, now - contact > SILENT_AFTER, waiting)
        place = result.setdefault(district, District(district))
        place.leaders.append(leader)
        if plan_id is not None:
            by_plan[plan_id] = (leader, place)
    late_by_leader: dict[int, int] = defaultdict(int)
    for plan_id, activity, ends_on in late_rows:
        leader, place = by_plan[plan_id]
        place.late.append(LateActivity(leader.user_id, leader.name, activity, ends_on))
        late_by_leader[leader.user_id] += 1
    for place in result.values():
        for leader in place.leaders:
            leader.late = late_by_leader[leader.user_id]
        place.leaders.sort(key=lambda x: x.name)
    return result

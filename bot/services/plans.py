"""The self-development plan: one per leader per fiscal year, its activities, and its review.

Free of Flask and LINE: handlers call these and show the result. Errors carry the Thai
sentence to show the user. Every change bumps `Plan.revision` (so buttons on an older card can
be recognised) and is written to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, contains_eager, selectinload

from bot.documents.plan_form import PlanForm, PlanRow
from bot.models import LeaderProfile, Plan, PlanItem, User, utcnow
from bot.services import areas, audit, fiscal, standard
from bot.services.thai import clean_text as _clean_text
from bot.services.thai import thai_date

ACTIVITY_MAX = 300
DETAIL_MAX = 500
RESPONSIBLE_MAX = 100
COMMENT_MAX = 1000
MAX_ITEMS = 30  # the letter's example has a handful; a card stays readable up to this

STATUS_LABELS = {
    "draft": "ร่าง ยังไม่ส่ง",
    "submitted": "ส่งแล้ว รอเจ้าหน้าที่ตรวจ",
    "returned": "เจ้าหน้าที่ส่งกลับให้แก้ไข",
    "approved": "เจ้าหน้าที่เห็นชอบแล้ว",
}
STATE_LABELS = {"not_started": "ยังไม่เริ่ม", "in_progress": "กำลังดำเนินการ", "done": "เสร็จแล้ว"}
EDITABLE = {"draft", "returned"}


class PlanError(ValueError):
    """Something the user asked that cannot be done; str() is the Thai sentence to show."""


@dataclass(frozen=True)
class ItemDraft:
    component_id: int
    activity: str
    mode: str  # "self" or "help"
    detail: str  # the method (self) or the person/agency and matter (help)
    responsible: str
    starts_on: date
    ends_on: date


# Reading ---------------------------------------------------------------------------------
def current_year(today: date) -> int:
    return fiscal.year_of(today)


def find(session: Session, leader_id: int, year_be: int) -> Plan | None:
    return session.scalar(
        select(Plan)
        .where(Plan.leader_id == leader_id, Plan.fiscal_year == year_be)
        .options(selectinload(Plan.items))
    )


def get_or_create(session: Session, leader: User, year_be: int) -> Plan:
    plan = find(session, leader.id, year_be)
    if plan is None:
        version = standard.for_year(session, year_be)
        plan = Plan(
            leader_id=leader.id,
            fiscal_year=year_be,
            standard_version_id=version.id,
            status="draft",
            revision=1,
        )
        session.add(plan)
        session.flush()
        audit.record(session, "plan.create", "plan", plan.id, actor=leader, year=year_be)
    return plan


def item_of(session: Session, leader_id: int, item_id: int) -> PlanItem | None:
    """The leader's own item; None for another leader's or a deleted one."""
    # One query with its plan, which callers go on to use: `get` then `item.plan` took two.
    return session.scalar(
        select(PlanItem)
        .join(PlanItem.plan)
        .where(PlanItem.id == item_id, Plan.leader_id == leader_id)
        .options(contains_eager(PlanItem.plan))
    )


def count_items(session: Session, plan_id: int) -> int:
    return session.scalar(select(func.count()).where(PlanItem.plan_id == plan_id)) or 0


def edition(session: Session, plan: Plan) -> standard.Edition:
    """The edition of the standard the plan was written against."""
    return standard.version(session, plan.standard_version_id)


# Validation ------------------------------------------------------------------------------
def clean_text(value: str, what: str, limit: int) -> str:
    return _clean_text(value, what, limit, PlanError)


def check_period(year_be: int, starts_on: date, ends_on: date | None = None) -> None:
    first, last = fiscal.bounds(year_be)
    for day in (starts_on, ends_on):
        if day is not None and not first <= day <= last:
            raise PlanError(
                f"วันที่ {thai_date(day)} อยู่นอกปีงบประมาณ {year_be} ค่ะ "
                f"กรุณาเลือกวันระหว่าง {thai_date(first)} ถึง {thai_date(last)}"
            )
    if ends_on is not None and ends_on < starts_on:
        raise PlanError(
            f"วันสิ้นสุด ({thai_date(ends_on)}) อยู่ก่อนวันเริ่ม ({thai_date(starts_on)}) ค่ะ "
            "กรุณาเลือกวันสิ้นสุดใหม่"
        )


def _editable(plan: Plan) -> None:
    if plan.status == "submitted":
        raise PlanError("แผนนี้ส่งให้เจ้าหน้าที่แล้ว จึงแก้ไขไม่ได้ระหว่างรอตรวจค่ะ")
    if plan.status == "approved":
        raise PlanError("แผนนี้เจ้าหน้าที่เห็นชอบแล้ว หากต้องการเปลี่ยน กรุณาติดต่อเจ้าหน้าที่อำเภอค่ะ")


def _check_draft(session: Session, plan: Plan, draft: ItemDraft) -> None:
    if edition(session, plan).component(draft.component_id) is None:
        raise PlanError("องค์ประกอบนี้ไม่อยู่ในมาตรฐานของแผนนี้ กรุณาเลือกใหม่ค่ะ")
    if draft.mode not in {"self", "help"}:
        raise PlanError("กรุณาเลือกวิธีพัฒนา: ด้วยตนเอง หรือขอความร่วมมือค่ะ")
    clean_text(draft.activity, "กิจกรรม", ACTIVITY_MAX)
    clean_text(draft.detail, "รายละเอียด", DETAIL_MAX)
    clean_text(draft.responsible, "ผู้รับผิดชอบ", RESPONSIBLE_MAX)
    check_period(plan.fiscal_year, draft.starts_on, draft.ends_on)


def _touch(plan: Plan) -> None:
    plan.revision = (plan.revision or 0) + 1
    plan.updated_at = utcnow()


def _fill(item: PlanItem, draft: ItemDraft) -> None:
    item.component_id = draft.component_id
    item.activity = draft.activity
    item.mode = draft.mode
    item.method = draft.detail if draft.mode == "self" else None
    item.helper = draft.detail if draft.mode == "help" else None
    item.responsible = draft.responsible
    item.starts_on, item.ends_on = draft.starts_on, draft.ends_on


# Changing --------------------------------------------------------------------------------
def add_item(session: Session, plan: Plan, draft: ItemDraft, actor: User) -> PlanItem:
    _editable(plan)
    _check_draft(session, plan, draft)
    count = count_items(session, plan.id)
    if count >= MAX_ITEMS:
        raise PlanError(f"แผนหนึ่งมีกิจกรรมได้ไม่เกิน {MAX_ITEMS} กิจกรรมค่ะ")
    last = session.scalar(select(func.max(PlanItem.position)).where(PlanItem.plan_id == plan.id))
    item = PlanItem(plan_id=plan.id, position=(last or 0) + 1, state="not_started")
    _fill(item, draft)
    session.add(item)
    _touch(plan)
    session.flush()
    audit.record(session, "plan.item.add", "plan_item", item.id, actor=actor, plan=plan.id)
    return item


def update_item(session: Session, item: PlanItem, draft: ItemDraft, actor: User) -> PlanItem:
    plan = item.plan
    _editable(plan)
    _check_draft(session, plan, draft)
    _fill(item, draft)
    _touch(plan)
    session.flush()
    audit.record(session, "plan.item.edit", "plan_item", item.id, actor=actor, plan=plan.id)
    return item


def delete_item(session: Session, item: PlanItem, actor: User) -> None:
    plan = item.plan
    _editable(plan)
    audit.record(
        session,
        "plan.item.delete",
        "plan_item",
        item.id,
        actor=actor,
        plan=plan.id,
        activity=item.activity[:100],
    )
    session.delete(item)
    _touch(plan)
    session.flush()


def set_ready(session: Session, plan: Plan, day: date, actor: User) -> None:
    _editable(plan)
    check_period(plan.fiscal_year, day)
    plan.ready_on = day
    _touch(plan)
    audit.record(session, "plan.ready", "plan", plan.id, actor=actor, day=day.isoformat())


def submit(session: Session, plan: Plan, actor: User) -> None:
    if plan.status == "submitted":
        raise PlanError("แผนนี้ส่งให้เจ้าหน้าที่แล้ว กำลังรอตรวจค่ะ")
    _editable(plan)
    if not plan.items:
        raise PlanError("แผนยังไม่มีกิจกรรม กรุณาเพิ่มกิจกรรมอย่างน้อย 1 กิจกรรมก่อนส่งค่ะ")
    if plan.ready_on is None:
        raise PlanError("กรุณากำหนดวันที่พร้อมรับการประเมินก่อนส่งแผนค่ะ")
    plan.status, plan.submitted_at = "submitted", utcnow()
    _touch(plan)
    audit.record(session, "plan.submit", "plan", plan.id, actor=actor)


def check_reviewable(plan: Plan, revision: int) -> None:
    """Raise unless the plan awaits review and is the revision the officer saw."""
    if plan.status != "submitted":
        raise PlanError(f"แผนนี้ไม่ได้อยู่ระหว่างรอตรวจแล้วค่ะ (สถานะ: {STATUS_LABELS[plan.status]})")
    if plan.revision != revision:
        raise PlanError("แผนนี้มีการเปลี่ยนแปลงหลังจากการ์ดนี้ถูกส่งมา กรุณาดูการ์ดล่าสุดค่ะ")


def approve(session: Session, plan: Plan, officer: User, revision: int) -> None:
    check_reviewable(plan, revision)
    plan.status, plan.review_comment = "approved", None
    plan.reviewed_at, plan.reviewed_by = utcnow(), officer.id
    _touch(plan)
    audit.record(session, "plan.approve", "plan", plan.id, actor=officer)


def return_for_changes(
    session: Session, plan: Plan, officer: User, revision: int, comment: str
) -> None:
    check_reviewable(plan, revision)
    # Checked before anything changes: a refused comment leaves the plan awaiting review.
    plan.review_comment, plan.status = clean_text(comment, "ความเห็น", COMMENT_MAX), "returned"
    plan.reviewed_at, plan.reviewed_by = utcnow(), officer.id
    _touch(plan)
    audit.record(session, "plan.return", "plan", plan.id, actor=officer)


def officers_for(session: Session, district_code: str) -> list[User]:
    return list(
        session.scalars(
            select(User).where(
                User.role == "officer", User.status == "active", User.area_code == district_code
            )
        )
    )


# The official form -----------------------------------------------------------------------
def plan_form(session: Session, plan: Plan) -> PlanForm:
    profile = session.get(LeaderProfile, plan.leader_id)
    names = {
        c.id: (a.name_th, c.name_th) for a in edition(session, plan).areas for c in a.components
    }
    rows = [
        PlanRow(
            number=i,
            area=names[item.component_id][0],
            component=names[item.component_id][1],
            activity=item.activity,
            by_self=(item.method or "") if item.mode == "self" else "",
            with_help=(item.helper or "") if item.mode == "help" else "",
            responsible=item.responsible,
            starts_on=item.starts_on,
            ends_on=item.ends_on,
        )
        for i, item in enumerate(plan.items, start=1)
    ]
    return PlanForm(
        leader_name=profile.full_name if profile else "",
        area_label=areas.label(profile.subdistrict_code) if profile else "",
        fiscal_year=plan.fiscal_year,
        rows=rows,
        ready_on=plan.ready_on,
        status_label=STATUS_LABELS.get(plan.status, plan.status),
    )

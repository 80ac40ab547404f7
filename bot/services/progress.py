"""Carrying out the plan: activity states and notes, the work-management figures, and the
request for assessment. Free of Flask and LINE; errors carry the Thai sentence to show."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import Session

from bot.models import Plan, PlanItem, User, utcnow
from bot.services import audit, evidence, plans
from bot.services.plans import PlanError
from bot.services.thai import to_arabic_digits

NOTE_MAX = 1000
OCCUPATION_TARGET = Decimal(85)  # percent of trained households with an occupation
INCOME_TARGET = Decimal(3)  # percent more income
ASSESSMENT_LABELS = {
    "requested": "ขอรับการประเมินแล้ว รอเจ้าหน้าที่",
    "accepted": "เจ้าหน้าที่รับเรื่องแล้ว จะนัดตรวจประเมิน",
    "more_info": "เจ้าหน้าที่ขอข้อมูลเพิ่มเติม",
}


@dataclass
class AreaProgress:
    name: str
    done: int = 0
    in_progress: int = 0
    not_started: int = 0
    evidence: int = 0


@dataclass
class Progress:
    areas: list[AreaProgress]
    late: list[tuple[int, PlanItem]]  # (number in the plan, item)
    evidence_by_item: dict[int, int]
    total: int
    done: int
    occupation_share: Decimal | None
    income_change: Decimal | None
    figures: dict[str, object] = field(default_factory=dict)


def percent(part: Decimal, whole: Decimal) -> Decimal:
    return (part * 100 / whole).quantize(Decimal("0.1"))


def occupation_share(plan: Plan) -> Decimal | None:
    if not plan.households_trained or plan.households_with_occupation is None:
        return None
    return percent(Decimal(plan.households_with_occupation), Decimal(plan.households_trained))


def income_change(plan: Plan) -> Decimal | None:
    if not plan.income_before or plan.income_after is None:
        return None
    return percent(plan.income_after - plan.income_before, plan.income_before)


def is_late(item: PlanItem, today: date) -> bool:
    return item.state != "done" and item.ends_on < today


def of(session: Session, plan: Plan, today: date) -> Progress:
    edition = plans.edition(session, plan)
    counts = evidence.counts(session, (i.id for i in plan.items))
    by_component = {c.id: a.code for a in edition.areas for c in a.components}
    areas = {a.code: AreaProgress(a.name_th) for a in edition.areas}
    late = []
    for number, item in enumerate(plan.items, start=1):
        area = areas.get(by_component.get(item.component_id, ""))
        if area is not None:
            setattr(area, item.state, getattr(area, item.state) + 1)
            area.evidence += counts.get(item.id, 0)
        if is_late(item, today):
            late.append((number, item))
    return Progress(
        areas=list(areas.values()),
        late=late,
        evidence_by_item=counts,
        total=len(plan.items),
        done=sum(1 for i in plan.items if i.state == "done"),
        occupation_share=occupation_share(plan),
        income_change=income_change(plan),
    )


# Activity state --------------------------------------------------------------------------
def set_state(session: Session, item: PlanItem, state: str, note: str | None, actor: User) -> None:
    if state not in plans.STATE_LABELS:
        raise PlanError("กรุณาเลือกสถานะจากปุ่มค่ะ")
    if note is not None:
        note = plans.clean_text(note, "บันทึกความคืบหน้า", NOTE_MAX)
        item.note = note
    item.state = state
    item.updated_at = utcnow()
    audit.record(session, "plan.item.state", "plan_item", item.id, actor=actor, state=state)
    session.flush()


# Work-management figures ----------------------------------------------------------------
def parse_count(text: str) -> int:
    cleaned = to_arabic_digits(text).replace(",", "").replace(" ", "").removesuffix("ครัวเรือน")
    if not cleaned.isascii() or not cleaned.isdigit() or len(cleaned) > 6:
        raise PlanError("กรุณาพิมพ์เป็นตัวเลขจำนวนครัวเรือน เช่น 20 ค่ะ")
    return int(cleaned)


def parse_baht(text: str) -> Decimal:
    cleaned = to_arabic_digits(text).replace(",", "").replace(" ", "").removesuffix("บาท")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise PlanError("กรุณาพิมพ์เป็นจำนวนเงิน (บาท) เช่น 45000 ค่ะ") from None
    if not value.is_finite() or value < 0 or value >= Decimal("1e10"):
        raise PlanError("กรุณาพิมพ์จำนวนเงินที่ถูกต้อง ไม่ติดลบ เช่น 45000 ค่ะ")
    return value.quantize(Decimal("0.01"))


def record_figures(
    session: Session,
    plan: Plan,
    actor: User,
    *,
    trained: int,
    with_occupation: int,
    income_before: Decimal,
    income_after: Decimal,
) -> None:
    if with_occupation > trained:
        raise PlanError(f"ครัวเรือนที่มีอาชีพ ({with_occupation}) มากกว่าครัวเรือนที่อบรม ({trained}) ไม่ได้ค่ะ")
    plan.households_trained, plan.households_with_occupation = trained, with_occupation
    plan.income_before, plan.income_after = income_before, income_after
    audit.record(session, "plan.figures", "plan", plan.id, actor=actor)
    session.flush()


# Assessment ------------------------------------------------------------------------------
def request_assessment(session: Session, plan: Plan, actor: User) -> None:
    if plan.status != "approved":
        raise PlanError("ขอรับการประเมินได้เมื่อเจ้าหน้าที่เห็นชอบแผนแล้วค่ะ")
    if plan.assessment_status in {"requested", "accepted"}:
        raise PlanError(f"ขอรับการประเมินไปแล้วค่ะ ({ASSESSMENT_LABELS[plan.assessment_status]})")
    plan.assessment_status, plan.assessment_requested_at = "requested", utcnow()
    plan.assessment_comment = None
    audit.record(session, "plan.assessment.request", "plan", plan.id, actor=actor)


def _awaiting(plan: Plan) -> None:
    if plan.assessment_status != "requested":
        label = ASSESSMENT_LABELS.get(plan.assessment_status or "", "ยังไม่ได้ขอ")
        raise PlanError(f"คำขอนี้ตอบไปแล้วหรือไม่มีคำขอค้างอยู่ค่ะ (สถานะ: {label})")


def accept_assessment(session: Session, plan: Plan, officer: User) -> None:
    _awaiting(plan)
    plan.assessment_status = "accepted"
    audit.record(session, "plan.assessment.accept", "plan", plan.id, actor=officer)


def ask_for_more(session: Session, plan: Plan, officer: User, comment: str) -> None:
    _awaiting(plan)
    plan.assessment_comment = plans.clean_text(comment, "สิ่งที่ขอเพิ่ม", plans.COMMENT_MAX)
    plan.assessment_status = "more_info"
    audit.record(session, "plan.assessment.more", "plan", plan.id, actor=officer)

"""The district officer's inspection: the opinion (เสนอรับรอง / ยังไม่เสนอ), its reasons and
date, which the provincial committee reads. Recording it marks the plan inspected."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import CommitteeDecision, Inspection, LeaderProfile, Plan, User
from bot.services import access, audit
from bot.services.digest import INSPECTED
from bot.services.thai import clean_text

OPINIONS = {"recommend": "เสนอรับรอง", "not_yet": "ยังไม่เสนอ"}
REASONS_MAX = 1000


class InspectionError(ValueError):
    """Why an inspection cannot be recorded; the message is Thai, for the user."""


def of(session: Session, plan_id: int) -> Inspection | None:
    return session.scalar(select(Inspection).where(Inspection.plan_id == plan_id))


def check_can_record(session: Session, plan: Plan, officer: User) -> None:
    """Raise unless this officer may record (or correct) the inspection of this plan now."""
    profile = session.get(LeaderProfile, plan.leader_id)
    if (
        profile is None
        or officer.role not in {"officer", "admin"}
        or not access.can_view_leader(officer, profile)
    ):
        raise InspectionError("ขออภัยค่ะ คุณบันทึกผลการตรวจได้เฉพาะผู้นำในอำเภอที่คุณรับผิดชอบ")
    if plan.status != "approved":
        raise InspectionError("บันทึกผลการตรวจได้เมื่อแผนได้รับความเห็นชอบแล้วค่ะ")
    decided = session.scalar(
        select(CommitteeDecision.id).where(CommitteeDecision.plan_id == plan.id)
    )
    if decided is not None:
        raise InspectionError("คณะกรรมการจังหวัดพิจารณาผู้นำคนนี้แล้ว จึงแก้ผลการตรวจไม่ได้ค่ะ")


def check_day(day: date, today: date) -> None:
    if day > today:
        raise InspectionError("วันที่ตรวจต้องไม่เกินวันนี้ค่ะ")


def record(
    session: Session,
    plan: Plan,
    officer: User,
    opinion: str,
    reasons: str,
    day: date,
    today: date,
) -> Inspection:
    check_can_record(session, plan, officer)
    if opinion not in OPINIONS:
        raise InspectionError("กรุณาเลือกความเห็น เสนอรับรอง หรือ ยังไม่เสนอ ค่ะ")
    text = clean_text(reasons, "เหตุผลประกอบความเห็น", REASONS_MAX, InspectionError)
    check_day(day, today)
    row = of(session, plan.id)
    action = "inspection.record" if row is None else "inspection.correct"
    if row is None:
        row = Inspection(plan_id=plan.id)
        session.add(row)
    row.officer_id, row.opinion, row.reasons, row.inspected_on = officer.id, opinion, text, day
    plan.assessment_status = INSPECTED
    session.flush()
    audit.record(
        session, action, "plan", plan.id, actor=officer, opinion=opinion, on=day.isoformat()
    )
    return row

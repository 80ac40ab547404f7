"""The provincial committee: its decisions, certificate numbers in a per-province sequence,
the outstanding leader of the year (3.3), and the overview per district."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.models import (
    CertificateCounter,
    CommitteeDecision,
    Inspection,
    LeaderProfile,
    Plan,
    ProvinceSettings,
    User,
)
from bot.services import areas, audit
from bot.services.thai import clean_text

RESULTS = {"certified": "รับรอง", "not_certified": "ไม่รับรอง"}
# What a leader may agree to show on the public profile page (3.4), in the order asked.
PUBLISHABLE = {
    "name": "ชื่อ-นามสกุล",
    "area": "ตำบล อำเภอ",
    "story": "ประวัติและผลงาน",
    "photos": "รูปกิจกรรม",
}
REASONS_MAX = 1000
STORY_MAX = 3000


class CommitteeError(ValueError):
    """Why a committee action cannot be done; the message is Thai, for the user."""


def certificate_no(province_code: str, fiscal_year: int, seq: int) -> str:
    """e.g. "38-0007/2570": province code, the sequence, the fiscal year."""
    return f"{province_code}-{seq:04d}/{fiscal_year}"


def _next_seq(session: Session, province_code: str, fiscal_year: int) -> int:
    # Create the counter if missing without failing when another transaction creates it at
    # the same moment, then bump it in one UPDATE: the row lock makes concurrent deciders
    # wait for each other and each read back its own number.
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(CertificateCounter)
        .values(province_code=province_code, fiscal_year=fiscal_year, last_seq=0)
        .on_conflict_do_nothing()
    )
    return session.execute(
        update(CertificateCounter)
        .where(
            CertificateCounter.province_code == province_code,
            CertificateCounter.fiscal_year == fiscal_year,
        )
        .values(last_seq=CertificateCounter.last_seq + 1)
        .returning(CertificateCounter.last_seq)
    ).scalar_one()


def check_staff(session: Session, plan: Plan, staff: User) -> LeaderProfile:
    profile = session.get(LeaderProfile, plan.leader_id)
    if (
        profile is None
        or staff.status != "active"
        or staff.role not in {"province", "admin"}
        or (staff.role == "province" and profile.province_code != staff.area_code)
    ):
        raise CommitteeError("ขออภัยค่ะ คุณบันทึกผลได้เฉพาะผู้นำในจังหวัดที่คุณรับผิดชอบ")
    return profile


def check_inspected(session: Session, plan: Plan) -> None:
    if session.scalar(select(Inspection.id).where(Inspection.plan_id == plan.id)) is None:
        raise CommitteeError("อำเภอยังไม่ได้บันทึกผลการตรวจของผู้นำคนนี้ จึงยังพิจารณาไม่ได้ค่ะ")


def of(session: Session, plan_id: int) -> CommitteeDecision | None:
    return session.scalar(select(CommitteeDecision).where(CommitteeDecision.plan_id == plan_id))


def decide(
    session: Session,
    plan: Plan,
    staff: User,
    result: str,
    day: date,
    reasons: str | None,
    today: date,
) -> CommitteeDecision:
    """Record (or correct) the committee's decision. Certified needs the district's
    inspection first; the certificate number is given on first certification and kept."""
    profile = check_staff(session, plan, staff)
    if result not in RESULTS:
        raise CommitteeError("กรุณาเลือกผล รับรอง หรือ ไม่รับรอง ค่ะ")
    if day > today:
        raise CommitteeError("วันที่คณะกรรมการพิจารณาต้องไม่เกินวันนี้ค่ะ")
    check_inspected(session, plan)
    text = clean_text(reasons or "", "เหตุผล", REASONS_MAX, CommitteeError, required=False)
    if result == "not_certified" and not text:
        raise CommitteeError("กรุณาพิมพ์เหตุผลที่ไม่รับรองค่ะ")
    row = of(session, plan.id)
    action = "committee.decide" if row is None else "committee.correct"
    if row is None:
        row = CommitteeDecision(
            plan_id=plan.id,
            leader_id=plan.leader_id,
            province_code=profile.province_code,
            fiscal_year=plan.fiscal_year,
        )
        session.add(row)
    row.result, row.decided_on, row.reasons, row.decided_by = result, day, text or None, staff.id
    if result == "certified" and row.certificate_seq is None:
        row.certificate_seq = _next_seq(session, profile.province_code, plan.fiscal_year)
    row.certificate_no = (
        certificate_no(profile.province_code, plan.fiscal_year, row.certificate_seq)
        if result == "certified" and row.certificate_seq is not None
        else None
    )
    if result != "certified":
        row.outstanding = False
    session.flush()
    audit.record(
        session,
        action,
        "plan",
        plan.id,
        actor=staff,
        result=result,
        on=day.isoformat(),
        certificate=row.certificate_no,
    )
    return row


NO_CERTIFICATE_LINK = "ขอรับเกียรติบัตรได้ที่สำนักงานพัฒนาชุมชนจังหวัดค่ะ"


def result_text(decision: CommitteeDecision, certificate_url: str | None, corrected: bool) -> str:
    """What the leader reads in LINE, whether the province recorded it in LINE or on the web."""
    head = "แจ้งแก้ไขผลการพิจารณาค่ะ\n" if corrected else ""
    year = decision.fiscal_year
    if decision.result == "certified":
        where = (
            f"ดาวน์โหลดเกียรติบัตรได้ที่ลิงก์นี้ค่ะ\n{certificate_url}"
            if certificate_url
            else NO_CERTIFICATE_LINK
        )
        return (
            f"{head}ขอแสดงความยินดีด้วยค่ะ 🎉 คณะกรรมการจังหวัดรับรองคุณเป็นผู้นำสัมมาชีพชุมชน "
            f"ปีงบประมาณ {year} แล้ว\nเลขที่เกียรติบัตร {decision.certificate_no}\n{where}"
        )
    return (
        f"{head}คณะกรรมการจังหวัดพิจารณาแล้ว ยังไม่รับรองในปีงบประมาณ {year} ค่ะ\n"
        f"เหตุผล: {decision.reasons}\n"
        "ขอบคุณที่ตั้งใจพัฒนาตนเองนะคะ หากมีข้อสงสัย สอบถามพัฒนากรอำเภอได้ค่ะ"
    )


def mark_outstanding(
    session: Session, decision: CommitteeDecision, staff: User, story: str | None = None
) -> CommitteeDecision | None:
    """Make this certified leader the province's outstanding leader of the year; the one
    marked before (if any) is unmarked and returned."""
    plan = session.get(Plan, decision.plan_id)
    assert plan is not None
    check_staff(session, plan, staff)
    if decision.result != "certified":
        raise CommitteeError("เลือกผู้นำดีเด่นได้เฉพาะผู้นำที่ได้รับการรับรองแล้วค่ะ")
    # Checked before anything changes: a refused story leaves last year's choice as it was.
    if story is not None:
        story = clean_text(story, "ประวัติและผลงาน", STORY_MAX, CommitteeError)
    previous = session.scalar(
        select(CommitteeDecision).where(
            CommitteeDecision.province_code == decision.province_code,
            CommitteeDecision.fiscal_year == decision.fiscal_year,
            CommitteeDecision.outstanding.is_(True),
            CommitteeDecision.id != decision.id,
        )
    )
    if previous is not None:
        previous.outstanding = False
    decision.outstanding = True
    if story is not None:
        decision.story = story
    session.flush()
    audit.record(session, "committee.outstanding", "plan", plan.id, actor=staff)
    return previous


def set_publish(
    session: Session, decision: CommitteeDecision, leader: User, fields: list[str], now: datetime
) -> None:
    """The leader's own answer on what the public profile may show."""
    if leader.id != decision.leader_id:
        raise CommitteeError("ขออภัยค่ะ คำถามนี้ไม่ใช่ของคุณ")
    unknown = set(fields) - set(PUBLISHABLE)
    if unknown:
        raise CommitteeError("ตัวเลือกนี้ไม่ถูกต้องค่ะ")
    decision.publish = [f for f in PUBLISHABLE if f in fields]
    decision.publish_answered_at = now
    audit.record(session, "profile.publish", "plan", decision.plan_id, actor=leader, fields=fields)


def outstanding_of(session: Session, province_code: str, year: int) -> CommitteeDecision | None:
    return session.scalar(
        select(CommitteeDecision).where(
            CommitteeDecision.province_code == province_code,
            CommitteeDecision.fiscal_year == year,
            CommitteeDecision.outstanding.is_(True),
        )
    )


def settings_of(session: Session, province_code: str) -> ProvinceSettings:
    row = session.get(ProvinceSettings, province_code)
    return row or ProvinceSettings(province_code=province_code)


def save_settings(
    session: Session, province_code: str, staff: User, name: str, position: str
) -> ProvinceSettings:
    if staff.role not in {"province", "admin"} or (
        staff.role == "province" and staff.area_code != province_code
    ):
        raise CommitteeError("ขออภัยค่ะ คุณตั้งค่าได้เฉพาะจังหวัดที่คุณรับผิดชอบ")
    row = session.get(ProvinceSettings, province_code)
    if row is None:
        row = ProvinceSettings(province_code=province_code)
        session.add(row)
    row.signer_name = clean_text(name, "ชื่อผู้ลงนาม", 120, CommitteeError, one_line=True)
    row.signer_position = clean_text(position, "ตำแหน่งผู้ลงนาม", 200, CommitteeError, one_line=True)
    row.updated_by = staff.id
    session.flush()
    audit.record(session, "province.settings", "province", province_code, actor=staff)
    return row


@dataclass(frozen=True)
class DistrictCounts:
    code: str
    name: str
    leaders: int
    submitted: int  # sent for review at least once (submitted, returned or approved)
    approved: int
    inspected: int
    certified: int


def overview(session: Session, province_code: str, year: int) -> list[DistrictCounts]:
    """Per district of the province, in geothai's order, including districts with nobody."""
    plan_join = (Plan.leader_id == LeaderProfile.user_id) & (Plan.fiscal_year == year)
    rows = session.execute(
        select(
            LeaderProfile.district_code,
            func.count(LeaderProfile.user_id),
            func.count(case((Plan.submitted_at.is_not(None), 1))),
            func.count(case((Plan.status == "approved", 1))),
            func.count(Inspection.id),
            func.count(case((CommitteeDecision.result == "certified", 1))),
        )
        .select_from(LeaderProfile)
        .join(User, User.id == LeaderProfile.user_id)
        .outerjoin(Plan, plan_join)
        .outerjoin(Inspection, Inspection.plan_id == Plan.id)
        .outerjoin(CommitteeDecision, CommitteeDecision.plan_id == Plan.id)
        .where(LeaderProfile.province_code == province_code, User.role == "leader")
        .group_by(LeaderProfile.district_code)
    ).all()
    counts = {r[0]: r[1:] for r in rows}
    return [
        DistrictCounts(d.code, d.name, *counts.get(d.code, (0, 0, 0, 0, 0)))
        for d in areas.districts(province_code)
    ]


# Lists for the committee's work in LINE --------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    """A leader the committee reads: the plan, the district's inspection, and the decision
    if one was recorded."""

    plan: Plan
    profile: LeaderProfile
    inspection: Inspection
    decision: CommitteeDecision | None


def candidates(
    session: Session, province_code: str, year: int, district_code: str | None = None
) -> list[Candidate]:
    """Inspected leaders of the province for the year: those awaiting a decision first, then
    those decided (to correct), each group by district and name."""
    query = (
        select(Plan, LeaderProfile, Inspection, CommitteeDecision)
        .join(LeaderProfile, LeaderProfile.user_id == Plan.leader_id)
        .join(Inspection, Inspection.plan_id == Plan.id)
        .outerjoin(CommitteeDecision, CommitteeDecision.plan_id == Plan.id)
        .where(LeaderProfile.province_code == province_code, Plan.fiscal_year == year)
        .order_by(
            CommitteeDecision.id.is_not(None),
            LeaderProfile.district_code,
            LeaderProfile.full_name,
            Plan.id,
        )
    )
    if district_code is not None:
        query = query.where(LeaderProfile.district_code == district_code)
    return [Candidate(*row) for row in session.execute(query).all()]


def certified(
    session: Session, province_code: str, year: int, district_code: str | None = None
) -> list[tuple[CommitteeDecision, LeaderProfile]]:
    """The province's (or one district's) certified leaders of the year, by certificate number."""
    query = (
        select(CommitteeDecision, LeaderProfile)
        .join(LeaderProfile, LeaderProfile.user_id == CommitteeDecision.leader_id)
        .where(
            CommitteeDecision.province_code == province_code,
            CommitteeDecision.fiscal_year == year,
            CommitteeDecision.result == "certified",
        )
        .order_by(CommitteeDecision.certificate_seq)
    )
    if district_code:
        query = query.where(LeaderProfile.district_code == district_code)
    return [(decision, profile) for decision, profile in session.execute(query).all()]

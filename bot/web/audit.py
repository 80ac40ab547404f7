"""The audit log page: what happened to the leaders, plans and notices of the viewer's area."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, render_template, request
from sqlalchemy import ColumnElement, String, cast, false, func, or_, select
from sqlalchemy.orm import Session

from bot.db import db
from bot.models import AuditLog, Broadcast, Evidence, LeaderProfile, Plan, PlanItem, User
from bot.services import access
from bot.services.thai import thai_date
from bot.web import auth

bp = Blueprint("audit", __name__, template_folder="templates")

PAGE_SIZE = 50
# What each logged action means, in Thai; codes not listed show as "รายการอื่น".
ACTION_LABELS = {
    "user.follow": "เพิ่มเพื่อนบัญชี LINE",
    "user.unfollow": "บล็อกหรือเลิกติดตามบัญชี LINE",
    "user.forget": "ขอลบข้อมูลส่วนบุคคล",
    "consent.accept": "ยินยอมข้อตกลง",
    "consent.refuse": "ไม่ยินยอมข้อตกลง",
    "leader.register": "ลงทะเบียนผู้นำ",
    "leader.update": "แก้ไขข้อมูลผู้นำ",
    "plan.create": "เริ่มทำแผน",
    "plan.item.add": "เพิ่มกิจกรรมในแผน",
    "plan.item.edit": "แก้ไขกิจกรรมในแผน",
    "plan.item.delete": "ลบกิจกรรมในแผน",
    "plan.item.state": "อัปเดตความก้าวหน้ากิจกรรม",
    "plan.ready": "กำหนดวันที่แผนพร้อม",
    "plan.submit": "ส่งแผนให้เจ้าหน้าที่",
    "plan.approve": "เจ้าหน้าที่เห็นชอบแผน",
    "plan.return": "เจ้าหน้าที่ส่งแผนกลับให้แก้ไข",
    "plan.figures": "บันทึกตัวเลขการบริหารจัดการงาน",
    "plan.assessment.request": "ขอรับการประเมิน",
    "plan.assessment.accept": "เจ้าหน้าที่รับคำขอประเมิน",
    "plan.assessment.more": "เจ้าหน้าที่ขอข้อมูลเพิ่มเติม",
    "plan.download": "ดาวน์โหลดแผน",
    "plan.download.denied": "ปฏิเสธการดาวน์โหลดแผน",
    "summary.download": "ดาวน์โหลดเอกสารสรุปผลงาน",
    "summary.download.denied": "ปฏิเสธการดาวน์โหลดเอกสารสรุปผลงาน",
    "evidence.assign": "ส่งหลักฐานของกิจกรรม",
    "evidence.delete": "ลบหลักฐาน",
    "evidence.discard": "ยกเลิกหลักฐานที่ยังไม่ระบุกิจกรรม",
    "certificate.download": "ดาวน์โหลดเกียรติบัตร",
    "evidence.view.denied": "ปฏิเสธการดูหลักฐาน",
    "inspection.record": "อำเภอบันทึกผลการตรวจ",
    "inspection.correct": "อำเภอแก้ไขผลการตรวจ",
    "committee.decide": "คณะกรรมการจังหวัดบันทึกผล",
    "committee.correct": "คณะกรรมการจังหวัดแก้ไขผล",
    "committee.outstanding": "เลือกเป็นผู้นำดีเด่น",
    "profile.publish": "ผู้นำตอบเรื่องการเผยแพร่ประวัติ",
    "province.settings": "ตั้งค่าผู้ลงนามเกียรติบัตร",
    "broadcast.create": "สร้างประกาศวันประเมิน",
    "broadcast.change": "แก้ไขประกาศวันประเมิน",
    "broadcast.cancel": "ยกเลิกประกาศวันประเมิน",
    "appointment.acknowledged": "ผู้นำรับทราบนัดหมาย",
    "appointment.postpone": "ผู้นำขอเลื่อนนัดหมาย",
    "calendar.set": "กำหนดวันในปฏิทินงาน",
    "calendar.reset": "ใช้วันตามค่าเริ่มต้นของกรม",
    "reminder.snooze": "เลื่อนการแจ้งเตือน",
    "reminders.on": "เปิดการแจ้งเตือน",
    "reminders.off": "ปิดการแจ้งเตือน",
    "web.link": "ขอลิงก์เข้าเว็บ",
    "web.sign_in": "เข้าสู่ระบบเว็บ",
    "web.sign_out": "ออกจากระบบเว็บ",
}


def action_label(action: str) -> str:
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    if action.endswith(".denied"):
        return "ปฏิเสธคำขอที่ไม่มีสิทธิ์"
    return "รายการอื่น"


@dataclass(frozen=True)
class Entry:
    at: datetime
    action: str
    label: str
    actor: str


def _ids(column: ColumnElement[int]) -> ColumnElement[str]:
    # entity_id is text: compare with the ids cast to text, in SQL, on both databases.
    return cast(column, String)


def scope(viewer: User) -> ColumnElement[bool]:
    """The log entries about the viewer's area: its leaders, their plans, activities and
    evidence; for province staff also the province's broadcasts and settings; and the
    viewer's own actions."""
    leaders = access.leader_scope(viewer)
    plan_ids = select(_ids(Plan.id)).join(LeaderProfile, LeaderProfile.user_id == Plan.leader_id)
    item_ids = (
        select(_ids(PlanItem.id))
        .join(Plan, Plan.id == PlanItem.plan_id)
        .join(LeaderProfile, LeaderProfile.user_id == Plan.leader_id)
    )
    evidence_ids = select(_ids(Evidence.id)).join(
        LeaderProfile, LeaderProfile.user_id == Evidence.uploaded_by
    )
    user_ids = select(_ids(LeaderProfile.user_id))
    parts = [
        (AuditLog.entity == "plan") & AuditLog.entity_id.in_(plan_ids.where(leaders)),
        (AuditLog.entity == "plan_item") & AuditLog.entity_id.in_(item_ids.where(leaders)),
        (AuditLog.entity == "evidence") & AuditLog.entity_id.in_(evidence_ids.where(leaders)),
        (AuditLog.entity == "user") & AuditLog.entity_id.in_(user_ids.where(leaders)),
        AuditLog.actor_user_id == viewer.id,
    ]
    if viewer.role == "province" and viewer.area_code:
        province = viewer.area_code[:2]
        broadcast_ids = select(_ids(Broadcast.id)).where(Broadcast.province_code == province)
        parts += [
            (AuditLog.entity == "broadcast") & AuditLog.entity_id.in_(broadcast_ids),
            (AuditLog.entity == "province") & (AuditLog.entity_id == province),
        ]
    if viewer.role == "admin":
        return AuditLog.id.is_not(None)
    return or_(*parts) if viewer.status == "active" else false()


def entries(
    session: Session, condition: ColumnElement[bool], offset: int, limit: int
) -> tuple[list[Entry], int]:
    total = session.scalar(select(func.count()).select_from(AuditLog).where(condition)) or 0
    rows = session.execute(
        select(AuditLog, User.display_name)
        .outerjoin(User, User.id == AuditLog.actor_user_id)
        .where(condition)
        .order_by(AuditLog.at.desc(), AuditLog.id.desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return [
        Entry(
            row.at,
            row.action,
            action_label(row.action),
            name or ("ระบบ" if row.actor_user_id is None else "-"),
        )
        for row, name in rows
    ], total


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def when(moment: datetime) -> str:
    tz = ZoneInfo(current_app.config["APP_TIMEZONE"])
    return f"{thai_date(moment, tz.key, short=True)} {moment.astimezone(tz):%H:%M} น."


@bp.get("/web/audit")
@auth.signed_in("officer", "province")
def page() -> str:
    who = auth.viewer()
    assert who is not None
    tz = ZoneInfo(current_app.config["APP_TIMEZONE"])
    action = request.args.get("action", "")
    since, until = _day(request.args.get("from")), _day(request.args.get("to"))
    page_no = max(request.args.get("page", 1, type=int) or 1, 1)
    condition = scope(who.user)
    if action:
        if action not in ACTION_LABELS:
            abort(400, description="ไม่รู้จักประเภทรายการนี้ค่ะ")
        condition = condition & (AuditLog.action == action)
    if since:
        condition = condition & (AuditLog.at >= datetime.combine(since, time(0), tz))
    if until:
        end = datetime.combine(until + timedelta(days=1), time(0), tz)
        condition = condition & (AuditLog.at < end)
    with db.transaction() as session:
        rows, total = entries(session, condition, (page_no - 1) * PAGE_SIZE, PAGE_SIZE)
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    return render_template(
        "desk/audit.html",
        rows=rows,
        total=total,
        page_no=page_no,
        pages=pages,
        action=action,
        since=since.isoformat() if since else "",
        until=until.isoformat() if until else "",
        actions=sorted(ACTION_LABELS.items(), key=lambda kv: kv[1]),
        when=when,
    )


auth.add_nav("บันทึกการใช้งาน", "audit.page", ("officer", "province"), order=80)

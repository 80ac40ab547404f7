"""The leaders table and a leader's page, with her evidence served in full size. Every
query is scoped by `access.leader_scope`; a leader's page and files by `can_view_leader`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request
from flask import url_for as flask_url_for
from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from bot import clock
from bot.db import db
from bot.downloads import stream_object
from bot.models import (
    AuditLog,
    CommitteeDecision,
    Evidence,
    Inspection,
    LeaderProfile,
    Plan,
    PlanItem,
    User,
)
from bot.services import access, areas, committee, fiscal, inspection, plans, progress
from bot.services.thai import format_phone, thai_date
from bot.web import auth
from bot.web.audit import action_label, when

bp = Blueprint("desk", __name__, template_folder="templates")

PAGE_SIZE = 25
STATES = {
    "no_plan": "ยังไม่มีแผน",
    "draft": "ร่าง/แก้ไขแผน",
    "submitted": "ส่งแผนแล้ว รอตรวจ",
    "approved": "เห็นชอบแผนแล้ว",
    "inspected": "อำเภอตรวจแล้ว",
    "certified": "รับรองแล้ว",
    "not_certified": "ไม่รับรอง",
}
SORTS = {"name", "subdistrict", "registered", "state"}


def state_column() -> ColumnElement[str]:
    """The leader's state for the year, in SQL, so the table can filter and sort by it."""
    return case(
        (CommitteeDecision.result == "certified", "certified"),
        (CommitteeDecision.result == "not_certified", "not_certified"),
        (Inspection.id.is_not(None), "inspected"),
        (Plan.status == "approved", "approved"),
        (Plan.status == "submitted", "submitted"),
        (Plan.id.is_not(None), "draft"),
        else_="no_plan",
    )


def state_rank() -> ColumnElement[int]:
    return case(
        *((state_column() == key, rank) for rank, key in enumerate(STATES)), else_=len(STATES)
    )


@dataclass(frozen=True)
class Row:
    user_id: int
    name: str
    subdistrict: str
    district: str
    registered_at: datetime
    state: str


@dataclass(frozen=True)
class Query:
    year: int
    district: str = ""
    subdistrict: str = ""
    state: str = ""
    sort: str = "name"
    desc: bool = False
    page: int = 1


def leader_rows(session: Session, viewer: User, q: Query) -> tuple[list[Row], int]:
    state = state_column()
    where: list[ColumnElement[bool]] = [access.leader_scope(viewer), User.role == "leader"]
    if q.district:
        where.append(LeaderProfile.district_code == q.district)
    if q.subdistrict:
        where.append(LeaderProfile.subdistrict_code == q.subdistrict)
    if q.state:
        where.append(state == q.state)
    base = (
        select(LeaderProfile.user_id)
        .join(User, User.id == LeaderProfile.user_id)
        .outerjoin(Plan, and_(Plan.leader_id == LeaderProfile.user_id, Plan.fiscal_year == q.year))
        .outerjoin(Inspection, Inspection.plan_id == Plan.id)
        .outerjoin(CommitteeDecision, CommitteeDecision.plan_id == Plan.id)
        .where(*where)
    )
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    key = {
        "name": LeaderProfile.full_name,
        "subdistrict": LeaderProfile.subdistrict_code,
        "registered": LeaderProfile.registered_at,
        "state": state_rank(),
    }[q.sort]
    order = [key.desc() if q.desc else key.asc(), LeaderProfile.full_name, LeaderProfile.user_id]
    rows = session.execute(
        base.with_only_columns(
            LeaderProfile.user_id,
            LeaderProfile.full_name,
            LeaderProfile.subdistrict_code,
            LeaderProfile.district_code,
            LeaderProfile.registered_at,
            state,
        )
        .order_by(*order)
        .offset((q.page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return [Row(*row) for row in rows], total


def today() -> date:
    return clock.now().astimezone(ZoneInfo(current_app.config["APP_TIMEZONE"])).date()


def _area_name(code: str) -> str:
    found = areas.find(code)
    return found.name if found else code


def _query(viewer: User, today_year: int) -> Query:
    args = request.args
    sort = args.get("sort", "name")
    state = args.get("state", "")
    district = args.get("district", "")
    if viewer.role == "officer":
        district = viewer.area_code or ""
    return Query(
        year=args.get("year", today_year, type=int) or today_year,
        district=district if district.isdigit() else "",
        subdistrict=s if (s := args.get("subdistrict", "")).isdigit() else "",
        state=state if state in STATES else "",
        sort=sort if sort in SORTS else "name",
        desc=args.get("dir") == "desc",
        page=max(args.get("page", 1, type=int) or 1, 1),
    )


@bp.get("/web/leaders")
@auth.signed_in("officer", "province", "leader")
def leaders() -> Any:
    who = auth.viewer()
    assert who is not None
    if who.role == "leader":
        return redirect(flask_url_for("desk.leader", user_id=who.user.id))
    current = fiscal.year_of(today())
    q = _query(who.user, current)
    with db.transaction() as session:
        rows, total = leader_rows(session, who.user, q)
    province = (who.area_code or "")[:2]
    districts = areas.districts(province) if who.role == "province" and province else []
    district = q.district or (who.area_code if who.role == "officer" else "")
    return render_template(
        "desk/leaders.html",
        rows=rows,
        total=total,
        q=q,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        years=[current - n for n in range(3)],
        districts=districts,
        subdistricts=areas.subdistricts(district) if district else [],
        states=STATES,
        area_name=_area_name,
        thai_date=thai_date,
        args={
            "year": q.year,
            "district": q.district if who.role != "officer" else "",
            "subdistrict": q.subdistrict,
            "state": q.state,
            "sort": q.sort,
            "dir": "desc" if q.desc else "asc",
        },
    )


def _visible(session: Session, user_id: int) -> LeaderProfile:
    """The leader's profile if the viewer may see her; 403 alike for another area's leader
    and for one that does not exist, so ids cannot be probed."""
    who = auth.viewer()
    assert who is not None
    profile = session.get(LeaderProfile, user_id)
    if profile is None or not access.can_view_leader(who.user, profile):
        abort(403)
    return profile


def timeline(
    session: Session, user_id: int, plan_ids: list[int], item_ids: list[int]
) -> list[tuple[str, str, str]]:
    about = [(AuditLog.entity == "user") & (AuditLog.entity_id == str(user_id))]
    if plan_ids:
        about.append((AuditLog.entity == "plan") & AuditLog.entity_id.in_(map(str, plan_ids)))
    if item_ids:
        about.append((AuditLog.entity == "plan_item") & AuditLog.entity_id.in_(map(str, item_ids)))
    rows = session.execute(
        select(AuditLog.at, AuditLog.action, User.display_name)
        .outerjoin(User, User.id == AuditLog.actor_user_id)
        .where(or_(*about), ~AuditLog.action.in_(("web.link", "web.sign_in", "web.sign_out")))
        .order_by(AuditLog.at.desc(), AuditLog.id.desc())
        .limit(100)
    ).all()
    return [(when(at), action_label(action), name or "ระบบ") for at, action, name in rows]


@bp.get("/web/leaders/<int:user_id>")
@auth.signed_in("officer", "province", "leader")
def leader(user_id: int) -> str:
    who = auth.viewer()
    assert who is not None
    tz = current_app.config["APP_TIMEZONE"]
    day = today()
    with db.transaction() as session:
        profile = _visible(session, user_id)
        years = list(
            session.scalars(
                select(Plan.fiscal_year)
                .where(Plan.leader_id == user_id)
                .order_by(Plan.fiscal_year.desc())
            )
        )
        year = request.args.get("year", type=int) or (
            fiscal.year_of(day) if fiscal.year_of(day) in years or not years else years[0]
        )
        plan = plans.find(session, user_id, year)
        view: dict[str, Any] = {"plan": plan, "form": None}
        if plan is not None:
            items = list(plan.items)
            view["form"] = plans.plan_form(session, plan)
            view["items"] = items
            view["progress"] = progress.of(session, plan, day)
            view["evidence"] = list(
                session.scalars(
                    select(Evidence)
                    .where(
                        Evidence.plan_item_id.in_([i.id for i in items] or [-1]),
                        Evidence.status == "stored",
                        Evidence.deleted_at.is_(None),
                    )
                    .order_by(Evidence.plan_item_id, Evidence.id)
                )
            )
            view["numbers"] = {i.id: n for n, i in enumerate(items, start=1)}
            view["inspection"] = inspection.of(session, plan.id)
            view["decision"] = committee.of(session, plan.id)
            names = {
                u.id: u.display_name or ""
                for u in session.scalars(
                    select(User).where(
                        User.id.in_(
                            [
                                x
                                for x in (
                                    view["inspection"] and view["inspection"].officer_id,
                                    view["decision"] and view["decision"].decided_by,
                                )
                                if x
                            ]
                            or [-1]
                        )
                    )
                )
            }
            view["names"] = names
        all_plans = list(session.scalars(select(Plan.id).where(Plan.leader_id == user_id)))
        item_ids = list(
            session.scalars(select(PlanItem.id).where(PlanItem.plan_id.in_(all_plans or [-1])))
        )
        history = timeline(session, user_id, all_plans, item_ids)
        name, area = profile.full_name, areas.label(profile.subdistrict_code)
        phone = format_phone(profile.phone) if profile.phone else "-"
        registered = thai_date(profile.registered_at, tz)
    return render_template(
        "desk/leader.html",
        name=name,
        area=area,
        phone=phone,
        registered=registered,
        year=year,
        years=sorted(set(years) | {year}, reverse=True),
        user_id=user_id,
        history=history,
        thai_date=thai_date,
        tz=tz,
        state_labels=plans.STATE_LABELS,
        opinions=inspection.OPINIONS,
        results=committee.RESULTS,
        certificate_link="exports.certificate" in current_app.view_functions
        and who.role in ("officer", "province", "admin"),
        **view,
    )


def _stream(key: str, mimetype: str) -> Response:
    response = stream_object(key, mimetype)
    if response is None:
        abort(404)
    return response


@bp.get("/web/evidence/<int:evidence_id>")
@auth.signed_in("officer", "province", "leader")
def evidence_full(evidence_id: int) -> Response:
    """A photo as the EXIF-stripped copy (the original keeps time and place and is never
    served), a video or file as sent."""
    with db.transaction() as session:
        row = session.get(Evidence, evidence_id)
        if row is None or row.deleted_at is not None or row.status != "stored":
            abort(403)
        _visible(session, row.uploaded_by)
        if row.kind == "image":
            key, mimetype = row.thumb_key, "image/jpeg"
        else:
            key, mimetype = row.storage_key, row.mime_type or "application/octet-stream"
    if not key:
        abort(404)
    response = _stream(key, mimetype)
    if row.kind != "image":
        response.headers["Content-Disposition"] = "attachment"
    return response


auth.add_nav("ผู้นำ", "desk.leaders", ("officer", "province", "leader"), order=10)

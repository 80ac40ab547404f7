"""The provincial committee's meeting on the web: every inspected leader of the province with
the district's opinion beside her, decisions for one meeting recorded in bulk (all or none),
each leader told her result in LINE; and the signer of the certificates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy.orm import Session

from bot import outbox, render
from bot.db import db
from bot.models import CommitteeDecision, LeaderProfile, Plan, User
from bot.services import areas, committee, fiscal, inspection
from bot.services.committee import CommitteeError
from bot.services.thai import thai_date
from bot.web import auth
from bot.web.desk import today

bp = Blueprint("committee", __name__, template_folder="templates")


@dataclass(frozen=True)
class Candidate:
    plan_id: int
    leader_id: int
    name: str
    subdistrict: str
    district: str
    opinion: str
    opinion_reasons: str
    inspected_on: date
    decision: CommitteeDecision | None


class _Undo(Exception):
    """Raised inside the meeting's transaction so that no decision of it is kept."""


def _province() -> str:
    who = auth.viewer()
    assert who is not None
    if who.role == "province" and who.area_code:
        return who.area_code[:2]
    chosen = request.args.get("province", "")
    if who.role == "admin" and areas.find(chosen) is not None and len(chosen) == 2:
        return chosen
    abort(400, description="กรุณาระบุจังหวัดค่ะ")


def candidates(session: Session, province: str, year: int) -> list[Candidate]:
    """The service's inspected leaders, as rows of the meeting table in district and name
    order (the meeting reads them as the districts present them, decided or not)."""
    found = committee.candidates(session, province, year)
    found.sort(key=lambda c: (c.profile.district_code, c.profile.full_name, c.plan.id))
    return [
        Candidate(
            c.plan.id,
            c.profile.user_id,
            c.profile.full_name,
            areas.label(c.profile.subdistrict_code).split(" ")[0],
            areas.label(c.profile.district_code).split(" ")[0],
            inspection.OPINIONS.get(c.inspection.opinion, c.inspection.opinion),
            c.inspection.reasons,
            c.inspection.inspected_on,
            c.decision,
        )
        for c in found
    ]


def _tell(session: Session, decision: CommitteeDecision, corrected: bool) -> None:
    leader = session.get(User, decision.leader_id)
    if leader is not None and leader.following:
        links = current_app.extensions["runtime"].site.links
        url = links.certificate_url(decision.id, decision.leader_id)
        message = render.text(committee.result_text(decision, url, corrected))
        outbox.enqueue_push(session, leader.line_user_id, [message])


def _choices() -> list[tuple[int, str, str]]:
    """(plan id, result, reasons) of each row the staff filled in."""
    chosen = []
    for key, value in request.form.items():
        if key.startswith("result-") and key[7:].isdigit() and value:
            chosen.append((int(key[7:]), value, request.form.get(f"reasons-{key[7:]}", "")))
    return chosen


def record_meeting(
    staff_id: int, province: str, year: int, day: date | None
) -> tuple[int, dict[int, str], str | None]:
    """Decide every chosen row in one transaction; any error keeps none of them. Returns
    (decided, errors per plan id, an error about the whole form)."""
    chosen = _choices()
    if not chosen:
        return 0, {}, "ยังไม่ได้เลือกผลของผู้นำคนใดเลยค่ะ"
    if day is None:
        return 0, {}, "กรุณาเลือกวันที่ประชุมคณะกรรมการค่ะ"
    errors: dict[int, str] = {}
    try:
        with db.transaction() as session:
            staff = session.get(User, staff_id)
            assert staff is not None
            decided: list[tuple[CommitteeDecision, bool]] = []
            for plan_id, result, reasons in chosen:
                plan = session.get(Plan, plan_id)
                profile = session.get(LeaderProfile, plan.leader_id) if plan else None
                if plan is None or profile is None or plan.fiscal_year != year:
                    errors[plan_id] = "ไม่พบแผนนี้ในปีงบประมาณที่เลือกค่ะ"
                    continue
                if profile.province_code != province:
                    errors[plan_id] = "ขออภัยค่ะ คุณบันทึกผลได้เฉพาะผู้นำในจังหวัดที่คุณรับผิดชอบ"
                    continue
                corrected = committee.of(session, plan.id) is not None
                try:
                    decision = committee.decide(session, plan, staff, result, day, reasons, today())
                except CommitteeError as exc:
                    errors[plan_id] = str(exc)
                    continue
                decided.append((decision, corrected))
            if errors:
                raise _Undo
            for decision, corrected in decided:
                _tell(session, decision, corrected)
    except _Undo:
        return 0, errors, "ยังไม่ได้บันทึกผลใด ๆ กรุณาแก้ไขรายการที่มีข้อความสีแดงแล้วกดบันทึกอีกครั้งค่ะ"
    return len(decided), {}, None


def _render(province: str, year: int, status: int = 200, **extra: Any) -> tuple[str, int]:
    with db.transaction() as session:
        rows = candidates(session, province, year)
    views = current_app.view_functions
    return render_template(
        "desk/committee.html",
        rows=rows,
        year=year,
        province=province,
        province_name=areas.label(province),
        years=[fiscal.year_of(today()) - n for n in range(3)],
        results=committee.RESULTS,
        thai_date=thai_date,
        today=today().isoformat(),
        one_link="exports.certificate" in views,
        all_link="exports.certificates_all" in views,
        form=request.form if request.method == "POST" else {},
        errors=extra.pop("errors", {}),
        form_error=extra.pop("form_error", None),
        **extra,
    ), status


@bp.route("/web/committee", methods=["GET", "POST"])
@auth.signed_in("province")
def page() -> Any:
    who = auth.viewer()
    assert who is not None
    province = _province()
    source = request.form if request.method == "POST" else request.args
    year = source.get("year", type=int) or fiscal.year_of(today())
    if request.method == "GET":
        return _render(province, year)
    auth.check_csrf()
    try:
        day = date.fromisoformat(request.form.get("meeting_date", ""))
    except ValueError:
        day = None
    count, errors, form_error = record_meeting(who.user.id, province, year, day)
    if form_error:
        return _render(province, year, 400, errors=errors, form_error=form_error)
    flash(f"บันทึกผลการพิจารณาแล้ว {count} คน และแจ้งผลให้ผู้นำทาง LINE แล้วค่ะ", "ok")
    args = {"year": year} | ({"province": province} if who.role == "admin" else {})
    return redirect(url_for("committee.page", **args))


@bp.route("/web/settings", methods=["GET", "POST"])
@auth.signed_in("province")
def settings() -> Any:
    who = auth.viewer()
    assert who is not None
    province = _province()
    error = None
    if request.method == "POST":
        auth.check_csrf()
        try:
            with db.transaction() as session:
                staff = session.get(User, who.user.id)
                assert staff is not None
                committee.save_settings(
                    session,
                    province,
                    staff,
                    request.form.get("signer_name", ""),
                    request.form.get("signer_position", ""),
                )
        except CommitteeError as exc:
            error = str(exc)
        else:
            flash("บันทึกผู้ลงนามเกียรติบัตรแล้วค่ะ", "ok")
            return redirect(url_for("committee.settings", **request.args))
    with db.transaction() as session:
        row = committee.settings_of(session, province)
        name, position = row.signer_name or "", row.signer_position or ""
    if request.method == "POST":
        name = request.form.get("signer_name", "")
        position = request.form.get("signer_position", "")
    page_html = render_template(
        "desk/settings.html",
        province_name=areas.label(province),
        name=name,
        position=position,
        error=error,
    )
    return page_html, 400 if error else 200


auth.add_nav("คณะกรรมการจังหวัด", "committee.page", ("province",), order=20)
auth.add_nav("ตั้งค่าจังหวัด", "committee.settings", ("province",), order=90)

"""Province broadcasts of assessment dates and the programme calendar, on the web. Creating
and cancelling go through `bot.services.broadcasts` with the same checks and the same cards
as the LINE form (`handlers.broadcast*`), so a broadcast is one thing whichever way it came."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from bot import clock
from bot.db import db
from bot.models import Broadcast, User
from bot.services import areas, fiscal
from bot.services import broadcasts as service
from bot.services import calendar as programme
from bot.services.broadcasts import BroadcastError
from bot.web import auth
from bot.web.desk import today
from handlers import broadcast_views as views

bp = Blueprint("notices", __name__, template_folder="templates")

PAGE_SIZE = 20


def _tz() -> str:
    return str(current_app.config["APP_TIMEZONE"])


def _local(text: str | None) -> datetime | None:
    """A datetime-local field ("2027-06-20T09:30") as an aware time in the app's zone."""
    try:
        moment = datetime.fromisoformat(text or "")
    except ValueError:
        return None
    return moment.replace(tzinfo=ZoneInfo(_tz())) if moment.tzinfo is None else None


def _province(who_area: str | None) -> str:
    if not who_area:
        abort(400, description="กรุณาระบุจังหวัดค่ะ")
    return who_area[:2]


def _draft(province: str) -> service.Draft:
    form = request.form
    starts_at = _local(form.get("starts_at"))
    if starts_at is None:
        raise BroadcastError("กรุณาเลือกวันและเวลาประเมินค่ะ")
    service.check_starts_at(starts_at, clock.now(), views.year_end(today(), _tz()))
    audience = form.get("audience", "")
    known = {d.code for d in areas.districts(province)}
    chosen = [code for code in form.getlist("district_codes") if code in known]
    return service.Draft(
        starts_at=starts_at,
        place=service.check_place(form.get("place", "")),
        note=service.check_note(form.get("note", "")) or None,
        audience=audience,
        district_codes=chosen if audience == "districts" else [],
    )


def create(staff_id: int, province: str) -> str:
    """Create (and send now, or schedule) the broadcast in the form; the sentence to show."""
    now = clock.now()
    draft = _draft(province)
    schedule = request.form.get("when") == "schedule"
    send_at = _local(request.form.get("send_at")) if schedule else now
    if send_at is None or (schedule and send_at <= now):
        raise BroadcastError("เวลาส่งต้องเป็นเวลาในอนาคตค่ะ กรุณาเลือกใหม่")
    quiet = current_app.extensions["runtime"].site.quiet
    with db.transaction() as session:
        staff = session.get(User, staff_id)
        assert staff is not None
        broadcast = service.create(session, staff, draft, send_at=send_at, now=now)
        # As in LINE's preview: nobody to tell is refused (the raise undoes the create).
        found = service.resolve(session, province, draft.audience, draft.district_codes)
        if found.recipients == 0:
            raise BroadcastError("ยังไม่มีผู้รับในกลุ่มนี้ที่ติดตามบัญชีอยู่ค่ะ กรุณาเลือกผู้รับกลุ่มอื่น")
        if schedule:
            return f"ตั้งเวลาส่งประกาศแล้วค่ะ จะส่งออก{views.when_long(send_at, _tz())}"
        sent = service.queue(
            session, broadcast, views.cards_for("new", _tz()), now=now, quiet=quiet
        )
        assert sent is not None
        return (
            f"ส่งประกาศวันประเมินแล้วค่ะ ผู้รับ: ผู้นำ {len(sent.reachable_leaders):,} คน "
            f"พัฒนากร {len(sent.reachable_officers):,} คน"
        )


def _listing(province: str, page_no: int) -> tuple[list[dict[str, Any]], int]:
    with db.transaction() as session:
        where = Broadcast.province_code == province
        total = session.scalar(select(func.count()).select_from(Broadcast).where(where)) or 0
        rows = session.scalars(
            select(Broadcast)
            .where(where)
            .order_by(Broadcast.starts_at.desc(), Broadcast.id.desc())
            .offset((page_no - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        ).all()
        now = clock.now()
        return [
            {
                "id": b.id,
                "when": views.when_long(b.starts_at, _tz()),
                "place": b.place,
                "note": b.note,
                "audience": views.audience_text(b),
                "status": service.STATUS_LABELS.get(b.status, b.status),
                "send_at": views.when_short(b.send_at, _tz()) if b.status == "scheduled" else "",
                "recipients": b.recipients,
                "answers": service.answers(session, b, shown=5)
                if b.status in {"sending", "sent"}
                else None,
                "cancellable": b.status != "cancelled" and b.starts_at > now,
            }
            for b in rows
        ], total


@bp.route("/web/broadcasts", methods=["GET", "POST"])
@auth.signed_in("province")
def broadcasts() -> Any:
    who = auth.viewer()
    assert who is not None
    province = _province(who.area_code)
    error, status = None, 200
    if request.method == "POST":
        auth.check_csrf()
        try:
            flash(create(who.user.id, province), "ok")
        except BroadcastError as exc:
            error, status = str(exc), 400
        else:
            return redirect(url_for("notices.broadcasts"))
    page_no = max(request.args.get("page", 1, type=int) or 1, 1)
    rows, total = _listing(province, page_no)
    default_when = datetime.combine(today(), datetime.min.time()).replace(hour=9)
    return render_template(
        "desk/broadcasts.html",
        rows=rows,
        page_no=page_no,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        error=error,
        form=request.form if request.method == "POST" else {},
        audiences=service.AUDIENCES,
        districts=areas.districts(province),
        province_name=areas.label(province),
        min_when=f"{clock.now().astimezone(ZoneInfo(_tz())):%Y-%m-%dT%H:%M}",
        default_when=f"{default_when:%Y-%m-%dT%H:%M}",
    ), status


@bp.post("/web/broadcasts/<int:broadcast_id>/cancel")
@auth.signed_in("province")
def cancel(broadcast_id: int) -> Any:
    auth.check_csrf()
    who = auth.viewer()
    assert who is not None
    quiet = current_app.extensions["runtime"].site.quiet
    try:
        with db.transaction() as session:
            staff = session.get(User, who.user.id)
            broadcast = service.owned(session, staff, broadcast_id)
            if broadcast is None or staff is None:
                abort(403)
            told = service.cancel(
                session,
                broadcast,
                staff,
                views.cards_for("cancelled", _tz()),
                now=clock.now(),
                quiet=quiet,
            )
    except BroadcastError as exc:
        flash(str(exc), "error")
    else:
        flash(f"ยกเลิกประกาศแล้วค่ะ แจ้งผู้ที่ได้รับประกาศแล้ว {told:,} คน", "ok")
    return redirect(url_for("notices.broadcasts"))


@bp.get("/web/calendar")
@auth.signed_in("officer", "province")
def calendar() -> str:
    who = auth.viewer()
    assert who is not None
    province = _province(who.area_code)
    day = today()
    year = request.args.get("year", type=int) or fiscal.year_of(day)
    with db.transaction() as session:
        deadlines = programme.deadlines(session, province, year)
    entries = [
        {
            "key": d.key,
            "title": d.title,
            "when": d.when(),
            "starts_on": d.starts_on.isoformat(),
            "ends_on": d.ends_on.isoformat() if d.ends_on else None,
            "countdown": programme.countdown(d, day),
            "past": (d.ends_on or d.starts_on) < day,
            "own": d.own,
            "source": "วันที่จังหวัดกำหนด" if d.own else "วันตามค่าเริ่มต้นของกรม",
            "ref": d.ref,
            "note": d.note,
        }
        for d in deadlines
    ]
    first, last = fiscal.bounds(year)
    return render_template(
        "desk/calendar.html",
        entries=entries,
        year=year,
        years=[fiscal.year_of(day) + 1 - n for n in range(3)],
        province_name=areas.label(province),
        editable=who.role == "province",
        first=first.isoformat(),
        last=last.isoformat(),
    )


def _day(name: str) -> date | None:
    raw = request.form.get(name, "")
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@bp.post("/web/calendar")
@auth.signed_in("province")
def calendar_change() -> Any:
    """Province staff change (or reset) their province's date, as "ปฏิทินงาน" does in LINE."""
    auth.check_csrf()
    who = auth.viewer()
    assert who is not None
    province = _province(who.area_code)
    year = request.form.get("year", type=int) or fiscal.year_of(today())
    key = request.form.get("key", "")
    try:
        with db.transaction() as session:
            actor = session.get(User, who.user.id)
            assert actor is not None
            if request.form.get("reset"):
                programme.reset(session, province, year, key, actor)
                message = "กลับไปใช้วันตามค่าเริ่มต้นของกรมแล้วค่ะ"
            else:
                starts_on = _day("starts_on")
                if starts_on is None:
                    raise programme.CalendarError("กรุณาเลือกวันที่ค่ะ")
                changed = programme.set_dates(
                    session, province, year, key, starts_on, _day("ends_on"), actor
                )
                message = f"บันทึกแล้วค่ะ {changed.title}: {changed.when()}"
    except programme.CalendarError as exc:
        flash(str(exc), "error")
    else:
        flash(message, "ok")
    return redirect(url_for("notices.calendar", year=year))


auth.add_nav("ประกาศวันประเมิน", "notices.broadcasts", ("province",), order=40)
auth.add_nav("ปฏิทินงาน", "notices.calendar", ("officer", "province"), order=60)

"""The officers' and province staff's pushes: the Monday digest of each district's leaders and
the programme calendar's reminders 14, 7 and 1 days before a deadline.

Both jobs read everything in a fixed number of statements, render each distinct message once,
and record and queue through `bot.notify` (so a second run the same day sends nothing)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot import notify, render
from bot.models import User
from bot.notify import Notice
from bot.services import areas, digest, fiscal
from bot.services import calendar as programme
from bot.services.calendar import Deadline
from bot.services.thai import thai_date
from scheduler.jobs import JobContext, daily_at, job, weekly_at

LATE_SHOWN = 5
SILENT_SHOWN = 5
URGENT_SHOWN = 3  # leader buttons, with ผู้นำในอำเภอ and ปฏิทินงาน: five in all


# The weekly digest -------------------------------------------------------------------------
def _more(shown: list[str], total: int, unit: str) -> list[str]:
    return shown + ([f"และอีก {total - len(shown)} {unit}"] if total > len(shown) else [])


def digest_message(place: digest.District, today: date, year: int, now: datetime) -> dict[str, Any]:
    counts = place.counts()
    late = _more(
        [
            f"{a.leader_name} — {render.clip(a.activity, 60)} ({thai_date(a.ends_on)})"
            for a in place.late[:LATE_SHOWN]
        ],
        len(place.late),
        "กิจกรรม",
    )
    silent_leaders = place.silent
    silent = _more(
        [f"{x.name} (ไม่ได้ติดต่อ {x.quiet_days(now)} วัน)" for x in silent_leaders[:SILENT_SHOWN]],
        len(silent_leaders),
        "คน",
    )
    buttons = [render.button(render.message_action("ผู้นำในอำเภอ"), "primary")]
    buttons += [
        render.button(
            render.postback_action(
                f"{x.reason}: {x.name}", f"a=leader&id={x.user_id}", f"ดูข้อมูล {x.name}"
            )
        )
        for x in place.urgent(URGENT_SHOWN)
    ]
    buttons.append(render.button(render.message_action("ปฏิทินงาน")))
    where = areas.label(place.code)
    alt = (
        f"สรุปประจำสัปดาห์: ผู้นำใน{where} {len(place.leaders)} คน · "
        f"รอตรวจแผน {counts['submitted']} คน · เลยกำหนด {len(place.late)} กิจกรรม · "
        f"ไม่ได้ติดต่อเกิน 14 วัน {len(silent_leaders)} คน"
    )
    return render.flex(
        "digest.json",
        alt,
        title=f"ผู้นำใน{where} {len(place.leaders)} คน",
        subtitle=f"ปีงบประมาณ {year} · ข้อมูล ณ {thai_date(today)}",
        states=[{"label": label, "count": counts[key]} for key, label in digest.STATES.items()],
        late_title=f"กิจกรรมเลยกำหนด {len(place.late)} กิจกรรม"
        if place.late
        else "ไม่มีกิจกรรมที่เลยกำหนด 👍",
        late=late,
        silent_title=f"ไม่ได้ติดต่อเกิน 14 วัน {len(silent_leaders)} คน"
        if silent_leaders
        else "ทุกคนติดต่อเข้ามาภายใน 14 วัน 👍",
        silent=silent,
        buttons=buttons,
    )


@job("digest", weekly_at("DIGEST_TIME", "mon"))
def weekly_digest(ctx: JobContext) -> None:
    """One push per officer a week: her district's leaders. No leaders, no push."""
    today, year = ctx.today, fiscal.year_of(ctx.today)
    with ctx.db.transaction() as session:
        officers = digest.officers(session)
        if not officers:
            return
        places = digest.districts(session, year, today, ctx.now)
        rendered: dict[str, dict[str, Any]] = {}
        notices = []
        for officer in officers:
            place = places.get(officer.district_code)
            if place is None or not place.leaders:
                continue
            if place.code not in rendered:
                rendered[place.code] = digest_message(place, today, year, ctx.now)
            notices.append(
                Notice(officer.user_id, officer.line_user_id, "digest", "", [rendered[place.code]])
            )
        notify.send(session, notices, day=today, now=ctx.now, quiet=ctx.quiet)


# The programme calendar's reminders --------------------------------------------------------
def reminder_message(province: str, due: list[tuple[Deadline, int]], today: date) -> dict[str, Any]:
    lines = [f"📅 ใกล้ถึงกำหนดงาน มชช. ของ{areas.label(province)}ค่ะ"]
    for deadline, _ in due:
        lines.append(f"• {deadline.title} ({deadline.ref})")
        lines.append(f"  {deadline.when()} · {programme.countdown(deadline, today)}")
    lines.append('แตะ "ปฏิทินงาน" เพื่อดูวันสำคัญทั้งปีงบประมาณค่ะ')
    return render.text("\n".join(lines), [render.say("ปฏิทินงาน")])


@job("calendar", daily_at("REMINDER_TIME"))
def calendar_reminders(ctx: JobContext) -> None:
    """One push a day at most per officer and province staff member, listing every deadline of
    her province that starts exactly 14, 7 or 1 days ahead and that her role is reminded of."""
    today = ctx.today
    # A deadline early in the next fiscal year is reminded of before this one ends.
    years = {fiscal.year_of(today + timedelta(days=d)) for d in programme.REMIND_DAYS}
    with ctx.db.transaction() as session:
        staff = session.execute(
            select(User.id, User.line_user_id, User.role, User.area_code).where(
                User.role.in_(("officer", "province")),
                User.status == "active",
                User.following.is_(True),
                User.area_code.is_not(None),
            )
        ).all()
        if not staff:
            return
        calendars = programme.by_province(session, {a[:2] for *_, a in staff if a}, years)
        rendered: dict[tuple[str, str], dict[str, Any] | None] = {}
        notices = []
        for user_id, line_id, role, area in staff:
            province = (area or "")[:2]
            if (province, role) not in rendered:
                due = [
                    hit
                    for year in sorted(years)
                    for hit in programme.due(calendars[(province, year)], today, role)
                ]
                rendered[(province, role)] = reminder_message(province, due, today) if due else None
            message = rendered[(province, role)]
            if message is not None:
                notices.append(Notice(user_id, line_id, "calendar", "", [message]))
        notify.send(session, notices, day=today, now=ctx.now, quiet=ctx.quiet)

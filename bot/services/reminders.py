"""The leaders' morning reminders: what is worth saying to whom on a day, snoozes, and the
switch to turn them off.

`morning()` works for every leader at once with a fixed number of statements (set-based
queries grouped in Python, one render per leader), so a run costs the same handful of round
trips for ten leaders or ten thousand. `collect()` is the same computation for one leader,
which the snooze buttons use to learn what a past push held (postback data only carries the
day: a list of items would not fit in 300 characters).

Snoozes (`ReminderSnooze`): a subject ("item:12", "ready", "plan") is left out of pushes
before `until` and comes back on that day if still relevant. A snooze written from a push's
button takes that push's ledger time as its `created_at`, so recomputing the push later can
tell the snoozes that shaped it (older) from those made by tapping it (equal).
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, String, and_, cast, delete, literal, or_, select
from sqlalchemy.orm import Session, aliased

from bot import notify, render
from bot.models import Appointment, Notification, Plan, PlanItem, ReminderSnooze, User
from bot.services import audit, fiscal
from bot.services.thai import thai_date

# A morning's pushes repeat the same few dates thousands of times.
_thai_date = lru_cache(maxsize=1024)(thai_date)

KIND = "morning"
SOON_DAYS = (7, 3, 1)  # an activity ending in this many days
LATE_DAYS = (1, 7, 30)  # an overdue activity, on these days after its end only
READY_DAYS = (7, 3, 1)  # the ready-for-assessment date in this many days
UNSUBMITTED_FROM_MONTH = 2  # a plan not sent yet is worth a word from 1 February ...
UNSUBMITTED_DAYS = (1, 16)  # ... on these days of each month
ACTIVE_PLAN = ("submitted", "approved")  # activities of other plans are not reminded
ASSESSMENT_ASKED = ("requested", "accepted")
UNSENT_PLAN = ("draft", "returned")
SNOOZE_DAYS = (1, 3)
SNOOZE_KEEP = timedelta(days=30)  # snoozes this far past their day are dropped
LINES_SHOWN = 5  # per section; the rest are counted (the bubble must stay within 30 KB)
APPOINTMENTS_SHOWN = 3
APPOINTMENT_LABELS = {"assessment": "ตรวจประเมิน", "inspection": "ตรวจเยี่ยม"}

# What a snooze row means for a subject on a day.
NORMAL, HIDDEN, BACK = "normal", "hidden", "back"


@dataclass(frozen=True)
class DueItem:
    id: int
    plan_id: int
    activity: str
    ends_on: date
    again: bool  # back from a snooze ("ตามที่ขอให้เตือนอีกครั้ง")


@dataclass(frozen=True)
class DueAppointment:
    kind: str
    starts_at: datetime
    place: str | None


@dataclass
class Digest:
    """Everything worth saying to one leader on one day."""

    leader_id: int
    line_user_id: str
    day: date
    year: int
    plan_id: int | None = None
    plan_status: str | None = None  # None: no plan for the fiscal year yet
    soon: list[DueItem] = field(default_factory=list)
    late: list[DueItem] = field(default_factory=list)
    ready_on: date | None = None  # set when the ready date is worth saying
    ready_again: bool = False
    unsubmitted: bool = False
    unsubmitted_again: bool = False
    appointments: list[DueAppointment] = field(default_factory=list)

    @property
    def subjects(self) -> list[str]:
        """What a snooze button covers (appointments are not snoozed)."""
        found = [f"item:{i.id}" for i in [*self.soon, *self.late]]
        if self.ready_on is not None:
            found.append("ready")
        if self.unsubmitted:
            found.append("plan")
        return found

    @property
    def empty(self) -> bool:
        return not self.subjects and not self.appointments


@dataclass(frozen=True)
class Snoozed:
    subjects: list[str]
    until: date


# Computing --------------------------------------------------------------------------------
def _leader_filter(leader_id: int | None) -> ColumnElement[bool]:
    if leader_id is not None:
        return and_(User.id == leader_id, User.role == "leader")
    return and_(
        User.role == "leader",
        User.status == "active",
        User.following.is_(True),
        User.reminders.is_(True),
    )


def _snooze_state(
    until: date | None, created_at: datetime | None, day: date, pushed_at: datetime | None
) -> str:
    """NORMAL (the day's rules decide), HIDDEN (snoozed past `day`) or BACK (say it).

    With `pushed_at` (recomputing a past push): snoozes made from that push (created_at equal
    to it) count as what the push held; later ones did not exist when it was sent."""
    if until is None:
        return NORMAL
    if pushed_at is not None and created_at is not None:
        if created_at == pushed_at:
            return BACK
        if created_at > pushed_at:
            return NORMAL
    if until == day:
        return BACK
    return HIDDEN if until > day else NORMAL


def unsubmitted_season(day: date) -> bool:
    """From 1 February of the fiscal year on, a plan not sent yet is late."""
    year_ce = fiscal.year_of(day) - fiscal.BE_OFFSET
    return day >= date(year_ce, UNSUBMITTED_FROM_MONTH, 1)


def _ready_due(ready_on: date | None, assessment: str | None, day: date, state: str) -> bool:
    """The ready-for-assessment date draws near while the assessment is not asked for."""
    if ready_on is None or assessment in ASSESSMENT_ASKED or state == HIDDEN:
        return False
    return state == BACK or (ready_on - day).days in READY_DAYS


def _unsubmitted_due(status: str | None, day: date, state: str) -> bool:
    """No plan, or one not sent, late in the year: on the 1st and 16th of each month."""
    if (status is not None and status not in UNSENT_PLAN) or state == HIDDEN:
        return False
    if not unsubmitted_season(day):
        return False
    return state == BACK or day.day in UNSUBMITTED_DAYS


def collect(
    session: Session,
    day: date,
    tz: str = "Asia/Bangkok",
    *,
    leader_id: int | None = None,
    pushed_at: datetime | None = None,
) -> dict[int, Digest]:
    """What is worth saying on `day`, per leader id; leaders with nothing are left out.

    Every leader who takes reminders, or (`leader_id`) that one leader whatever her settings.
    `pushed_at`: recompute the push recorded then (see `_snooze_state`). Four statements."""
    year = fiscal.year_of(day)
    who = _leader_filter(leader_id)
    ready_snooze, plan_snooze = aliased(ReminderSnooze), aliased(ReminderSnooze)

    # Each leader with this year's plan (if any) and her plan-level snoozes.
    leaders = session.execute(
        select(
            User.id,
            User.line_user_id,
            Plan.id,
            Plan.status,
            Plan.ready_on,
            Plan.assessment_status,
            ready_snooze.until,
            ready_snooze.created_at,
            plan_snooze.until,
            plan_snooze.created_at,
        )
        .outerjoin(Plan, and_(Plan.leader_id == User.id, Plan.fiscal_year == year))
        .outerjoin(
            ready_snooze, and_(ready_snooze.user_id == User.id, ready_snooze.subject == "ready")
        )
        .outerjoin(plan_snooze, and_(plan_snooze.user_id == User.id, plan_snooze.subject == "plan"))
        .where(who)
    ).all()
    digests: dict[int, Digest] = {}
    for row in leaders:
        digest = Digest(row[0], row[1], day, year, plan_id=row[2], plan_status=row[3])
        ready = _snooze_state(row[6], row[7], day, pushed_at)
        if _ready_due(row[4], row[5], day, ready):
            digest.ready_on, digest.ready_again = row[4], ready == BACK
        unsent = _snooze_state(row[8], row[9], day, pushed_at)
        if _unsubmitted_due(row[3], day, unsent):
            digest.unsubmitted, digest.unsubmitted_again = True, unsent == BACK
        digests[digest.leader_id] = digest

    # Activities ending in 7/3/1 days or 1/7/30 days ago, and those back from a snooze.
    item_snooze = aliased(ReminderSnooze)
    subject = literal("item:", String) + cast(PlanItem.id, String)
    dates = [day + timedelta(days=n) for n in SOON_DAYS] + [
        day - timedelta(days=n) for n in LATE_DAYS
    ]
    wanted = [PlanItem.ends_on.in_(dates), item_snooze.until == day]
    if pushed_at is not None:
        wanted.append(item_snooze.created_at == pushed_at)
    items = session.execute(
        select(
            PlanItem.id,
            PlanItem.plan_id,
            PlanItem.activity,
            PlanItem.ends_on,
            Plan.leader_id,
            item_snooze.until,
            item_snooze.created_at,
        )
        .join(Plan, Plan.id == PlanItem.plan_id)
        .join(User, User.id == Plan.leader_id)
        .outerjoin(
            item_snooze,
            and_(item_snooze.user_id == Plan.leader_id, item_snooze.subject == subject),
        )
        .where(
            who,
            Plan.fiscal_year == year,
            Plan.status.in_(ACTIVE_PLAN),
            PlanItem.state != "done",
            or_(*wanted),
        )
        .order_by(Plan.leader_id, PlanItem.ends_on, PlanItem.position)
    ).all()
    for item_id, plan_id, activity, ends_on, owner, until, created_at in items:
        digest = digests.get(owner)
        state = _snooze_state(until, created_at, day, pushed_at)
        if digest is None or state == HIDDEN:
            continue
        due = DueItem(item_id, plan_id, activity, ends_on, state == BACK)
        (digest.late if ends_on < day else digest.soon).append(due)

    # Appointments tomorrow, read as they are now (a changed broadcast moves them).
    zone = ZoneInfo(tz)
    start, end = (datetime.combine(day + timedelta(days=n), time(0), zone) for n in (1, 2))
    meetings = session.execute(
        select(Appointment.leader_id, Appointment.kind, Appointment.starts_at, Appointment.place)
        .join(User, User.id == Appointment.leader_id)
        .where(
            who,
            Appointment.cancelled_at.is_(None),
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
        )
        .order_by(Appointment.leader_id, Appointment.starts_at)
    ).all()
    for owner, kind, starts_at, place in meetings:
        if owner in digests:
            digests[owner].appointments.append(DueAppointment(kind, starts_at, place))

    return {k: d for k, d in digests.items() if not d.empty}


# The push ---------------------------------------------------------------------------------
def _data(action: str, **values: int | str) -> str:
    """Postback data as `handlers.plan_views.data` writes it. The values are ids and ISO
    dates, which need no escaping: urlencode cost more than the rest of a card."""
    return "&".join([f"a={action}", *(f"{k}={v}" for k, v in values.items())])


def _days(n: int) -> str:
    return f"อีก {n} วัน" if n > 0 else ("วันนี้" if n == 0 else f"เลยมา {-n} วัน")


def _item_lines(items: list[DueItem], day: date) -> list[dict[str, str]]:
    lines = [
        {
            "text": "• " + render.clip(i.activity, 60),
            "detail": f"ครบกำหนด {_thai_date(i.ends_on)} ({_days((i.ends_on - day).days)})"
            + (" · ตามที่ขอให้เตือนอีกครั้ง" if i.again else ""),
        }
        for i in items[:LINES_SHOWN]
    ]
    if len(items) > LINES_SHOWN:
        lines.append({"text": f"และอีก {len(items) - LINES_SHOWN} รายการ", "detail": ""})
    return lines


def _sections(d: Digest, tz: str) -> list[dict[str, Any]]:
    sections = []
    if d.appointments:
        lines = []
        for a in d.appointments[:APPOINTMENTS_SHOWN]:
            local = a.starts_at.astimezone(ZoneInfo(tz))
            label = APPOINTMENT_LABELS.get(a.kind, "นัดหมาย")
            lines.append(
                {
                    "text": f"• {label} {_thai_date(local)} เวลา {local:%H:%M} น.",
                    "detail": "สถานที่: " + render.clip(a.place or "ไม่ระบุ", 150),
                }
            )
        if len(d.appointments) > APPOINTMENTS_SHOWN:
            more = len(d.appointments) - APPOINTMENTS_SHOWN
            lines.append({"text": f"และอีก {more} รายการ", "detail": ""})
        sections.append({"title": "นัดหมายพรุ่งนี้", "color": "#1B4F8A", "lines": lines})
    if d.late:
        sections.append(
            {
                "title": f"เลยกำหนดแล้ว {len(d.late)} กิจกรรม",
                "color": "#C0392B",
                "lines": _item_lines(d.late, d.day),
            }
        )
    if d.soon:
        sections.append(
            {
                "title": f"ใกล้ครบกำหนด {len(d.soon)} กิจกรรม",
                "color": "#B9770E",
                "lines": _item_lines(d.soon, d.day),
            }
        )
    if d.ready_on is not None:
        left = (d.ready_on - d.day).days
        sections.append(
            {
                "title": "วันพร้อมรับการประเมินใกล้เข้ามา",
                "color": "#1F6E43",
                "lines": [
                    {
                        "text": f"• {_thai_date(d.ready_on)} ({_days(left)})",
                        "detail": "เตรียมหลักฐานให้พร้อม แล้วขอรับการประเมินจากการ์ดความคืบหน้าค่ะ"
                        + (" · ตามที่ขอให้เตือนอีกครั้ง" if d.ready_again else ""),
                    }
                ],
            }
        )
    if d.unsubmitted:
        text = {
            None: f"• ยังไม่ได้เริ่มเขียนแผน ปีงบประมาณ {d.year}",
            "draft": f"• แผน ปีงบประมาณ {d.year} ยังเป็นร่าง ยังไม่ได้ส่ง",
            "returned": f"• แผน ปีงบประมาณ {d.year} ถูกส่งกลับให้แก้ไข ยังไม่ได้ส่งอีกครั้ง",
        }.get(d.plan_status, "")
        sections.append(
            {
                "title": "ยังไม่ได้ส่งแผนพัฒนาตนเอง",
                "color": "#C0392B",
                "lines": [
                    {
                        "text": text,
                        "detail": "กรุณาส่งแผนให้เจ้าหน้าที่อำเภอตรวจโดยเร็วนะคะ"
                        + (" · ตามที่ขอให้เตือนอีกครั้ง" if d.unsubmitted_again else ""),
                    }
                ],
            }
        )
    return sections


def _buttons(d: Digest) -> list[dict[str, Any]]:
    buttons = []
    first = next(iter([*d.late, *d.soon]), None)
    if first is not None:
        buttons.append(
            render.button(
                render.postback_action(
                    "อัปเดต: " + first.activity,
                    _data("progress.item", i=first.id),
                    "อัปเดตความคืบหน้า",
                ),
                "primary",
            )
        )
    if d.plan_id is not None and (first is not None or d.ready_on is not None):
        buttons.append(
            render.button(
                render.postback_action(
                    "ดูความคืบหน้า", _data("progress.view", p=d.plan_id), "ดูความคืบหน้า"
                )
            )
        )
    if d.unsubmitted:
        action = (
            render.postback_action("เปิดแผนของฉัน", _data("plan.view", l=d.leader_id), "แผนของฉัน")
            if d.plan_id is not None
            else render.message_action("เริ่มเขียนแผน", "แผนของฉัน")
        )
        buttons.append(render.button(action, "primary" if first is None else "secondary"))
    if d.subjects:
        for days, label in ((1, "เตือนพรุ่งนี้"), (3, "เตือนอีก 3 วัน")):
            data = _data("remind.snooze", u=d.leader_id, d=d.day.isoformat(), n=days)
            buttons.append(render.button(render.postback_action(label, data, label)))
    buttons.append(
        render.button(render.postback_action("ปิดการแจ้งเตือน", _data("remind.off"), "ปิดการแจ้งเตือน"))
    )
    return buttons


def _gist(d: Digest, tz: str) -> str:
    parts = []
    for a in d.appointments[:1]:
        local = a.starts_at.astimezone(ZoneInfo(tz))
        parts.append(f"พรุ่งนี้มีนัด{APPOINTMENT_LABELS.get(a.kind, '')} เวลา {local:%H:%M} น.")
    if d.late:
        parts.append(f"เลยกำหนด {len(d.late)} กิจกรรม")
    if d.soon:
        parts.append(f"ใกล้ครบกำหนด {len(d.soon)} กิจกรรม")
    if d.ready_on is not None:
        parts.append(f"พร้อมรับการประเมิน {_thai_date(d.ready_on)}")
    if d.unsubmitted:
        parts.append("ยังไม่ได้ส่งแผนพัฒนาตนเอง")
    return f"แจ้งเตือน {_thai_date(d.day)}: " + " · ".join(parts)


def card(d: Digest, tz: str = "Asia/Bangkok") -> dict[str, Any]:
    """The morning push: one bubble, whatever the number of items (lines are capped)."""
    return render.flex(
        "reminder.json",
        _gist(d, tz),
        title=f"แจ้งเตือนประจำวัน {_thai_date(d.day)}",
        sections=_sections(d, tz),
        buttons=_buttons(d),
    )


@contextmanager
def _bulk() -> Iterator[None]:
    """Pause the cyclic garbage collector while a morning's thousands of small dicts (rows,
    cards) are alive: they hold no cycles, yet each full collection would walk them all, which
    cost as much as rendering the cards. Reference counting still frees them as usual."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def morning(
    session: Session,
    today: date,
    now: datetime,
    quiet: notify.QuietHours | None,
    tz: str = "Asia/Bangkok",
) -> int:
    """Record and queue today's one push per leader with something to say; the number queued
    (0 on a second run the same day). Eight statements however many leaders (`notify.send`
    pages its inserts), one render per leader who gets a push."""
    session.execute(delete(ReminderSnooze).where(ReminderSnooze.until < today - SNOOZE_KEEP))
    done = set(
        session.scalars(
            select(Notification.recipient_id).where(
                Notification.kind == KIND, Notification.subject == "", Notification.day == today
            )
        )
    )
    with _bulk():
        digests = collect(session, today, tz)
        notices = [
            notify.Notice(d.leader_id, d.line_user_id, KIND, "", [card(d, tz)])
            for d in digests.values()
            if d.leader_id not in done  # a second run renders nothing it would not send
        ]
        if not notices:
            return 0
        return len(notify.send(session, notices, day=today, now=now, quiet=quiet))


# Snoozing and the switch ------------------------------------------------------------------
def pushed_at(session: Session, leader_id: int, day: date) -> datetime | None:
    """When that day's morning push to the leader was recorded; None if there was none."""
    return session.scalar(
        select(Notification.created_at).where(
            Notification.recipient_id == leader_id,
            Notification.kind == KIND,
            Notification.subject == "",
            Notification.day == day,
        )
    )


def snooze(
    session: Session, leader: User, day: date, days: int, today: date, tz: str = "Asia/Bangkok"
) -> Snoozed | None:
    """Snooze what the push of `day` held that is still relevant, until `days` after today.
    None when the leader had no push that day."""
    if days not in SNOOZE_DAYS:
        raise ValueError(f"snooze for {days} days")
    sent = pushed_at(session, leader.id, day)
    if sent is None:
        return None
    digest = collect(session, day, tz, leader_id=leader.id, pushed_at=sent).get(leader.id)
    subjects = digest.subjects if digest else []
    until = today + timedelta(days=days)
    _store(session, leader.id, subjects, until, sent)
    audit.record(
        session,
        "reminder.snooze",
        "user",
        leader.id,
        actor=leader,
        day=day.isoformat(),
        until=until.isoformat(),
        subjects=subjects[:40],
    )
    return Snoozed(subjects, until)


def _store(
    session: Session, leader_id: int, subjects: Iterable[str], until: date, sent: datetime
) -> None:
    """Upsert the snoozes; the push's own time as `created_at` marks them as made from it
    (see the module's docstring)."""
    subjects = list(subjects)
    if not subjects:
        return
    existing = {
        row.subject: row
        for row in session.scalars(
            select(ReminderSnooze).where(
                ReminderSnooze.user_id == leader_id, ReminderSnooze.subject.in_(subjects)
            )
        )
    }
    for subject in subjects:
        row = existing.get(subject)
        if row is None:
            session.add(
                ReminderSnooze(user_id=leader_id, subject=subject, until=until, created_at=sent)
            )
        else:
            row.until, row.created_at = until, sent
    session.flush()


def set_enabled(session: Session, user: User, on: bool) -> bool:
    """Turn the leader's morning reminders on or off; whether anything changed."""
    if user.reminders == on:
        return False
    user.reminders = on
    audit.record(session, "reminders.on" if on else "reminders.off", "user", user.id, actor=user)
    return True

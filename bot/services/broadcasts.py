"""Province broadcasts of assessment dates: the audience, sending, the delivery report, the
leaders' answers, and changes or cancellation after sending.

Free of Flask and LINE: callers pass the messages to send (plain LINE JSON built by the
handlers' renderer) as a `Cards` function, and everything goes out through `bot.notify`, so
it is recorded in the ledger and queued in the outbox in the caller's transaction.

The ledger's subject for a broadcast is "<id>:<revision>" (the original is always revision 1,
changes before sending do not bump it) or "<id>:cancel"; the outbox topic is "broadcast:" and
the same. Who got the original is read back from the ledger, so a change or cancellation
reaches exactly those people.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, Select, String, Text, and_, func, insert, literal, select, update
from sqlalchemy.orm import Session

from bot import notify
from bot.models import (
    Appointment,
    Broadcast,
    LeaderProfile,
    Notification,
    OutboxMessage,
    User,
    UTCDateTime,
)
from bot.notify import QuietHours
from bot.services import audit
from bot.services.thai import clean_text

PLACE_MAX = 300
NOTE_MAX = 500
REASON_MAX = 500
AUDIENCES = {
    "leaders": "ผู้นำทั้งจังหวัด",
    "districts": "ผู้นำบางอำเภอ",
    "officers": "เฉพาะพัฒนากร",
    "everyone": "ทุกคน",
}
STATUS_LABELS = {
    "scheduled": "ตั้งเวลาส่งไว้",
    "sending": "กำลังส่ง",
    "sent": "ส่งแล้ว",
    "cancelled": "ยกเลิกแล้ว",
    "expired": "ไม่ได้ส่ง (เลยวันนัด)",
}
EXPIRED_KIND = "broadcast_expired"
RESPONSES = {"acknowledged": "รับทราบ", "postpone": "ขอเลื่อน"}
KIND = "broadcast"
REPORT_KIND = "broadcast_report"

# (broadcast, "leader" or "officer") -> the messages that recipient gets
Cards = Callable[[Broadcast, str], list[dict[str, Any]]]


class BroadcastError(ValueError):
    """Something that cannot be done; str() is the Thai sentence to show."""


# The audience ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Recipient:
    user_id: int
    line_user_id: str
    following: bool


@dataclass
class Audience:
    leaders: list[Recipient] = field(default_factory=list)
    officers: list[Recipient] = field(default_factory=list)

    @property
    def reachable_leaders(self) -> list[Recipient]:
        return [r for r in self.leaders if r.following]

    @property
    def reachable_officers(self) -> list[Recipient]:
        return [r for r in self.officers if r.following]

    @property
    def recipients(self) -> int:
        return len(self.reachable_leaders) + len(self.reachable_officers)

    @property
    def skipped(self) -> int:
        """Who blocked the account: not sent to, counted."""
        return len(self.leaders) + len(self.officers) - self.recipients

    def cost(self, leader_messages: int, officer_messages: int) -> int:
        """Messages counted against the quota (each recipient × each message)."""
        return (
            len(self.reachable_leaders) * leader_messages
            + len(self.reachable_officers) * officer_messages
        )


def _leaders(province: str, audience: str, district_codes: Sequence[str]) -> Select[Any]:
    """Active leaders of the province, or of the chosen districts."""
    query = (
        select(User.id, User.line_user_id, User.following)
        .join(LeaderProfile, LeaderProfile.user_id == User.id)
        .where(
            User.role == "leader",
            User.status == "active",
            LeaderProfile.province_code == province,
        )
    )
    if audience == "districts":
        query = query.where(LeaderProfile.district_code.in_(list(district_codes)))
    return query


def resolve(
    session: Session, province: str, audience: str, district_codes: Sequence[str] = ()
) -> Audience:
    """Who the broadcast reaches now: active leaders of the province (or of the chosen
    districts) and active officers of the province's districts. Two statements."""
    found = Audience()
    if audience in {"leaders", "districts", "everyone"}:
        query = _leaders(province, audience, district_codes)
        found.leaders = [Recipient(*row) for row in session.execute(query.order_by(User.id))]
    if audience in {"officers", "everyone"}:
        query = select(User.id, User.line_user_id, User.following).where(
            User.role == "officer",
            User.status == "active",
            User.area_code.like(f"{province}__"),  # the province's 4-digit districts
        )
        found.officers = [Recipient(*row) for row in session.execute(query.order_by(User.id))]
    return found


# Checking what the staff entered -----------------------------------------------------------
def check_starts_at(starts_at: datetime, now: datetime, latest: datetime) -> None:
    if starts_at <= now:
        raise BroadcastError("วันและเวลานัดต้องเป็นเวลาในอนาคตค่ะ กรุณาเลือกใหม่")
    if starts_at > latest:
        raise BroadcastError("วันนัดต้องอยู่ในปีงบประมาณนี้ (ไม่เกิน 30 กันยายน) ค่ะ กรุณาเลือกใหม่")


def check_place(text: str) -> str:
    return clean_text(text, "สถานที่", PLACE_MAX, BroadcastError, one_line=True)


def check_note(text: str) -> str:
    return clean_text(text, "หมายเหตุ", NOTE_MAX, BroadcastError, required=False)


def check_reason(text: str) -> str:
    return clean_text(text, "เหตุผลที่ขอเลื่อน", REASON_MAX, BroadcastError)


# Creating and sending ----------------------------------------------------------------------
@dataclass(frozen=True)
class Draft:
    starts_at: datetime
    place: str
    note: str | None
    audience: str
    district_codes: list[str]


def create(
    session: Session, staff: User, draft: Draft, *, send_at: datetime, now: datetime
) -> Broadcast:
    """A broadcast of the staff member's province, to go out at `send_at`."""
    if draft.audience not in AUDIENCES:
        raise BroadcastError("กรุณาเลือกผู้รับจากปุ่มค่ะ")
    if draft.audience == "districts" and not draft.district_codes:
        raise BroadcastError("กรุณาเลือกอย่างน้อย 1 อำเภอค่ะ")
    if send_at >= draft.starts_at:
        raise BroadcastError("เวลาส่งประกาศต้องก่อนวันนัดค่ะ กรุณาเลือกใหม่")
    assert staff.area_code is not None
    broadcast = Broadcast(
        province_code=staff.area_code[:2],
        created_by=staff.id,
        starts_at=draft.starts_at,
        place=draft.place,
        note=draft.note or None,
        audience=draft.audience,
        district_codes=list(draft.district_codes) if draft.audience == "districts" else [],
        status="scheduled",
        send_at=max(send_at, now),
        revision=1,
        recipients=0,
        skipped=0,
        created_at=now,
    )
    session.add(broadcast)
    session.flush()
    audit.record(
        session,
        "broadcast.create",
        "broadcast",
        broadcast.id,
        actor=staff,
        audience=broadcast.audience,
        starts_at=broadcast.starts_at.isoformat(),
        send_at=broadcast.send_at.isoformat(),
    )
    return broadcast


def topic(broadcast_id: int, part: int | str) -> str:
    return f"broadcast:{broadcast_id}:{part}"


def ledger_day(broadcast: Broadcast, timezone: str) -> date:
    """The ledger day of all of a broadcast's notices: fixed, so a resend is never new."""
    return broadcast.created_at.astimezone(ZoneInfo(timezone)).date()


def queue(
    session: Session, broadcast: Broadcast, cards: Cards, *, now: datetime, quiet: QuietHours
) -> Audience | None:
    """Send a scheduled broadcast: resolve the audience now, give each leader an appointment,
    queue multicasts (leaders and officers get different cards). None when someone else
    already sent or cancelled it."""
    claimed = session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast.id, Broadcast.status == "scheduled")
        .values(status="sending", sent_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        return None
    found = resolve(session, broadcast.province_code, broadcast.audience, broadcast.district_codes)
    if found.leaders:
        # Every leader of the audience, blocked or not (she is still assessed), in one
        # INSERT ... SELECT rather than ten thousand rows sent from here.
        leaders = _leaders(broadcast.province_code, broadcast.audience, broadcast.district_codes)
        session.execute(
            insert(Appointment).from_select(
                [
                    "leader_id",
                    "broadcast_id",
                    "kind",
                    "starts_at",
                    "place",
                    "note",
                    "created_by",
                    "created_at",
                    "updated_at",
                ],
                leaders.with_only_columns(
                    User.id,
                    literal(broadcast.id),
                    literal("assessment"),
                    literal(broadcast.starts_at, UTCDateTime()),
                    literal(broadcast.place, String()),
                    literal(broadcast.note, Text()),
                    literal(broadcast.created_by, Integer()),
                    literal(now, UTCDateTime()),
                    literal(now, UTCDateTime()),
                ),
            )
        )
    sent = _send(
        session,
        broadcast,
        1,
        found.reachable_leaders,
        found.reachable_officers,
        cards,
        now=now,
        quiet=quiet,
    )
    broadcast.status, broadcast.sent_at = "sending", now
    broadcast.recipients, broadcast.skipped = sent, found.skipped
    session.flush()
    return found


def _send(
    session: Session,
    broadcast: Broadcast,
    part: int | str,
    leaders: Sequence[Recipient],
    officers: Sequence[Recipient],
    cards: Cards,
    *,
    now: datetime,
    quiet: QuietHours,
) -> int:
    common: dict[str, Any] = {
        "kind": KIND,
        "subject": f"{broadcast.id}:{part}",
        "day": ledger_day(broadcast, quiet.timezone),
        "now": now,
        "quiet": quiet,
        "topic": topic(broadcast.id, part),
    }
    sent = 0
    for role, people in (("leader", leaders), ("officer", officers)):
        if people:
            recipients = [(r.user_id, r.line_user_id) for r in people]
            sent += len(
                notify.send_multicast(session, recipients, cards(broadcast, role), **common)
            )
    return sent


def due(session: Session, now: datetime) -> list[Broadcast]:
    """Scheduled broadcasts whose time has come (and whose date has not passed meanwhile,
    say while no scheduler ran: an invitation to yesterday's assessment helps nobody)."""
    return list(
        session.scalars(
            select(Broadcast)
            .where(
                Broadcast.status == "scheduled",
                Broadcast.send_at <= now,
                Broadcast.starts_at > now,
            )
            .order_by(Broadcast.send_at, Broadcast.id)
        )
    )


# The delivery report -----------------------------------------------------------------------
@dataclass
class Report:
    sent: int
    skipped: int
    failed: int
    reasons: dict[str, int]  # Thai reason -> recipients it failed for

    def as_json(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "skipped": self.skipped,
            "failed": self.failed,
            "reasons": self.reasons,
        }


_LINE_ERROR = re.compile(r"LINE (\d{3}|no answer)")


def thai_reason(error: str | None) -> str:
    """Why a send failed, from `OutboxMessage.last_error`, in words the staff understand."""
    text = error or ""
    if text.startswith("invalid message"):
        return "ข้อความไม่ตรงตามข้อกำหนดของ LINE"
    if text == "user not following":
        return "ผู้รับบล็อกบัญชี LINE"
    match = _LINE_ERROR.match(text)
    status = match.group(1) if match else ""
    if "monthly limit" in text:
        return "โควตาข้อความของเดือนนี้หมดแล้ว"
    if status == "429":
        return "LINE จำกัดจำนวนการส่งชั่วคราว"
    if status.startswith("5"):
        return "ระบบของ LINE ขัดข้อง"
    if status == "no answer":
        return "ติดต่อ LINE ไม่ได้"
    if status in {"401", "403"}:
        return "สิทธิ์การเชื่อมต่อกับ LINE ไม่ถูกต้อง"
    if status == "400":
        return "LINE ไม่รับข้อความ (ข้อมูลไม่ถูกต้อง)"
    return "สาเหตุอื่น"


def report_of(session: Session, broadcast: Broadcast) -> Report | None:
    """The original send's outcome once all its outbox rows are final, else None."""
    rows = session.execute(
        select(OutboxMessage.status, OutboxMessage.recipients, OutboxMessage.last_error).where(
            OutboxMessage.topic == topic(broadcast.id, 1)
        )
    ).all()
    if any(status == "pending" for status, _, _ in rows):
        return None
    sent = failed = skipped = 0
    reasons: Counter[str] = Counter()
    for status, recipients, error in rows:
        count = len(recipients)
        if status == "sent":
            sent += count
        elif status == "skipped":
            skipped += count
        else:
            failed += count
            reasons[thai_reason(error)] += count
    return Report(sent, broadcast.skipped + skipped, failed, dict(reasons))


def awaiting_report(session: Session) -> list[Broadcast]:
    return list(
        session.scalars(
            select(Broadcast).where(Broadcast.status == "sending").order_by(Broadcast.id)
        )
    )


def close(
    session: Session,
    broadcast: Broadcast,
    report: Report,
    messages: list[dict[str, Any]],
    *,
    today: date,
    now: datetime,
    quiet: QuietHours,
) -> bool:
    """Store the report, mark the broadcast sent, and push the report to its sender."""
    broadcast.report = report.as_json()
    broadcast.status = "sent"
    sender = session.get(User, broadcast.created_by) if broadcast.created_by else None
    if sender is None:
        return False
    notice = notify.Notice(sender.id, sender.line_user_id, REPORT_KIND, str(broadcast.id), messages)
    return bool(notify.send(session, [notice], day=today, now=now, quiet=quiet))


def expire(
    session: Session,
    messages: Callable[[Broadcast], list[dict[str, Any]]],
    *,
    today: date,
    now: datetime,
    quiet: QuietHours,
) -> list[Broadcast]:
    """Scheduled broadcasts whose date passed before any scheduler sent them (none ran in
    between): marked expired, and each sender told, so that none leaves the queue unnoticed."""
    expired = list(
        session.scalars(
            select(Broadcast).where(Broadcast.status == "scheduled", Broadcast.starts_at <= now)
        )
    )
    notices = []
    for broadcast in expired:
        broadcast.status = "expired"
        sender = session.get(User, broadcast.created_by) if broadcast.created_by else None
        if sender is not None:
            notices.append(
                notify.Notice(
                    sender.id,
                    sender.line_user_id,
                    EXPIRED_KIND,
                    str(broadcast.id),
                    messages(broadcast),
                )
            )
    notify.send(session, notices, day=today, now=now, quiet=quiet)
    return expired


# Reading -----------------------------------------------------------------------------------
def owned(session: Session, staff: User | None, broadcast_id: int | None) -> Broadcast | None:
    """The broadcast if `staff` is active province staff of its province (from the DB)."""
    if (
        staff is None
        or broadcast_id is None
        or staff.role != "province"
        or staff.status != "active"
        or not staff.area_code
    ):
        return None
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None or broadcast.province_code != staff.area_code[:2]:
        return None
    return broadcast


def upcoming(session: Session, province: str, now: datetime, limit: int) -> list[Broadcast]:
    """The province's broadcasts whose date is still ahead, soonest first."""
    return list(
        session.scalars(
            select(Broadcast)
            .where(
                Broadcast.province_code == province,
                Broadcast.status != "cancelled",
                Broadcast.starts_at > now,
            )
            .order_by(Broadcast.starts_at, Broadcast.id)
            .limit(limit)
        )
    )


@dataclass
class Answers:
    acknowledged: int
    postpone: int
    waiting: int
    # (name, district code, reason), earliest first: the first few; `postpone` counts them all
    reasons: list[tuple[str, str, str]]


def answers(session: Session, broadcast: Broadcast, shown: int = 15) -> Answers:
    """Counts by answer, and the first `shown` postpone reasons with the leaders' names."""
    live = (Appointment.broadcast_id == broadcast.id, Appointment.cancelled_at.is_(None))
    counts = dict(
        session.execute(
            select(Appointment.response, func.count()).where(*live).group_by(Appointment.response)
        ).all()
    )
    if shown <= 0:
        rows = []
    else:
        rows = session.execute(
            select(
                LeaderProfile.full_name, LeaderProfile.district_code, Appointment.response_reason
            )
            .join(LeaderProfile, LeaderProfile.user_id == Appointment.leader_id, isouter=True)
            .where(*live, Appointment.response == "postpone")
            .order_by(Appointment.responded_at, Appointment.id)
            .limit(shown)
        ).all()
    return Answers(
        counts.get("acknowledged", 0),
        counts.get("postpone", 0),
        counts.get(None, 0),
        [(name or "-", district or "", reason or "") for name, district, reason in rows],
    )


# The leaders' answers ----------------------------------------------------------------------
def appointment_of(
    session: Session, leader: User | None, broadcast_id: int | None
) -> Appointment | None:
    """The leader's own appointment for the broadcast (from the DB), if she was in it."""
    if leader is None or broadcast_id is None:
        return None
    if leader.role != "leader" or leader.status != "active":
        return None
    return session.scalar(
        select(Appointment).where(
            Appointment.broadcast_id == broadcast_id, Appointment.leader_id == leader.id
        )
    )


def check_current(broadcast: Broadcast, appointment: Appointment, revision: int | None) -> None:
    """A tap on a card of an older revision, or of a cancelled broadcast, is refused."""
    if appointment.cancelled_at is not None or broadcast.status == "cancelled":
        raise BroadcastError("นัดหมายนี้ถูกยกเลิกแล้วค่ะ ไม่ต้องตอบแล้วนะคะ")
    if revision != broadcast.revision:
        raise BroadcastError("นัดหมายนี้มีการเปลี่ยนแปลงแล้วค่ะ กรุณาตอบจากข้อความล่าสุดด้านล่างนะคะ")


def answer(
    session: Session,
    appointment: Appointment,
    leader: User,
    response: str,
    reason: str | None,
    now: datetime,
) -> None:
    assert response in RESPONSES
    appointment.response = response
    appointment.response_reason = reason if response == "postpone" else None
    appointment.responded_at = now
    audit.record(
        session,
        f"appointment.{response}",
        "appointment",
        appointment.id,
        actor=leader,
        broadcast=appointment.broadcast_id,
    )


# Changes after sending ---------------------------------------------------------------------
def first_recipients(
    session: Session, broadcast: Broadcast
) -> tuple[list[Recipient], list[Recipient]]:
    """Who got the original (from the ledger), as (leaders, officers), with whether each one
    still follows the account."""
    rows = session.execute(
        select(User.id, User.line_user_id, User.following, Appointment.id)
        .join(Notification, Notification.recipient_id == User.id)
        .join(
            Appointment,
            and_(Appointment.broadcast_id == broadcast.id, Appointment.leader_id == User.id),
            isouter=True,
        )
        .where(Notification.kind == KIND, Notification.subject == f"{broadcast.id}:1")
        .order_by(User.id)
    ).all()
    leaders = [Recipient(uid, line_id, following) for uid, line_id, following, appt in rows if appt]
    officers = [
        Recipient(uid, line_id, following) for uid, line_id, following, appt in rows if not appt
    ]
    return leaders, officers


def _tell_first_recipients(
    session: Session,
    broadcast: Broadcast,
    part: int | str,
    cards: Cards,
    now: datetime,
    quiet: QuietHours,
) -> int:
    leaders, officers = first_recipients(session, broadcast)
    return _send(
        session,
        broadcast,
        part,
        [r for r in leaders if r.following],
        [r for r in officers if r.following],
        cards,
        now=now,
        quiet=quiet,
    )


def change(
    session: Session,
    broadcast: Broadcast,
    staff: User,
    cards: Cards,
    *,
    now: datetime,
    quiet: QuietHours,
    starts_at: datetime | None = None,
    place: str | None = None,
    latest: datetime | None = None,
) -> int:
    """A new date and time or a new place. Before sending it only edits; after, it bumps the
    revision, moves the appointments (answers start afresh) and pushes the update to those who
    got the original. Returns how many were told."""
    if broadcast.status == "cancelled":
        raise BroadcastError("ประกาศนี้ถูกยกเลิกแล้ว จึงแก้ไขไม่ได้ค่ะ")
    if starts_at is not None:
        check_starts_at(starts_at, now, latest or starts_at)
        if broadcast.status == "scheduled" and starts_at <= broadcast.send_at:
            raise BroadcastError("วันนัดต้องอยู่หลังเวลาที่ตั้งส่งประกาศค่ะ กรุณาเลือกใหม่")
    if place is not None:
        place = check_place(place)
    before = {"starts_at": broadcast.starts_at.isoformat(), "place": broadcast.place}
    if starts_at is not None:
        broadcast.starts_at = starts_at
    if place is not None:
        broadcast.place = place
    audit.record(
        session,
        "broadcast.change",
        "broadcast",
        broadcast.id,
        actor=staff,
        before=before,
        starts_at=broadcast.starts_at.isoformat(),
        place=broadcast.place,
    )
    if broadcast.status == "scheduled":
        session.flush()
        return 0
    broadcast.revision += 1
    session.execute(
        update(Appointment)
        .where(Appointment.broadcast_id == broadcast.id, Appointment.cancelled_at.is_(None))
        .values(
            starts_at=broadcast.starts_at,
            place=broadcast.place,
            response=None,
            response_reason=None,
            responded_at=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return _tell_first_recipients(session, broadcast, broadcast.revision, cards, now, quiet)


def cancel(
    session: Session,
    broadcast: Broadcast,
    staff: User,
    cards: Cards,
    *,
    now: datetime,
    quiet: QuietHours,
) -> int:
    """Cancel: a scheduled one is simply not sent; a sent one's appointments are cancelled and
    those who got it are told. Returns how many were told."""
    if broadcast.status == "cancelled":
        raise BroadcastError("ประกาศนี้ถูกยกเลิกไปแล้วค่ะ")
    was = broadcast.status
    broadcast.status, broadcast.cancelled_at = "cancelled", now
    audit.record(session, "broadcast.cancel", "broadcast", broadcast.id, actor=staff, was=was)
    if was == "scheduled":
        session.flush()
        return 0
    session.execute(
        update(Appointment)
        .where(Appointment.broadcast_id == broadcast.id, Appointment.cancelled_at.is_(None))
        .values(cancelled_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return _tell_first_recipients(session, broadcast, "cancel", cards, now, quiet)

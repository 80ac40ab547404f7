"""Evidence a leader sends: receiving it, attaching it to an activity, captions, deletion.

Free of Flask and LINE. The bytes are fetched in the background (`bot.intake`); here a row
is only written, assigned, described or deleted. Each refusal carries the Thai sentence to show.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from bot.models import Evidence, Plan, PlanItem, User, utcnow
from bot.services import audit
from bot.services.thai import clean_text

CAPTION_MAX = 500
FILE_NAME_MAX = 120  # what a chat bubble and a download's name can show
# Rows still coming in or kept: what a leader may attach, describe or see.
ALIVE = ("pending", "fetching", "stored")
KIND_LABELS = {"image": "รูป", "video": "วิดีโอ", "file": "ไฟล์"}
MB = 1024 * 1024
# Which activities a leader is asked about first when she sends a photo without context.
STATE_ORDER = {"in_progress": 0, "not_started": 1, "done": 2}


class EvidenceError(ValueError):
    """str() is the Thai sentence to show."""


@dataclass(frozen=True)
class Limits:
    """Largest accepted size per kind, in bytes."""

    image: int = 10 * MB
    video: int = 100 * MB
    file: int = 20 * MB

    def of(self, kind: str) -> int:
        return int(getattr(self, kind, self.file))

    def refusal(self, kind: str) -> str:
        label = KIND_LABELS.get(kind, "ไฟล์")
        return (
            f"{label}นี้ใหญ่เกินไปค่ะ ระบบรับ{label}ได้ไม่เกิน {self.of(kind) // MB} MB "
            f"กรุณาย่อขนาดหรือส่ง{label}ที่เล็กกว่านี้นะคะ"
        )


# Reading ---------------------------------------------------------------------------------
def activities_to_ask(session: Session, leader_id: int, plan: Plan | None) -> list[PlanItem]:
    """The plan's activities, those in progress first, then by their place in the plan."""
    if plan is None:
        return []
    return sorted(plan.items, key=lambda i: (STATE_ORDER.get(i.state, 9), i.position))


def unassigned(session: Session, user_id: int) -> list[Evidence]:
    return list(
        session.scalars(
            select(Evidence)
            .where(
                Evidence.uploaded_by == user_id,
                Evidence.plan_item_id.is_(None),
                Evidence.status.in_(ALIVE),
                Evidence.deleted_at.is_(None),
            )
            .order_by(Evidence.id)
        )
    )


def shown(session: Session, item_id: int) -> list[Evidence]:
    """An activity's evidence as it is shown: stored, not deleted, oldest first."""
    return list(
        session.scalars(
            select(Evidence)
            .where(
                Evidence.plan_item_id == item_id,
                Evidence.status == "stored",
                Evidence.deleted_at.is_(None),
            )
            .order_by(Evidence.id)
        )
    )


def counts(session: Session, item_ids: Iterable[int]) -> dict[int, int]:
    """Stored evidence per activity, for cards that list many activities at once."""
    ids = list(item_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Evidence.plan_item_id, func.count())
        .where(
            Evidence.plan_item_id.in_(ids),
            Evidence.status == "stored",
            Evidence.deleted_at.is_(None),
        )
        .group_by(Evidence.plan_item_id)
    )
    return {item_id: n for item_id, n in rows}


# Run for every file the intake finishes, so built once (building is a good part of the cost).
_COUNT_OF_KIND = select(func.count()).where(
    Evidence.plan_item_id == bindparam("item_id"),
    Evidence.kind == bindparam("kind"),
    Evidence.status == "stored",
    Evidence.deleted_at.is_(None),
)
_DUPLICATE_OF = (
    select(Evidence.id)
    .where(
        Evidence.uploaded_by == bindparam("user_id"),
        Evidence.content_hash == bindparam("content_hash"),
        Evidence.status == "stored",
        Evidence.deleted_at.is_(None),
        Evidence.id != bindparam("own_id"),
    )
    .limit(1)
)


def count_of_kind(session: Session, item_id: int, kind: str) -> int:
    return session.scalar(_COUNT_OF_KIND, {"item_id": item_id, "kind": kind}) or 0


def own(session: Session, user_id: int, evidence_id: int) -> Evidence | None:
    row = session.get(Evidence, evidence_id)
    if row is None or row.uploaded_by != user_id or row.deleted_at is not None:
        return None
    return row


def duplicate_of(session: Session, user_id: int, content_hash: str, own_id: int) -> int | None:
    """The id of the leader's evidence already holding these bytes, if any."""
    return session.scalar(
        _DUPLICATE_OF, {"user_id": user_id, "content_hash": content_hash, "own_id": own_id}
    )


def shown_file_name(raw: str | None) -> str | None:
    """The name a file came with, fit to show: its last path part only, without control,
    format (zero-width, right-to-left override) or separator characters, clipped keeping its
    extension. None when nothing showable is left. Never used as a path: stored files are
    named by their content hash."""
    if not raw:
        return None
    text = "".join(" " if ch.isspace() else ch for ch in unicodedata.normalize("NFC", raw))
    text = "".join(ch for ch in text if ch == " " or unicodedata.category(ch)[0] not in "CZ")
    name = text.replace("\\", "/").rsplit("/", 1)[-1]
    name = " ".join(name.split()).strip(". ")  # no "..", hidden names or trailing dots
    if not name:
        return None
    if len(name) > FILE_NAME_MAX:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: FILE_NAME_MAX - len(ext) - 2].rstrip(". ") + "…." + ext
        else:
            name = name[: FILE_NAME_MAX - 1] + "…"
    return name


# Changing --------------------------------------------------------------------------------
def receive(
    session: Session,
    user: User,
    *,
    message_id: str,
    kind: str,
    item_id: int | None,
    set_id: str | None,
    file_name: str | None,
    reply_token: str | None,
    reply_by: datetime | None,
) -> Evidence:
    """Record content LINE told us about, to be fetched at once. Idempotent per message."""
    row = session.scalar(select(Evidence).where(Evidence.line_message_id == message_id))
    if row is not None:
        return row
    row = Evidence(
        uploaded_by=user.id,
        line_message_id=message_id,
        kind=kind,
        plan_item_id=item_id,
        image_set_id=set_id,
        file_name=shown_file_name(file_name),
        reply_token=reply_token,
        reply_by=reply_by,
        status="pending",
        next_attempt_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def assign(session: Session, rows: list[Evidence], item: PlanItem, actor: User) -> int:
    """Attach rows to an activity; the leader is told once, so they count as announced."""
    for row in rows:
        row.plan_item_id = item.id
        row.announced = True
    session.flush()
    audit.record(
        session, "evidence.assign", "plan_item", item.id, actor=actor, evidence=[r.id for r in rows]
    )
    return len(rows)


def describe(session: Session, user: User, item_id: int, text: str) -> int:
    """Caption the most recent evidence of the activity: the whole set when it was a set."""
    caption = clean_text(text, "คำอธิบาย", CAPTION_MAX, EvidenceError, one_line=True)
    last = session.scalars(
        select(Evidence)
        .where(
            Evidence.uploaded_by == user.id,
            Evidence.plan_item_id == item_id,
            Evidence.status.in_(ALIVE),
            Evidence.deleted_at.is_(None),
        )
        .order_by(Evidence.id.desc())
        .limit(1)
    ).first()
    if last is None:
        raise EvidenceError("ยังไม่มีรูปหรือไฟล์ให้ใส่คำอธิบายค่ะ กรุณาส่งรูปก่อน แล้วจึงพิมพ์คำอธิบาย")
    same = (
        Evidence.image_set_id == last.image_set_id if last.image_set_id else Evidence.id == last.id
    )
    changed = session.execute(
        update(Evidence)
        .where(same, Evidence.uploaded_by == user.id, Evidence.deleted_at.is_(None))
        .values(caption=caption)
    ).rowcount
    session.expire_all()
    return int(changed or 0)


def delete(session: Session, row: Evidence, actor: User) -> None:
    """Hide at once; the bytes go later (`bot.intake` purges objects nobody else uses)."""
    row.deleted_at = utcnow()
    audit.record(session, "evidence.delete", "evidence", row.id, actor=actor, item=row.plan_item_id)
    session.flush()


def discard_unassigned(session: Session, user: User) -> int:
    """The leader cancelled the question "which activity": the photos are not kept."""
    rows = unassigned(session, user.id)
    for row in rows:
        row.deleted_at = utcnow()
    if rows:
        audit.record(
            session, "evidence.discard", "user", user.id, actor=user, evidence=[r.id for r in rows]
        )
    session.flush()
    return len(rows)


def expire_unassigned(session: Session, now: datetime, older_than: timedelta) -> int:
    """Photos sent without ever saying for which activity (the leader left the question)
    are not kept for ever: marked deleted, their objects purged like any deleted evidence."""
    rows = list(
        session.scalars(
            select(Evidence).where(
                Evidence.plan_item_id.is_(None),
                Evidence.deleted_at.is_(None),
                Evidence.created_at < now - older_than,
            )
        )
    )
    for row in rows:
        row.deleted_at = now
        audit.record(
            session,
            "evidence.expire",
            "evidence",
            row.id,
            actor_label="scheduler",
            user=row.uploaded_by,
        )
    session.flush()
    return len(rows)


def purgeable(session: Session, older_than: timedelta = timedelta(minutes=1)) -> list[Evidence]:
    """Deleted rows whose objects are still kept."""
    return list(
        session.scalars(
            select(Evidence)
            .where(
                Evidence.deleted_at.is_not(None),
                Evidence.deleted_at < utcnow() - older_than,
                Evidence.storage_key.is_not(None),
            )
            .limit(20)
        )
    )


def still_used(session: Session, content_hash: str) -> bool:
    return bool(
        session.scalar(
            select(func.count()).where(
                Evidence.content_hash == content_hash,
                Evidence.deleted_at.is_(None),
                Evidence.status == "stored",
            )
        )
    )

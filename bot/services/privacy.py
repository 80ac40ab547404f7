"""PDPA: what we keep about a person, and erasing it when they ask.

Erasure keeps the department's numbers and drops the person. A leader's plans, decisions and
appointments move to an anonymous stand-in user (status "erased", the same areas, no name, no
LINE account) with every free text blanked, so the province's counts stay right while nothing
leads back to her. Her evidence and summary documents are marked deleted at once and their
files purged by the background jobs (`bot.intake` for evidence, `scheduler.housekeeping` for
documents); the chat history to and about her goes now, the rest by retention.

Free of Flask and LINE.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, cast, delete, func, or_, select, update
from sqlalchemy.orm import Session

from bot.models import (
    Appointment,
    AuditLog,
    CommitteeDecision,
    ConversationState,
    Evidence,
    InboxEvent,
    Inspection,
    InviteAttempt,
    LeaderProfile,
    Notification,
    OutboxMessage,
    Plan,
    PlanItem,
    ReminderSnooze,
    SummaryDocument,
    User,
    WebSession,
    WebSignIn,
)

ERASED_NAME = "ผู้นำที่ขอลบข้อมูล"
ERASED_TEXT = "(ลบตามคำขอของเจ้าของข้อมูล)"
# A plan waiting on the officer is taken back to a draft: nobody is left to answer a review.
WITHDRAWN = {"submitted": "draft"}


@dataclass(frozen=True)
class Inventory:
    """How much the bot keeps about one person, for "ข้อมูลของฉัน"."""

    plans: int
    activities: int
    evidence: int
    documents: int
    appointments: int
    messages: int  # chat events from this person still kept


@dataclass(frozen=True)
class Erasure:
    stand_in_id: int | None  # the anonymous user that now holds her plans, if she had any
    plans: int
    evidence: int
    documents: int
    messages: int


def inventory(session: Session, user: User) -> Inventory:
    """One statement: a count per kind, in `Inventory`'s order."""
    plan_ids = select(Plan.id).where(Plan.leader_id == user.id)

    def count(column: Any, *where: ColumnElement[bool]) -> Any:
        return select(func.count(column)).where(*where).scalar_subquery()

    row = session.execute(
        select(
            count(Plan.id, Plan.leader_id == user.id),
            count(PlanItem.id, PlanItem.plan_id.in_(plan_ids)),
            count(Evidence.id, Evidence.uploaded_by == user.id, Evidence.deleted_at.is_(None)),
            count(
                SummaryDocument.id,
                SummaryDocument.plan_id.in_(plan_ids),
                SummaryDocument.status == "ready",
            ),
            count(Appointment.id, Appointment.leader_id == user.id),
            count(InboxEvent.id, InboxEvent.source_key == user.line_user_id),
        )
    ).one()
    return Inventory(*(int(n or 0) for n in row))


def erase(session: Session, user: User, now: datetime) -> Erasure:
    """Erase what identifies `user` and reset them to a newcomer who has not consented.

    The caller records the audit entry and answers the person; everything here happens in the
    caller's transaction, so a fault erases nothing rather than half."""
    profile = session.get(LeaderProfile, user.id)
    mentions = _mentions(user, profile)
    plan_ids = list(session.scalars(select(Plan.id).where(Plan.leader_id == user.id)))
    stand_in = _stand_in(session, user, profile) if plan_ids else None

    evidence = _drop_evidence(session, user, now)
    documents = _drop_documents(session, plan_ids)
    _anonymise_appointments(session, user.id, now)
    if stand_in is not None:
        _anonymise_plans(session, plan_ids)
        for model, column in (
            (Plan, Plan.leader_id),
            (CommitteeDecision, CommitteeDecision.leader_id),
            (Appointment, Appointment.leader_id),
            (Evidence, Evidence.uploaded_by),
            (SummaryDocument, SummaryDocument.requested_by),
        ):
            session.execute(update(model).where(column == user.id).values({column: stand_in.id}))
        # Who did what stays in the audit trail, done by nobody in particular.
        session.execute(
            update(AuditLog)
            .where(AuditLog.actor_user_id == user.id)
            .values(actor_user_id=stand_in.id)
        )
    else:
        session.execute(delete(Appointment).where(Appointment.leader_id == user.id))
    messages = _drop_messages(session, user.line_user_id, mentions)

    for model, column in (
        (LeaderProfile, LeaderProfile.user_id),
        (ConversationState, ConversationState.user_id),
        (WebSession, WebSession.user_id),
        (WebSignIn, WebSignIn.user_id),
        (Notification, Notification.recipient_id),
        (ReminderSnooze, ReminderSnooze.user_id),
        (InviteAttempt, InviteAttempt.user_id),
    ):
        session.execute(delete(model).where(column == user.id))
    user.display_name = None
    user.consent_at = None
    user.role, user.area_code, user.status = "guest", None, "new"
    user.reminders = True
    session.flush()
    session.expire_all()
    return Erasure(
        stand_in_id=stand_in.id if stand_in else None,
        plans=len(plan_ids),
        evidence=evidence,
        documents=documents,
        messages=messages,
    )


def _stand_in(session: Session, user: User, profile: LeaderProfile | None) -> User:
    stand_in = User(
        line_user_id=f"erased-{uuid.uuid4().hex}",
        role="leader",  # what the reports count; an officer has no plans to move
        area_code=user.area_code or (profile.subdistrict_code if profile else None),
        status="erased",
        following=False,
        reminders=False,
        created_at=user.created_at,
    )
    session.add(stand_in)
    session.flush()
    if profile is not None:
        session.add(
            LeaderProfile(
                user_id=stand_in.id,
                full_name=ERASED_NAME,
                phone=None,
                subdistrict_code=profile.subdistrict_code,
                district_code=profile.district_code,
                province_code=profile.province_code,
                registered_at=profile.registered_at,
            )
        )
    return stand_in


def _anonymise_plans(session: Session, plan_ids: list[int]) -> None:
    in_plans = PlanItem.plan_id.in_(plan_ids)
    session.execute(
        update(PlanItem)
        .where(in_plans)
        .values(activity=ERASED_TEXT, responsible=ERASED_TEXT, note=None)
    )
    session.execute(
        update(PlanItem).where(in_plans, PlanItem.method.is_not(None)).values(method=ERASED_TEXT)
    )
    session.execute(
        update(PlanItem).where(in_plans, PlanItem.helper.is_not(None)).values(helper=ERASED_TEXT)
    )
    for plan in session.scalars(select(Plan).where(Plan.id.in_(plan_ids))):
        plan.status = WITHDRAWN.get(plan.status, plan.status)
        plan.revision += 1  # an officer's card from before is refused
        plan.review_comment = ERASED_TEXT if plan.review_comment else None
        plan.assessment_comment = ERASED_TEXT if plan.assessment_comment else None
        if plan.assessment_status == "requested":
            plan.assessment_status = None
    session.execute(
        update(Inspection).where(Inspection.plan_id.in_(plan_ids)).values(reasons=ERASED_TEXT)
    )
    decisions = CommitteeDecision.plan_id.in_(plan_ids)
    session.execute(
        update(CommitteeDecision)
        .where(decisions, CommitteeDecision.reasons.is_not(None))
        .values(reasons=ERASED_TEXT)
    )
    # Nothing about her is published any more, whatever she agreed to before.
    session.execute(update(CommitteeDecision).where(decisions).values(story=None, publish=[]))


def _anonymise_appointments(session: Session, leader_id: int, now: datetime) -> None:
    """Her answers and reasons go; a meeting still to come is called off."""
    mine = Appointment.leader_id == leader_id
    session.execute(update(Appointment).where(mine).values(note=None, response_reason=None))
    session.execute(
        update(Appointment)
        .where(mine, Appointment.starts_at > now, Appointment.cancelled_at.is_(None))
        .values(cancelled_at=now)
    )


def _drop_evidence(session: Session, user: User, now: datetime) -> int:
    """Hide every photo and file she sent; `bot.intake` purges the objects nobody else uses."""
    mine = Evidence.uploaded_by == user.id
    alive = session.execute(
        update(Evidence).where(mine, Evidence.deleted_at.is_(None)).values(deleted_at=now)
    ).rowcount
    session.execute(
        update(Evidence)
        .where(mine)
        .values(
            caption=None,
            file_name=None,
            taken_at=None,
            gps_lat=None,
            gps_lon=None,
            reply_token=None,
            last_error=None,
        )
    )
    return int(alive or 0)


def _drop_documents(session: Session, plan_ids: list[int]) -> int:
    """Summary documents stop opening now; the housekeeping job deletes their files."""
    if not plan_ids:
        return 0
    return int(
        session.execute(
            update(SummaryDocument)
            .where(SummaryDocument.plan_id.in_(plan_ids), SummaryDocument.status != "erased")
            .values(status="erased")
        ).rowcount
        or 0
    )


def _mentions(user: User, profile: LeaderProfile | None) -> list[str]:
    """What would name her in a message to someone else."""
    words = [w for w in (profile.full_name if profile else None, user.display_name) if w]
    if profile is not None and profile.phone:
        words.append(profile.phone)
    return [w for w in words if len(w) >= 4]


def _contains(column: ColumnElement[object], word: str) -> ColumnElement[bool]:
    """A JSON column holds `word`: JSON may store Thai as \\u escapes or as it is."""
    text = cast(column, String)
    escaped = json.dumps(word)[1:-1]
    return or_(text.contains(word, autoescape=True), text.contains(escaped, autoescape=True))


def _drop_messages(session: Session, line_user_id: str, mentions: list[str]) -> int:
    """Her chat events, what was sent to her, and sends to others that named her. Rows still
    queued are left to go out; retention removes them later."""
    done = InboxEvent.status != "pending"
    dropped = session.execute(
        delete(InboxEvent).where(InboxEvent.source_key == line_user_id, done)
    ).rowcount
    sent = OutboxMessage.status != "pending"
    to_her = OutboxMessage.kind.in_(("reply", "push")) & _contains(
        OutboxMessage.recipients, line_user_id
    )
    about_her = [_contains(OutboxMessage.messages, word) for word in mentions]
    dropped += session.execute(
        delete(OutboxMessage)
        .where(sent, or_(to_her, *about_her))
        .execution_options(synchronize_session=False)
    ).rowcount
    return int(dropped or 0)

"""The summary document (เอกสารสรุปผลงาน), built in the background and kept in storage.

Someone taps "เอกสารสรุปผลงาน"; the handler writes a `SummaryDocument` row and says it is being
prepared; a background thread claims the row, reads the plan in a short transaction, copies up
to four thumbnails per activity out of storage, renders the PDF into storage's staging area,
stores it, and pushes a signed link to whoever asked.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot import outbox, render
from bot.db import Database
from bot.documents.summary import (
    SummaryActivity,
    SummaryDoc,
    SummaryFigures,
    SummaryPhoto,
    render_summary,
)
from bot.models import LeaderProfile, OutboxMessage, Plan, SummaryDocument, User, utcnow
from bot.services import areas, evidence, inspection, plans
from bot.services.thai import thai_date
from bot.storage import Storage

if TYPE_CHECKING:
    from bot.dispatch import Site

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
ATTEMPTS = 3
PHOTOS_PER_ACTIVITY = 4
FAILED = "ขออภัยค่ะ จัดทำเอกสารสรุปผลงานไม่สำเร็จ กรุณาลองใหม่อีกครั้งในภายหลังนะคะ"


def request(session: Session, plan: Plan, user: User) -> SummaryDocument | None:
    """Queue a document; None when one for this plan and person is already being made."""
    waiting = session.scalar(
        select(SummaryDocument).where(
            SummaryDocument.plan_id == plan.id,
            SummaryDocument.requested_by == user.id,
            SummaryDocument.status == "pending",
        )
    )
    if waiting is not None:
        return None
    row = SummaryDocument(plan_id=plan.id, requested_by=user.id, status="pending")
    session.add(row)
    session.flush()
    return row


def document_of(
    session: Session, plan: Plan, today: datetime | None = None
) -> tuple[SummaryDoc, dict[Path, str]]:
    """The document's content, and which storage key each photo path must be copied from."""
    profile = session.get(LeaderProfile, plan.leader_id)
    edition = plans.edition(session, plan)
    names = {c.id: f"{a.name_th} › {c.name_th}" for a in edition.areas for c in a.components}
    counts = evidence.counts(session, (i.id for i in plan.items))
    copies: dict[Path, str] = {}
    activities = []
    for number, item in enumerate(plan.items, start=1):
        photos = []
        for row in evidence.shown(session, item.id):
            if row.kind != "image" or not row.thumb_key:
                continue
            path = Path(f"{row.id}.jpg")  # relative: made absolute under the work directory
            copies[path] = row.thumb_key
            when = row.taken_at or row.created_at
            photos.append(SummaryPhoto(path, when.date() if when else None, row.caption))
            if len(photos) == PHOTOS_PER_ACTIVITY:
                break
        activities.append(
            SummaryActivity(
                number=number,
                area=names.get(item.component_id, "-"),
                activity=item.activity,
                state=plans.STATE_LABELS.get(item.state, item.state),
                period=f"{thai_date(item.starts_on)} – {thai_date(item.ends_on)}",
                note=item.note,
                evidence_count=counts.get(item.id, 0),
                photos=photos,
            )
        )
    figures = None
    if plan.households_trained is not None:
        figures = SummaryFigures(
            plan.households_trained,
            plan.households_with_occupation,
            plan.income_before,
            plan.income_after,
        )
    seen = inspection.of(session, plan.id)
    opinion = opinion_by = None
    if seen is not None:
        label = inspection.OPINIONS.get(seen.opinion, seen.opinion)
        opinion = f"ความเห็น: {label}\nเหตุผล: {seen.reasons}"
        officer = session.get(User, seen.officer_id) if seen.officer_id else None
        opinion_by = officer.display_name if officer else None
    code = profile.subdistrict_code if profile else ""
    subdistrict, district, province = (areas.find(code[:n]) for n in (6, 4, 2))
    doc = SummaryDoc(
        leader_name=profile.full_name if profile else "-",
        subdistrict=subdistrict.name if subdistrict else "-",
        district=district.name if district else "-",
        province=province.name if province else "-",
        fiscal_year=plan.fiscal_year,
        plan=plans.plan_form(session, plan),
        activities=activities,
        figures=figures,
        opinion=opinion,
        opinion_by=opinion_by,
        opinion_on=seen.inspected_on if seen else None,
        made_on=(today or utcnow()).date(),
    )
    return doc, copies


class Summaries:
    def __init__(self, db: Database, storage: Storage, sender: outbox.OutboxSender, site: Site):
        self.db = db
        self.storage = storage
        self.sender = sender
        self.site = site

    def work_once(self) -> bool:
        now = utcnow()
        job_id = self._claim(now)
        if job_id is None:
            return False
        try:
            key, pages = self._build(job_id)
            sent = self._finish(job_id, key=key, pages=pages)
        except Exception as exc:  # any failure: retried, then the requester is told
            log.exception("summary %s failed", job_id)
            sent = self._finish(job_id, error=f"{type(exc).__name__}: {exc}")
        for message in sent:
            self.sender.deliver_now(message)
        return True

    def _claim(self, now: datetime) -> int | None:
        due = or_(
            (SummaryDocument.status == "pending")
            & (SummaryDocument.next_attempt_at <= now)
            & or_(SummaryDocument.locked_until.is_(None), SummaryDocument.locked_until < now),
        )
        with self.db.transaction() as session:
            job_id = session.scalar(
                select(SummaryDocument.id).where(due).order_by(SummaryDocument.id).limit(1)
            )
            if job_id is None:
                return None
            claimed = session.execute(
                update(SummaryDocument)
                .where(SummaryDocument.id == job_id, due)
                .values(locked_until=now + LEASE, attempts=SummaryDocument.attempts + 1)
            ).rowcount
            return job_id if claimed else None

    def _build(self, job_id: int) -> tuple[str, int]:
        with self.db.transaction() as session:
            job = session.get(SummaryDocument, job_id)
            plan = session.get(Plan, job.plan_id) if job else None
            if job is None or plan is None:
                raise ValueError("plan gone")
            doc, copies = document_of(session, plan)
            plan_id = plan.id
        work = Path(tempfile.mkdtemp(dir=self.storage.staging_dir(), prefix="summary-"))
        try:
            for activity in doc.activities:
                for photo in activity.photos:
                    target = work / photo.path
                    with self.storage.open(copies[photo.path]) as source, target.open("wb") as out:
                        shutil.copyfileobj(source, out, 256 * 1024)
                    photo.path = target
            out = work / "summary.pdf"
            pages = render_summary(doc, out)
            key = f"documents/summary-{plan_id}-{job_id}.pdf"
            self.storage.put(key, out, "application/pdf")
            return key, pages
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _finish(
        self, job_id: int, *, key: str | None = None, pages: int | None = None, error: str = ""
    ) -> list[OutboxMessage]:
        with self.db.transaction() as session:
            job = session.get(SummaryDocument, job_id)
            if job is None:
                return []
            job.locked_until = None
            if job.status == "erased":  # the leader asked for erasure meanwhile: nobody is told
                job.storage_key = key  # so housekeeping deletes the file just made
                return []
            user = session.get(User, job.requested_by)
            if key is None:
                job.last_error = error[:2000]
                if job.attempts < ATTEMPTS:
                    job.next_attempt_at = utcnow() + timedelta(seconds=5 * job.attempts)
                    return []
                job.status = "failed"
                messages = [render.text(FAILED)]
            else:
                job.status, job.storage_key, job.pages, job.ready_at = "ready", key, pages, utcnow()
                messages = [self._link_card(session, job)]
            if user is None:
                return []
            row = outbox.enqueue_push(session, user.line_user_id, messages)
            session.flush()
            return [row]

    def _link_card(self, session: Session, job: SummaryDocument) -> dict:
        plan = session.get(Plan, job.plan_id)
        links = self.site.links
        url = (
            links.url("/files/summary", "summary", d=job.id, u=job.requested_by) if links else None
        )
        if url is None or plan is None:
            return render.text("เอกสารสรุปผลงานพร้อมแล้ว แต่ระบบยังไม่ได้ตั้งค่าที่อยู่เว็บสำหรับดาวน์โหลดค่ะ")
        return render.flex(
            "buttons.json",
            "เอกสารสรุปผลงานพร้อมแล้ว",
            title=f"เอกสารสรุปผลงาน ปีงบประมาณ {plan.fiscal_year}",
            body=f"พร้อมแล้วค่ะ ({job.pages} หน้า) ลิงก์ใช้ได้ 24 ชั่วโมง กรุณาอย่าส่งต่อให้ผู้อื่น",
            buttons=[render.button(render.uri_action("เปิดเอกสาร (PDF)", url), "primary")],
        )

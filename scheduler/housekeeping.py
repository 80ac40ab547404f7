"""Tidying the queues and keeping each kind of data no longer than its retention (PDPA).

The periods come from the RETENTION_* settings; a person's own erasure ("ลบข้อมูลของฉัน",
`bot.services.privacy`) does not wait for them."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete, select

from bot.models import AuditLog, InboxEvent, OutboxMessage, SummaryDocument
from bot.services import evidence
from bot.storage import StorageError
from scheduler.jobs import JobContext, every, job

log = logging.getLogger(__name__)


def _kept(ctx: JobContext, setting: str) -> timedelta:
    return timedelta(days=int(ctx.config[setting]))


@job("purge_handled", every(hour=3, minute=15), catch_up=False)
def purge_handled(ctx: JobContext) -> None:
    """Handled events and sent messages go after RETENTION_MESSAGES_DAYS; failed ones stay
    longer for an operator, then go too (they hold what people typed)."""
    handled = ctx.now - _kept(ctx, "RETENTION_MESSAGES_DAYS")
    failed = ctx.now - _kept(ctx, "RETENTION_FAILED_DAYS")
    with ctx.db.transaction() as session:
        for model, created, done in (
            (OutboxMessage, OutboxMessage.created_at, ("sent", "skipped")),
            (InboxEvent, InboxEvent.received_at, ("done", "ignored")),
        ):
            session.execute(delete(model).where(model.status.in_(done), created < handled))
            session.execute(delete(model).where(model.status == "failed", created < failed))


@job("expire_unassigned_evidence", every(hour=3, minute=25), catch_up=False)
def expire_unassigned_evidence(ctx: JobContext) -> None:
    with ctx.db.transaction() as session:
        evidence.expire_unassigned(
            session, ctx.now, _kept(ctx, "RETENTION_UNASSIGNED_EVIDENCE_DAYS")
        )


@job("purge_audit", every(hour=3, minute=35), catch_up=False)
def purge_audit(ctx: JobContext) -> None:
    cutoff = ctx.now - _kept(ctx, "RETENTION_AUDIT_DAYS")
    with ctx.db.transaction() as session:
        session.execute(delete(AuditLog).where(AuditLog.at < cutoff))


@job("purge_documents", every(minute="*/10"), catch_up=False)
def purge_documents(ctx: JobContext) -> None:
    """Summary documents of an erased leader go within ten minutes; others after
    RETENTION_DOCUMENTS_DAYS (the leader can ask for a fresh one). The file goes first, then
    the row, so a storage fault leaves the row to try again next time."""
    old = ctx.now - _kept(ctx, "RETENTION_DOCUMENTS_DAYS")
    with ctx.db.transaction() as session:
        rows = list(
            session.scalars(
                select(SummaryDocument)
                .where(
                    (SummaryDocument.status == "erased")
                    | ((SummaryDocument.status == "ready") & (SummaryDocument.ready_at < old))
                )
                .limit(200)
            )
        )
        for row in rows:
            if row.locked_until is not None and row.locked_until > ctx.now:
                continue  # still being built: the builder leaves the key for the next run
            if row.storage_key:
                try:
                    ctx.runtime.storage.delete(row.storage_key)
                except StorageError as exc:
                    log.warning("summary document %s not purged: %s", row.id, exc)
                    continue
            if row.status == "erased":
                session.delete(row)
            else:
                row.status, row.storage_key = "expired", None

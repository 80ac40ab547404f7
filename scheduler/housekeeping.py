"""Tidying the queues."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from bot.models import InboxEvent, OutboxMessage
from bot.services import evidence
from scheduler.jobs import JobContext, every, job

KEEP_HANDLED = timedelta(days=30)
# Long enough for a leader who sent photos and was interrupted to come back and say where
# they belong; after that nobody will.
KEEP_UNASSIGNED = timedelta(days=7)


@job("purge_handled", every(hour=3, minute=15), catch_up=False)
def purge_handled(ctx: JobContext) -> None:
    """Drop handled events and sent messages after a month; failed ones stay for operators."""
    cutoff = ctx.now - KEEP_HANDLED
    with ctx.db.transaction() as session:
        session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.status.in_(("sent", "skipped")), OutboxMessage.created_at < cutoff
            )
        )
        session.execute(
            delete(InboxEvent).where(
                InboxEvent.status.in_(("done", "ignored")), InboxEvent.received_at < cutoff
            )
        )


@job("expire_unassigned_evidence", every(hour=3, minute=25), catch_up=False)
def expire_unassigned_evidence(ctx: JobContext) -> None:
    with ctx.db.transaction() as session:
        evidence.expire_unassigned(session, ctx.now, KEEP_UNASSIGNED)

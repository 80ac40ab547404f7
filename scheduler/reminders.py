"""The leaders' morning reminders: one consolidated push per leader at most, each morning."""

from __future__ import annotations

import logging

from bot.services import reminders
from scheduler.jobs import JobContext, daily_at, job

log = logging.getLogger(__name__)


@job("morning", daily_at("REMINDER_TIME"))
def morning(ctx: JobContext) -> None:
    """Record and queue this morning's pushes (the outbox sends them, after the quiet hours
    if the run is late); a second run of the same morning queues nothing."""
    with ctx.db.transaction() as session:
        queued = reminders.morning(session, ctx.today, ctx.now, ctx.quiet, ctx.timezone)
    log.info("morning reminders for %s: %d queued", ctx.today.isoformat(), queued)

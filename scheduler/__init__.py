"""Periodic jobs on APScheduler 3, in the app's time zone.

`create_scheduler(app)` gives a background scheduler for the single-process run;
`python -m scheduler` runs the same jobs as a process of its own.
"""

from __future__ import annotations

from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from flask import Flask
from sqlalchemy import delete

from bot.db import db
from bot.models import InboxEvent, OutboxMessage, utcnow

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}
KEEP_HANDLED = timedelta(days=30)


def purge_handled() -> None:
    """Drop handled events and sent messages after a month; failed ones stay for operators."""
    cutoff = utcnow() - KEEP_HANDLED
    with db.transaction() as session:
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


def add_jobs(scheduler: BaseScheduler) -> None:
    scheduler.add_job(
        purge_handled, "cron", hour=3, minute=15, id="purge_handled", replace_existing=True
    )


def create_scheduler(app: Flask, scheduler: BaseScheduler | None = None) -> BaseScheduler:
    scheduler = scheduler or BackgroundScheduler()
    scheduler.configure(timezone=app.config["APP_TIMEZONE"], job_defaults=JOB_DEFAULTS)
    add_jobs(scheduler)
    return scheduler

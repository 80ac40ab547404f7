"""The periodic jobs, on APScheduler 3 in the app's time zone.

Every process may start a `Scheduler` (the single-process run embeds one; `python -m scheduler`
runs one on its own), but only the holder of the database lease runs jobs (`scheduler.lease`).
When a process gains the lease, at start or on taking over from a dead holder, it catches up:
a daily run whose time passed less than MISFIRE_GRACE_MINUTES ago and that no one finished is
run once then. Jobs only record and queue; the outbox loops of the web or worker processes send.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.dialects import postgresql, sqlite

from bot.models import JobRun, utcnow
from bot.notify import QuietHours
from scheduler import (  # noqa: F401 - the job modules register their jobs
    broadcasts,
    housekeeping,
    officers,
    reminders,
)
from scheduler.jobs import JOBS, JobContext
from scheduler.lease import RENEW_SECONDS, Lease, lease_for

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, runtime: Runtime, lease: Lease | None = None) -> None:
        self.runtime = runtime
        self.db = runtime.db
        config = runtime.app.config
        self.timezone = config["APP_TIMEZONE"]
        self.grace = timedelta(minutes=config["MISFIRE_GRACE_MINUTES"])
        self.quiet = QuietHours.from_config(config)
        holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease = lease or lease_for(self.db, "scheduler", holder)
        self.triggers = {
            job.id: CronTrigger(timezone=self.timezone, **job.trigger(config))
            for job in JOBS.values()
        }
        self.held = False
        self._aps: BaseScheduler | None = None

    # Running jobs ----------------------------------------------------------------------
    def last_slot(self, job_id: str, now: datetime) -> datetime | None:
        """The job's latest scheduled time at or before `now`, if within the grace."""
        trigger, slot = self.triggers[job_id], None
        fire = trigger.get_next_fire_time(None, now - self.grace)
        while fire is not None and fire <= now:
            slot = fire
            fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
        return slot

    def _finished(self, job_id: str, slot: datetime) -> bool:
        with self.db.transaction() as session:
            return session.get(JobRun, (job_id, slot)) is not None

    def run(self, job_id: str, now: datetime | None = None) -> bool:
        """Run a job now if this process holds the lease and its slot has not been run.
        Returns whether it ran."""
        if not self.held:
            return False
        job = JOBS[job_id]
        now = now or utcnow()
        slot = (self.last_slot(job_id, now) or now).astimezone(now.tzinfo)
        if job.catch_up and self._finished(job_id, slot):
            return False
        job.run(JobContext(self.runtime, self.db, now, slot, self.quiet))
        if job.catch_up:
            with self.db.transaction() as session:
                dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
                session.execute(
                    dialect.insert(JobRun)
                    .values(job_id=job_id, slot=slot, finished_at=utcnow())
                    .on_conflict_do_nothing()
                )
        self.runtime.notify()  # wake the outbox loop for what the job queued
        return True

    def catch_up(self, now: datetime | None = None) -> list[str]:
        """Run each daily job whose last slot passed unrun; the ids of those run."""
        now = now or utcnow()
        ran = []
        for job in JOBS.values():
            slot = self.last_slot(job.id, now) if job.catch_up else None
            if slot is not None and not self._finished(job.id, slot) and self.run(job.id, now):
                log.info("scheduler: caught up %s of %s", job.id, slot.isoformat())
                ran.append(job.id)
        return ran

    def keep_lease(self, now: datetime | None = None) -> bool:
        """Take or renew the lease; on gaining it, catch up. True while held."""
        now = now or utcnow()
        had, self.held = self.held, self.lease.acquire(now)
        if self.held and not had:
            log.info("scheduler: this process runs the jobs")
            self.catch_up(now)
        elif had and not self.held:
            log.warning("scheduler: lease lost; another process runs the jobs")
        return self.held

    # APScheduler -----------------------------------------------------------------------
    def _safely(self, fn, *args) -> None:  # type: ignore[no-untyped-def]
        try:
            fn(*args)
        except Exception:
            log.exception("scheduler: %s failed", getattr(fn, "__name__", fn))

    def start(self, aps: BaseScheduler | None = None) -> BaseScheduler:
        aps = aps or BackgroundScheduler()
        aps.configure(
            timezone=self.timezone,
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(self.grace.total_seconds()),
            },
        )
        for job_id, trigger in self.triggers.items():
            aps.add_job(self._safely, trigger, args=(self.run, job_id), id=job_id)
        aps.add_job(
            self._safely,
            "interval",
            seconds=RENEW_SECONDS,
            args=(self.keep_lease,),
            id="lease",
            next_run_time=datetime.now(aps.timezone),
        )
        self._aps = aps
        aps.start()
        return aps

    def stop(self) -> None:
        if self._aps is not None and self._aps.running:
            self._aps.shutdown(wait=False)
        if self.held:
            self.lease.release()
            self.held = False

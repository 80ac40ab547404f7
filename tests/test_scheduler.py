"""The scheduler itself: one lease holder, catch-up after a missed morning, the ledger that
sends each notification once through crashes and double runs, and the quiet hours."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, func, select, text

from bot import render
from bot.db import db
from bot.models import JobRun, Notification, OutboxMessage, SchedulerLease, User, utcnow
from bot.notify import Notice, send
from scheduler import Scheduler
from scheduler.jobs import JOBS, JobContext, daily_at, job
from scheduler.lease import TTL, RowLease
from tests.conftest import BANGKOK

GREETING = "สวัสดีตอนเช้าค่ะ วันนี้มีกิจกรรมที่ใกล้ครบกำหนด"


def greet_everyone(ctx: JobContext) -> None:
    """A stand-in for the morning run: one notice to every leader."""
    with ctx.db.transaction() as session:
        leaders = session.execute(select(User.id, User.line_user_id).where(User.role == "leader"))
        notices = [
            Notice(user_id, line_id, "test", "", [render.text(GREETING)])
            for user_id, line_id in leaders
        ]
        send(session, notices, day=ctx.today, now=ctx.now, quiet=ctx.quiet)


@pytest.fixture
def greeting_job() -> Iterator[str]:
    job("greeting", daily_at("REMINDER_TIME"))(greet_everyone)
    yield "greeting"
    del JOBS["greeting"]


@pytest.fixture
def leaders(app) -> list[str]:
    ids = [f"U{n:032x}" for n in range(1, 4)]
    with db.transaction() as session:
        session.add_all(User(line_user_id=i, role="leader", status="active") for i in ids)
    return ids


def greetings(line, user_id: str) -> int:
    return line.platform.texts(user_id).count(GREETING)


def test_row_lease_has_one_holder_and_passes_on_when_it_expires_or_is_released(app, clock):
    now = clock.set("2027-03-18 08:00")
    first = RowLease(db, "test", "first")
    second = RowLease(db, "test", "second")
    assert first.acquire(now)
    assert not second.acquire(now)
    assert first.acquire(now + TTL / 2)  # renewing
    assert not second.acquire(now + TTL)  # renewed, so not expired yet
    # The holder stops renewing (it died): a contender takes over once the lease runs out.
    assert second.acquire(now + TTL * 2)
    assert not first.acquire(now + TTL * 2)
    second.release()
    assert first.acquire(now + TTL * 2)


def test_two_schedulers_at_once_run_each_job_once(app, clock, line, leaders, greeting_job):
    """Two schedulers started by mistake (two processes, here two threads with their own
    database connections): one holds the lease and runs; the other waits and runs nothing."""
    clock.set("2027-03-18 08:00")
    runtime = app.extensions["runtime"]
    schedulers = [Scheduler(runtime), Scheduler(runtime)]
    ran: list[bool] = []
    barrier = threading.Barrier(2)

    def start(scheduler: Scheduler) -> None:
        barrier.wait()
        scheduler.keep_lease()  # gaining the lease catches up this morning's run
        ran.append(scheduler.run(greeting_job))  # and the 08:00 trigger fires in both

    threads = [threading.Thread(target=start, args=(s,)) for s in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    line.settle()
    assert sorted(s.held for s in schedulers) == [False, True]
    assert ran == [False, False]  # the catch-up ran it; the trigger found the slot done
    assert [greetings(line, u) for u in leaders] == [1, 1, 1]

    # Even a job run twice by force (a lease bypassed) records, and so sends, nothing twice.
    holder = next(s for s in schedulers if s.held)
    JOBS[greeting_job].run(JobContext(runtime, db, clock.now(), clock.now(), holder.quiet))
    line.settle()
    assert [greetings(line, u) for u in leaders] == [1, 1, 1]

    # The holder dies: the other takes over at its next try (within a minute).
    if db.is_sqlite:
        clock.advance(seconds=TTL.total_seconds() + 1)
    else:
        holder.lease.drop()  # the server drops a dead connection's advisory lock
    waiting = next(s for s in schedulers if not s.held)
    assert waiting.keep_lease()
    for scheduler in schedulers:
        scheduler.stop()


def test_a_scheduler_down_at_eight_catches_up_once_within_the_grace(
    app, clock, line, leaders, greeting_job
):
    runtime = app.extensions["runtime"]
    clock.set("2027-03-18 10:30")  # down at 08:00, up at 10:30: that morning's run still goes
    late = Scheduler(runtime)
    assert late.keep_lease()
    line.settle()
    assert [greetings(line, u) for u in leaders] == [1, 1, 1]
    with db.transaction() as session:
        runs = select(func.count()).select_from(JobRun).where(JobRun.job_id == "greeting")
        assert session.scalar(runs) == 1
    late.stop()

    # A restart the same morning finds the slot done.
    again = Scheduler(runtime)
    assert again.keep_lease()
    assert again.catch_up() == []
    again.stop()

    # Up only at 12:30 the next day: past the four hours' grace, the run is skipped, not sent late.
    clock.set("2027-03-19 12:30")
    afternoon = Scheduler(runtime)
    assert afternoon.keep_lease()
    line.settle()
    assert [greetings(line, u) for u in leaders] == [1, 1, 1]
    afternoon.stop()


def test_a_crash_after_recording_and_before_sending_still_sends_once(
    stopped_app, clock, line_platform, greeting_job
):
    """The job records and queues, then the process dies before the outbox sends. On restart the
    outbox sends it once; a second run of the job adds nothing."""
    from tests.chat import Chat
    from tests.conftest import SECRET

    with db.transaction() as session:
        session.add(User(line_user_id="U" + "a" * 32, role="leader", status="active"))
    clock.set("2027-03-18 08:00")
    runtime = stopped_app.extensions["runtime"]
    scheduler = Scheduler(runtime)
    scheduler.held = scheduler.lease.acquire(clock.now())
    assert scheduler.run(greeting_job)
    assert line_platform.requests == []  # nothing sent: this process "died" here
    with db.transaction() as session:
        row = session.scalars(select(OutboxMessage)).one()
    # It even died after LINE accepted the push but before noting it as sent.
    runtime.gateway.push(row.recipients[0], row.messages, row.retry_key)

    runtime.start()  # the restart
    Chat(stopped_app, line_platform, SECRET).settle()
    assert line_platform.texts("U" + "a" * 32).count(GREETING) == 1
    pushes = [r for r in line_platform.requests if r.endpoint == "push"]
    assert [r.status for r in pushes] == [200, 409]  # the retry key made LINE take it once
    with db.transaction() as session:
        assert session.get(OutboxMessage, row.id).status == "sent"

    JOBS[greeting_job].run(JobContext(runtime, db, clock.now(), clock.now(), scheduler.quiet))
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 1
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    scheduler.stop()


def test_quiet_hours_hold_a_notification_until_seven(app, clock, line, leaders, scheduler):
    night = clock.set("2027-03-18 21:00")
    with db.transaction() as session:
        somsri = session.scalar(select(User.id).where(User.line_user_id == leaders[0]))
        notices = [Notice(somsri, leaders[0], "test", "", [render.text(GREETING)])]
        send(session, notices, day=night.date(), now=clock.now(), quiet=scheduler.quiet)
        row = session.scalars(select(OutboxMessage)).one()
    assert row.next_attempt_at == datetime(2027, 3, 19, 7, 0, tzinfo=BANGKOK)
    # The sender holds it even when asked directly at night.
    assert app.extensions["runtime"].sender.deliver(row.id) == "pending"
    assert greetings(line, leaders[0]) == 0

    clock.set("2027-03-19 07:00")
    line.settle()
    assert greetings(line, leaders[0]) == 1


def test_the_embedded_scheduler_takes_the_lease_with_the_configured_times(stopped_app, line):
    runtime = stopped_app.extensions["runtime"]
    runtime.start(workers=False, scheduler=True)
    line.platform.wait_for(lambda: runtime.scheduler is not None and runtime.scheduler.held)
    aps = runtime.scheduler._aps
    assert aps is not None and str(aps.timezone) == "Asia/Bangkok"
    purge = aps.get_job("purge_handled")
    assert purge.coalesce and purge.max_instances == 1 and purge.misfire_grace_time == 4 * 3600
    assert str(purge.trigger) == "cron[hour='3', minute='15']"


def test_python_m_scheduler_runs_as_its_own_process_and_stops_cleanly(database_url):
    """`python -m scheduler` takes the lease, and on SIGTERM gives it back and exits."""
    env = {
        **os.environ,
        "LINE_CHANNEL_SECRET": "s",
        "LINE_CHANNEL_ACCESS_TOKEN": "t",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "k",
    }
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.execute(delete(SchedulerLease))  # left by earlier tests
    key = zlib.crc32(b"mchch-scheduler")
    process = subprocess.Popen(
        [sys.executable, "-m", "scheduler"], env=env, cwd=Path(__file__).parents[1]
    )

    def held() -> bool:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                lease = connection.execute(select(SchedulerLease)).first()
                mine = lease is not None and f":{process.pid}:" in lease.holder
                return mine and lease.expires_at > utcnow()
            query = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :key"
            return connection.scalar(text(query), {"key": key}) > 0

    try:
        deadline = time.monotonic() + 30
        while not held() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
        assert held(), "the scheduler process did not take the lease"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
    assert not held()  # given back on the way out
    engine.dispose()

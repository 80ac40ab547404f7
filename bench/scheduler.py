"""The scheduler at scale, on PostgreSQL: the leaders' morning run and a province broadcast.

Morning run: N leaders with 10 activities each (approved plans), six of every leader's ten
activities due today (ending in 7, 3 or 1 days, or late by 1, 7 or 30). Times
`reminders.morning` computing and queueing every push, counts the SQL statements it sends
(for 1,000 and for 10,000 leaders: the count must not grow with the leaders), checks that no
leader gets more than one push, and sets the pushes against the naive one-push-per-due-item.

Broadcast: an assessment date to all 10,000 leaders, queued by the broadcast service and sent
through the outbox to a fake LINE in its own process. Compared, in the same run, with the time
the fake needs to accept the same 20 multicast calls of 500 made directly through the gateway.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import urllib3

from bench import fake_line
from bench.harness import HOST, Options, Row, log

NAME = "scheduler"
ITEMS = 10
SIZES = (1_000, 10_000)
# Days from today to each activity's end: six of the ten are due today.
OFFSETS = (7, 3, 1, -1, -7, -30, 20, 45, 60, 90)
DUE = {7, 3, 1, -1, -7, -30}
MORNING = datetime(2027, 3, 18, 8, 0, tzinfo=ZoneInfo("Asia/Bangkok"))
DEFAULT_DATABASE_URL = f"postgresql://postgres@{HOST}:5432/bench"


def run(out_dir: Path, options: Options) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="bench-scheduler-") as tmp_name:
        tmp = Path(tmp_name)
        with fake_line.running(tmp) as base_url:
            return _measure(out_dir, base_url)


def _app(base_url: str, database_url: str) -> Any:
    from bench.fake_line import TOKEN
    from bot import create_app, migrate
    from bot.db import db
    from bot.services import standard

    app = create_app(
        {
            "LINE_CHANNEL_SECRET": "bench-channel-secret",
            "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
            "LINE_API_BASE_URL": base_url,
            "LINE_DATA_API_BASE_URL": base_url,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "bench",
            "PUBLIC_BASE_URL": "https://bot.example.test",
            "LOG_LEVEL": "WARNING",
        }
    )
    migrate.upgrade(db.engine)
    with db.transaction() as session:
        standard.seed_default(session)
    return app


def seed(leaders: int, today: date) -> None:
    """Leaders of Bueng Kan with approved plans of ten activities, written in bulk."""
    from sqlalchemy import insert, select

    from bot.db import db
    from bot.models import LeaderProfile, Plan, PlanItem, StandardComponent, User
    from bot.services import areas, fiscal

    year = fiscal.year_of(today)
    first, _ = fiscal.bounds(year)
    subdistricts = [s for d in areas.districts("38") for s in areas.subdistricts(d.code)]
    with db.transaction() as session:
        fiscal_row = fiscal.ensure(session, year)
        component = session.scalar(select(StandardComponent.id).limit(1))
        users = session.execute(
            insert(User).returning(User.id, sort_by_parameter_order=True),
            [
                {"line_user_id": f"U{n:032x}", "role": "leader", "status": "active"}
                for n in range(leaders)
            ],
        ).scalars()
        ids = list(users)
        session.execute(
            insert(LeaderProfile),
            [
                {
                    "user_id": user_id,
                    "full_name": f"ผู้นำ ทดสอบ{n}",
                    "subdistrict_code": subdistricts[n % len(subdistricts)].code,
                    "district_code": subdistricts[n % len(subdistricts)].code[:4],
                    "province_code": "38",
                }
                for n, user_id in enumerate(ids)
            ],
        )
        plan_ids = session.execute(
            insert(Plan).returning(Plan.id, sort_by_parameter_order=True),
            [
                {
                    "leader_id": user_id,
                    "fiscal_year": year,
                    "standard_version_id": fiscal_row.standard_version_id,
                    "status": "approved",
                }
                for user_id in ids
            ],
        ).scalars()
        session.execute(
            insert(PlanItem),
            [
                {
                    "plan_id": plan_id,
                    "component_id": component,
                    "position": i + 1,
                    "activity": f"กิจกรรมพัฒนาอาชีพที่ {i + 1}",
                    "mode": "self",
                    "method": "ฝึกปฏิบัติ",
                    "responsible": "ตนเอง",
                    "starts_on": first,
                    "ends_on": today + timedelta(days=OFFSETS[(n + i) % ITEMS]),
                }
                for n, plan_id in enumerate(list(plan_ids))
                for i in range(ITEMS)
            ],
        )


class StatementCounter:
    """Counts what SQLAlchemy sends to the database: statements (`execute` calls) and cursor
    executions (an executemany of many rows is sent in pages of 1,000)."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.statements = self.cursor = 0
        event.listen(engine, "before_execute", self._statement)
        event.listen(engine, "before_cursor_execute", self._cursor)

    def _statement(self, *args: Any) -> None:
        self.statements += 1

    def _cursor(self, *args: Any) -> None:
        self.cursor += 1

    def reset(self) -> None:
        self.statements = self.cursor = 0


def morning_run(leaders: int, base_url: str, database_url: str) -> dict[str, Any]:
    from sqlalchemy import String, cast, func, select

    from bench.webhook import reset_database
    from bot import clock
    from bot.db import db
    from bot.models import OutboxMessage
    from bot.notify import QuietHours
    from bot.services import reminders

    reset_database(database_url)
    app = _app(base_url, database_url)
    clock.travel_to(MORNING)
    today = MORNING.date()
    started = time.perf_counter()
    seed(leaders, today)
    log(f"scheduler: {leaders} leaders seeded in {time.perf_counter() - started:.1f} s")
    quiet = QuietHours.from_config(app.config)
    counter = StatementCounter(db.engine)
    started = time.perf_counter()
    with db.transaction() as session:
        queued = reminders.morning(session, today, clock.now(), quiet)
    seconds = time.perf_counter() - started
    figures = {
        "leaders": leaders,
        "queued": queued,
        "seconds": seconds,
        "statements": counter.statements,
        "cursor_executions": counter.cursor,
    }
    counter.reset()
    started = time.perf_counter()
    with db.transaction() as session:
        figures["second_run_queued"] = reminders.morning(session, today, clock.now(), quiet)
    figures["second_run_seconds"] = time.perf_counter() - started
    with db.transaction() as session:
        per_leader = (
            select(func.count().label("n"))
            .select_from(OutboxMessage)
            .group_by(cast(OutboxMessage.recipients, String))
            .subquery()
        )
        figures["most_pushes_to_one_leader"] = session.scalar(select(func.max(per_leader.c.n)))
    figures["naive_pushes"] = leaders * len(DUE)
    app.extensions["runtime"].stop()
    db.dispose()
    return {"app": app, **figures}


def broadcast(app: Any, base_url: str) -> dict[str, Any]:
    from sqlalchemy import func, select

    from bench.fake_line import TOKEN
    from bot import clock
    from bot.db import db
    from bot.line_gateway import LineGateway
    from bot.models import OutboxMessage, User
    from bot.services import broadcasts
    from handlers.broadcast_views import cards_for

    runtime = app.extensions["runtime"]
    quiet = runtime.sender.quiet
    gateway: LineGateway = runtime.gateway
    with db.transaction() as session:
        session.execute(OutboxMessage.__table__.delete())
    started = time.perf_counter()
    with db.transaction() as session:
        staff = User(line_user_id="U" + "f" * 32, role="province", status="active", area_code="38")
        session.add(staff)
        session.flush()
        now = clock.now()
        draft = broadcasts.Draft(
            now + timedelta(days=30), "ศาลากลางจังหวัดบึงกาฬ", None, "leaders", []
        )
        sent = broadcasts.create(session, staff, draft, send_at=now, now=now)
        broadcasts.queue(session, sent, cards_for("new", "Asia/Bangkok"), now=now, quiet=quiet)
    queued = time.perf_counter() - started
    with db.transaction() as session:
        chunks = [
            (row.recipients, row.messages)
            for row in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        ]
    sender = runtime.sender
    started = time.perf_counter()
    while due := sender.due_ids(50):
        for row_id in due:
            sender.deliver(row_id)
    sending = time.perf_counter() - started
    # The same multicasts (recipients and cards), straight through the gateway, for comparison.
    started = time.perf_counter()
    for n, (recipients, messages) in enumerate(chunks):
        gateway.multicast(recipients, messages, f"00000000-0000-4000-8000-{n:012d}")
    direct = time.perf_counter() - started
    # And as plain HTTP posts of the same JSON: what the fake itself needs to accept them.
    http = urllib3.PoolManager()
    started = time.perf_counter()
    for n, (recipients, messages) in enumerate(chunks):
        response = http.request(
            "POST",
            f"{base_url}/v2/bot/message/multicast",
            body=json.dumps({"to": recipients, "messages": messages}).encode(),
            headers={
                "Authorization": f"Bearer {TOKEN}",
                "Content-Type": "application/json",
                "X-Line-Retry-Key": f"00000000-0000-4000-9000-{n:012d}",
            },
        )
        assert response.status == 200, response.status
    plain = time.perf_counter() - started
    with db.transaction() as session:
        rows = session.execute(
            select(
                OutboxMessage.kind,
                OutboxMessage.status,
                func.count(),
                func.sum(OutboxMessage.attempts),
            ).group_by(OutboxMessage.kind, OutboxMessage.status)
        ).all()
    return {
        "direct_seconds": direct,
        "queue_seconds": queued,
        "send_seconds": sending,
        "plain_http_seconds": plain,
        "outbox": [list(r) for r in rows],
    }


def _measure(out_dir: Path, base_url: str) -> list[Row]:
    from bot import clock

    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL).replace(
        "postgresql://", "postgresql+psycopg://", 1
    )
    runs = []
    app = None
    try:
        for leaders in SIZES:
            result = morning_run(leaders, base_url, database_url)
            app = result.pop("app")
            runs.append(result)
            log(f"scheduler: morning run {result}")
        sent = broadcast(app, base_url)
        log(f"scheduler: broadcast {sent}")
    finally:
        clock.reset()
    (out_dir / "summary.json").write_text(
        json.dumps({"morning": runs, "broadcast": sent}, indent=1)
    )
    small, big = runs
    multicasts = sum(n for kind, status, n, _ in sent["outbox"] if kind == "multicast")
    tries = sum(a for kind, status, _, a in sent["outbox"] if kind == "multicast")
    return [
        Row(
            NAME,
            f"morning run, {big['leaders']:,} leaders × {ITEMS} activities",
            "compute and queue",
            f"{big['seconds']:.2f} s, {big['queued']:,} pushes",
            f"aim < 5 s; {small['leaders']:,} leaders: {small['seconds']:.2f} s",
        ),
        Row(
            NAME,
            "morning run",
            "SQL statements (cursor executions)",
            f"{big['statements']} ({big['cursor_executions']}) for {big['leaders']:,} leaders",
            f"{small['statements']} ({small['cursor_executions']}) "
            f"for {small['leaders']:,} leaders",
        ),
        Row(
            NAME,
            "morning run",
            "pushes sent (most to one leader)",
            f"{big['queued']:,} ({big['most_pushes_to_one_leader']})",
            f"naive one push per due item: {big['naive_pushes']:,}; "
            f"a second run the same day: {big['second_run_queued']} "
            f"in {big['second_run_seconds']:.2f} s",
        ),
        Row(
            NAME,
            f"broadcast to {big['leaders']:,} leaders",
            "multicast calls (tries)",
            f"{multicasts} ({tries})",
            "aim 20",
        ),
        Row(
            NAME,
            f"broadcast to {big['leaders']:,} leaders",
            "send through the outbox (after queueing)",
            f"{sent['send_seconds']:.2f} s; with the queueing before it "
            f"{sent['queue_seconds'] + sent['send_seconds']:.2f} s "
            f"({(sent['queue_seconds'] + sent['send_seconds']) / sent['plain_http_seconds']:.2f}x)",
            f"the fake accepting the same 20 multicasts as plain HTTP posts: "
            f"{sent['plain_http_seconds']:.2f} s, ratio "
            f"{sent['send_seconds'] / sent['plain_http_seconds']:.2f}x (aim <= 2x); "
            f"through line-bot-sdk without the outbox: {sent['direct_seconds']:.2f} s",
        ),
    ]

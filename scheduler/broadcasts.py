"""Province broadcasts and the message quota, as jobs.

`broadcasts` (every minute) sends scheduled broadcasts whose time has come (telling the sender
of any whose date passed before a scheduler ran) and pushes each
sender a delivery report once every multicast of the broadcast has ended. `quota` (daily) reads
LINE's quota and this month's consumption and warns province staff and administrators once a
month when the use crosses QUOTA_WARN_PERCENT.
"""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

from pythainlp.util import thai_strftime

from bot import render
from bot.line_gateway import LineError
from bot.models import QuotaReading
from bot.services import broadcasts, quota
from handlers.broadcast_views import cards_for, expired_message, report_message
from scheduler.jobs import JobContext, daily_at, every, job

log = logging.getLogger(__name__)


@job("broadcasts", every(minute="*"), catch_up=False)
def send_broadcasts(ctx: JobContext) -> None:
    cards = cards_for("new", ctx.timezone)
    with ctx.db.transaction() as session:
        for broadcast in broadcasts.expire(
            session,
            lambda b: [expired_message(b, ctx.timezone)],
            today=ctx.today,
            now=ctx.now,
            quiet=ctx.quiet,
        ):
            log.warning(
                "broadcast %s expired unsent: no scheduler ran before its date", broadcast.id
            )
        for broadcast in broadcasts.due(session, ctx.now):
            if broadcasts.queue(session, broadcast, cards, now=ctx.now, quiet=ctx.quiet):
                log.info("broadcast %s queued", broadcast.id)
    with ctx.db.transaction() as session:
        for broadcast in broadcasts.awaiting_report(session):
            report = broadcasts.report_of(session, broadcast)
            if report is None:
                continue  # a multicast is still being sent or retried
            message = report_message(broadcast, report, ctx.timezone)
            broadcasts.close(
                session,
                broadcast,
                report,
                [message],
                today=ctx.today,
                now=ctx.now,
                quiet=ctx.quiet,
            )


def quota_warning(reading: QuotaReading, timezone: str) -> list[dict[str, Any]]:
    month = thai_strftime(reading.read_at.astimezone(ZoneInfo(timezone)), "%B %Y")
    return [
        render.text(
            "⚠️ แจ้งเตือนโควตาข้อความ LINE ค่ะ\n"
            f"เดือน{month} ใช้ไปแล้ว {reading.used:,} จาก {reading.limit or 0:,} ข้อความ "
            f"({quota.percent(reading)}%) เหลือ {quota.left(reading) or 0:,} ข้อความ\n"
            "การแจ้งเตือนและประกาศนับโควตา (การตอบกลับในแชตไม่นับ) หากโควตาหมด "
            "ระบบจะส่งแจ้งเตือนและประกาศไม่ได้จนถึงต้นเดือนหน้า "
            "กรุณาวางแผนการประกาศ หรือติดต่อผู้ดูแลระบบเพื่อเพิ่มแพ็กเกจนะคะ"
        )
    ]


@job("quota", daily_at("REMINDER_TIME"))
def watch_quota(ctx: JobContext) -> None:
    gateway = ctx.runtime.gateway
    try:
        limit, used = gateway.message_quota(), gateway.quota_consumption()
    except LineError as exc:
        # Tomorrow's run reads it again; a missed day only delays a warning.
        log.warning("quota: LINE did not tell the quota (%s); trying again tomorrow", exc)
        return
    with ctx.db.transaction() as session:
        reading = quota.record(session, limit, used, ctx.now)
        warned = quota.warn(
            session,
            reading,
            lambda r: quota_warning(r, ctx.timezone),
            warn_percent=int(ctx.config["QUOTA_WARN_PERCENT"]),
            today=ctx.today,
            now=ctx.now,
            quiet=ctx.quiet,
        )
    log.info("quota: %s of %s used; %d warned", used, limit if limit is not None else "-", warned)

"""The last step of the new-broadcast form (`handlers.broadcast`): the preview (the very card
the recipients get, who they are, the quota it uses) and sending, now or at a chosen time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot import render
from bot.context import Context
from bot.conversation import END, Flow
from bot.models import Broadcast
from bot.render import FLOW_CHIPS
from bot.services import broadcasts as service
from bot.services import quota
from bot.services.broadcasts import BroadcastError
from handlers import broadcast_views as views
from handlers.broadcast import ONLY_PROVINCE, flow, picked, province_code, refuse
from handlers.broadcast_views import KEYWORD, when_long, when_short
from handlers.common import province_staff


def _draft(ctx: Context) -> service.Draft:
    values = Flow.data(ctx)
    return service.Draft(
        starts_at=datetime.fromisoformat(values["starts_at"]),
        place=values["place"],
        note=values.get("note") or None,
        audience=values["audience"],
        district_codes=list(values.get("district_codes") or []),
    )


def _transient(ctx: Context, draft: service.Draft) -> Broadcast:
    """An unsaved broadcast, to draw the preview with the very code that draws the real card."""
    return Broadcast(
        province_code=province_code(ctx),
        starts_at=draft.starts_at,
        place=draft.place,
        note=draft.note,
        audience=draft.audience,
        district_codes=draft.district_codes,
        revision=1,
        status="scheduled",
    )


def ask_preview(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    draft = _draft(ctx)
    sample = _transient(ctx, draft)
    found = service.resolve(ctx.session, sample.province_code, draft.audience, draft.district_codes)
    role = "officer" if draft.audience == "officers" else "leader"
    card = views.appointment_card(sample, role, "new", ctx.timezone, sample=True)
    if found.recipients == 0:
        again = render.tap("เลือกผู้รับใหม่", flow.postback_data(ctx, "audience"), "เลือกผู้รับใหม่")
        return [
            card,
            render.text(
                f'ยังไม่มีผู้รับในกลุ่ม "{views.audience_text(sample)}" ที่ติดตามบัญชีอยู่ค่ะ '
                f"(บล็อกบัญชี {found.skipped:,} คน) กรุณาเลือกผู้รับกลุ่มอื่น",
                [again, *FLOW_CHIPS],
            ),
        ]
    cost = found.cost(1, 1)
    stats: list[tuple[str, str]] = []
    if draft.audience != "officers":
        stats.append(("ผู้นำ", f"{len(found.reachable_leaders):,} คน"))
    if draft.audience in {"officers", "everyone"}:
        stats.append(("พัฒนากร", f"{len(found.reachable_officers):,} คน"))
    stats += [("ข้าม (บล็อกบัญชี LINE)", f"{found.skipped:,} คน"), ("ใช้โควตา", f"{cost:,} ข้อความ")]
    reading = quota.latest(ctx.session, ctx.now, ctx.timezone)
    more_stats, lines = views.quota_lines(reading, cost, ctx.timezone)
    quiet_note = views.quiet_note(ctx.quiet, ctx.now, ctx.timezone)
    if quiet_note:
        lines.insert(0, f"ขณะนี้อยู่ใน{quiet_note.replace('ประกาศจะ', 'หากแตะ ส่งเลย ประกาศจะ')}")
    send_at = views.picker(
        "ตั้งเวลาส่ง",
        flow.postback_data(ctx, "schedule"),
        ctx.now + timedelta(hours=1),
        views.next_minute(ctx.now, ctx.timezone),
        draft.starts_at - timedelta(minutes=1),
        ctx.timezone,
    )
    shown = "พัฒนากร" if role == "officer" else "ผู้นำ"
    summary = views.summary_card(
        "ตรวจสอบก่อนส่งประกาศ",
        f"การ์ดด้านบนคือสิ่งที่{shown}จะได้รับค่ะ · ผู้รับ: {views.audience_text(sample)}",
        stats + more_stats,
        lines_title="หมายเหตุ",
        lines=lines,
        footnote='แตะ "ส่งเลย" เพื่อส่งทันที หรือ "ตั้งเวลาส่ง" เพื่อเลือกเวลาส่งค่ะ',
        buttons=[
            render.button(
                render.postback_action("ส่งเลย", flow.postback_data(ctx, "send"), "ส่งเลย"),
                "primary",
            ),
            render.button(send_at),
            render.button(render.message_action("แก้ไข", "ย้อนกลับ")),
            render.button(render.message_action("ยกเลิก")),
        ],
        alt=f"ตรวจสอบก่อนส่งประกาศ: ผู้รับ {found.recipients:,} คน ใช้โควตา {cost:,} ข้อความ",
    )
    return [card, summary]


preview_step = flow.step(
    "preview",
    ask=ask_preview,
    help='แตะ "ส่งเลย" "ตั้งเวลาส่ง" "แก้ไข" (ย้อนกลับไปแก้) หรือ "ยกเลิก" ค่ะ',
)


@preview_step.postback
def on_preview(ctx: Context, data: dict[str, str]) -> str | None:
    action = data.get("a")
    if action == "audience":
        return "audience"
    staff = province_staff(ctx)
    if staff is None:
        refuse(ctx, "broadcast.send", None, ONLY_PROVINCE)
        return END
    send_at = ctx.now if action == "send" else picked(ctx)
    if action not in {"send", "schedule"} or send_at is None:
        ctx.reply(render.text("กรุณาเลือกจากปุ่มในการ์ดด้านบนค่ะ"))
        return None
    draft = _draft(ctx)
    try:
        service.check_starts_at(draft.starts_at, ctx.now, views.year_end(ctx.today, ctx.timezone))
        if action == "schedule" and send_at <= ctx.now:
            raise BroadcastError("เวลาส่งต้องเป็นเวลาในอนาคตค่ะ กรุณาเลือกใหม่")
        broadcast = service.create(ctx.session, staff, draft, send_at=send_at, now=ctx.now)
    except BroadcastError as exc:
        ctx.reply(render.text(str(exc), FLOW_CHIPS))
        return None
    if action == "schedule":
        lines = [f"ตั้งเวลาส่งประกาศแล้วค่ะ จะส่งออก{when_long(send_at, ctx.timezone)}"]
        if note := views.quiet_note(ctx.quiet, send_at, ctx.timezone):
            lines.append(f"เวลานั้นอยู่ใน{note}")
    else:
        found = service.queue(
            ctx.session,
            broadcast,
            views.cards_for("new", ctx.timezone),
            now=ctx.now,
            quiet=ctx.quiet,
        )
        assert found is not None
        lines = [
            f"ส่งประกาศวันประเมินแล้วค่ะ ({when_short(broadcast.starts_at, ctx.timezone)})",
            f"ผู้รับ: ผู้นำ {len(found.reachable_leaders):,} คน พัฒนากร "
            f"{len(found.reachable_officers):,} คน",
        ]
        if found.skipped:
            lines.append(f"ข้าม {found.skipped:,} คนที่บล็อกบัญชี LINE")
        if note := views.quiet_note(ctx.quiet, ctx.now, ctx.timezone):
            lines.append(f"ขณะนี้อยู่ใน{note}")
        lines.append("เมื่อส่งครบแล้ว จะส่งรายงานการส่งให้ทราบนะคะ")
    lines.append(f'ดู แก้ไข หรือยกเลิกประกาศได้จากเมนู "{KEYWORD}" ค่ะ')
    ctx.reply(render.text("\n".join(lines), [render.say(KEYWORD)]))
    return END

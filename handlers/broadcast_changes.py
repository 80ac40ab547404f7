"""Changing a province broadcast after the form (the date and time, the place) and cancelling it
(after a confirmation). Whoever got the original is told; a broadcast not yet sent just goes out
with the new details at its time."""

from __future__ import annotations

from typing import Any

from bot import render
from bot.context import Context
from bot.conversation import END, Flow
from bot.models import Broadcast
from bot.registry import registry
from bot.render import FLOW_CHIPS
from bot.services import broadcasts as service
from bot.services.broadcasts import BroadcastError
from handlers import broadcast_views as views
from handlers.broadcast import owned, picked
from handlers.broadcast_views import KEYWORD, when_long


# Changing ----------------------------------------------------------------------------------
def _told(count: int, broadcast: Broadcast) -> str:
    if broadcast.status == "scheduled":
        return "ประกาศนี้ยังไม่ได้ส่ง จะส่งตามเวลาที่ตั้งไว้พร้อมข้อมูลใหม่ค่ะ"
    return f"แจ้งผู้รับเดิม {count:,} คนแล้วค่ะ"


def _change(ctx: Context, broadcast: Broadcast, **what: Any) -> int:
    """Change the date or place and tell the people who got it; how many were told."""
    assert ctx.user is not None
    cards = views.cards_for("changed", ctx.timezone)
    return service.change(
        ctx.session, broadcast, ctx.user, cards, now=ctx.now, quiet=ctx.quiet, **what
    )


@registry.on_postback("bc.when")
def change_when(ctx: Context) -> None:
    broadcast = owned(ctx, "bc.when")
    if broadcast is None:
        return
    assert ctx.user is not None
    moment = picked(ctx)
    if moment is None:
        ctx.reply(render.text("กรุณาเลือกวันและเวลาจากปฏิทินค่ะ"))
        return
    try:
        told = _change(
            ctx, broadcast, starts_at=moment, latest=views.year_end(ctx.today, ctx.timezone)
        )
    except BroadcastError as exc:
        ctx.reply(render.text(str(exc)))
        return
    ctx.reply(
        render.text(
            f"เปลี่ยนวันนัดเป็น{when_long(moment, ctx.timezone)} แล้ว {_told(told, broadcast)}",
            [render.say(KEYWORD)],
        )
    )


place_flow = registry.add_flow(
    Flow("broadcast_place", cancelled="ยกเลิกแล้วค่ะ สถานที่ยังเหมือนเดิม", title="สถานที่ใหม่")
)


@registry.on_postback("bc.place")
def start_place(ctx: Context) -> None:
    broadcast = owned(ctx, "bc.place")
    if broadcast is None:
        return
    if broadcast.status == "cancelled":
        ctx.reply(render.text("ประกาศนี้ถูกยกเลิกแล้ว จึงแก้ไขไม่ได้ค่ะ"))
        return
    place_flow.start(ctx, {"broadcast_id": broadcast.id, "place": broadcast.place})


def ask_new_place(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    old = Flow.data(ctx).get("place", "")
    return [render.text(f"พิมพ์สถานที่ใหม่ค่ะ\n(เดิม: {render.clip(old, 300)})", FLOW_CHIPS)]


new_place_step = place_flow.step(
    "place", ask=ask_new_place, help="พิมพ์สถานที่ใหม่ไม่เกิน 300 ตัวอักษร ผู้รับเดิมจะได้รับแจ้งการเปลี่ยนแปลงค่ะ"
)


@new_place_step.text
def on_new_place(ctx: Context, text: str) -> str | None:
    broadcast = owned(ctx, "bc.place", Flow.data(ctx).get("broadcast_id"))
    if broadcast is None:
        return END
    assert ctx.user is not None
    try:
        told = _change(ctx, broadcast, place=text)
    except BroadcastError as exc:
        ctx.reply(render.text(str(exc), FLOW_CHIPS))
        return None
    ctx.reply(
        render.text(
            f"เปลี่ยนสถานที่เป็น {broadcast.place} แล้ว {_told(told, broadcast)}",
            [render.say(KEYWORD)],
        )
    )
    return END


# Cancelling --------------------------------------------------------------------------------
@registry.on_postback("bc.cancel")
def ask_cancel(ctx: Context) -> None:
    broadcast = owned(ctx, "bc.cancel")
    if broadcast is None:
        return
    if broadcast.status == "cancelled":
        ctx.reply(render.text("ประกาศนี้ถูกยกเลิกไปแล้วค่ะ"))
        return
    who = (
        "ประกาศนี้ยังไม่ได้ส่ง จึงไม่มีใครได้รับแจ้ง"
        if broadcast.status == "scheduled"
        else f"ผู้รับเดิม {broadcast.recipients:,} คนจะได้รับแจ้งการยกเลิก และนัดหมายของผู้นำจะถูกยกเลิก"
    )
    ctx.reply(
        render.buttons_card(
            "ยกเลิกประกาศนี้ใช่ไหมคะ",
            f"นัด {when_long(broadcast.starts_at, ctx.timezone)} ณ {broadcast.place}\n{who}",
            [
                render.button(
                    render.postback_action(
                        "ยืนยันยกเลิกประกาศ",
                        views.data("bc.cancel.yes", b=broadcast.id),
                        "ยืนยันยกเลิกประกาศ",
                    ),
                    "primary",
                ),
                render.button(render.postback_action("ไม่ยกเลิก", views.data("bc.keep"), "ไม่ยกเลิก")),
            ],
        )
    )


@registry.on_postback("bc.cancel.yes")
def cancel(ctx: Context) -> None:
    broadcast = owned(ctx, "bc.cancel")
    if broadcast is None:
        return
    assert ctx.user is not None
    was = broadcast.status
    try:
        told = service.cancel(
            ctx.session,
            broadcast,
            ctx.user,
            views.cards_for("cancelled", ctx.timezone),
            now=ctx.now,
            quiet=ctx.quiet,
        )
    except BroadcastError as exc:
        ctx.reply(render.text(str(exc)))
        return
    outcome = (
        "ประกาศนี้ยังไม่ได้ส่ง จึงไม่มีใครได้รับแจ้ง" if was == "scheduled" else f"แจ้งผู้รับเดิม {told:,} คนแล้ว"
    )
    ctx.reply(render.text(f"ยกเลิกประกาศแล้วค่ะ {outcome}", [render.say(KEYWORD)]))


@registry.on_postback("bc.keep")
def keep(ctx: Context) -> None:
    ctx.reply(render.text("ไม่ได้ยกเลิกประกาศค่ะ"))

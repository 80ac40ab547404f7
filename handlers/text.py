"""Text messages: invite codes first, then the current flow, then keywords, then a pointer."""

from __future__ import annotations

from bot import render
from bot.context import Context
from bot.registry import registry
from handlers.common import audience, help_message, not_understood


@registry.on_message("text")
def on_text(ctx: Context) -> None:
    text = (ctx.text or "").strip()
    pattern = registry.pattern(text)
    if pattern is not None:
        pattern(ctx)
        return
    state = ctx.conversation
    if state is not None and state.flow in registry.flows:
        registry.flows[state.flow].handle_text(ctx, text)
        return
    keyword = registry.keyword(text, audience(ctx.user))
    if keyword is not None:
        keyword(ctx)
    else:
        not_understood(ctx)


@registry.on_message("*")
def on_other_message(ctx: Context) -> None:
    """Stickers, photos, locations …: say what the bot understands instead of staying silent."""
    ctx.reply(render.text("ขอบคุณค่ะ ตอนนี้บอทเข้าใจเฉพาะข้อความและการแตะปุ่มนะคะ"))
    ctx.reply(help_message(ctx.user))


@registry.on_keyword("ช่วยเหลือ", "help", "วิธีใช้", "เมนู", describe="ดูคำสั่งทั้งหมด", order=90)
def show_help(ctx: Context) -> None:
    ctx.reply(help_message(ctx.user))


@registry.on_keyword("ยกเลิก", "ย้อนกลับ")
def nothing_to_cancel(ctx: Context) -> None:
    ctx.reply(render.text("ตอนนี้ไม่มีรายการที่ทำค้างอยู่ค่ะ", [render.say("ช่วยเหลือ")]))

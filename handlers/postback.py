"""Postbacks: to the flow that made the card (checked for staleness), else by action name."""

from __future__ import annotations

import logging

from bot import render
from bot.context import Context
from bot.registry import registry
from bot.services import audit

log = logging.getLogger(__name__)
STALE = "ขออภัยค่ะ ปุ่มนี้ใช้ไม่ได้แล้ว การ์ดอาจเก่าเกินไป กรุณาเลือกจากเมนูอีกครั้งนะคะ"


@registry.on_event("postback")
def on_postback(ctx: Context) -> None:
    data = ctx.postback
    flow = registry.flows.get(data.get("f", ""))
    if flow is not None:
        flow.handle_postback(ctx, data)
        return
    handler = registry.postbacks.get(data.get("a", ""))
    if handler is None:
        log.info("unknown postback from user %s refused", ctx.user.id if ctx.user else None)
        audit.record(
            ctx.session, "postback.denied", "postback", data.get("a", "")[:40], actor=ctx.user
        )
        ctx.reply(render.text(STALE))
        return
    handler(ctx)

""" "เข้าเว็บ": a one-time link to the web desk, for this person's role and area only."""

from __future__ import annotations

from bot import render
from bot.context import Context
from bot.registry import registry
from bot.services import websignin
from bot.services.websignin import SignInError
from handlers.common import needs_role


@registry.on_keyword(
    "เข้าเว็บ",
    roles=("officer", "province", "leader"),
    describe="ลิงก์เข้าโต๊ะทำงานบนเว็บ (ใช้ได้ครั้งเดียว 10 นาที)",
    order=90,
)
def web_link(ctx: Context) -> None:
    if not needs_role(ctx, *websignin.DESK_ROLES):
        return
    assert ctx.user is not None
    base = ctx.links.public_base_url if ctx.links else None
    if base is None:
        ctx.reply(render.text("ขออภัยค่ะ ระบบยังไม่ได้ตั้งค่าที่อยู่เว็บ กรุณาแจ้งผู้ดูแลระบบ"))
        return
    try:
        token = websignin.issue(ctx.session, ctx.user, ctx.now)
    except SignInError as exc:
        ctx.reply(render.text(str(exc)))
        return
    url = f"{base}/web/signin/{token}"
    ctx.reply(
        render.text(
            "ลิงก์เข้าโต๊ะทำงาน มชช. ใช้ได้ครั้งเดียว ภายใน 10 นาทีค่ะ\n"
            f"{url}\n"
            "อย่าส่งต่อลิงก์นี้ให้ผู้อื่น เมื่อใช้งานเสร็จกด “ออกจากระบบ” ได้เลยค่ะ"
        )
    )

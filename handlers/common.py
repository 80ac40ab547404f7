"""Small pieces several handlers share: who the user is to the menus, help, the fallback."""

from __future__ import annotations

from bot import render, richmenu
from bot.context import Context
from bot.models import User
from bot.registry import registry
from bot.services import audit

MENU_HINT = 'เลือกจากเมนูด้านล่าง หรือพิมพ์ "ช่วยเหลือ" เพื่อดูคำสั่งทั้งหมดค่ะ'


def audience(user: User | None) -> str:
    return user.audience if user is not None else "new"


def keyword_chips(user: User | None) -> list[dict]:
    return [render.say(k.label) for k in registry.keywords_for(audience(user))][:13]


def help_message(user: User | None) -> dict:
    lines = ["พิมพ์คำเหล่านี้ หรือแตะเมนูด้านล่างได้เลยค่ะ"]
    lines += [f"• {k.label} — {k.describe}" for k in registry.keywords_for(audience(user))]
    lines.append('ระหว่างกรอกข้อมูล พิมพ์ "ย้อนกลับ" "ยกเลิก" หรือ "ช่วยเหลือ" ได้ทุกเมื่อ')
    return render.text("\n".join(lines), keyword_chips(user))


def not_understood(ctx: Context) -> None:
    ctx.reply(render.text("ขออภัยค่ะ ไม่เข้าใจข้อความนี้\n" + MENU_HINT, keyword_chips(ctx.user)))


def needs_role(ctx: Context, *roles: str) -> bool:
    """True if the user may go on; otherwise tells them politely and returns False."""
    if ctx.user is not None and ctx.user.status == "active" and ctx.user.role in roles:
        return True
    ctx.reply(render.text("ขออภัยค่ะ เมนูนี้ใช้ได้เฉพาะผู้ที่มีสิทธิ์ " + MENU_HINT))
    return False


def link_menu(ctx: Context) -> None:
    """Give the user the rich menu of their (new) role."""
    assert ctx.user is not None
    richmenu.link_user(ctx.session, ctx.gateway, ctx.user)


def province_staff(ctx: Context) -> User | None:
    """The user if active province staff with a province; else None (the caller refuses)."""
    user = ctx.user
    if user and user.role == "province" and user.status == "active" and user.area_code:
        return user
    return None


def refuse(ctx: Context, action: str, entity: str, entity_id: object, message: str) -> None:
    """Say no politely and keep a record of who tried what."""
    audit.record(ctx.session, f"{action}.denied", entity, str(entity_id)[:20], actor=ctx.user)
    ctx.reply(render.text(message))

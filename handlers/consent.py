"""PDPA consent: asked before anything personal is kept."""

from __future__ import annotations

from bot import render
from bot.context import Context
from bot.line_gateway import LineError
from bot.registry import registry
from bot.services import registration
from handlers.registration import resume

DECLINED = (
    "รับทราบค่ะ เราไม่ได้เก็บข้อมูลส่วนบุคคลของคุณ นอกจากรหัสผู้ใช้ LINE และการปฏิเสธครั้งนี้\n"
    'หากเปลี่ยนใจ พิมพ์ "ลงทะเบียน" ได้ทุกเมื่อค่ะ'
)


def consent_card() -> dict:
    return render.flex("consent.json", "ขอความยินยอมในการเก็บข้อมูลส่วนบุคคล (มชช.)")


@registry.on_keyword(
    "ลงทะเบียน", "สมัคร", "เริ่มใหม่", "เริ่ม", roles=("new",), describe="เริ่มลงทะเบียน", order=10
)
def ask_consent(ctx: Context) -> None:
    ctx.reply(consent_card())


@registry.on_postback("consent")
def on_consent(ctx: Context) -> None:
    user = ctx.user
    assert user is not None
    choice = ctx.postback.get("v")
    if choice == "no":
        registration.refuse_consent(ctx.session, user, ctx.now)
        ctx.reply(render.text(DECLINED, [render.say("ลงทะเบียน")]))
        return
    if choice != "yes":
        ctx.reply(consent_card())
        return
    if user.consent_at is not None:
        ctx.reply(render.text("คุณให้ความยินยอมไว้แล้วค่ะ"))
    else:
        registration.accept_consent(ctx.session, user, ctx.now, _display_name(ctx))
        ctx.reply(render.text("ขอบคุณค่ะ 🙏 มาลงทะเบียนกันนะคะ ใช้เวลาไม่เกิน 2 นาที"))
    if user.status != "active":
        resume(ctx)


def _display_name(ctx: Context) -> str | None:
    try:
        profile = ctx.gateway.profile(ctx.line_user_id or "")
    except LineError:
        return None  # the name is only a suggestion; registration works without it
    return (profile or {}).get("displayName")

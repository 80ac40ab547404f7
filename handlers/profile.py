"""PDPA: people see what we keep about them, and can have it deleted."""

from __future__ import annotations

from bot import render
from bot.context import Context
from bot.models import LeaderProfile
from bot.registry import registry
from bot.services import areas, audit, privacy
from bot.services.thai import format_phone, thai_date
from handlers.common import link_menu

ROLE_NAMES = {
    "guest": "ยังไม่ได้ลงทะเบียน",
    "leader": "ผู้นำสัมมาชีพชุมชน",
    "officer": "เจ้าหน้าที่พัฒนาชุมชนอำเภอ",
    "province": "เจ้าหน้าที่สำนักงานพัฒนาชุมชนจังหวัด",
    "admin": "ผู้ดูแลระบบ",
}
CONSENTED = ("guest", "leader", "officer", "province", "admin")


@registry.on_keyword(
    "ข้อมูลของฉัน", "ข้อมูลส่วนบุคคล", roles=CONSENTED, describe="ดูหรือลบข้อมูลส่วนบุคคลของคุณ", order=30
)
def my_data(ctx: Context) -> None:
    user = ctx.user
    assert user is not None
    profile = ctx.session.get(LeaderProfile, user.id)
    rows = [{"label": "บทบาท", "value": ROLE_NAMES.get(user.role, user.role)}]
    if user.area_code:
        rows.append({"label": "พื้นที่", "value": areas.label(user.area_code)})
    if profile is not None:
        phone = format_phone(profile.phone) if profile.phone else "ไม่ระบุ"
        rows.append({"label": "โทร", "value": phone})
    if user.consent_at:
        rows.append({"label": "ยินยอมเมื่อ", "value": thai_date(user.consent_at)})
    rows += kept_rows(privacy.inventory(ctx.session, user), ctx.messages_kept_days)
    name = profile.full_name if profile else (user.display_name or "ผู้ใช้ LINE")
    buttons = [{"label": "ลบข้อมูลของฉัน", "data": "a=forget"}]
    ctx.reply(
        render.flex(
            "profile.json",
            "ข้อมูลของฉัน",
            heading="ข้อมูลที่ระบบเก็บไว้",
            name=name,
            rows=rows,
            buttons=buttons,
        )
    )


def kept_rows(kept: privacy.Inventory, days: int) -> list[dict[str, str]]:
    rows = []
    if kept.plans:
        rows.append(
            {"label": "แผนพัฒนาตนเอง", "value": f"{kept.plans} แผน {kept.activities} กิจกรรม"}
        )
    if kept.evidence:
        rows.append({"label": "หลักฐาน", "value": f"รูปและไฟล์ {kept.evidence} รายการ"})
    if kept.documents:
        rows.append({"label": "เอกสารสรุป", "value": f"{kept.documents} ฉบับ"})
    if kept.appointments:
        rows.append({"label": "นัดหมาย", "value": f"{kept.appointments} ครั้ง"})
    rows.append({"label": "ข้อความแชต", "value": f"{kept.messages} ข้อความ ลบเองเมื่อครบ {days} วัน"})
    return rows


@registry.on_postback("forget")
def confirm_forget(ctx: Context) -> None:
    ctx.reply(
        render.text(
            "ต้องการลบข้อมูลส่วนบุคคลทั้งหมดใช่ไหมคะ? ระบบจะลบชื่อ เบอร์โทร รูปและไฟล์หลักฐาน "
            "เอกสารสรุป และข้อความในแผนของคุณ เหลือไว้เพียงตัวเลขสถิติที่ไม่ระบุตัวตน "
            "การลบย้อนกลับไม่ได้",
            [render.tap("ลบเลย", "a=forget.yes", "ลบข้อมูลของฉัน"), render.say("ไม่ลบ", "ยกเลิก")],
        )
    )


@registry.on_postback("forget.yes")
def forget(ctx: Context) -> None:
    user = ctx.user
    assert user is not None
    if user.consent_at is None:
        ctx.reply(render.text("ไม่มีข้อมูลส่วนบุคคลของคุณในระบบค่ะ"))
        return
    done = privacy.erase(ctx.session, user, ctx.now)
    audit.record(
        ctx.session,
        "user.forget",
        "user",
        user.id,
        actor=user,
        plans=done.plans,
        evidence=done.evidence,
        documents=done.documents,
        messages=done.messages,
    )
    ctx.reply(
        render.text(
            "ลบข้อมูลส่วนบุคคลของคุณแล้วค่ะ รูปและไฟล์จะถูกลบออกจากที่เก็บภายในไม่กี่นาที "
            'หากต้องการใช้งานอีก พิมพ์ "ลงทะเบียน" ได้ทุกเมื่อ'
        )
    )
    link_menu(ctx)

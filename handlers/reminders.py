"""The leader's morning reminders from her side: snoozing a push (เตือนพรุ่งนี้ / เตือนอีก 3 วัน)
and turning the reminders off and on. Who may act is decided from the database: the postback
only says which push was tapped."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot import render
from bot.context import Context
from bot.registry import registry
from bot.services import audit, reminders
from bot.services.thai import thai_date
from handlers.common import needs_role

NOT_YOURS = "ขออภัยค่ะ ปุ่มนี้ไม่ใช่การแจ้งเตือนของคุณ จึงใช้ไม่ได้นะคะ"
STALE = "ขออภัยค่ะ ไม่พบการแจ้งเตือนนี้แล้ว ปุ่มอาจเก่าเกินไปค่ะ"
TURN_ON = 'หากต้องการให้เตือนอีก พิมพ์ "เปิดการแจ้งเตือน" หรือเลือกเมนู "การแจ้งเตือน" ได้ทุกเมื่อนะคะ'
TURN_OFF = 'หากไม่ต้องการ พิมพ์ "ปิดการแจ้งเตือน" ได้ทุกเมื่อค่ะ'
WHAT = "กิจกรรมใกล้ครบกำหนดหรือเลยกำหนด วันพร้อมรับการประเมิน แผนที่ยังไม่ได้ส่ง และนัดหมายวันพรุ่งนี้"


@registry.on_postback("remind.snooze")
def snooze(ctx: Context) -> None:
    user, owner = ctx.user, ctx.postback_id("u")
    if user is None or user.role != "leader" or user.status != "active" or owner != user.id:
        raw = ctx.postback.get("u", "")[:20]
        audit.record(ctx.session, "reminder.snooze.denied", "user", raw, actor=user)
        ctx.reply(render.text(NOT_YOURS))
        return
    try:
        day = date.fromisoformat(ctx.postback.get("d", ""))
        days = int(ctx.postback.get("n", ""))
    except ValueError:
        ctx.reply(render.text(STALE))
        return
    if days not in reminders.SNOOZE_DAYS:
        ctx.reply(render.text(STALE))
        return
    done = reminders.snooze(ctx.session, user, day, days, ctx.today, ctx.timezone)
    if done is None:
        ctx.reply(render.text(STALE))
    elif not done.subjects:
        ctx.reply(render.text("เรื่องในการแจ้งเตือนนี้ดำเนินการแล้ว ไม่ต้องเตือนอีกค่ะ 👍"))
    else:
        ctx.reply(
            render.text(
                f"รับทราบค่ะ จะเตือน {len(done.subjects)} เรื่องนี้อีกครั้งวันที่ {thai_date(done.until)} นะคะ"
            )
        )


def _settings_card(on: bool) -> dict[str, Any]:
    if on:
        body = f"ตอนนี้: เปิดอยู่ ✅\nบอทจะแจ้งเตือนตอนเช้าเมื่อมี{WHAT}"
        action = render.postback_action("ปิดการแจ้งเตือน", "a=remind.off", "ปิดการแจ้งเตือน")
    else:
        body = f"ตอนนี้: ปิดอยู่\nเปิดไว้เพื่อให้บอทเตือนตอนเช้าเมื่อมี{WHAT}"
        action = render.postback_action("เปิดการแจ้งเตือน", "a=remind.on", "เปิดการแจ้งเตือน")
    return render.flex(
        "buttons.json",
        "การแจ้งเตือนประจำวัน: " + ("เปิดอยู่" if on else "ปิดอยู่"),
        title="การแจ้งเตือนประจำวัน",
        body=body,
        buttons=[render.button(action, "primary")],
    )


@registry.on_keyword(
    "การแจ้งเตือน",
    "ตั้งค่าการแจ้งเตือน",
    roles=("leader",),
    describe="เปิดหรือปิดการแจ้งเตือน",
    order=45,
)
def show_settings(ctx: Context) -> None:
    if needs_role(ctx, "leader"):
        assert ctx.user is not None
        ctx.reply(_settings_card(ctx.user.reminders))


def _switch(ctx: Context, on: bool) -> None:
    if not needs_role(ctx, "leader"):
        return
    assert ctx.user is not None
    changed = reminders.set_enabled(ctx.session, ctx.user, on)
    if on:
        said = "เปิดการแจ้งเตือนแล้วค่ะ" if changed else "การแจ้งเตือนเปิดอยู่แล้วค่ะ"
        ctx.reply(render.text(f"{said} บอทจะเตือนตอนเช้าเมื่อมีเรื่องที่ควรทำ {TURN_OFF}"))
    else:
        said = "ปิดการแจ้งเตือนประจำวันแล้วค่ะ" if changed else "การแจ้งเตือนปิดอยู่แล้วค่ะ"
        ctx.reply(render.text(f"{said} {TURN_ON}", [render.say("เปิดการแจ้งเตือน")]))


@registry.on_keyword("ปิดการแจ้งเตือน", roles=("leader",))
@registry.on_postback("remind.off")
def turn_off(ctx: Context) -> None:
    _switch(ctx, False)


@registry.on_keyword("เปิดการแจ้งเตือน", roles=("leader",))
@registry.on_postback("remind.on")
def turn_on(ctx: Context) -> None:
    _switch(ctx, True)

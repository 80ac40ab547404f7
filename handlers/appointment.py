"""A leader's answer to an appointment card (รับทราบ, or ขอเลื่อน with a reason) and the
province's view of the answers. Buttons carry the broadcast's revision: a tap on a card sent
before a change is refused and the current card shown instead."""

from __future__ import annotations

from typing import Any

from bot import render
from bot.context import Context
from bot.conversation import END, Flow
from bot.models import Appointment, Broadcast
from bot.registry import registry
from bot.render import FLOW_CHIPS
from bot.services import broadcasts as service
from bot.services.broadcasts import BroadcastError
from handlers import broadcast_views as views
from handlers.broadcast import owned, refuse
from handlers.broadcast_views import when_long

NOT_IN_AUDIENCE = "ขออภัยค่ะ ปุ่มนี้ใช้ได้เฉพาะผู้นำที่ได้รับนัดหมายนี้เท่านั้นนะคะ"


# The leaders' answers ----------------------------------------------------------------------
def _answerable(
    ctx: Context, action: str, broadcast_id: int | None, revision: int | None
) -> tuple[Broadcast, Appointment] | None:
    """The broadcast and the leader's own appointment for it, if she may answer it now."""
    appointment = service.appointment_of(ctx.session, ctx.user, broadcast_id)
    broadcast = ctx.session.get(Broadcast, broadcast_id) if appointment else None
    if appointment is None or broadcast is None:
        refuse(ctx, action, broadcast_id, NOT_IN_AUDIENCE)
        return None
    try:
        service.check_current(broadcast, appointment, revision)
    except BroadcastError as exc:
        ctx.reply(render.text(str(exc)))
        if broadcast.status != "cancelled" and appointment.cancelled_at is None:
            ctx.reply(views.appointment_card(broadcast, "leader", "changed", ctx.timezone))
        return None
    return broadcast, appointment


@registry.on_postback("bc.ack")
def acknowledge(ctx: Context) -> None:
    found = _answerable(ctx, "bc.ack", ctx.postback_id("b"), ctx.postback_id("r"))
    if found is None:
        return
    broadcast, appointment = found
    assert ctx.user is not None
    service.answer(ctx.session, appointment, ctx.user, "acknowledged", None, ctx.now)
    ctx.reply(
        render.text(
            f"บันทึกแล้วค่ะ คุณรับทราบนัดประเมิน{when_long(broadcast.starts_at, ctx.timezone)} "
            f"ณ {broadcast.place} แล้ว จะแจ้งเตือนอีกครั้งก่อนถึงวันนัด 1 วันนะคะ"
        )
    )


postpone_flow = registry.add_flow(
    Flow(
        "broadcast_postpone",
        cancelled="ยกเลิกแล้วค่ะ ยังไม่ได้ส่งคำขอเลื่อน",
        title="เหตุผลที่ขอเลื่อน",
    )
)


@registry.on_postback("bc.postpone")
def start_postpone(ctx: Context) -> None:
    broadcast_id, revision = ctx.postback_id("b"), ctx.postback_id("r")
    if _answerable(ctx, "bc.postpone", broadcast_id, revision) is not None:
        postpone_flow.start(ctx, {"broadcast_id": broadcast_id, "revision": revision})


def ask_reason(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    return [
        render.text(
            f"พิมพ์เหตุผลที่ขอเลื่อน และวันที่สะดวก (ไม่เกิน {service.REASON_MAX} ตัวอักษร) ค่ะ",
            FLOW_CHIPS,
        )
    ]


reason_step = postpone_flow.step(
    "reason", ask=ask_reason, help='เช่น "ติดงานบุญประจำปีของหมู่บ้าน ขอเลื่อนเป็นสัปดาห์ถัดไป"'
)


@reason_step.text
def on_reason(ctx: Context, text: str) -> str | None:
    values = Flow.data(ctx)
    found = _answerable(ctx, "bc.postpone", values.get("broadcast_id"), values.get("revision"))
    if found is None:
        return END
    _, appointment = found
    assert ctx.user is not None
    try:
        reason = service.check_reason(text)
    except BroadcastError as exc:
        ctx.reply(render.text(str(exc), FLOW_CHIPS))
        return None
    service.answer(ctx.session, appointment, ctx.user, "postpone", reason, ctx.now)
    ctx.reply(render.text("บันทึกคำขอเลื่อนแล้วค่ะ เจ้าหน้าที่จังหวัดจะพิจารณาและแจ้งกลับในแชตนี้นะคะ"))
    return END


@registry.on_postback("bc.sample")
def sample_button(ctx: Context) -> None:
    ctx.reply(render.text("นี่คือตัวอย่างการ์ดค่ะ ผู้นำจะแตะปุ่มนี้เพื่อตอบรับหรือขอเลื่อนนัด"))


# The answers, as the province sees them ----------------------------------------------------
@registry.on_postback("bc.answers")
def show_answers(ctx: Context) -> None:
    broadcast = owned(ctx, "bc.answers")
    if broadcast is not None:
        ctx.reply(views.answers_card(ctx.session, broadcast, ctx.timezone))

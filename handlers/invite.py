"""Invite codes: how district officers and province staff get their role."""

from __future__ import annotations

from bot import render
from bot.context import Context
from bot.conversation import Flow
from bot.registry import registry
from bot.render import FLOW_CHIPS
from bot.services import areas, invites
from bot.services.invites import InviteError
from handlers.common import help_message, link_menu
from handlers.consent import consent_card

ROLE_NAMES = {"officer": "เจ้าหน้าที่พัฒนาชุมชนอำเภอ", "province": "เจ้าหน้าที่สำนักงานพัฒนาชุมชนจังหวัด"}

flow = registry.add_flow(Flow("invite", cancelled="ยกเลิกการใส่รหัสเชิญแล้วค่ะ"))


def ask_code(ctx: Context, _: Flow) -> list[dict]:
    return [render.text("พิมพ์รหัสเชิญที่ได้รับจากผู้ดูแลระบบค่ะ เช่น ABCD-EFGH-JK", FLOW_CHIPS)]


code_step = flow.step(
    "code",
    ask=ask_code,
    help="รหัสเชิญมี 10 ตัวอักษร ผู้ดูแลระบบสร้างให้เจ้าหน้าที่อำเภอหรือจังหวัด ใช้ได้ครั้งเดียวภายใน 7 วันค่ะ",
)


@registry.on_keyword("รหัสเชิญ", roles=("guest",), describe="สำหรับเจ้าหน้าที่: ใส่รหัสเชิญ", order=60)
def start_invite(ctx: Context) -> None:
    flow.start(ctx)


@code_step.text
def on_code(ctx: Context, text: str) -> str | None:
    redeem(ctx, text)  # a wrong code keeps the question open for another try
    return None


@registry.on_pattern(invites.CODE_PATTERN)
def typed_code(ctx: Context) -> None:
    redeem(ctx, ctx.text or "")


def redeem(ctx: Context, code: str) -> None:
    user = ctx.user
    assert user is not None
    if user.consent_at is None:
        ctx.reply(render.text("กรุณาให้ความยินยอมเรื่องข้อมูลส่วนบุคคลก่อนใช้รหัสเชิญค่ะ"), consent_card())
        return
    try:
        granted = invites.redeem(ctx.session, user, code, ctx.now)
    except InviteError:
        ctx.reply(render.text("ใส่รหัสผิดเกิน 5 ครั้งใน 1 ชั่วโมงค่ะ กรุณารอสักครู่แล้วลองใหม่ หรือติดต่อผู้ดูแลระบบ"))
        return
    if granted is None:
        left = max(invites.wrong_tries_left(ctx.session, user, ctx.now), 0)
        ctx.reply(render.text(f"รหัสเชิญไม่ถูกต้อง หมดอายุ หรือถูกใช้ไปแล้วค่ะ (ลองได้อีก {left} ครั้งในชั่วโมงนี้)"))
        return
    state = ctx.conversation
    if state is not None:
        ctx.session.delete(state)  # any half-done form belongs to the old role
    ctx.reply(
        render.text(
            f"ยินดีต้อนรับค่ะ คุณเป็น{ROLE_NAMES[granted.role]} {areas.label(granted.area_code)} แล้ว"
        ),
        help_message(user),
    )
    link_menu(ctx)

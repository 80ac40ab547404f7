"""The district officer records the inspection in LINE: opinion, reasons, date, confirm.

Who may record is decided from the database at the first tap and again when saving (a plan
may move on, or the officer lose the role, while the form is open)."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot import render
from bot.context import Context
from bot.conversation import END, Flow
from bot.models import LeaderProfile, Plan, User
from bot.registry import registry
from bot.render import FLOW_CHIPS
from bot.services import access, audit, fiscal, inspection
from bot.services.inspection import OPINIONS, InspectionError
from bot.services.thai import clean_text, parse_date, thai_date

DENIED = "ขออภัยค่ะ คุณบันทึกผลการตรวจได้เฉพาะผู้นำในอำเภอที่คุณรับผิดชอบ"
TODAY_WORDS = {"วันนี้", "today"}

flow = registry.add_flow(
    Flow("inspect", cancelled="ยกเลิกแล้วค่ะ ยังไม่ได้บันทึกผลการตรวจ", title="ผลการตรวจ")
)


def _plan_in_reach(ctx: Context, plan_id: int | None, raw: object) -> Plan | None:
    """The plan if this user may inspect its leader; else refuses, audited, and None."""
    plan = ctx.session.get(Plan, plan_id) if plan_id else None
    profile = ctx.session.get(LeaderProfile, plan.leader_id) if plan else None
    user = ctx.user
    if (
        plan is None
        or profile is None
        or user is None
        or user.role not in {"officer", "admin"}
        or not access.can_view_leader(user, profile)
    ):
        audit.record(ctx.session, "inspection.denied", "plan", str(raw)[:20], actor=user)
        ctx.reply(render.text(DENIED))
        return None
    return plan


@registry.on_postback("inspect")
def start(ctx: Context) -> None:
    plan = _plan_in_reach(ctx, ctx.postback_id("p"), ctx.postback.get("p", ""))
    if plan is None:
        return
    assert ctx.user is not None
    try:
        inspection.check_can_record(ctx.session, plan, ctx.user)
    except InspectionError as exc:
        ctx.reply(render.text(str(exc)))
        return
    profile = ctx.session.get(LeaderProfile, plan.leader_id)
    name = profile.full_name if profile else "-"
    flow.start(ctx, {"plan_id": plan.id, "leader": name})


# 1. Opinion --------------------------------------------------------------------------------
def ask_opinion(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    values = Flow.data(ctx)
    chips = [
        render.tap(label, flow.postback_data(ctx, "opinion", v=key), label)
        for key, label in OPINIONS.items()
    ]
    return [
        render.text(
            f"บันทึกผลการตรวจของ {values.get('leader', '')}\nขั้นที่ 1/3 ความเห็นของอำเภอต่อการรับรองค่ะ",
            [*chips, *FLOW_CHIPS],
        )
    ]


opinion_step = flow.step(
    "opinion",
    ask=ask_opinion,
    help='แตะ "เสนอรับรอง" ถ้าผู้นำพร้อมให้คณะกรรมการจังหวัดรับรอง หรือ "ยังไม่เสนอ" ถ้ายังไม่พร้อมค่ะ',
)


def _choose(ctx: Context, key: str) -> str | None:
    if key not in OPINIONS:
        ctx.reply(render.text("กรุณาเลือก เสนอรับรอง หรือ ยังไม่เสนอ ค่ะ"))
        flow.ask(ctx)
        return None
    Flow.update(ctx, opinion=key)
    return "reasons"


@opinion_step.postback
def on_opinion(ctx: Context, values: dict[str, str]) -> str | None:
    return _choose(ctx, values.get("v", ""))


@opinion_step.text
def on_opinion_text(ctx: Context, text: str) -> str | None:
    typed = {label: key for key, label in OPINIONS.items()}
    return _choose(ctx, typed.get(" ".join(text.split()), ""))


# 2. Reasons --------------------------------------------------------------------------------
def ask_reasons(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    opinion = OPINIONS.get(Flow.data(ctx).get("opinion", ""), "")
    return [
        render.text(
            f"ขั้นที่ 2/3 พิมพ์เหตุผลประกอบความเห็น ({opinion}) "
            f"ไม่เกิน {inspection.REASONS_MAX:,} ตัวอักษร\nคณะกรรมการจังหวัดจะอ่านข้อความนี้ค่ะ",
            FLOW_CHIPS,
        )
    ]


reasons_step = flow.step(
    "reasons",
    ask=ask_reasons,
    help='เช่น "ดำเนินกิจกรรมครบตามแผน มีหลักฐานครบ ครัวเรือนมีอาชีพร้อยละ 90"',
)


@reasons_step.text
def on_reasons(ctx: Context, text: str) -> str | None:
    try:
        reasons = clean_text(text, "เหตุผลประกอบความเห็น", inspection.REASONS_MAX, InspectionError)
    except InspectionError as exc:
        ctx.reply(render.text(str(exc), FLOW_CHIPS))
        return None
    Flow.update(ctx, reasons=reasons)
    return "day"


# 3. Date -----------------------------------------------------------------------------------
def _first_day(ctx: Context) -> date:
    plan = ctx.session.get(Plan, Flow.data(ctx).get("plan_id"))
    year = plan.fiscal_year if plan else fiscal.year_of(ctx.today)
    return min(fiscal.bounds(year)[0], ctx.today)


def ask_day(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    today = ctx.today.isoformat()
    picker = render.date_action(
        "เลือกวันที่ตรวจ", flow.postback_data(ctx, "day"), today, _first_day(ctx).isoformat(), today
    )
    card = render.buttons_card(
        "ขั้นที่ 3/3 วันที่ตรวจ",
        'เลือกวันจากปฏิทิน แตะ "วันนี้" หรือพิมพ์วันที่ เช่น 15 มี.ค. 70 ค่ะ',
        [render.button(picker, "primary")],
    )
    return [render.with_quick(card, [render.say("วันนี้"), *FLOW_CHIPS])]


day_step = flow.step(
    "day",
    ask=ask_day,
    help="วันที่ไปตรวจหรือประเมินผู้นำ ต้องไม่เกินวันนี้ เช่น 15 มี.ค. 70 หรือแตะ วันนี้ ค่ะ",
)


def _take_day(ctx: Context, day: date | None) -> str | None:
    # Each refusal shows the picker again: the card above may be far up the chat by now.
    if day is None:
        ctx.reply(render.text("อ่านวันที่ไม่ออกค่ะ กรุณาเลือกจากปฏิทิน หรือพิมพ์ เช่น 15 มี.ค. 70"))
        flow.ask(ctx)
        return None
    try:
        inspection.check_day(day, ctx.today)
        if day < _first_day(ctx):
            raise InspectionError(f"วันที่ตรวจต้องไม่ก่อน {thai_date(_first_day(ctx))} ค่ะ")
    except InspectionError as exc:
        ctx.reply(render.text(str(exc)))
        flow.ask(ctx)
        return None
    Flow.update(ctx, day=day.isoformat())
    return "confirm"


@day_step.postback
def on_day(ctx: Context, values: dict[str, str]) -> str | None:
    try:
        day = date.fromisoformat(ctx.postback_params.get("date", ""))
    except ValueError:
        day = None
    return _take_day(ctx, day)


@day_step.text
def on_day_text(ctx: Context, text: str) -> str | None:
    day = ctx.today if text.strip().casefold() in TODAY_WORDS else parse_date(text)
    return _take_day(ctx, day)


# Confirm and save --------------------------------------------------------------------------
def _summary(values: dict[str, Any]) -> str:
    return (
        f"ผู้นำ: {values.get('leader', '')}\n"
        f"ความเห็น: {OPINIONS.get(values.get('opinion', ''), '-')}\n"
        f"เหตุผล: {values.get('reasons', '')}\n"
        f"วันที่ตรวจ: {thai_date(date.fromisoformat(values['day']))}"
    )


def ask_confirm(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    values = Flow.data(ctx)
    save = render.postback_action("บันทึกผลการตรวจ", flow.postback_data(ctx, "save"), "บันทึกผลการตรวจ")
    card = render.buttons_card("ตรวจสอบก่อนบันทึก", _summary(values), [render.button(save, "primary")])
    return [render.with_quick(card, FLOW_CHIPS)]


confirm_step = flow.step(
    "confirm",
    ask=ask_confirm,
    help='แตะ "บันทึกผลการตรวจ" เพื่อบันทึก หรือพิมพ์ "ย้อนกลับ" เพื่อแก้ไขค่ะ',
)


@confirm_step.postback
def on_save(ctx: Context, values: dict[str, str]) -> str | None:
    form = Flow.data(ctx)
    plan = _plan_in_reach(ctx, form.get("plan_id"), form.get("plan_id"))
    if plan is None:
        return END
    officer = ctx.user
    assert officer is not None
    try:
        inspection.record(
            ctx.session,
            plan,
            officer,
            form.get("opinion", ""),
            form.get("reasons", ""),
            date.fromisoformat(form["day"]),
            ctx.today,
        )
    except InspectionError as exc:
        ctx.reply(render.text(f"{exc}\nยังไม่ได้บันทึกผลการตรวจค่ะ"))
        return END
    ctx.reply(render.text(f"บันทึกผลการตรวจของ {form.get('leader', '')} แล้ว และแจ้งผู้นำแล้วค่ะ"))
    _tell_leader(ctx, plan, form)
    return END


def _tell_leader(ctx: Context, plan: Plan, form: dict[str, Any]) -> None:
    leader = ctx.session.get(User, plan.leader_id)
    if leader is None:
        return
    text = (
        f"เจ้าหน้าที่อำเภอบันทึกผลการตรวจของคุณ ปีงบประมาณ {plan.fiscal_year} แล้วค่ะ\n"
        f"ความเห็น: {OPINIONS.get(form.get('opinion', ''), '-')}\n"
        f"เหตุผล: {form.get('reasons', '')}\n"
        f"วันที่ตรวจ: {thai_date(date.fromisoformat(form['day']))}\n"
        + (
            "อำเภอจะเสนอชื่อคุณให้คณะกรรมการจังหวัดพิจารณารับรองต่อไปค่ะ"
            if form.get("opinion") == "recommend"
            else "ปรับปรุงตามเหตุผลข้างต้น แล้วติดต่อเจ้าหน้าที่อำเภอเพื่อขอตรวจอีกครั้งได้ค่ะ"
        )
    )
    ctx.push(leader, [render.text(text, [render.say("ความคืบหน้า")])])

"""The committee's form for one leader: result, date of the meeting, reasons, confirm; saved
through `committee.decide`, which gives the certificate number. The leader is told her result in
a push, with the link to her certificate."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot import render
from bot.context import Context
from bot.conversation import END, Flow
from bot.models import CommitteeDecision, Plan, User
from bot.registry import registry
from bot.render import FLOW_CHIPS
from bot.services import committee as service
from bot.services import fiscal
from bot.services.committee import CommitteeError
from bot.services.thai import clean_text, parse_date, thai_date
from handlers.committee import KEYWORD, decidable

SKIP = "ข้าม"
flow = registry.add_flow(
    Flow("committee", cancelled="ยกเลิกแล้วค่ะ ยังไม่ได้บันทึกผล", title="ผลคณะกรรมการ")
)


@registry.on_postback("cm.pick")
def pick(ctx: Context) -> None:
    plan = decidable(ctx, "committee.pick", ctx.postback_id("p"))
    if plan is None:
        return
    try:
        service.check_inspected(ctx.session, plan)
    except CommitteeError as exc:
        ctx.reply(render.text(str(exc)))
        return
    leader = ctx.session.get(User, plan.leader_id)
    profile = leader.profile if leader else None
    before = service.of(ctx.session, plan.id)
    flow.start(
        ctx,
        {
            "plan_id": plan.id,
            "name": profile.full_name if profile else "",
            "year": plan.fiscal_year,
            "before": before.result if before else None,
        },
    )


def _values(ctx: Context) -> dict[str, Any]:
    return Flow.data(ctx)


def ask_result(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    values = _values(ctx)
    before = values.get("before")
    note = f"\n(ผลเดิม: {service.RESULTS[before]})" if before else ""
    chips = [
        render.tap(label, flow.postback_data(ctx, "result", v=key), label)
        for key, label in service.RESULTS.items()
    ]
    return [
        render.text(
            f"บันทึกผลคณะกรรมการของ {values.get('name', '')}\nขั้นที่ 1/4 ผลการพิจารณาคืออะไรคะ" + note,
            [*chips, *FLOW_CHIPS],
        )
    ]


result_step = flow.step(
    "result", ask=ask_result, help='แตะ "รับรอง" หรือ "ไม่รับรอง" ตามมติของคณะกรรมการจังหวัดค่ะ'
)


def _take_result(ctx: Context, result: str | None) -> str | None:
    if result not in service.RESULTS:
        ctx.reply(render.text("กรุณาเลือกผล รับรอง หรือ ไม่รับรอง ค่ะ"))
        ctx.reply(*ask_result(ctx, flow))
        return None
    Flow.update(ctx, result=result)
    return "day"


@result_step.postback
def on_result_tap(ctx: Context, data: dict[str, str]) -> str | None:
    return _take_result(ctx, data.get("v"))


@result_step.text
def on_result_text(ctx: Context, text: str) -> str | None:
    by_label = {label: key for key, label in service.RESULTS.items()}
    return _take_result(ctx, by_label.get(text.strip()))


def _earliest(ctx: Context) -> date:
    return fiscal.bounds(int(_values(ctx).get("year") or fiscal.year_of(ctx.today)))[0]


def ask_day(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    today, earliest = ctx.today, _earliest(ctx)
    picker = render.date_action(
        "เลือกวันที่ประชุม",
        flow.postback_data(ctx, "day"),
        today.isoformat(),
        min(earliest, today).isoformat(),
        today.isoformat(),
    )
    return [
        render.text(
            'ขั้นที่ 2/4 คณะกรรมการประชุมพิจารณาวันที่เท่าไรคะ\nแตะ "เลือกวันที่ประชุม" หรือพิมพ์ เช่น 15 มี.ค. 70',
            [render.chip(picker), *FLOW_CHIPS],
        )
    ]


day_step = flow.step("day", ask=ask_day, help="เลือกวันที่คณะกรรมการจังหวัดประชุมพิจารณา ต้องไม่เกินวันนี้ค่ะ")


def _take_day(ctx: Context, day: date | None) -> str | None:
    if day is None:
        ctx.reply(render.text("อ่านวันที่ไม่ออกค่ะ กรุณาเลือกจากปฏิทิน หรือพิมพ์ เช่น 15 มี.ค. 70"))
    elif day > ctx.today:
        ctx.reply(render.text("วันที่คณะกรรมการพิจารณาต้องไม่เกินวันนี้ค่ะ"))
    elif day < _earliest(ctx):
        ctx.reply(render.text("วันที่นี้อยู่ก่อนปีงบประมาณของแผนค่ะ กรุณาเลือกใหม่"))
    else:
        Flow.update(ctx, day=day.isoformat())
        return "reasons"
    ctx.reply(*ask_day(ctx, flow))
    return None


@day_step.postback
def on_day_pick(ctx: Context, data: dict[str, str]) -> str | None:
    try:
        day = date.fromisoformat(ctx.postback_params.get("date", ""))
    except ValueError:
        day = None
    return _take_day(ctx, day)


@day_step.text
def on_day_text(ctx: Context, text: str) -> str | None:
    return _take_day(ctx, parse_date(text))


def ask_reasons(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    if _values(ctx).get("result") == "not_certified":
        return [
            render.text(
                "ขั้นที่ 3/4 พิมพ์เหตุผลที่ไม่รับรอง ผู้นำจะได้รับข้อความนี้ "
                f"(ไม่เกิน {service.REASONS_MAX:,} ตัวอักษร) ค่ะ",
                FLOW_CHIPS,
            )
        ]
    return [
        render.text(
            f'ขั้นที่ 3/4 พิมพ์ความเห็นของคณะกรรมการ (ถ้ามี) หรือแตะ "{SKIP}" ถ้าไม่มีค่ะ',
            [render.say(SKIP), *FLOW_CHIPS],
        )
    ]


reasons_step = flow.step(
    "reasons",
    ask=ask_reasons,
    help='เช่น "หลักฐานการทำกิจกรรมยังไม่ครบตามแผน ขอให้เก็บหลักฐานเพิ่มแล้วเสนอใหม่ในปีถัดไป"',
)


@reasons_step.text
def on_reasons(ctx: Context, text: str) -> str | None:
    result = _values(ctx).get("result")
    if text.strip() == SKIP:
        if result == "not_certified":
            ctx.reply(render.text("กรุณาพิมพ์เหตุผลที่ไม่รับรองค่ะ", FLOW_CHIPS))
            return None
        text = ""
    try:
        reasons = clean_text(
            text,
            "เหตุผล",
            service.REASONS_MAX,
            CommitteeError,
            required=result == "not_certified",
        )
    except CommitteeError as exc:
        ctx.reply(render.text(str(exc), FLOW_CHIPS))
        return None
    Flow.update(ctx, reasons=reasons)
    return "confirm"


def ask_confirm(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    values = _values(ctx)
    lines = [
        f"ผู้นำ: {values.get('name', '')}",
        f"ผล: {service.RESULTS.get(values.get('result', ''), '')}",
        f"วันที่ประชุม: {thai_date(date.fromisoformat(values['day']))}",
        f"เหตุผล: {values.get('reasons') or '-'}",
    ]
    save = render.postback_action("บันทึกผล", flow.postback_data(ctx, "save"), "บันทึกผล")
    card = render.buttons_card(
        "ขั้นที่ 4/4 ตรวจสอบก่อนบันทึก", "\n".join(lines), [render.button(save, "primary")]
    )
    return [render.with_quick(card, FLOW_CHIPS)]


confirm_step = flow.step(
    "confirm",
    ask=ask_confirm,
    help='แตะ "บันทึกผล" เมื่อข้อมูลถูกต้อง หรือพิมพ์ "ย้อนกลับ" เพื่อแก้ไขค่ะ',
)


@confirm_step.postback
def on_save(ctx: Context, data: dict[str, str]) -> str | None:
    values = _values(ctx)
    plan = decidable(ctx, "committee.decide", values.get("plan_id"))
    if plan is None:
        return END
    assert ctx.user is not None
    try:
        decision = service.decide(
            ctx.session,
            plan,
            ctx.user,
            values.get("result", ""),
            date.fromisoformat(values["day"]),
            values.get("reasons"),
            ctx.today,
        )
    except CommitteeError as exc:
        ctx.reply(render.text(str(exc)))
        return END
    name = values.get("name", "")
    said = f"บันทึกผลของ {name} แล้วค่ะ: {service.RESULTS[decision.result]}"
    if decision.certificate_no:
        said += f"\nเลขที่เกียรติบัตร {decision.certificate_no}"
    told = tell_leader(ctx, plan, decision, corrected=values.get("before") is not None)
    said += "\nแจ้งผลให้ผู้นำทางแชตแล้วค่ะ" if told else "\nผู้นำเลิกติดตามบัญชีนี้แล้ว กรุณาแจ้งผลทางอื่นค่ะ"
    ctx.reply(render.text(said, [render.say(KEYWORD)]))
    return END


# The leader's push -------------------------------------------------------------------------
def certificate_url(ctx: Context, decision: CommitteeDecision) -> str | None:
    if ctx.links is None:
        return None
    return ctx.links.certificate_url(decision.id, decision.leader_id)


def tell_leader(ctx: Context, plan: Plan, decision: CommitteeDecision, corrected: bool) -> bool:
    leader = ctx.session.get(User, plan.leader_id)
    if leader is None or not leader.following:
        return False
    text = service.result_text(decision, certificate_url(ctx, decision), corrected)
    ctx.push(leader, [render.text(text)])
    return True

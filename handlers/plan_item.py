"""Adding or editing one activity of the plan: a guided form, one question at a time.

The form card is redrawn after every answer, so the leader always sees what is filled and what
is left: area › component › activity › by oneself or with help › the method or the helper ›
who is responsible › start › end › review (edit any line, save, or cancel).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from bot import render
from bot.context import Context
from bot.conversation import END, Flow
from bot.models import Plan, PlanItem
from bot.registry import registry
from bot.render import FLOW_CHIPS
from bot.services import fiscal, plans
from bot.services.plans import ItemDraft, PlanError
from bot.services.thai import parse_date, thai_date
from handlers import plan_views

flow = registry.add_flow(
    Flow(
        "item",
        cancelled='ยกเลิกแล้วค่ะ กิจกรรมนี้ไม่ได้บันทึก\nพิมพ์ "แผนของฉัน" เพื่อกลับไปที่แผนได้ทุกเมื่อ',
        title="กิจกรรมของแผน",
    )
)
SELF_WORDS = {"ตนเอง", "ตัวเอง", "ฉัน", "ผม", "ดิฉัน"}
DATE_HINT = 'แตะ "เลือกจากปฏิทิน" หรือพิมพ์วันที่ เช่น 15 ส.ค. 69 หรือ 15/08/2569'

# Which line of the form each step fills, so the card can highlight it.
STEP_ROW = {
    "area": "area",
    "component": "component",
    "activity": "activity",
    "mode": "mode",
    "detail": "detail",
    "responsible": "responsible",
    "start": "period",
    "end": "period",
}


def start_editing(ctx: Context, item: PlanItem) -> None:
    found = plans.edition(ctx.session, item.plan).component(item.component_id)
    flow.start(
        ctx,
        {
            "plan_id": item.plan_id,
            "item_id": item.id,
            "area_id": found[0].id if found else None,
            "component_id": item.component_id,
            "activity": item.activity,
            "mode": item.mode,
            "detail": item.method if item.mode == "self" else item.helper,
            "responsible": item.responsible,
            "starts_on": item.starts_on.isoformat(),
            "ends_on": item.ends_on.isoformat(),
        },
        at="review",
    )


def _plan(ctx: Context) -> Plan | None:
    plan_id = flow.data(ctx).get("plan_id")
    return ctx.remember(
        ("plan", plan_id), lambda: ctx.session.get(Plan, plan_id) if plan_id else None
    )


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


# The form card ---------------------------------------------------------------------------
def _rows(ctx: Context, plan: Plan, current: str | None, edit: bool) -> list[dict[str, Any]]:
    values = flow.data(ctx)
    edition = plans.edition(ctx.session, plan)
    area = edition.area(values.get("area_id") or 0)
    found = edition.component(values.get("component_id") or 0)
    mode = values.get("mode")
    starts, ends = _day(values.get("starts_on")), _day(values.get("ends_on"))
    period = "—"
    if starts:
        period = f"{thai_date(starts)} – {thai_date(ends) if ends else '?'}"
    detail_label = {
        "self": "วิธีการพัฒนา",
        "help": "บุคคล/หน่วยงาน และเรื่องที่ขอความร่วมมือ",
    }.get(mode or "", "วิธีการ หรือผู้ที่ขอความร่วมมือ")
    lines = [
        ("area", "1. ด้าน", area.name_th if area else None),
        ("component", "2. องค์ประกอบ", found[1].name_th if found else None),
        ("activity", "3. แนวทาง/กิจกรรม", values.get("activity")),
        ("mode", "4. ความสามารถในการพัฒนา", plan_views.MODE_LABELS.get(mode or "")),
        ("detail", f"5. {detail_label}", values.get("detail")),
        ("responsible", "6. ผู้รับผิดชอบ", values.get("responsible")),
        ("period", "7. ระยะเวลาดำเนินการ", period if starts else None),
    ]
    return [
        {
            "label": label,
            "value": value or "ยังไม่ได้กรอก",
            "filled": bool(value),
            "current": key == current,
            "edit": render.postback_action("แก้ไข", flow.postback_data(ctx, "edit", field=key))
            if edit
            else None,
        }
        for key, label, value in lines
    ]


def form(
    ctx: Context,
    question: str,
    buttons: list[dict[str, Any]] | None = None,
    chips: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    state = ctx.conversation
    plan = _plan(ctx)
    assert state is not None and plan is not None
    editing_item = flow.data(ctx).get("item_id")
    title = "แก้ไขกิจกรรม" if editing_item else "เพิ่มกิจกรรมในแผน"
    card = render.flex(
        "item_form.json",
        f"{title}: {question}",
        title=title,
        subtitle=f"แผนพัฒนาตนเอง ปีงบประมาณ {plan.fiscal_year}",
        rows=_rows(ctx, plan, STEP_ROW.get(state.state), edit=False),
        question=question,
        buttons=buttons or [],
    )
    return [render.with_quick(card, [*(chips or []), *FLOW_CHIPS])]


def _pick(ctx: Context, label: str, value: int | str) -> dict[str, Any]:
    return render.button(
        render.postback_action(label, flow.postback_data(ctx, "pick", v=value), label)
    )


def _next(ctx: Context, normal: str) -> str:
    """After an answer: back to the review when editing a saved line, else the next question."""
    return "review" if flow.data(ctx).get("editing") else normal


# 1. Area ---------------------------------------------------------------------------------
def ask_area(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    plan = _plan(ctx)
    assert plan is not None
    areas = plans.edition(ctx.session, plan).areas
    return form(ctx, "ข้อ 1 เลือกด้านที่จะพัฒนา", [_pick(ctx, a.name_th, a.id) for a in areas])


area_step = flow.step(
    "area",
    ask=ask_area,
    help="แผนพัฒนาตนเองมี 3 ด้าน: การบริหารตนเอง การบริหารสังคม (เช่น สร้างทีมปราชญ์) "
    "และการบริหารงาน (เช่น ช่วยครัวเรือนให้มีอาชีพ) แตะปุ่มด้านที่กิจกรรมนี้เกี่ยวข้องค่ะ",
)


@area_step.postback
def on_area(ctx: Context, data: dict[str, str]) -> str | None:
    plan, area_id = _plan(ctx), ctx.postback_id("v")
    area = plans.edition(ctx.session, plan).area(area_id) if plan and area_id else None
    if area is None:
        flow.ask(ctx)
        return None
    changed = flow.data(ctx).get("area_id") != area.id
    flow.update(ctx, area_id=area.id, **({"component_id": None} if changed else {}))
    return "component" if changed else _next(ctx, "component")


# 2. Component ----------------------------------------------------------------------------
def ask_component(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    plan = _plan(ctx)
    assert plan is not None
    area = plans.edition(ctx.session, plan).area(flow.data(ctx).get("area_id") or 0)
    options = (
        [_pick(ctx, render.clip(c.name_th, 40), c.id) for c in area.components] if area else []
    )
    return form(ctx, "ข้อ 2 เลือกองค์ประกอบ", options)


component_step = flow.step(
    "component",
    ask=ask_component,
    help='องค์ประกอบคือหัวข้อย่อยของด้านที่เลือก แตะปุ่มหัวข้อที่ตรงกับกิจกรรมของคุณ ถ้าเลือกด้านผิด พิมพ์ "ย้อนกลับ" ค่ะ',
)


@component_step.postback
def on_component(ctx: Context, data: dict[str, str]) -> str | None:
    plan = _plan(ctx)
    component_id = ctx.postback_id("v")
    found = (
        plans.edition(ctx.session, plan).component(component_id) if plan and component_id else None
    )
    if found is None or found[0].id != flow.data(ctx).get("area_id"):
        flow.ask(ctx)
        return None
    flow.update(ctx, component_id=found[1].id)
    return _next(ctx, "activity")


# 3. Activity -----------------------------------------------------------------------------
def ask_activity(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    return form(
        ctx,
        f"ข้อ 3 พิมพ์แนวทางหรือกิจกรรมที่จะทำ (ไม่เกิน {plans.ACTIVITY_MAX} ตัวอักษร)",
    )


activity_step = flow.step(
    "activity",
    ask=ask_activity,
    help='เขียนสิ่งที่จะทำเพื่อพัฒนาตนเองด้วยคำของคุณเอง เช่น "ศึกษาดูงานการทำปุ๋ยหมักชีวภาพ" '
    'หรือ "จัดเวทีแลกเปลี่ยนความรู้กับปราชญ์ชุมชนเดือนละครั้ง"',
)


def _typed(
    ctx: Context,
    text: str,
    key: str,
    what: str,
    limit: int,
    normal: str,
    chips: list[dict[str, Any]] | None = None,
) -> str | None:
    try:
        flow.update(ctx, **{key: plans.clean_text(text, what, limit)})
    except PlanError as exc:
        ctx.reply(render.text(str(exc), [*(chips or []), *FLOW_CHIPS]))
        return None
    return _next(ctx, normal)


@activity_step.text
def on_activity(ctx: Context, text: str) -> str | None:
    return _typed(ctx, text, "activity", "กิจกรรม", plans.ACTIVITY_MAX, "mode")


# 4. By oneself or with help --------------------------------------------------------------
def ask_mode(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    return form(
        ctx,
        "ข้อ 4 กิจกรรมนี้พัฒนาด้วยตนเอง หรือต้องขอความร่วมมือ/สนับสนุนจากผู้อื่น",
        [_pick(ctx, "พัฒนาด้วยตนเอง", "self"), _pick(ctx, "ขอความร่วมมือ/สนับสนุน", "help")],
    )


mode_step = flow.step(
    "mode",
    ask=ask_mode,
    help="เลือก พัฒนาด้วยตนเอง ถ้าทำได้เอง หรือ ขอความร่วมมือ/สนับสนุน "
    "ถ้าต้องอาศัยบุคคลหรือหน่วยงานอื่น เช่น สำนักงานพัฒนาชุมชนอำเภอ หรือ อบต.",
)


@mode_step.postback
def on_mode(ctx: Context, data: dict[str, str]) -> str | None:
    mode = data.get("v")
    if mode not in plan_views.MODE_LABELS:
        flow.ask(ctx)
        return None
    changed = flow.data(ctx).get("mode") != mode
    flow.update(ctx, mode=mode, **({"detail": None} if changed else {}))
    return "detail" if changed else _next(ctx, "detail")


# 5. The method, or the helper and the matter ---------------------------------------------
def ask_detail(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    if flow.data(ctx).get("mode") == "help":
        question = "ข้อ 5 พิมพ์ชื่อบุคคลหรือหน่วยงาน และเรื่องที่จะขอความร่วมมือ/สนับสนุน"
    else:
        question = "ข้อ 5 พิมพ์วิธีการพัฒนาด้วยตนเอง"
    return form(ctx, f"{question} (ไม่เกิน {plans.DETAIL_MAX} ตัวอักษร)")


detail_step = flow.step(
    "detail",
    ask=ask_detail,
    help='ถ้าพัฒนาด้วยตนเอง เขียนวิธีการ เช่น "อ่านหนังสือและดูคลิปความรู้ สัปดาห์ละ 2 ครั้ง" '
    'ถ้าขอความร่วมมือ เขียนชื่อผู้ช่วยและเรื่อง เช่น "สำนักงานพัฒนาชุมชนอำเภอ ขอวิทยากรสอนทำบัญชีครัวเรือน"',
)


@detail_step.text
def on_detail(ctx: Context, text: str) -> str | None:
    return _typed(ctx, text, "detail", "รายละเอียด", plans.DETAIL_MAX, "responsible")


# 6. Who is responsible -------------------------------------------------------------------
def ask_responsible(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    return form(
        ctx,
        'ข้อ 6 ใครเป็นผู้รับผิดชอบ แตะ "ตนเอง" หรือพิมพ์ชื่อ',
        chips=[render.say("ตนเอง")],
    )


responsible_step = flow.step(
    "responsible",
    ask=ask_responsible,
    help='ผู้รับผิดชอบคือผู้ที่ดูแลให้กิจกรรมเกิดขึ้น ส่วนใหญ่คือตัวคุณเอง แตะ "ตนเอง" '
    'หรือพิมพ์ชื่อ เช่น "นางสมศรี ใจดี และกลุ่มอาชีพทอผ้า"',
)


@responsible_step.text
def on_responsible(ctx: Context, text: str) -> str | None:
    if text.strip() in SELF_WORDS:
        text = "ตนเอง"
    return _typed(
        ctx,
        text,
        "responsible",
        "ผู้รับผิดชอบ",
        plans.RESPONSIBLE_MAX,
        "start",
        [render.say("ตนเอง")],
    )


# 7. Start and end dates ------------------------------------------------------------------
def _picker(ctx: Context, label: str, initial: date, earliest: date, latest: date) -> dict:
    initial = min(max(initial, earliest), latest)
    return render.date_action(
        label,
        flow.postback_data(ctx, "date"),
        initial.isoformat(),
        earliest.isoformat(),
        latest.isoformat(),
    )


def ask_start(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    plan = _plan(ctx)
    assert plan is not None
    first, last = fiscal.bounds(plan.fiscal_year)
    initial = _day(flow.data(ctx).get("starts_on")) or ctx.today
    picker = _picker(ctx, "เลือกจากปฏิทิน", initial, first, last)
    return form(
        ctx,
        f"ข้อ 7 วันเริ่มกิจกรรม (ในปีงบประมาณ {plan.fiscal_year})\n{DATE_HINT}",
        [render.button(picker, "primary")],
        [render.chip(picker)],
    )


def ask_end(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    plan = _plan(ctx)
    assert plan is not None
    _, last = fiscal.bounds(plan.fiscal_year)
    starts = _day(flow.data(ctx).get("starts_on")) or fiscal.bounds(plan.fiscal_year)[0]
    initial = _day(flow.data(ctx).get("ends_on")) or starts
    picker = _picker(ctx, "เลือกจากปฏิทิน", initial, starts, last)
    return form(
        ctx,
        f"ข้อ 7 วันสิ้นสุดกิจกรรม (ตั้งแต่ {thai_date(starts)} ถึง {thai_date(last)})\n{DATE_HINT}",
        [render.button(picker, "primary")],
        [render.chip(picker)],
    )


DATE_HELP = (
    'ระยะเวลาต้องอยู่ในปีงบประมาณ (1 ตุลาคม ถึง 30 กันยายน) แตะ "เลือกจากปฏิทิน" '
    'หรือพิมพ์ เช่น "15 ส.ค. 69", "15/08/2569" หรือ "2026-08-15"'
)
start_step = flow.step("start", ask=ask_start, help=DATE_HELP)
end_step = flow.step("end", ask=ask_end, help=DATE_HELP)


def _take_date(ctx: Context, day: date | None, key: str) -> str | None:
    plan = _plan(ctx)
    assert plan is not None
    if day is None:
        ctx.reply(render.text("อ่านวันที่ไม่ออกค่ะ " + DATE_HINT, FLOW_CHIPS))
        return None
    values = flow.data(ctx)
    try:
        if key == "starts_on":
            plans.check_period(plan.fiscal_year, day)
        else:
            plans.check_period(plan.fiscal_year, _day(values.get("starts_on")) or day, day)
    except PlanError as exc:
        ctx.reply(render.text(str(exc), FLOW_CHIPS))
        return None
    flow.update(ctx, **{key: day.isoformat()})
    if key == "starts_on":
        ends = _day(values.get("ends_on"))
        if ends is not None and ends < day:
            flow.update(ctx, ends_on=None)  # no longer valid: ask again rather than keep it
        return "end"
    return "review"


@start_step.text
def on_start_text(ctx: Context, text: str) -> str | None:
    return _take_date(ctx, parse_date(text), "starts_on")


@start_step.postback
def on_start_pick(ctx: Context, data: dict[str, str]) -> str | None:
    return _take_date(ctx, _picked(ctx), "starts_on")


@end_step.text
def on_end_text(ctx: Context, text: str) -> str | None:
    return _take_date(ctx, parse_date(text), "ends_on")


@end_step.postback
def on_end_pick(ctx: Context, data: dict[str, str]) -> str | None:
    return _take_date(ctx, _picked(ctx), "ends_on")


def _picked(ctx: Context) -> date | None:
    try:
        return date.fromisoformat(ctx.postback_params.get("date", ""))
    except ValueError:
        return None


# 8. Review -------------------------------------------------------------------------------
def ask_review(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    plan = _plan(ctx)
    assert plan is not None
    flow.update(ctx, editing=True)
    title = "แก้ไขกิจกรรม" if flow.data(ctx).get("item_id") else "ตรวจสอบกิจกรรมก่อนบันทึก"
    card = render.flex(
        "item_form.json",
        title,
        title=title,
        subtitle='แตะ "แก้ไข" ที่บรรทัดที่ต้องการเปลี่ยน หรือ "บันทึก" เมื่อถูกต้อง',
        rows=_rows(ctx, plan, None, edit=True),
        question="",
        buttons=[
            render.button(
                render.postback_action("บันทึก", flow.postback_data(ctx, "save"), "บันทึก"), "primary"
            ),
            render.button(render.message_action("ยกเลิก")),
        ],
    )
    return [render.with_quick(card, FLOW_CHIPS)]


review_step = flow.step(
    "review",
    ask=ask_review,
    help='ตรวจข้อมูลในการ์ด แตะ "แก้ไข" ที่บรรทัดที่ต้องการเปลี่ยน แตะ "บันทึก" เมื่อถูกต้อง '
    'หรือพิมพ์ "ยกเลิก" เพื่อไม่บันทึกค่ะ',
)
EDIT_TARGETS = {
    "area": "area",
    "component": "component",
    "activity": "activity",
    "mode": "mode",
    "detail": "detail",
    "responsible": "responsible",
    "period": "start",
}


@review_step.postback
def on_review(ctx: Context, data: dict[str, str]) -> str | None:
    if data.get("a") == "edit" and data.get("field") in EDIT_TARGETS:
        return EDIT_TARGETS[data["field"]]
    if data.get("a") != "save":
        flow.ask(ctx)
        return None
    return save(ctx)


# What to ask when a value is missing at save time (a line cleared by changing another).
MISSING_STEP = {
    "component_id": "component",
    "activity": "activity",
    "mode": "mode",
    "detail": "detail",
    "responsible": "responsible",
    "starts_on": "start",
    "ends_on": "end",
}


def save(ctx: Context) -> str | None:
    values = flow.data(ctx)
    plan = _plan(ctx)
    assert ctx.user is not None
    missing = [key for key in MISSING_STEP if not values.get(key)]
    if plan is None:
        ctx.reply(render.text("ไม่พบแผนนี้แล้วค่ะ"))
        return END
    if missing:
        ctx.reply(render.text("ยังกรอกไม่ครบค่ะ กรุณากรอกบรรทัดที่ยังว่าง", FLOW_CHIPS))
        return MISSING_STEP[missing[0]]
    draft = ItemDraft(
        component_id=values["component_id"],
        activity=values["activity"],
        mode=values["mode"],
        detail=values["detail"],
        responsible=values["responsible"],
        starts_on=date.fromisoformat(values["starts_on"]),
        ends_on=date.fromisoformat(values["ends_on"]),
    )
    try:
        if values.get("item_id"):
            item = plans.item_of(ctx.session, ctx.user.id, values["item_id"])
            if item is None:
                ctx.reply(render.text("กิจกรรมนี้ถูกลบไปแล้ว จึงบันทึกการแก้ไขไม่ได้ค่ะ"))
                return END
            plans.update_item(ctx.session, item, draft, ctx.user)
            done = "บันทึกการแก้ไขแล้วค่ะ"
        else:
            plans.add_item(ctx.session, plan, draft, ctx.user)
            done = "บันทึกกิจกรรมในแผนแล้วค่ะ 🎉"
    except PlanError as exc:
        ctx.reply(render.text(str(exc)))
        if plan.status not in plans.EDITABLE:
            return END
        flow.ask(ctx)
        return None
    ctx.session.refresh(plan)
    ctx.reply(render.text(done))
    ctx.reply(plan_views.plan_card(ctx.session, plan, viewer="leader", today=ctx.today))
    return END

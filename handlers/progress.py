"""Carrying out the plan: the progress card, an activity's state and note, the
work-management figures, the request for assessment, and the summary document."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from bot import render, summaries
from bot.context import Context
from bot.conversation import END, Flow
from bot.models import LeaderProfile, Plan, PlanItem, User
from bot.registry import registry
from bot.render import FLOW_CHIPS
from bot.services import evidence, plans, progress
from bot.services.plans import PlanError
from bot.services.thai import thai_date
from handlers import evidence as evidence_handlers
from handlers import plan_views
from handlers.common import needs_role
from handlers.plan import own_plan, tell_officers, viewer_of, visible_plan
from handlers.plan_review import reviewable

LATE_SHOWN = 5


# The progress card -----------------------------------------------------------------------
def _figure_lines(plan: Plan) -> list[str]:
    if plan.households_trained is None:
        return ["ยังไม่ได้บันทึกจำนวนครัวเรือนและรายได้"]
    share = progress.occupation_share(plan)
    change = progress.income_change(plan)
    lines = [
        f"ครัวเรือนที่อบรม {plan.households_trained:,} มีอาชีพ {plan.households_with_occupation or 0:,}",
    ]
    if share is not None:
        mark = "✅ ผ่าน" if share >= progress.OCCUPATION_TARGET else "ยังไม่ถึง"
        lines.append(f"มีอาชีพ {share}% (เป้าหมาย 85%) {mark}")
    if change is not None:
        mark = "✅ ผ่าน" if change >= progress.INCOME_TARGET else "ยังไม่ถึง"
        lines.append(
            f"รายได้ {plan.income_before:,.0f} → {plan.income_after:,.0f} บาท "
            f"({change:+}%, เป้าหมาย 3%) {mark}"
        )
    return lines


def progress_card(ctx: Context, plan: Plan, viewer: str) -> dict[str, Any]:
    seen = progress.of(ctx.session, plan, ctx.today)
    profile = ctx.session.get(LeaderProfile, plan.leader_id)
    name = profile.full_name if profile else "-"
    areas = [
        {
            "name": a.name,
            "line": f"เสร็จ {a.done} · กำลังทำ {a.in_progress} · ยังไม่เริ่ม {a.not_started} "
            f"· หลักฐาน {a.evidence}",
        }
        for a in seen.areas
    ]
    late = [
        f"{n}. {render.clip(item.activity, 60)} (ครบกำหนด {thai_date(item.ends_on, short=True)})"
        for n, item in seen.late[:LATE_SHOWN]
    ]
    if len(seen.late) > LATE_SHOWN:
        late.append(f"และอีก {len(seen.late) - LATE_SHOWN} กิจกรรม")
    late_title = f"เลยกำหนด {len(seen.late)} กิจกรรม" if seen.late else "ไม่มีกิจกรรมที่เลยกำหนด 👍"
    assessment = "การประเมิน: " + progress.ASSESSMENT_LABELS.get(
        plan.assessment_status or "", "ยังไม่ได้ขอรับการประเมิน"
    )
    if plan.assessment_status == "more_info" and plan.assessment_comment:
        assessment += f"\nเจ้าหน้าที่ขอ: {render.clip(plan.assessment_comment, 300)}"
    buttons = [
        render.button(
            render.postback_action(
                "ดูกิจกรรมและหลักฐาน", plan_views.data("plan.items", p=plan.id), "ดูกิจกรรม"
            ),
            "primary",
        )
    ]
    if viewer == "leader":
        buttons.append(
            render.button(
                render.postback_action(
                    "บันทึกผลด้านการบริหารงาน",
                    plan_views.data("figures.start", p=plan.id),
                    "บันทึกผลด้านการบริหารงาน",
                )
            )
        )
        if plan.status == "approved" and plan.assessment_status not in {"requested", "accepted"}:
            buttons.append(
                render.button(
                    render.postback_action(
                        "ขอรับการประเมิน",
                        plan_views.data("assess.request", p=plan.id),
                        "ขอรับการประเมิน",
                    )
                )
            )
    buttons.append(
        render.button(
            render.postback_action(
                "เอกสารสรุปผลงาน (PDF)",
                plan_views.data("summary.make", p=plan.id),
                "ขอเอกสารสรุปผลงาน",
            )
        )
    )
    return render.flex(
        "progress_card.json",
        f"ความคืบหน้าของ {name}: เสร็จ {seen.done}/{seen.total} กิจกรรม",
        year=plan.fiscal_year,
        leader=name,
        overall=f"เสร็จแล้ว {seen.done} จาก {seen.total} กิจกรรม · "
        f"หลักฐาน {sum(seen.evidence_by_item.values())} รายการ",
        areas=areas,
        late=late,
        late_title=late_title,
        figures=_figure_lines(plan),
        assessment=assessment,
        buttons=buttons,
    )


@registry.on_keyword(
    "ความคืบหน้า", "ผลงาน", roles=("leader",), describe="ดูความคืบหน้าและส่งหลักฐาน", order=25
)
def my_progress(ctx: Context) -> None:
    if not needs_role(ctx, "leader"):
        return
    assert ctx.user is not None
    plan = plans.find(ctx.session, ctx.user.id, plans.current_year(ctx.today))
    if plan is None or not plan.items:
        ctx.reply(render.text("ยังไม่มีกิจกรรมในแผนค่ะ เริ่มเขียนแผนก่อนนะคะ", [render.say("แผนของฉัน")]))
        return
    ctx.reply(progress_card(ctx, plan, "leader"))


@registry.on_postback("progress.view")
def view_progress(ctx: Context) -> None:
    seen = visible_plan(ctx, "progress.view")
    if seen is not None:
        ctx.reply(progress_card(ctx, *seen))


# An activity's state ---------------------------------------------------------------------
state_flow = registry.add_flow(
    Flow("progress", cancelled="ยกเลิกแล้วค่ะ สถานะของกิจกรรมยังเหมือนเดิม", title="ความคืบหน้า")
)


def _flow_item(ctx: Context) -> PlanItem | None:
    user = ctx.user
    item_id = Flow.data(ctx).get("item_id")
    return plans.item_of(ctx.session, user.id, item_id) if user and item_id else None


@registry.on_postback("progress.item")
def start_update(ctx: Context) -> None:
    item_id = ctx.postback_id("i")
    item = plans.item_of(ctx.session, ctx.user.id, item_id) if ctx.user and item_id else None
    if item is None:
        ctx.reply(render.text(evidence_handlers.NOT_FOUND))
        return
    state_flow.start(ctx, {"item_id": item.id})


def ask_state(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    item = _flow_item(ctx)
    name = render.clip(item.activity, 80) if item else ""
    now = plans.STATE_LABELS.get(item.state, "") if item else ""
    chips = [
        render.tap(label, state_flow.postback_data(ctx, "state", v=key), label)
        for key, label in plans.STATE_LABELS.items()
    ]
    return [render.text(f'กิจกรรม "{name}"\nตอนนี้: {now}\nเลือกสถานะใหม่ค่ะ', [*chips, *FLOW_CHIPS])]


state_step = state_flow.step(
    "state", ask=ask_state, help="แตะ ยังไม่เริ่ม กำลังดำเนินการ หรือ เสร็จแล้ว ตามที่ทำจริงค่ะ"
)


@state_step.postback
def on_state(ctx: Context, data: dict[str, str]) -> str | None:
    item = _flow_item(ctx)
    state = data.get("v", "")
    if item is None:
        ctx.reply(render.text(evidence_handlers.NOT_FOUND))
        return END
    if state not in plans.STATE_LABELS:
        ctx.reply(render.text("กรุณาเลือกสถานะจากปุ่มค่ะ"))
        return None
    Flow.update(ctx, state=state)
    if state == "done" and not evidence.counts(ctx.session, [item.id]):
        return "evidence_first"
    return "note"


def ask_evidence_first(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    return [
        render.text(
            "กิจกรรมนี้ยังไม่มีหลักฐานเลยค่ะ ส่งหลักฐานก่อนไหม\nรูปหรือเอกสารช่วยให้คณะกรรมการเห็นผลงานของคุณ",
            [
                render.tap("ส่งหลักฐานก่อน", state_flow.postback_data(ctx, "first", go="send")),
                render.tap("บันทึกว่าเสร็จเลย", state_flow.postback_data(ctx, "first", go="done")),
                *FLOW_CHIPS,
            ],
        )
    ]


first_step = state_flow.step(
    "evidence_first",
    ask=ask_evidence_first,
    help='แตะ "ส่งหลักฐานก่อน" เพื่อส่งรูป หรือ "บันทึกว่าเสร็จเลย" ถ้าจะส่งภายหลังค่ะ',
)


@first_step.postback
def on_first(ctx: Context, data: dict[str, str]) -> str | None:
    if data.get("go") == "send":
        item = _flow_item(ctx)
        if item is None:
            ctx.reply(render.text(evidence_handlers.NOT_FOUND))
            return END
        evidence_handlers.start_collecting(ctx, item)  # replaces this flow
        return None
    return "note"


def ask_note(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    return [
        render.text(
            f'พิมพ์บันทึกความคืบหน้าสั้น ๆ (ไม่เกิน {progress.NOTE_MAX:,} ตัวอักษร) หรือแตะ "ไม่มีบันทึก" ค่ะ',
            [render.say("ไม่มีบันทึก"), *FLOW_CHIPS],
        )
    ]


note_step = state_flow.step(
    "note",
    ask=ask_note,
    help='เช่น "อบรมสมาชิกกลุ่มแล้ว 2 ครั้ง เหลืออีก 1 ครั้ง" หรือแตะ "ไม่มีบันทึก"',
)


@note_step.text
def on_note(ctx: Context, text: str) -> str | None:
    item = _flow_item(ctx)
    assert ctx.user is not None
    if item is None:
        ctx.reply(render.text(evidence_handlers.NOT_FOUND))
        return END
    state = Flow.data(ctx).get("state", item.state)
    note = None if text.strip() in {"ไม่มีบันทึก", "ไม่มี", "-"} else text
    try:
        progress.set_state(ctx.session, item, state, note, ctx.user)
    except PlanError as exc:
        ctx.reply(render.text(str(exc), FLOW_CHIPS))
        return None
    ctx.reply(
        render.text(
            f'บันทึกแล้วค่ะ กิจกรรม "{render.clip(item.activity, 80)}": {plans.STATE_LABELS[state]}',
            [render.say("ความคืบหน้า")],
        )
    )
    return END


# Work-management figures -----------------------------------------------------------------
figures_flow = registry.add_flow(
    Flow("figures", cancelled="ยกเลิกแล้วค่ะ ตัวเลขเดิมยังอยู่", title="ผลด้านการบริหารงาน")
)


@registry.on_postback("figures.start")
def start_figures(ctx: Context) -> None:
    plan = own_plan(ctx, "figures.start")
    if plan is not None:
        figures_flow.start(ctx, {"plan_id": plan.id})


def _asker(question: str) -> Any:
    def ask(ctx: Context, _: Flow) -> list[dict[str, Any]]:
        return [render.text(question, FLOW_CHIPS)]

    return ask


trained = figures_flow.step(
    "trained",
    ask=_asker("1/4 จำนวนครัวเรือนที่คุณอบรมหรือถ่ายทอดความรู้ให้ (ครัวเรือน) เช่น 20"),
    help="นับครัวเรือนเป้าหมายที่ได้รับการอบรมอาชีพจากคุณ พิมพ์เป็นตัวเลข เช่น 20",
)
occupied = figures_flow.step(
    "occupied",
    ask=_asker("2/4 ในจำนวนนั้น มีกี่ครัวเรือนที่มีอาชีพแล้ว (ครัวเรือน)"),
    help="เป้าหมายตามหนังสือ: ร้อยละ 85 ของครัวเรือนที่อบรมมีอาชีพ พิมพ์เป็นตัวเลข เช่น 18",
)
before = figures_flow.step(
    "before",
    ask=_asker("3/4 รายได้เฉลี่ยต่อครัวเรือนต่อปี ก่อนอบรม (บาท) เช่น 45000"),
    help="รายได้เฉลี่ยต่อครัวเรือนต่อปีก่อนเริ่ม พิมพ์ตัวเลข เช่น 45000 หรือ ๔๕,๐๐๐",
)
after = figures_flow.step(
    "after",
    ask=_asker("4/4 รายได้เฉลี่ยต่อครัวเรือนต่อปี หลังอบรม (บาท)"),
    help="เป้าหมายตามหนังสือ: รายได้เพิ่มขึ้นร้อยละ 3 พิมพ์ตัวเลข เช่น 47000",
)


def _number_step(
    key: str,
    parse: Callable[[str], Any],
    next_step: str,
    check: Callable[[Context, Any], str | None] | None = None,
) -> Callable[[Context, str], str | None]:
    """A figures step: parse the typed number, check it, keep it, go on; else say why."""

    def on_text(ctx: Context, text: str) -> str | None:
        try:
            value = parse(text)
        except PlanError as exc:
            ctx.reply(render.text(str(exc), FLOW_CHIPS))
            return None
        problem = check(ctx, value) if check else None
        if problem:
            ctx.reply(render.text(problem, FLOW_CHIPS))
            return None
        Flow.update(ctx, **{key: value if isinstance(value, int) else str(value)})
        return next_step

    return on_text


def _not_over_trained(ctx: Context, value: int) -> str | None:
    total = Flow.data(ctx).get("trained", 0)
    if value > total:
        return f"มากกว่าจำนวนที่อบรม ({total:,} ครัวเรือน) ไม่ได้ค่ะ กรุณาพิมพ์ใหม่"
    return None


trained.text(_number_step("trained", progress.parse_count, "occupied"))
occupied.text(_number_step("occupied", progress.parse_count, "before", _not_over_trained))
before.text(_number_step("before", progress.parse_baht, "after"))


@after.text
def on_after(ctx: Context, text: str) -> str | None:
    values = Flow.data(ctx)
    plan = ctx.session.get(Plan, values.get("plan_id"))
    user = ctx.user
    if plan is None or user is None or plan.leader_id != user.id:
        ctx.reply(render.text(evidence_handlers.NOT_FOUND))
        return END
    try:
        progress.record_figures(
            ctx.session,
            plan,
            user,
            trained=values["trained"],
            with_occupation=values["occupied"],
            income_before=Decimal(values["before"]),
            income_after=progress.parse_baht(text),
        )
    except PlanError as exc:
        ctx.reply(render.text(str(exc), FLOW_CHIPS))
        return None
    ctx.reply(render.text("บันทึกผลด้านการบริหารงานแล้วค่ะ"))
    ctx.reply(progress_card(ctx, plan, "leader"))
    return END


# Assessment request ----------------------------------------------------------------------
@registry.on_postback("assess.request")
def request_assessment(ctx: Context) -> None:
    plan = own_plan(ctx, "assess.request")
    if plan is None:
        return
    assert ctx.user is not None
    try:
        progress.request_assessment(ctx.session, plan, ctx.user)
    except PlanError as exc:
        ctx.reply(render.text(str(exc)))
        return
    seen = progress.of(ctx.session, plan, ctx.today)

    def notice(name: str) -> list[dict[str, Any]]:
        card = render.buttons_card(
            f"{name} ขอรับการประเมิน",
            f"ปีงบประมาณ {plan.fiscal_year} · เสร็จ {seen.done}/{seen.total} กิจกรรม · "
            f"หลักฐาน {sum(seen.evidence_by_item.values())} รายการ",
            [
                render.button(
                    render.postback_action(
                        "ตรวจประเมินได้",
                        plan_views.data("assess.accept", p=plan.id),
                        "รับเรื่องตรวจประเมิน",
                    ),
                    "primary",
                ),
                render.button(
                    render.postback_action(
                        "ขอข้อมูลเพิ่มเติม", plan_views.data("assess.more", p=plan.id), "ขอข้อมูลเพิ่มเติม"
                    )
                ),
                render.button(
                    render.postback_action(
                        "ดูความคืบหน้า", plan_views.data("progress.view", p=plan.id), "ดูความคืบหน้า"
                    )
                ),
            ],
        )
        return [card]

    told_any = tell_officers(ctx, plan, notice)
    told = "แจ้งเจ้าหน้าที่อำเภอแล้ว" if told_any else "ขณะนี้ยังไม่มีเจ้าหน้าที่อำเภอของคุณในระบบ"
    ctx.reply(render.text(f"ส่งคำขอรับการประเมินแล้วค่ะ {told} กรุณารอการติดต่อนะคะ"))


def _tell_leader(ctx: Context, plan: Plan, text: str) -> None:
    leader = ctx.session.get(User, plan.leader_id)
    if leader is not None:
        ctx.push(leader, [render.text(text, [render.say("ความคืบหน้า")])])


@registry.on_postback("assess.accept")
def accept(ctx: Context) -> None:
    found = reviewable(ctx, ctx.postback_id("p"))
    if found is None:
        return
    plan, profile = found
    assert ctx.user is not None
    try:
        progress.accept_assessment(ctx.session, plan, ctx.user)
    except PlanError as exc:
        ctx.reply(render.text(str(exc)))
        return
    ctx.reply(render.text(f"รับเรื่องของ {profile.full_name} แล้วค่ะ แจ้งผู้นำแล้ว ความคืบหน้าอยู่ด้านล่าง"))
    ctx.reply(progress_card(ctx, plan, viewer_of(ctx.user, plan)))
    _tell_leader(ctx, plan, "เจ้าหน้าที่รับคำขอรับการประเมินของคุณแล้วค่ะ จะติดต่อนัดวันตรวจประเมินนะคะ")


more_flow = registry.add_flow(
    Flow("assess_more", cancelled="ยกเลิกแล้วค่ะ คำขอยังรอคุณอยู่", title="สิ่งที่ขอเพิ่มเติม")
)


@registry.on_postback("assess.more")
def start_more(ctx: Context) -> None:
    found = reviewable(ctx, ctx.postback_id("p"))
    if found is None:
        return
    plan, profile = found
    if plan.assessment_status != "requested":
        ctx.reply(render.text("คำขอนี้ตอบไปแล้วหรือไม่มีคำขอค้างอยู่ค่ะ"))
        return
    more_flow.start(ctx, {"plan_id": plan.id, "leader": profile.full_name})


def ask_more(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    name = Flow.data(ctx).get("leader", "")
    return [render.text(f"พิมพ์สิ่งที่ต้องการให้ {name} ทำหรือส่งเพิ่มก่อนตรวจประเมินค่ะ", FLOW_CHIPS)]


more_step = more_flow.step(
    "comment", ask=ask_more, help='เช่น "ขอรูปการอบรมกลุ่มอาชีพเพิ่ม และบันทึกรายได้หลังอบรม"'
)


@more_step.text
def on_more(ctx: Context, text: str) -> str | None:
    found = reviewable(ctx, Flow.data(ctx).get("plan_id"))
    if found is None:
        return END
    plan, profile = found
    assert ctx.user is not None
    try:
        progress.ask_for_more(ctx.session, plan, ctx.user, text)
    except PlanError as exc:
        ctx.reply(render.text(str(exc), FLOW_CHIPS))
        return None if plan.assessment_status == "requested" else END
    ctx.reply(render.text(f"ส่งข้อความถึง {profile.full_name} แล้วค่ะ"))
    _tell_leader(
        ctx,
        plan,
        f"เจ้าหน้าที่ขอข้อมูลเพิ่มเติมก่อนตรวจประเมินค่ะ:\n{plan.assessment_comment}\n"
        'เมื่อพร้อมแล้ว แตะ "ขอรับการประเมิน" บนการ์ดความคืบหน้าอีกครั้งนะคะ',
    )
    return END


# The summary document --------------------------------------------------------------------
@registry.on_postback("summary.make")
def make_summary(ctx: Context) -> None:
    seen = visible_plan(ctx, "summary.make")
    if seen is None:
        return
    plan, _ = seen
    assert ctx.user is not None
    if summaries.request(ctx.session, plan, ctx.user) is None:
        ctx.reply(render.text("กำลังจัดทำเอกสารสรุปผลงานอยู่ค่ะ เสร็จแล้วจะส่งลิงก์มาในแชตนี้นะคะ"))
        return
    ctx.reply(
        render.text("กำลังจัดทำเอกสารสรุปผลงาน (PDF) ค่ะ อาจใช้เวลาสักครู่ เสร็จแล้วจะส่งลิงก์มาในแชตนี้นะคะ")
    )

"""The district officer reviews a submitted plan: approve it, or return it with a comment.

Buttons carry the plan's revision: a button on a card sent before the leader changed the plan
is refused instead of approving something the officer has not seen.
"""

from __future__ import annotations

from bot import render
from bot.context import Context
from bot.conversation import END, Flow
from bot.models import LeaderProfile, Plan, User
from bot.registry import registry
from bot.render import FLOW_CHIPS
from bot.services import access, audit, plans
from bot.services.plans import PlanError
from handlers import plan_views

flow = registry.add_flow(
    Flow("plan_return", cancelled="ยกเลิกแล้วค่ะ แผนยังรอการตรวจอยู่", title="ความเห็นถึงผู้นำ")
)


def reviewable(ctx: Context, plan_id: int | None) -> tuple[Plan, LeaderProfile] | None:
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
        audit.record(ctx.session, "plan.review.denied", "plan", plan_id, actor=user)
        ctx.reply(render.text("ขออภัยค่ะ คุณตรวจได้เฉพาะแผนของผู้นำในอำเภอที่คุณรับผิดชอบ"))
        return None
    return plan, profile


def _ids(ctx: Context) -> tuple[int | None, int]:
    revision = ctx.postback_id("r")
    return ctx.postback_id("p"), -1 if revision is None else revision


def _tell_leader(ctx: Context, plan: Plan, text: str) -> None:
    leader = ctx.session.get(User, plan.leader_id)
    if leader is not None:
        ctx.push(
            leader,
            [
                render.text(text),
                plan_views.plan_card(ctx.session, plan, viewer="leader", today=ctx.today),
            ],
        )


@registry.on_postback("review.approve")
def approve(ctx: Context) -> None:
    plan_id, revision = _ids(ctx)
    found = reviewable(ctx, plan_id)
    if found is None:
        return
    plan, profile = found
    assert ctx.user is not None
    try:
        plans.approve(ctx.session, plan, ctx.user, revision)
    except PlanError as exc:
        # An old card or a second tap: refused, and kept in the audit like other refusals.
        audit.record(ctx.session, "plan.review.denied", "plan", plan.id, actor=ctx.user)
        ctx.reply(render.text(str(exc)))
        ctx.reply(plan_views.plan_card(ctx.session, plan, viewer="officer", today=ctx.today))
        return
    ctx.reply(render.text(f"เห็นชอบแผนของ {profile.full_name} แล้ว และแจ้งผู้นำแล้วค่ะ"))
    _tell_leader(
        ctx,
        plan,
        f"แผนพัฒนาตนเอง ปีงบประมาณ {plan.fiscal_year} ของคุณได้รับความเห็นชอบจากเจ้าหน้าที่แล้วค่ะ 🎉\n"
        "เริ่มดำเนินกิจกรรมตามแผน และเก็บหลักฐานไว้นะคะ",
    )


@registry.on_postback("review.return")
def start_return(ctx: Context) -> None:
    plan_id, revision = _ids(ctx)
    found = reviewable(ctx, plan_id)
    if found is None:
        return
    plan, profile = found
    try:
        plans.check_reviewable(plan, revision)
    except PlanError as exc:
        audit.record(ctx.session, "plan.review.denied", "plan", plan.id, actor=ctx.user)
        ctx.reply(render.text(str(exc)))
        return
    flow.start(ctx, {"plan_id": plan.id, "revision": revision, "leader": profile.full_name})


def ask_comment(ctx: Context, _: Flow) -> list[dict]:
    name = Flow.data(ctx).get("leader", "")
    return [
        render.text(
            f"พิมพ์ความเห็นถึง {name} ว่าควรแก้ไขอะไรในแผน (ไม่เกิน {plans.COMMENT_MAX:,} ตัวอักษร)\n"
            "ผู้นำจะเห็นข้อความนี้บนการ์ดแผนค่ะ",
            FLOW_CHIPS,
        )
    ]


comment_step = flow.step(
    "comment",
    ask=ask_comment,
    help='พิมพ์สิ่งที่ผู้นำควรแก้ เช่น "กิจกรรมที่ 2 ควรระบุหน่วยงานที่จะขอความร่วมมือให้ชัดเจน" '
    'หรือพิมพ์ "ยกเลิก" ถ้ายังไม่ต้องการส่งกลับ',
)


@comment_step.text
def on_comment(ctx: Context, text: str) -> str | None:
    values = Flow.data(ctx)
    found = reviewable(ctx, values.get("plan_id"))
    if found is None:
        return END
    plan, profile = found
    assert ctx.user is not None
    try:
        plans.return_for_changes(ctx.session, plan, ctx.user, values.get("revision", -1), text)
    except PlanError as exc:
        ctx.reply(render.text(str(exc), FLOW_CHIPS))
        # An empty or too long comment may be typed again; a plan that moved on may not.
        return (
            None if plan.status == "submitted" and plan.revision == values.get("revision") else END
        )
    ctx.reply(render.text(f"ส่งแผนกลับให้ {profile.full_name} แก้ไขแล้ว พร้อมความเห็นของคุณค่ะ"))
    _tell_leader(
        ctx,
        plan,
        "เจ้าหน้าที่ส่งแผนพัฒนาตนเองกลับให้แก้ไขค่ะ ความเห็นอยู่บนการ์ดด้านล่าง\n"
        'แก้ไขแล้วแตะ "ส่งแผนให้เจ้าหน้าที่" อีกครั้งนะคะ',
    )
    return END

"""The leader's plan: the plan card and its buttons (add, list, ready date, submit, download),
and an activity's edit and delete buttons. Who may act is decided from the database, never from
the postback data, which only says what was tapped."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from bot import render
from bot.context import Context
from bot.models import LeaderProfile, Plan, PlanItem, User
from bot.registry import registry
from bot.services import access, audit, plans
from bot.services.plans import PlanError
from bot.services.thai import thai_date
from handlers import plan_item, plan_views
from handlers.common import needs_role

log = logging.getLogger(__name__)
NOT_YOURS = "ขออภัยค่ะ ปุ่มนี้ใช้ไม่ได้แล้ว หรือไม่ใช่แผนของคุณ กรุณาเปิดแผนจากเมนูอีกครั้งนะคะ"


def _refuse(ctx: Context, action: str, entity_id: object) -> None:
    audit.record(ctx.session, f"{action}.denied", "plan", str(entity_id)[:20], actor=ctx.user)
    ctx.reply(render.text(NOT_YOURS))


def own_plan(ctx: Context, action: str) -> Plan | None:
    """The plan in the postback if it is the user's own; else refuses and returns None."""
    plan_id = ctx.postback_id("p")
    plan = ctx.session.get(Plan, plan_id) if plan_id else None
    user = ctx.user
    if plan is None or user is None or user.role != "leader" or user.status != "active":
        _refuse(ctx, action, plan_id)
        return None
    if plan.leader_id != user.id:
        _refuse(ctx, action, plan_id)
        return None
    return plan


def visible_plan(ctx: Context, action: str) -> tuple[Plan, str] | None:
    """The plan if the user may see it, with the card they get (see `viewer_of`)."""
    plan_id = ctx.postback_id("p")
    plan = ctx.session.get(Plan, plan_id) if plan_id else None
    profile = ctx.session.get(LeaderProfile, plan.leader_id) if plan else None
    user = ctx.user
    if plan is None or profile is None or user is None or not access.can_view_leader(user, profile):
        _refuse(ctx, action, plan_id)
        return None
    return plan, viewer_of(user, plan)


def viewer_of(user: User, plan: Plan) -> str:
    """Which plan card the user gets: the leader's own, a reviewer's, or province staff's."""
    if user.id == plan.leader_id:
        return "leader"
    return "officer" if user.role in {"officer", "admin"} else "province"


def tell_officers(
    ctx: Context, plan: Plan, messages: Callable[[str], list[dict[str, Any]]]
) -> bool:
    """Push `messages(leader's name)` to the officers of the leader's district; False when
    the district has none yet."""
    profile = ctx.session.get(LeaderProfile, plan.leader_id)
    officers = plans.officers_for(ctx.session, profile.district_code) if profile else []
    if officers:
        sent = messages(profile.full_name if profile else "")
        for officer in officers:
            ctx.push(officer, sent)
    return bool(officers)


def show_plan(ctx: Context, plan: Plan, viewer: str = "leader") -> None:
    ctx.reply(plan_views.plan_card(ctx.session, plan, viewer=viewer, today=ctx.today))


@registry.on_keyword(
    "แผนของฉัน",
    "แผน",
    "แผนพัฒนาตนเอง",
    roles=("leader",),
    describe="ดูและเขียนแผนพัฒนาตนเอง",
    order=20,
)
def my_plan(ctx: Context) -> None:
    if not needs_role(ctx, "leader"):
        return
    assert ctx.user is not None
    plan = plans.get_or_create(ctx.session, ctx.user, plans.current_year(ctx.today))
    show_plan(ctx, plan)


@registry.on_postback("plan.add")
def add_activity(ctx: Context) -> None:
    plan = own_plan(ctx, "plan.add")
    if plan is None:
        return
    if plan.status not in plans.EDITABLE:
        ctx.reply(render.text(_locked(plan)))
        show_plan(ctx, plan)
        return
    if plans.count_items(ctx.session, plan.id) >= plans.MAX_ITEMS:
        ctx.reply(render.text(f"แผนมีกิจกรรมครบ {plans.MAX_ITEMS} กิจกรรมแล้วค่ะ ลบหรือแก้ไขกิจกรรมเดิมได้"))
        return
    state = ctx.conversation
    if state is not None and state.flow == plan_item.flow.name and ctx.postback.get("fresh") != "1":
        fresh = plan_views.data("plan.add", p=plan.id, fresh=1)
        plan_item.flow.offer_resume(ctx, restart=render.tap("เริ่มใหม่", fresh, "เริ่มกรอกใหม่"))
        return
    plan_item.flow.start(ctx, {"plan_id": plan.id})


def _locked(plan: Plan) -> str:
    if plan.status == "submitted":
        return "แผนส่งให้เจ้าหน้าที่แล้ว จึงแก้ไขไม่ได้ระหว่างรอตรวจค่ะ"
    return "แผนนี้เจ้าหน้าที่เห็นชอบแล้ว หากต้องการเปลี่ยน กรุณาติดต่อเจ้าหน้าที่อำเภอค่ะ"


@registry.on_postback("plan.items")
def list_activities(ctx: Context) -> None:
    seen = visible_plan(ctx, "plan.items")
    if seen is None:
        return
    plan, viewer = seen
    page = ctx.postback_id("page") or 0
    editable = viewer == "leader" and plan.status in plans.EDITABLE
    card = plan_views.item_list(
        ctx.session, plan, page=page, editable=editable, owner=viewer == "leader"
    )
    if card is None:
        message = "แผนนี้ยังไม่มีกิจกรรมค่ะ" if not plan.items else "ไม่มีกิจกรรมเพิ่มเติมแล้วค่ะ"
        quick = (
            [render.tap("เพิ่มกิจกรรม", plan_views.data("plan.add", p=plan.id), "เพิ่มกิจกรรม")]
            if editable
            else None
        )
        ctx.reply(render.text(message, quick))
        return
    ctx.reply(card)


@registry.on_postback("plan.ready")
def set_ready_date(ctx: Context) -> None:
    plan = own_plan(ctx, "plan.ready")
    if plan is None:
        return
    assert ctx.user is not None
    try:
        day = date.fromisoformat(ctx.postback_params.get("date", ""))
    except ValueError:
        ctx.reply(render.text("กรุณาเลือกวันจากปฏิทินค่ะ"))
        return
    try:
        plans.set_ready(ctx.session, plan, day, ctx.user)
    except PlanError as exc:
        ctx.reply(render.text(str(exc)))
        return
    ctx.reply(render.text(f"บันทึกวันพร้อมรับการตรวจประเมิน: {thai_date(day)} แล้วค่ะ"))
    show_plan(ctx, plan)


@registry.on_postback("plan.submit")
def submit_plan(ctx: Context) -> None:
    plan = own_plan(ctx, "plan.submit")
    if plan is None:
        return
    assert ctx.user is not None
    try:
        plans.submit(ctx.session, plan, ctx.user)
    except PlanError as exc:
        ctx.reply(render.text(str(exc), [render.say("แผนของฉัน")]))
        return
    told_any = tell_officers(
        ctx,
        plan,
        lambda name: [
            render.text(f"{name} ส่งแผนพัฒนาตนเอง ปีงบประมาณ {plan.fiscal_year} ให้ตรวจค่ะ"),
            plan_views.plan_card(ctx.session, plan, viewer="officer", today=ctx.today),
        ],
    )
    told = "แจ้งเจ้าหน้าที่อำเภอแล้ว" if told_any else "ขณะนี้ยังไม่มีเจ้าหน้าที่อำเภอของคุณในระบบ เมื่อมีจะเห็นแผนนี้ทันที"
    ctx.reply(render.text(f"ส่งแผนเรียบร้อยแล้วค่ะ {told} กรุณารอผลการตรวจนะคะ"))
    show_plan(ctx, plan)


@registry.on_postback("plan.download")
def download_plan(ctx: Context) -> None:
    seen = visible_plan(ctx, "plan.download")
    if seen is None:
        return
    plan, _ = seen
    assert ctx.user is not None
    audit.record(ctx.session, "plan.download.link", "plan", plan.id, actor=ctx.user)
    ctx.reply(plan_views.download_card(ctx.links, plan, ctx.user.id))


@registry.on_postback("plan.view")
def view_leader_plan(ctx: Context) -> None:
    """An officer opens a leader's plan of this fiscal year from the leader's card."""
    leader_id = ctx.postback_id("l")
    profile = ctx.session.get(LeaderProfile, leader_id) if leader_id else None
    if profile is None or ctx.user is None or not access.can_view_leader(ctx.user, profile):
        _refuse(ctx, "plan.view", leader_id)
        return
    plan = plans.find(ctx.session, profile.user_id, plans.current_year(ctx.today))
    if plan is None:
        ctx.reply(render.text(f"{profile.full_name} ยังไม่ได้เริ่มเขียนแผนของปีงบประมาณนี้ค่ะ"))
        return
    show_plan(ctx, plan, viewer_of(ctx.user, plan))


# An activity's buttons -------------------------------------------------------------------
def _own_item(ctx: Context, action: str) -> PlanItem | None:
    item_id = ctx.postback_id("i")
    user = ctx.user
    item = plans.item_of(ctx.session, user.id, item_id) if item_id and user else None
    if item is None:
        audit.record(ctx.session, f"{action}.denied", "plan_item", item_id, actor=user)
        ctx.reply(render.text("ไม่พบกิจกรรมนี้แล้วค่ะ อาจถูกลบไปก่อนหน้านี้ กรุณาเปิดแผนจากเมนูอีกครั้ง"))
        return None
    if item.plan.status not in plans.EDITABLE:
        ctx.reply(render.text(_locked(item.plan)))
        return None
    return item


@registry.on_postback("item.edit")
def edit_activity(ctx: Context) -> None:
    item = _own_item(ctx, "item.edit")
    if item is not None:
        plan_item.start_editing(ctx, item)


@registry.on_postback("item.delete")
def ask_delete_activity(ctx: Context) -> None:
    item = _own_item(ctx, "item.delete")
    if item is None:
        return
    ctx.reply(
        render.buttons_card(
            "ลบกิจกรรมนี้ใช่ไหมคะ",
            item.activity,
            [
                render.button(
                    render.postback_action(
                        "ลบกิจกรรม", plan_views.data("item.delete.yes", i=item.id), "ยืนยันลบกิจกรรม"
                    ),
                    "primary",
                ),
                render.button(render.postback_action("ไม่ลบ", plan_views.data("item.keep"), "ไม่ลบ")),
            ],
        )
    )


@registry.on_postback("item.delete.yes")
def delete_activity(ctx: Context) -> None:
    item = _own_item(ctx, "item.delete")
    if item is None:
        return
    plan = item.plan
    user: User | None = ctx.user
    assert user is not None
    try:
        plans.delete_item(ctx.session, item, user)
    except PlanError as exc:
        ctx.reply(render.text(str(exc)))
        return
    ctx.session.refresh(plan)
    ctx.reply(render.text("ลบกิจกรรมแล้วค่ะ"))
    show_plan(ctx, plan)


@registry.on_postback("item.keep")
def keep_activity(ctx: Context) -> None:
    ctx.reply(render.text("ไม่ได้ลบกิจกรรมค่ะ"))

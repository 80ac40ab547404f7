"""The province's outstanding leader of the year (3.3): staff pick one certified leader and
write her profile story; she is then asked what the province's public page may show (3.4),
and only her own answer counts. The staff who marked her is told the answer."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot import render
from bot.context import Context
from bot.conversation import END, Flow
from bot.models import AuditLog, CommitteeDecision, LeaderProfile, Plan, User
from bot.registry import registry
from bot.render import FLOW_CHIPS
from bot.services import audit, fiscal
from bot.services import committee as service
from bot.services.committee import PUBLISHABLE, CommitteeError
from handlers.committee import NOT_YOURS, refuse
from handlers.common import province_staff

KEYWORD = "ผู้นำดีเด่น"
SKIP = "ข้าม"
PAGE = 10
# The leader's choices, in the order shown, and what each agrees to publish.
CHOICES: dict[str, tuple[str, list[str]]] = {
    "all": ("เผยแพร่ทั้งหมด", list(PUBLISHABLE)),
    "nophotos": ("ไม่เผยแพร่รูป", ["name", "area", "story"]),
    "namearea": ("เฉพาะชื่อและพื้นที่", ["name", "area"]),
    "none": ("ไม่ยินยอม", []),
}
ONLY_PROVINCE = "ขออภัยค่ะ การเลือกผู้นำดีเด่นใช้ได้เฉพาะเจ้าหน้าที่สำนักงานพัฒนาชุมชนจังหวัดเท่านั้นนะคะ"
NOT_FOR_YOU = "ขออภัยค่ะ คำถามนี้ใช้ได้เฉพาะผู้นำที่ได้รับเลือกเท่านั้นนะคะ"


def _owned_decision(ctx: Context, action: str, decision_id: int | None) -> CommitteeDecision | None:
    """A certified decision of the staff's own province; refuses (audited) otherwise."""
    staff = province_staff(ctx)
    decision = ctx.session.get(CommitteeDecision, decision_id) if decision_id else None
    if staff is None:
        refuse(ctx, action, decision_id, ONLY_PROVINCE)
        return None
    plan = ctx.session.get(Plan, decision.plan_id) if decision else None
    try:
        if decision is None or plan is None:
            raise CommitteeError(NOT_YOURS)
        service.check_staff(ctx.session, plan, staff)
    except CommitteeError as exc:
        refuse(ctx, action, decision_id, str(exc))
        return None
    return decision


@registry.on_keyword(KEYWORD, roles=("province",), describe="เลือกผู้นำดีเด่นของจังหวัด", order=14)
def outstanding_list(ctx: Context) -> None:
    staff = province_staff(ctx)
    if staff is None or staff.area_code is None:
        refuse(ctx, "outstanding.list", None, ONLY_PROVINCE)
        return
    year = fiscal.year_of(ctx.today)
    rows = service.certified(ctx.session, staff.area_code, year)
    if not rows:
        ctx.reply(render.text(f"ยังไม่มีผู้นำที่ได้รับการรับรองในปีงบประมาณ {year} จึงยังเลือกผู้นำดีเด่นไม่ได้ค่ะ"))
        return
    options = [
        {
            "label": f"{'⭐ ' if d.outstanding else ''}{p.full_name} ({d.certificate_no})",
            "data": f"a=os.pick&d={d.id}",
        }
        for d, p in rows
    ]
    current = next((p.full_name for d, p in rows if d.outstanding), None)
    title = f"ผู้นำดีเด่น ปีงบประมาณ {year}"
    hint = f"ตอนนี้: ⭐ {current}" if current else "ยังไม่ได้เลือก แตะชื่อผู้นำที่คณะกรรมการเลือก"
    pages = [options[i : i + PAGE] for i in range(0, len(options), PAGE)][:12]
    ctx.reply(render.flex("choices.json", title, title=title, hint=hint, pages=pages))


@registry.on_keyword(KEYWORD)
def not_for_others(ctx: Context) -> None:
    refuse(ctx, "outstanding.list", None, ONLY_PROVINCE)


# The story ---------------------------------------------------------------------------------
flow = registry.add_flow(
    Flow("outstanding", cancelled="ยกเลิกแล้วค่ะ ยังไม่ได้เปลี่ยนผู้นำดีเด่น", title="ผู้นำดีเด่น")
)


@registry.on_postback("os.pick")
def pick(ctx: Context) -> None:
    decision = _owned_decision(ctx, "outstanding.pick", ctx.postback_id("d"))
    if decision is None:
        return
    if decision.result != "certified":
        ctx.reply(render.text("เลือกผู้นำดีเด่นได้เฉพาะผู้นำที่ได้รับการรับรองแล้วค่ะ"))
        return
    profile = ctx.session.get(LeaderProfile, decision.leader_id)
    flow.start(ctx, {"decision_id": decision.id, "name": profile.full_name if profile else ""})


def ask_story(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    values = Flow.data(ctx)
    decision = ctx.session.get(CommitteeDecision, values.get("decision_id"))
    has_story = bool(decision and decision.story)
    skip = "ใช้ประวัติเดิม" if has_story else "ยังไม่ใส่ประวัติ"
    return [
        render.text(
            f"พิมพ์ประวัติและผลงานของ {values.get('name', '')} สำหรับหน้าผู้นำดีเด่นของจังหวัด "
            f'(ไม่เกิน {service.STORY_MAX:,} ตัวอักษร) หรือแตะ "{SKIP}" เพื่อ{skip}ค่ะ',
            [render.say(SKIP), *FLOW_CHIPS],
        )
    ]


story_step = flow.step(
    "story",
    ask=ask_story,
    help="เล่าสั้น ๆ ว่าผู้นำทำอะไรให้ชุมชน เช่น รวมกลุ่มทอผ้าขายได้ปีละ 2 แสนบาท สร้างรายได้ให้ 30 ครัวเรือน",
)


@story_step.text
def on_story(ctx: Context, text: str) -> str | None:
    values = Flow.data(ctx)
    decision = _owned_decision(ctx, "outstanding.mark", values.get("decision_id"))
    if decision is None:
        return END
    assert ctx.user is not None
    story = None if text.strip() == SKIP else text
    try:
        previous = service.mark_outstanding(ctx.session, decision, ctx.user, story)
    except CommitteeError as exc:
        ctx.reply(render.text(str(exc), [render.say(SKIP), *FLOW_CHIPS]))
        return None if decision.result == "certified" else END
    said = (
        f"บันทึก {values.get('name', '')} เป็นผู้นำดีเด่นของจังหวัด ปีงบประมาณ {decision.fiscal_year} แล้วค่ะ"
    )
    if previous is not None:
        before = ctx.session.get(LeaderProfile, previous.leader_id)
        said += f" (แทน {before.full_name if before else 'ผู้นำคนเดิม'})"
    said += "\n" + _ask_leader(ctx, decision)
    ctx.reply(render.text(said))
    return END


# The leader's consent to publish -----------------------------------------------------------
def consent_card(decision: CommitteeDecision) -> dict[str, Any]:
    buttons = [
        render.button(
            render.postback_action(label, f"a=os.publish&d={decision.id}&v={key}", label),
            "primary" if key == "all" else "secondary",
        )
        for key, (label, _) in CHOICES.items()
    ]
    return render.flex(
        "buttons.json",
        "ขอความยินยอมเผยแพร่ข้อมูลผู้นำดีเด่น",
        title="ยินดีด้วยค่ะ 🎉 คุณได้รับเลือกเป็นผู้นำดีเด่นของจังหวัด",
        body=(
            f"จังหวัดขอเผยแพร่ข้อมูลของคุณบนหน้าผู้นำดีเด่น ปีงบประมาณ {decision.fiscal_year} "
            "ได้แก่ ชื่อ-นามสกุล ตำบล อำเภอ ประวัติและผลงาน และรูปกิจกรรม\n"
            "คุณยินยอมให้เผยแพร่ข้อมูลใดบ้างคะ เปลี่ยนใจภายหลังได้โดยแจ้งเจ้าหน้าที่จังหวัด"
        ),
        buttons=buttons,
    )


def _ask_leader(ctx: Context, decision: CommitteeDecision) -> str:
    if decision.publish_answered_at is not None:
        return f"ผู้นำเคยตอบเรื่องการเผยแพร่ไว้แล้ว: {describe(decision.publish or [])}"
    leader = ctx.session.get(User, decision.leader_id)
    if leader is None or not leader.following:
        return "ผู้นำเลิกติดตามบัญชีนี้แล้ว จึงถามความยินยอมทางแชตไม่ได้ กรุณาสอบถามทางอื่นค่ะ"
    ctx.push(leader, [consent_card(decision)])
    return "ส่งคำถามเรื่องการเผยแพร่ข้อมูลให้ผู้นำแล้ว จะแจ้งคำตอบให้ทราบค่ะ"


def describe(fields: list[str]) -> str:
    if not fields:
        return "ไม่ยินยอมให้เผยแพร่ข้อมูล"
    return "ยินยอมให้เผยแพร่ " + ", ".join(PUBLISHABLE[f] for f in fields)


def _marker(ctx: Context, decision: CommitteeDecision) -> User | None:
    """The staff who last marked this leader outstanding (from the audit log)."""
    actor_id = ctx.session.scalar(
        select(AuditLog.actor_user_id)
        .where(
            AuditLog.action == "committee.outstanding",
            AuditLog.entity == "plan",
            AuditLog.entity_id == str(decision.plan_id),
        )
        .order_by(AuditLog.id.desc())
        .limit(1)
    )
    return ctx.session.get(User, actor_id) if actor_id else None


@registry.on_postback("os.publish")
def on_publish(ctx: Context) -> None:
    decision_id = ctx.postback_id("d")
    decision = ctx.session.get(CommitteeDecision, decision_id) if decision_id else None
    choice = CHOICES.get(ctx.postback.get("v", ""))
    user = ctx.user
    if decision is None or user is None or user.id != decision.leader_id or choice is None:
        audit.record(
            ctx.session, "profile.publish.denied", "plan", str(decision_id)[:20], actor=user
        )
        ctx.reply(render.text(NOT_FOR_YOU))
        return
    try:
        service.set_publish(ctx.session, decision, user, choice[1], ctx.now)
    except CommitteeError as exc:
        ctx.reply(render.text(str(exc)))
        return
    ctx.reply(render.text(f"ขอบคุณค่ะ บันทึกแล้ว: คุณ{describe(decision.publish or [])}"))
    staff = _marker(ctx, decision)
    profile = ctx.session.get(LeaderProfile, decision.leader_id)
    if staff is not None:
        name = profile.full_name if profile else "ผู้นำดีเด่น"
        answer = describe(decision.publish or [])
        ctx.push(staff, [render.text(f"{name} ตอบเรื่องการเผยแพร่แล้วค่ะ: {answer}")])

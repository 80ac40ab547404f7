"""Evidence photos, videos and files: receiving them, "which activity?", captions, the
evidence carousel and deleting one's own.

Content is recorded at once and fetched in the background (`bot.intake`), which also tells
the leader how it went ("รับรูปที่ 3 แล้วค่ะ"). A flow keeps the activity being collected for:
started from an activity's "ส่งหลักฐาน" button, every photo goes there until "เสร็จแล้ว"; after
"which activity?" the choice holds for the rest of that set of photos.
"""

from __future__ import annotations

from typing import Any

from bot import render
from bot.context import Context
from bot.conversation import END, IDLE, Flow
from bot.models import Evidence, LeaderProfile, Plan, PlanItem
from bot.outbox import REPLY_TOKEN_LIFE
from bot.registry import normalize_text, registry
from bot.services import access, audit, evidence, plans
from bot.services.evidence import KIND_LABELS, EvidenceError
from bot.services.thai import thai_date
from handlers import plan_views
from handlers.common import help_message

PAGE = 11  # + a "ดูเพิ่มเติม" bubble = LINE's 12 per carousel
DONE_WORDS = {"เสร็จแล้ว", "เสร็จ", "ครบแล้ว", "จบ"}
CHOICES = 12  # quick replies: 13 at most, one kept for ยกเลิก
ICONS = {"video": "🎬", "file": "📄", "image": "🖼"}
NOT_FOUND = "ไม่พบกิจกรรมนี้แล้วค่ะ อาจถูกลบไปก่อนหน้านี้ กรุณาเปิดแผนจากเมนูอีกครั้ง"


def _discard(ctx: Context) -> None:
    if ctx.user is not None and flow.data(ctx).get("item_id") is None:
        n = evidence.discard_unassigned(ctx.session, ctx.user)
        if n:
            ctx.reply(render.text(f"ไม่ได้บันทึก {n} รายการที่ส่งมาค่ะ"))


flow = registry.add_flow(
    Flow(
        "evidence",
        cancelled='เลิกส่งหลักฐานแล้วค่ะ พิมพ์ "แผนของฉัน" เพื่อกลับไปที่แผนได้ทุกเมื่อ',
        title="การส่งหลักฐาน",
        on_cancel=_discard,
    )
)


def _item(ctx: Context, item_id: int | None) -> PlanItem | None:
    user = ctx.user
    return plans.item_of(ctx.session, user.id, item_id) if item_id and user else None


def start_collecting(ctx: Context, item: PlanItem) -> None:
    """From an activity's card: everything sent goes to this activity until "เสร็จแล้ว"."""
    flow.start(ctx, {"item_id": item.id, "sticky": True}, at="collect")


# Content messages ------------------------------------------------------------------------
@registry.on_message("image")
@registry.on_message("video")
@registry.on_message("file")
def on_content(ctx: Context) -> None:
    user = ctx.user
    if user is None or user.role != "leader" or user.status != "active":
        ctx.reply(render.text("ขอบคุณค่ะ ระบบรับรูปและไฟล์หลักฐานจากผู้นำสัมมาชีพที่ลงทะเบียนแล้วเท่านั้นนะคะ"))
        ctx.reply(help_message(user))
        return
    message = ctx.event.message
    image_set = getattr(message, "image_set", None)
    set_id = image_set.id if image_set is not None else None
    state = ctx.conversation
    fresh = state is not None and ctx.now - state.updated_at <= IDLE
    if state is not None and state.flow != flow.name and fresh:
        other = registry.flows.get(state.flow)
        title = other.title if other else "ข้อมูล"
        ctx.reply(
            render.text(
                f"ตอนนี้คุณกรอก{title}ค้างอยู่ค่ะ จึงยังไม่ได้รับ{KIND_LABELS[message.type]}นี้\n"
                'กรุณากรอกให้เสร็จ หรือพิมพ์ "ยกเลิก" ก่อน แล้วส่งอีกครั้งนะคะ',
                [render.say("ทำต่อ"), render.say("ยกเลิก")],
            )
        )
        return
    values = flow.data(ctx) if state is not None and state.flow == flow.name and fresh else {}
    same_set = set_id is not None and set_id == values.get("set")
    at = state.state if values else None
    token = ctx.reply_token

    def receive(item_id: int | None, reply_token: str | None) -> Evidence:
        return evidence.receive(
            ctx.session,
            user,
            message_id=message.id,
            kind=message.type,
            item_id=item_id,
            set_id=set_id,
            file_name=getattr(message, "file_name", None),
            reply_token=reply_token,
            reply_by=ctx.inbox.received_at + REPLY_TOKEN_LIFE,
        )

    if at == "collect" and (values.get("sticky") or same_set):
        item = _item(ctx, values.get("item_id"))
        if item is not None:
            receive(item.id, token)  # the fetcher answers with this event's reply token
            return
    if at == "choose" and same_set:
        receive(None, token)  # the question is already on screen for this set
        return
    plan = plans.find(ctx.session, user.id, plans.current_year(ctx.today))
    if not evidence.activities_to_ask(ctx.session, user.id, plan):
        ctx.reply(
            render.text(
                f"ขออภัยค่ะ แผนของคุณยังไม่มีกิจกรรม จึงยังแนบ{KIND_LABELS[message.type]}นี้ไม่ได้\n"
                "กรุณาเพิ่มกิจกรรมในแผนก่อน แล้วส่งอีกครั้งนะคะ",
                [render.say("แผนของฉัน")],
            )
        )
        return
    receive(None, None)  # this event's reply token asks the question
    assert plan is not None
    flow.start(ctx, {"set": set_id, "plan_id": plan.id, "kind": message.type}, at="choose")


# Step: which activity --------------------------------------------------------------------
def _choices(ctx: Context) -> list[tuple[int, PlanItem]]:
    user = ctx.user
    plan_id = flow.data(ctx).get("plan_id")
    plan = ctx.session.get(Plan, plan_id) if plan_id else None
    if user is None or plan is None or plan.leader_id != user.id:
        return []
    numbers = {item.id: n for n, item in enumerate(plan.items, start=1)}
    ordered = evidence.activities_to_ask(ctx.session, user.id, plan)
    return [(numbers[i.id], i) for i in ordered]


def ask_activity(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    label = KIND_LABELS.get(flow.data(ctx).get("kind", "image"), "รูป")
    choices = _choices(ctx)
    lines = [f"{n}. {render.clip(item.activity, 60)}" for n, item in choices[:CHOICES]]
    chips = [
        render.tap(
            f"{n}. {item.activity}", flow.postback_data(ctx, "pick", i=item.id), f"กิจกรรมที่ {n}"
        )
        for n, item in choices[:CHOICES]
    ]
    return [
        render.text(
            f"{label}นี้เป็นหลักฐานของกิจกรรมไหนคะ แตะเลือกด้านล่าง หรือพิมพ์เลขกิจกรรม\n" + "\n".join(lines),
            [*chips, render.say("ยกเลิก")],
        )
    ]


choose = flow.step(
    "choose",
    ask=ask_activity,
    help='แตะชื่อกิจกรรมที่รูปหรือไฟล์นี้เป็นหลักฐาน หรือพิมพ์เลขกิจกรรม เช่น 2\nพิมพ์ "ยกเลิก" หากไม่ต้องการบันทึกสิ่งที่ส่งมา',
)


def _attach(ctx: Context, item: PlanItem | None) -> str | None:
    if item is None:
        ctx.reply(render.text(NOT_FOUND))
        return None
    assert ctx.user is not None
    rows = evidence.unassigned(ctx.session, ctx.user.id)
    n = evidence.assign(ctx.session, rows, item, ctx.user)
    flow.update(ctx, item_id=item.id)
    kinds = {r.kind for r in rows}
    label = KIND_LABELS[kinds.pop()] if len(kinds) == 1 else "หลักฐาน"
    ctx.reply(
        render.text(f'แนบ{label} {n} รายการกับกิจกรรม "{render.clip(item.activity, 80)}" แล้วค่ะ')
    )
    return "collect"


@choose.postback
def on_pick(ctx: Context, data: dict[str, str]) -> str | None:
    raw = data.get("i", "")
    return _attach(ctx, _item(ctx, int(raw) if raw.isascii() and raw.isdigit() else None))


@choose.text
def on_number(ctx: Context, text: str) -> str | None:
    digits = text.strip().removeprefix("กิจกรรมที่").strip()
    chosen = [item for n, item in _choices(ctx) if str(n) == digits]
    if not chosen:
        ctx.reply(render.text("กรุณาแตะเลือกกิจกรรมจากปุ่มด้านล่าง หรือพิมพ์เลขกิจกรรมค่ะ"))
        flow.ask(ctx)
        return None
    return _attach(ctx, chosen[0])


# Step: collecting for one activity -------------------------------------------------------
def ask_more(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    item = _item(ctx, flow.data(ctx).get("item_id"))
    name = render.clip(item.activity, 80) if item else ""
    return [
        render.text(
            f'ส่งรูป วิดีโอ หรือไฟล์ของกิจกรรม "{name}" ได้เลยค่ะ\n'
            'พิมพ์ข้อความเพื่อใส่คำอธิบายรูปล่าสุด และแตะ "เสร็จแล้ว" เมื่อส่งครบ',
            [render.say("เสร็จแล้ว"), render.say("ยกเลิก")],
        )
    ]


collect = flow.step(
    "collect",
    ask=ask_more,
    help='ส่งรูปได้ทีละหลายรูป แล้วพิมพ์คำอธิบาย เช่น "อบรมกลุ่มทอผ้า 12 มี.ค." '
    'คำอธิบายจะใส่ให้รูปชุดล่าสุด แตะ "เสร็จแล้ว" เมื่อส่งครบค่ะ',
)


@collect.text
def on_caption(ctx: Context, text: str) -> str | None:
    item = _item(ctx, flow.data(ctx).get("item_id"))
    if item is None:
        ctx.reply(render.text(NOT_FOUND))
        return END
    if normalize_text(text) in DONE_WORDS:
        n = len(evidence.shown(ctx.session, item.id))
        ctx.reply(
            render.text(
                f'กิจกรรม "{render.clip(item.activity, 80)}" มีหลักฐาน {n} รายการแล้วค่ะ ขอบคุณค่ะ',
                [
                    render.tap("ดูหลักฐาน", plan_views.data("evidence.list", i=item.id), "ดูหลักฐาน"),
                    render.tap(
                        "อัปเดตความคืบหน้า",
                        plan_views.data("progress.item", i=item.id),
                        "อัปเดตความคืบหน้า",
                    ),
                ],
            )
        )
        return END
    assert ctx.user is not None
    try:
        n = evidence.describe(ctx.session, ctx.user, item.id, text)
    except EvidenceError as exc:
        ctx.reply(render.text(str(exc), [render.say("เสร็จแล้ว")]))
        return None
    ctx.reply(render.text(f"บันทึกคำอธิบายให้ {n} รายการแล้วค่ะ", [render.say("เสร็จแล้ว")]))
    return None


@registry.on_postback("evidence.send")
def send_evidence(ctx: Context) -> None:
    item = _item(ctx, ctx.postback_id("i"))
    if item is None:
        audit.record(ctx.session, "evidence.send.denied", "plan_item", ctx.postback_id("i"))
        ctx.reply(render.text(NOT_FOUND))
        return
    start_collecting(ctx, item)


# The evidence carousel -------------------------------------------------------------------
def _visible_item(ctx: Context) -> PlanItem | None:
    item_id = ctx.postback_id("i")
    item = ctx.session.get(PlanItem, item_id) if item_id else None
    profile = ctx.session.get(LeaderProfile, item.plan.leader_id) if item else None
    if item is None or profile is None or ctx.user is None:
        ctx.reply(render.text(NOT_FOUND))
        return None
    if not access.can_view_leader(ctx.user, profile):
        audit.record(ctx.session, "evidence.list.denied", "plan_item", item_id, actor=ctx.user)
        ctx.reply(render.text(NOT_FOUND))
        return None
    return item


@registry.on_postback("evidence.list")
def list_evidence(ctx: Context) -> None:
    item = _visible_item(ctx)
    if item is None:
        return
    assert ctx.user is not None
    owner = ctx.user.id == item.plan.leader_id
    rows = evidence.shown(ctx.session, item.id)
    page = ctx.postback_id("page") or 0
    shown = rows[page * PAGE : (page + 1) * PAGE]
    if not shown:
        send = plan_views.data("evidence.send", i=item.id)
        chips = [render.tap("ส่งหลักฐาน", send, "ส่งหลักฐาน")] if owner else None
        ctx.reply(render.text("กิจกรรมนี้ยังไม่มีหลักฐานค่ะ", chips))
        return
    bubbles = [_bubble(ctx, row, item, owner) for row in shown]
    remaining = len(rows) - (page + 1) * PAGE
    more = None
    if remaining > 0:
        more = {
            "count": remaining,
            "action": render.postback_action(
                "ดูเพิ่มเติม", plan_views.data("evidence.list", i=item.id, page=page + 1), "ดูเพิ่มเติม"
            ),
        }
    ctx.reply(
        render.flex(
            "evidence_list.json",
            f"หลักฐานของกิจกรรม {render.clip(item.activity, 100)} ({len(rows)} รายการ)",
            items=bubbles,
            more=more,
        )
    )


def _bubble(ctx: Context, row: Evidence, item: PlanItem, owner: bool) -> dict[str, Any]:
    assert ctx.user is not None
    links = ctx.links
    viewer = ctx.user.id

    def link(variant: str) -> str | None:
        return (
            links.url("/files/evidence", "evidence", e=row.id, u=viewer, v=variant)
            if links
            else None
        )

    when = row.taken_at or row.created_at
    buttons = []
    if row.kind != "image" and (url := link("file")):
        buttons.append(render.button(render.uri_action("เปิดไฟล์", url), "primary"))
    if owner:
        buttons.append(
            render.button(
                render.postback_action(
                    "ลบ", plan_views.data("evidence.delete", e=row.id), "ลบหลักฐาน"
                )
            )
        )
    return {
        "thumb": link("thumb") if row.kind == "image" else None,
        "heading": item.activity,
        "icon": ICONS.get(row.kind, "📄"),
        "name": row.file_name or KIND_LABELS.get(row.kind, "ไฟล์"),
        "date": ("ถ่ายเมื่อ " if row.taken_at else "ส่งเมื่อ ") + thai_date(when, ctx.timezone),
        "caption": row.caption,
        "buttons": buttons,
    }


# Deleting one's own ----------------------------------------------------------------------
def _own(ctx: Context) -> Evidence | None:
    evidence_id = ctx.postback_id("e")
    row = evidence.own(ctx.session, ctx.user.id, evidence_id) if ctx.user and evidence_id else None
    if row is None:
        audit.record(ctx.session, "evidence.delete.denied", "evidence", evidence_id, actor=ctx.user)
        ctx.reply(render.text("ไม่พบหลักฐานนี้แล้วค่ะ อาจถูกลบไปก่อนหน้านี้"))
    return row


@registry.on_postback("evidence.delete")
def ask_delete(ctx: Context) -> None:
    row = _own(ctx)
    if row is None:
        return
    label = KIND_LABELS.get(row.kind, "ไฟล์")
    ctx.reply(
        render.buttons_card(
            f"ลบ{label}นี้ใช่ไหมคะ",
            row.caption or row.file_name or f"{label}ที่ส่งเมื่อ {thai_date(row.created_at)}",
            [
                render.button(
                    render.postback_action(
                        "ลบ", plan_views.data("evidence.delete.yes", e=row.id), f"ยืนยันลบ{label}"
                    ),
                    "primary",
                ),
                render.button(
                    render.postback_action("ไม่ลบ", plan_views.data("evidence.keep"), "ไม่ลบ")
                ),
            ],
        )
    )


@registry.on_postback("evidence.delete.yes")
def delete(ctx: Context) -> None:
    row = _own(ctx)
    if row is None:
        return
    assert ctx.user is not None
    evidence.delete(ctx.session, row, ctx.user)
    item_id = row.plan_item_id
    chips = (
        [render.tap("ดูหลักฐาน", plan_views.data("evidence.list", i=item_id), "ดูหลักฐาน")]
        if item_id
        else None
    )
    ctx.reply(render.text("ลบหลักฐานแล้วค่ะ", chips))


@registry.on_postback("evidence.keep")
def keep(ctx: Context) -> None:
    ctx.reply(render.text("ไม่ได้ลบหลักฐานค่ะ"))

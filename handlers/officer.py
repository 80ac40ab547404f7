"""The district officer's leaders in LINE: a paged carousel filtered by state or searched by
name or subdistrict, and one leader's card. Officers see their district's leaders only."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from bot import render
from bot.context import Context
from bot.conversation import END, Flow
from bot.models import LeaderProfile, User
from bot.registry import registry
from bot.render import FLOW_CHIPS
from bot.services import access, areas, audit, committee, inspection, plans, workspace
from bot.services.digest import STATES, state_of
from bot.services.thai import format_phone, thai_date
from bot.services.workspace import FILTERS, LeaderRow, Page
from handlers.common import audience, needs_role, not_understood

DENIED = "ขออภัยค่ะ คุณดูข้อมูลได้เฉพาะผู้นำในพื้นที่ที่คุณรับผิดชอบเท่านั้น"
LATE_COLOR, QUIET_COLOR, PLAIN_COLOR = "#C0392B", "#888888", "#111111"
WAITING_STATES = {"submitted", "assessment"}  # the officer's own to-dos


def data(action: str, **values: str | int) -> str:
    return urlencode({"a": action, **values})


def list_data(page: Page, state: str | None = None, offset: int = 0) -> str:
    values: dict[str, str | int] = {"st": state or page.state, "o": offset}
    if page.search:
        values["q"] = page.search
    return data("officer.leaders", **values)


# The carousel ------------------------------------------------------------------------------
def _buttons(row: LeaderRow) -> list[dict[str, Any]]:
    buttons = [render.button(render.postback_action("ดูแผน", data("plan.view", l=row.user_id)))]
    if row.plan_id is not None:
        buttons.append(
            render.button(
                render.postback_action(
                    "ความก้าวหน้า", data("progress.view", p=row.plan_id), "ดูความก้าวหน้า"
                )
            )
        )
    if row.awaiting_answer and row.plan_id is not None:
        buttons += [
            render.button(
                render.postback_action(
                    "ตรวจประเมินได้", data("assess.accept", p=row.plan_id), "รับเรื่องตรวจประเมิน"
                ),
                "primary",
            ),
            render.button(
                render.postback_action(
                    "ขอข้อมูลเพิ่มเติม", data("assess.more", p=row.plan_id), "ขอข้อมูลเพิ่มเติม"
                )
            ),
        ]
    if row.can_inspect and row.plan_id is not None:
        label = "แก้ผลการตรวจ" if row.state == "inspected" else "บันทึกผลการตรวจ"
        style = "secondary" if row.state == "inspected" or row.awaiting_answer else "primary"
        buttons.append(
            render.button(
                render.postback_action(label, data("inspect", p=row.plan_id), label), style
            )
        )
    return buttons


def _bubble(row: LeaderRow) -> dict[str, Any]:
    if row.plan_id is None:
        progress, evidence = "ยังไม่มีกิจกรรม", "-"
    else:
        progress = f"เสร็จ {row.done} · กำลังทำ {row.in_progress} · ยังไม่เริ่ม {row.not_started}"
        evidence = f"{row.evidence} รายการ"
    late = f"{row.late} กิจกรรม" if row.late else "ไม่มี"
    return {
        "open": render.postback_action(
            row.name, data("leader", id=row.user_id), f"ดูข้อมูล {row.name}"
        ),
        "subdistrict": row.subdistrict,
        "name": row.name,
        "state": row.state_label,
        "state_color": LATE_COLOR if row.state in WAITING_STATES else "#1F6E43",
        "rows": [
            {"label": "ความก้าวหน้า", "value": progress, "color": PLAIN_COLOR},
            {"label": "หลักฐาน", "value": evidence, "color": PLAIN_COLOR},
            {
                "label": "เลยกำหนด",
                "value": late,
                "color": LATE_COLOR if row.late else QUIET_COLOR,
            },
        ],
        "buttons": _buttons(row),
    }


def _chips(page: Page) -> list[dict[str, Any]]:
    chips = []
    if page.next_offset is not None:
        chips.append(render.tap("ถัดไป", list_data(page, offset=page.next_offset), "ดูผู้นำถัดไป"))
    for key, (label, _) in FILTERS.items():
        if key != page.state:
            count = page.counts.get(key, 0)
            chips.append(render.tap(f"{label} {count}", list_data(page, key), label))
    chips.append(render.say("ค้นหา"))
    if page.search:
        chips.append(render.tap("ล้างการค้นหา", data("officer.leaders", st=page.state), "ล้างการค้นหา"))
    return chips


def _heading(ctx: Context, page: Page) -> str:
    assert ctx.user is not None
    where = areas.label(ctx.user.area_code or "")
    parts = [f"ผู้นำใน{where} {page.total} คน"]
    if page.state != "all":
        parts.append(f"สถานะ: {FILTERS[page.state][0]}")
    if page.search:
        parts.append(f'ค้นหา "{page.search}"')
    return " · ".join(parts)


def show_page(ctx: Context, state: str | None, search: str, offset: int) -> None:
    assert ctx.user is not None
    page = workspace.leaders(ctx.session, ctx.user, state, search, offset, today=ctx.today)
    chips = _chips(page)
    if not page.rows:
        ctx.reply(render.text(_empty(ctx, page), chips))
        return
    first, last = page.offset + 1, page.offset + len(page.rows)
    more = None
    if page.next_offset is not None:
        more = {
            "text": f"อีก {page.total - last} คน",
            "action": render.postback_action(
                "ดูเพิ่มเติม", list_data(page, offset=page.next_offset), "ดูผู้นำถัดไป"
            ),
        }
    heading = f"{_heading(ctx, page)} · คนที่ {first}–{last}"
    carousel = render.flex(
        "officer_leaders.json", heading, leaders=[_bubble(r) for r in page.rows], more=more
    )
    # The chips ride on a text after the carousel: LINE shows quick replies of the last message.
    hint = "แตะชื่อเพื่อดูข้อมูลผู้นำ เลือกสถานะ หรือค้นหาได้จากปุ่มด้านล่างค่ะ"
    ctx.reply(carousel, render.text(f"{heading}\n{hint}", chips))


def _empty(ctx: Context, page: Page) -> str:
    if page.offset and page.total:
        return "ไม่มีรายชื่อเพิ่มเติมแล้วค่ะ"
    if page.search:
        return f'ไม่พบผู้นำที่ชื่อหรือตำบลตรงกับ "{page.search}" ค่ะ ลองพิมพ์คำอื่น หรือแตะ "ล้างการค้นหา"'
    if page.state != "all":
        return f"ไม่มีผู้นำในสถานะ {FILTERS[page.state][0]} ค่ะ"
    assert ctx.user is not None
    return f"ยังไม่มีผู้นำลงทะเบียนใน{areas.label(ctx.user.area_code or '')}ค่ะ"


@registry.on_keyword("ผู้นำในอำเภอ", roles=("officer",), describe="รายชื่อผู้นำในอำเภอของคุณ", order=10)
def leaders_in_district(ctx: Context) -> None:
    if needs_role(ctx, "officer"):
        show_page(ctx, "all", "", 0)


@registry.on_postback("officer.leaders")
def leaders_page(ctx: Context) -> None:
    if needs_role(ctx, "officer"):
        show_page(ctx, ctx.postback.get("st"), ctx.postback.get("q", ""), ctx.postback_id("o") or 0)


# Search ------------------------------------------------------------------------------------
search_flow = registry.add_flow(
    Flow("leader_search", cancelled="ยกเลิกการค้นหาแล้วค่ะ", title="คำค้นหา")
)
SEARCH_HELP = 'พิมพ์ชื่อหรือนามสกุลของผู้นำ เช่น "สมศรี" หรือชื่อตำบล เช่น "หอคำ" ค่ะ'


def ask_search(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    return [render.text("พิมพ์ชื่อผู้นำ หรือชื่อตำบลที่ต้องการค้นหาค่ะ", FLOW_CHIPS)]


query_step = search_flow.step("query", ask=ask_search, help=SEARCH_HELP)


@query_step.text
def on_query(ctx: Context, text: str) -> str | None:
    wanted = workspace.clean_search(text.removeprefix("ค้นหา"))
    if not wanted:
        ctx.reply(render.text(SEARCH_HELP, FLOW_CHIPS))
        return None
    show_page(ctx, "all", wanted, 0)
    return END


@registry.on_keyword(
    "ค้นหา", "ค้นหาผู้นำ", roles=("officer",), describe="ค้นหาผู้นำตามชื่อหรือตำบล", order=11
)
def start_search(ctx: Context) -> None:
    if needs_role(ctx, "officer"):
        search_flow.start(ctx)


@registry.on_pattern(r"ค้นหา\s+\S.*")
def search_typed(ctx: Context) -> None:
    """The search typed at once, as in "ค้นหา สมศรี". Patterns come before flows and keywords
    for everyone, so text from anyone but an officer goes on the way any text would."""
    text = (ctx.text or "").strip()
    user = ctx.user
    state = ctx.conversation
    if user is None or user.role != "officer" or user.status != "active":
        if state is not None and state.flow in registry.flows:
            registry.flows[state.flow].handle_text(ctx, text)
        elif keyword := registry.keyword(text, audience(user)):
            keyword(ctx)
        else:
            not_understood(ctx)
        return
    if state is not None and state.flow == search_flow.name:
        search_flow.finish(ctx)
    elif state is not None:
        Flow.update(ctx, _paused=True)  # as for a menu keyword: the form waits for later
    show_page(ctx, "all", text.removeprefix("ค้นหา"), 0)


# One leader --------------------------------------------------------------------------------
def _leader_buttons(ctx: Context, profile: LeaderProfile) -> tuple[str, list[dict[str, str]]]:
    plan = plans.find(ctx.session, profile.user_id, plans.current_year(ctx.today))
    buttons = [{"label": "ดูแผนพัฒนาตนเอง", "data": data("plan.view", l=profile.user_id)}]
    if plan is None:
        return STATES["no_plan"], buttons
    started = any(i.state != "not_started" for i in plan.items)
    state = STATES[state_of(plan.status, plan.assessment_status, started)]
    buttons.append({"label": "ความก้าวหน้าและหลักฐาน", "data": data("progress.view", p=plan.id)})
    viewer = ctx.user
    decided = committee.of(ctx.session, plan.id)
    if decided is not None:
        state = f"คณะกรรมการ{committee.RESULTS.get(decided.result, decided.result)}แล้ว"
    elif plan.status == "approved" and viewer is not None and viewer.role in {"officer", "admin"}:
        done = inspection.of(ctx.session, plan.id) is not None
        label = "แก้ผลการตรวจ" if done else "บันทึกผลการตรวจ"
        buttons.append({"label": label, "data": data("inspect", p=plan.id)})
    return state, buttons


@registry.on_postback("leader")
def view_leader(ctx: Context) -> None:
    viewer: User | None = ctx.user
    assert viewer is not None
    raw_id = ctx.postback.get("id", "")
    leader_id = ctx.postback_id("id")
    profile = ctx.session.get(LeaderProfile, leader_id) if leader_id is not None else None
    if profile is None or not access.can_view_leader(viewer, profile):
        # The same answer whether the leader exists or not: no probing other areas.
        audit.record(ctx.session, "leader.view.denied", "user", raw_id[:20], actor=viewer)
        ctx.reply(render.text(DENIED))
        return
    leader = ctx.session.get(User, profile.user_id)
    state, buttons = _leader_buttons(ctx, profile)
    rows = [
        {"label": "พื้นที่", "value": areas.label(profile.subdistrict_code)},
        {"label": "โทร", "value": format_phone(profile.phone) if profile.phone else "ไม่ระบุ"},
        {"label": "ลงทะเบียน", "value": thai_date(profile.registered_at)},
        {"label": "LINE", "value": "ติดตามอยู่" if leader and leader.following else "เลิกติดตามแล้ว"},
        {"label": "แผนปีนี้", "value": state},
    ]
    ctx.reply(
        render.flex(
            "profile.json",
            f"ผู้นำ: {profile.full_name}",
            heading="ผู้นำสัมมาชีพชุมชน",
            name=profile.full_name,
            rows=rows,
            buttons=buttons,
        )
    )

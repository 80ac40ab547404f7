"""Province broadcasts of assessment dates: the keyword, the list of upcoming broadcasts, and the
staff's form for a new one (date and time, place, audience, note; its last step, the preview and
sending, is in `handlers.broadcast_send`). Also the checks the other broadcast handlers share:
who is province staff, whose broadcast a button is for, the date and time a picker gave.

Changes and cancellation are in `handlers.broadcast_changes`, the leaders' answers in
`handlers.appointment`, the cards in `handlers.broadcast_views`; `bot.services.broadcasts`
records and queues what is sent."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot import render
from bot.context import Context
from bot.conversation import Flow
from bot.models import Broadcast
from bot.registry import registry
from bot.render import FLOW_CHIPS
from bot.services import areas
from bot.services import broadcasts as service
from bot.services.broadcasts import BroadcastError
from bot.services.thai import parse_date, to_arabic_digits
from handlers import broadcast_views as views
from handlers import common
from handlers.broadcast_views import KEYWORD, when_long
from handlers.common import province_staff

DISTRICTS_PER_PAGE = 10
ONLY_PROVINCE = (
    "ขออภัยค่ะ การประกาศวันประเมินใช้ได้เฉพาะเจ้าหน้าที่สำนักงานพัฒนาชุมชนจังหวัดเท่านั้นนะคะ "
    "หากได้รับนัดหมายประเมิน จะมีข้อความแจ้งมาในแชตนี้ค่ะ"
)
NOT_YOURS = "ขออภัยค่ะ ไม่พบประกาศนี้ หรือประกาศนี้ไม่ใช่ของจังหวัดที่คุณรับผิดชอบ"
_TIME = re.compile(r"^(.*?)\s*(?:เวลา)?\s*(\d{1,2})[:.](\d{2})\s*(?:น\.?)?$")


# Who may do what, and the picked time (shared by the broadcast handlers) ------------------
def refuse(ctx: Context, action: str, entity_id: object, message: str) -> None:
    common.refuse(ctx, action, "broadcast", entity_id, message)


def owned(ctx: Context, action: str, broadcast_id: int | None = None) -> Broadcast | None:
    """The postback's broadcast if the user is staff of its province (from the DB)."""
    broadcast_id = broadcast_id if broadcast_id is not None else ctx.postback_id("b")
    broadcast = service.owned(ctx.session, ctx.user, broadcast_id)
    if broadcast is None:
        refuse(ctx, action, broadcast_id, NOT_YOURS)
    return broadcast


def picked(ctx: Context) -> datetime | None:
    """The date and time chosen in a picker, in the app's time zone."""
    try:
        value = datetime.fromisoformat(ctx.postback_params.get("datetime", ""))
    except ValueError:
        return None
    return value.replace(tzinfo=ZoneInfo(ctx.timezone))


def _typed(text: str, tz: str) -> datetime | None:
    """'20 มิ.ย. 70 09:30', '20/6/2570 9.30 น.' …"""
    match = _TIME.match(to_arabic_digits(text.strip()))
    if match is None:
        return None
    day = parse_date(match.group(1))
    hours, minutes = int(match.group(2)), int(match.group(3))
    if day is None or hours > 23 or minutes > 59:
        return None
    return datetime.combine(day, time(hours, minutes), ZoneInfo(tz))


# The keyword and the list ------------------------------------------------------------------
@registry.on_keyword(
    KEYWORD, roles=("province",), describe="ประกาศวันประเมินให้ผู้นำและพัฒนากร", order=20
)
def broadcasts_menu(ctx: Context) -> None:
    staff = province_staff(ctx)
    if staff is None:
        refuse(ctx, "broadcast.menu", None, ONLY_PROVINCE)
        return
    items = service.upcoming(ctx.session, staff.area_code[:2], ctx.now, views.LIST_MAX)  # type: ignore[index]
    if not items:
        flow.start(ctx)
        return
    ctx.reply(views.list_card(ctx, items))


@registry.on_keyword(KEYWORD)
def not_for_others(ctx: Context) -> None:
    """Leaders and officers who type the province's keyword are told whose it is."""
    refuse(ctx, "broadcast.menu", None, ONLY_PROVINCE)


@registry.on_postback("bc.new")
def new_broadcast(ctx: Context) -> None:
    if province_staff(ctx) is None:
        refuse(ctx, "bc.new", None, ONLY_PROVINCE)
        return
    flow.start(ctx)


# The form ----------------------------------------------------------------------------------
# Steps when › place › audience › (districts) › note here; "preview" in handlers.broadcast_send.
flow = registry.add_flow(
    Flow("broadcast", cancelled="ยกเลิกแล้วค่ะ ยังไม่ได้ส่งประกาศใด ๆ", title="ประกาศวันประเมิน")
)


def _values(ctx: Context) -> dict[str, Any]:
    return Flow.data(ctx)


def _now_showing(ctx: Context, key: str, shown: str | None = None) -> str:
    value = _values(ctx).get(key)
    return f"\n(ตอนนี้: {shown or value})" if value else ""


def ask_when(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    values = _values(ctx)
    chosen = datetime.fromisoformat(values["starts_at"]) if values.get("starts_at") else None
    tomorrow = datetime.combine(ctx.today + timedelta(days=1), time(9, 0), ZoneInfo(ctx.timezone))
    picker = views.picker(
        "เลือกวันและเวลา",
        flow.postback_data(ctx, "when"),
        chosen or tomorrow,
        views.next_minute(ctx.now, ctx.timezone),
        views.year_end(ctx.today, ctx.timezone),
        ctx.timezone,
    )
    shown = when_long(chosen, ctx.timezone) if chosen else None
    return [
        render.text(
            "ขั้นที่ 1/5 วันและเวลาประเมิน\n"
            'แตะ "เลือกวันและเวลา" หรือพิมพ์ เช่น 20 มิ.ย. 70 09:30'
            + _now_showing(ctx, "starts_at", shown),
            [render.chip(picker), *FLOW_CHIPS],
        )
    ]


when_step = flow.step(
    "when",
    ask=ask_when,
    help="เลือกวันและเวลาที่คณะกรรมการจะประเมินผู้นำ ภายในปีงบประมาณนี้ หรือพิมพ์ เช่น 20 มิ.ย. 70 09:30 ค่ะ",
)


def _take_when(ctx: Context, moment: datetime | None) -> str | None:
    if moment is None:
        ctx.reply(render.text("อ่านวันและเวลาไม่ออกค่ะ กรุณาเลือกจากปฏิทิน หรือพิมพ์ เช่น 20 มิ.ย. 70 09:30"))
        ctx.reply(*ask_when(ctx, flow))
        return None
    try:
        service.check_starts_at(moment, ctx.now, views.year_end(ctx.today, ctx.timezone))
    except BroadcastError as exc:
        ctx.reply(render.text(str(exc)))
        ctx.reply(*ask_when(ctx, flow))
        return None
    Flow.update(ctx, starts_at=moment.isoformat())
    return "place"


@when_step.postback
def on_when_pick(ctx: Context, data: dict[str, str]) -> str | None:
    return _take_when(ctx, picked(ctx))


@when_step.text
def on_when_text(ctx: Context, text: str) -> str | None:
    return _take_when(ctx, _typed(text, ctx.timezone))


def ask_place(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    return [
        render.text(
            f"ขั้นที่ 2/5 พิมพ์สถานที่ประเมิน (ไม่เกิน {service.PLACE_MAX} ตัวอักษร)\n"
            "เช่น ห้องประชุมสำนักงานพัฒนาชุมชนจังหวัด ชั้น 2" + _now_showing(ctx, "place"),
            FLOW_CHIPS,
        )
    ]


place_step = flow.step(
    "place", ask=ask_place, help="พิมพ์ชื่อสถานที่ให้ผู้นำหาเจอ เช่น ห้องประชุมที่ว่าการอำเภอเซกา ชั้น 2"
)


@place_step.text
def on_place(ctx: Context, text: str) -> str | None:
    try:
        place = service.check_place(text)
    except BroadcastError as exc:
        ctx.reply(render.text(str(exc), FLOW_CHIPS))
        return None
    Flow.update(ctx, place=place)
    return "audience"


def ask_audience(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    chips = [
        render.tap(label, flow.postback_data(ctx, "audience", v=key), label)
        for key, label in service.AUDIENCES.items()
    ]
    return [render.text("ขั้นที่ 3/5 ส่งประกาศถึงใครคะ", [*chips, *FLOW_CHIPS])]


audience_step = flow.step(
    "audience",
    ask=ask_audience,
    help="ผู้นำทั้งจังหวัด, ผู้นำบางอำเภอ (เลือกอำเภอต่อไป), เฉพาะพัฒนากร หรือทุกคน (ผู้นำและพัฒนากร)",
)


@audience_step.postback
def on_audience(ctx: Context, data: dict[str, str]) -> str | None:
    audience = data.get("v", "")
    if audience not in service.AUDIENCES:
        ctx.reply(render.text("กรุณาเลือกผู้รับจากปุ่มค่ะ"))
        return None
    Flow.update(ctx, audience=audience)
    if audience == "districts":
        return "districts"
    Flow.update(ctx, district_codes=[])
    return "note"


def province_code(ctx: Context) -> str:
    assert ctx.user is not None and ctx.user.area_code
    return ctx.user.area_code[:2]


def ask_districts(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    chosen = set(_values(ctx).get("district_codes") or [])
    options = [
        {
            "on": d.code in chosen,
            "action": render.postback_action(
                ("✓ " if d.code in chosen else "") + d.name,
                flow.postback_data(ctx, "toggle", d=d.code),
            ),
        }
        for d in areas.districts(province_code(ctx))
    ]
    pages = [
        options[i : i + DISTRICTS_PER_PAGE] for i in range(0, len(options), DISTRICTS_PER_PAGE)
    ]
    names = views.district_names(sorted(chosen))
    done = render.postback_action("เสร็จ", flow.postback_data(ctx, "done"), "เสร็จ")
    card = render.flex(
        "broadcast_districts.json",
        "เลือกอำเภอที่จะส่งประกาศ",
        title="ขั้นที่ 3/5 เลือกอำเภอ",
        chosen=f"เลือกแล้ว: {names}" if names else "แตะชื่ออำเภอเพื่อเลือก แตะอีกครั้งเพื่อเอาออก",
        pages=pages,
        done=done,
    )
    return [render.with_quick(card, [render.chip(done), *FLOW_CHIPS])]


districts_step = flow.step(
    "districts",
    ask=ask_districts,
    help='แตะชื่ออำเภอเพื่อเลือก (แตะซ้ำเพื่อเอาออก) เลือกได้หลายอำเภอ แล้วแตะ "เสร็จ" ค่ะ',
)


@districts_step.postback
def on_district(ctx: Context, data: dict[str, str]) -> str | None:
    chosen = list(_values(ctx).get("district_codes") or [])
    if data.get("a") == "done":
        if not chosen:
            ctx.reply(render.text("กรุณาเลือกอย่างน้อย 1 อำเภอค่ะ"))
            ctx.reply(*ask_districts(ctx, flow))
            return None
        return "note"
    code = data.get("d", "")
    if code not in {d.code for d in areas.districts(province_code(ctx))}:
        ctx.reply(render.text("กรุณาเลือกอำเภอจากปุ่มค่ะ"))
        return None
    chosen = [c for c in chosen if c != code] if code in chosen else [*chosen, code]
    Flow.update(ctx, district_codes=sorted(chosen))
    ctx.reply(*ask_districts(ctx, flow))
    return None


def ask_note(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    return [
        render.text(
            f"ขั้นที่ 4/5 หมายเหตุถึงผู้รับ (ถ้ามี ไม่เกิน {service.NOTE_MAX} ตัวอักษร)\n"
            'เช่น "กรุณานำเอกสารสรุปผลงานมาด้วย" หรือแตะ "ข้าม"',
            [render.say("ข้าม"), *FLOW_CHIPS],
        )
    ]


note_step = flow.step("note", ask=ask_note, help='พิมพ์สิ่งที่ผู้รับควรรู้หรือเตรียม หรือแตะ "ข้าม" ถ้าไม่มีค่ะ')


@note_step.text
def on_note(ctx: Context, text: str) -> str | None:
    if text.strip() in {"ข้าม", "ไม่มี", "-"}:
        Flow.update(ctx, note="")
        return "preview"
    try:
        note = service.check_note(text)
    except BroadcastError as exc:
        ctx.reply(render.text(str(exc), [render.say("ข้าม"), *FLOW_CHIPS]))
        return None
    Flow.update(ctx, note=note)
    return "preview"

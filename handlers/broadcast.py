"""Province broadcasts of assessment dates: the staff's form (date and time, place, audience,
note, preview, send or schedule), the list with change and cancel, the leaders' answers
(รับทราบ / ขอเลื่อน) and the answers the province sees. The cards are built here and handed to
`bot.services.broadcasts`, which records and queues them; the scheduler uses them too."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from pythainlp.util import thai_strftime

from bot import render
from bot.context import Context
from bot.conversation import END, Flow
from bot.models import Appointment, Broadcast, QuotaReading, User
from bot.notify import QuietHours
from bot.registry import registry
from bot.render import FLOW_CHIPS
from bot.services import areas, audit, fiscal, quota
from bot.services import broadcasts as service
from bot.services.broadcasts import BroadcastError
from bot.services.thai import parse_date, thai_date, to_arabic_digits

KEYWORD = "ประกาศวันประเมิน"
LIST_MAX = 11  # with the "new" bubble, a carousel's 12
DISTRICTS_PER_PAGE = 10
REASONS_SHOWN = 15
ONLY_PROVINCE = (
    "ขออภัยค่ะ การประกาศวันประเมินใช้ได้เฉพาะเจ้าหน้าที่สำนักงานพัฒนาชุมชนจังหวัดเท่านั้นนะคะ "
    "หากได้รับนัดหมายประเมิน จะมีข้อความแจ้งมาในแชตนี้ค่ะ"
)
NOT_IN_AUDIENCE = "ขออภัยค่ะ ปุ่มนี้ใช้ได้เฉพาะผู้นำที่ได้รับนัดหมายนี้เท่านั้นนะคะ"
NOT_YOURS = "ขออภัยค่ะ ไม่พบประกาศนี้ หรือประกาศนี้ไม่ใช่ของจังหวัดที่คุณรับผิดชอบ"
HEADINGS = {
    "new": ("นัดหมายการประเมิน มชช.", "#1F6E43"),
    "changed": ("แจ้งเปลี่ยนนัดหมายการประเมิน", "#B7791F"),
    "cancelled": ("แจ้งยกเลิกนัดหมายการประเมิน", "#9B2C2C"),
}
LEADS = {
    ("new", "leader"): "ขอเชิญผู้นำสัมมาชีพชุมชนเข้ารับการประเมินตามมาตรฐาน มชช. ตามวันเวลาด้านล่างค่ะ",
    ("new", "officer"): "แจ้งพัฒนากร: จังหวัดนัดประเมินผู้นำสัมมาชีพชุมชนตามวันเวลาด้านล่างค่ะ",
    ("changed", "leader"): "นัดประเมินมีการเปลี่ยนแปลงค่ะ กรุณายึดวันเวลาและสถานที่ด้านล่างนี้",
    ("changed", "officer"): "นัดประเมินผู้นำมีการเปลี่ยนแปลงค่ะ กรุณายึดวันเวลาและสถานที่ด้านล่างนี้",
    ("cancelled", "leader"): "จังหวัดขอยกเลิกนัดประเมินนี้ค่ะ ขออภัยในความไม่สะดวก จะแจ้งนัดใหม่อีกครั้งนะคะ",
    ("cancelled", "officer"): "จังหวัดขอยกเลิกนัดประเมินผู้นำนี้ค่ะ จะแจ้งนัดใหม่อีกครั้งนะคะ",
}
_TIME = re.compile(r"^(.*?)\s*(?:เวลา)?\s*(\d{1,2})[:.](\d{2})\s*(?:น\.?)?$")


# Times -------------------------------------------------------------------------------------
def _local(moment: datetime, tz: str) -> datetime:
    return moment.astimezone(ZoneInfo(tz))


def when_long(moment: datetime, tz: str) -> str:
    """'วันอาทิตย์ที่ 20 มิถุนายน 2570 เวลา 09:30 น.'"""
    local = _local(moment, tz)
    return f"{thai_strftime(local, '%A')}ที่ {thai_date(local.date())} เวลา {local:%H:%M} น."


def when_short(moment: datetime, tz: str) -> str:
    """'20 มิ.ย. 70 09:30 น.'"""
    local = _local(moment, tz)
    return f"{thai_date(local.date(), short=True)} {local:%H:%M} น."


def _picker_value(moment: datetime, tz: str) -> str:
    return f"{_local(moment, tz):%Y-%m-%dT%H:%M}"


def datetime_action(
    label: str, data: str, initial: datetime, earliest: datetime, latest: datetime, tz: str
) -> dict[str, Any]:
    """A date-and-time picker; the choice comes back in the postback's params."""
    latest = max(latest, earliest)
    initial = min(max(initial, earliest), latest)
    return {
        "type": "datetimepicker",
        "label": render.clip(label, 40),
        "data": data,
        "mode": "datetime",
        "initial": _picker_value(initial, tz),
        "min": _picker_value(earliest, tz),
        "max": _picker_value(latest, tz),
    }


def _picked(ctx: Context) -> datetime | None:
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


def _next_minute(ctx: Context) -> datetime:
    local = _local(ctx.now, ctx.timezone).replace(second=0, microsecond=0)
    return local + timedelta(minutes=1)


def _year_end(ctx: Context) -> datetime:
    last = fiscal.bounds(fiscal.year_of(ctx.today))[1]
    return datetime.combine(last, time(23, 59), ZoneInfo(ctx.timezone))


def _quiet(ctx: Context) -> QuietHours:
    return QuietHours(service.DEFAULT_QUIET.start, service.DEFAULT_QUIET.end, ctx.timezone)


def _quiet_note(quiet: QuietHours, moment: datetime, tz: str) -> str | None:
    if not quiet.contains(moment):
        return None
    morning = quiet.next_allowed(moment)
    return (
        f"ช่วง {quiet.start:%H:%M}–{quiet.end:%H:%M} น. เป็นช่วงงดส่งข้อความ "
        f"ประกาศจะส่งออกเวลา {quiet.end:%H:%M} น. ของวันที่ {thai_date(morning, tz)} ค่ะ"
    )


# The cards ---------------------------------------------------------------------------------
def _district_names(codes: list[str]) -> str:
    return ", ".join(areas.label(code).split(" ")[0] for code in codes)


def audience_text(broadcast: Broadcast) -> str:
    if broadcast.audience == "districts":
        return f"ผู้นำใน {_district_names(list(broadcast.district_codes or []))}"
    if broadcast.audience == "everyone":
        return "ผู้นำและพัฒนากรทั้งจังหวัด"
    return service.AUDIENCES.get(broadcast.audience, "")


def _data(action: str, **values: str | int) -> str:
    return urlencode({"a": action, **values})


def appointment_card(
    broadcast: Broadcast, role: str, kind: str, tz: str, *, sample: bool = False
) -> dict[str, Any]:
    """The card a leader (with answer buttons) or an officer gets; `sample` for the preview,
    whose buttons only explain themselves."""
    heading, colour = HEADINGS[kind]
    province = areas.find(broadcast.province_code)
    local = _local(broadcast.starts_at, tz)
    struck = kind == "cancelled"
    rows = [
        {
            "label": "วันที่",
            "value": f"{thai_strftime(local, '%A')}ที่ {thai_date(local.date())}",
            "strike": struck,
        },
        {"label": "เวลา", "value": f"{local:%H:%M} น.", "strike": struck},
        {"label": "สถานที่", "value": broadcast.place, "strike": struck},
    ]
    if broadcast.note:
        rows.append({"label": "หมายเหตุ", "value": broadcast.note, "strike": False})
    if role == "officer":
        rows.append({"label": "ผู้รับ", "value": audience_text(broadcast), "strike": False})
    buttons = []
    if role == "leader" and kind != "cancelled":
        ids = {"b": broadcast.id or 0, "r": broadcast.revision or 1}
        ack = _data("bc.sample") if sample else _data("bc.ack", **ids)
        postpone = _data("bc.sample") if sample else _data("bc.postpone", **ids)
        buttons = [
            render.button(render.postback_action("รับทราบ", ack, "รับทราบ"), "primary"),
            render.button(render.postback_action("ขอเลื่อน", postpone, "ขอเลื่อน")),
        ]
        footnote = 'กรุณาแตะ "รับทราบ" หรือ "ขอเลื่อน" (พร้อมเหตุผล) เพื่อแจ้งจังหวัดค่ะ'
    elif kind == "cancelled":
        footnote = "ไม่ต้องตอบกลับค่ะ"
    elif broadcast.audience == "officers":
        footnote = "ประกาศนี้ส่งถึงพัฒนากรเท่านั้นค่ะ"
    else:
        footnote = "ผู้นำในกลุ่มผู้รับได้รับนัดหมายนี้ทาง LINE แล้ว ช่วยติดตามผู้นำที่ยังไม่ตอบด้วยนะคะ"
    return render.flex(
        "appointment.json",
        f"{heading}: {when_short(broadcast.starts_at, tz)} ณ {broadcast.place}",
        heading=heading,
        colour=colour,
        sender=f"จากสำนักงานพัฒนาชุมชนจังหวัด{province.name if province else ''}",
        lead=LEADS[(kind, role)],
        rows=rows,
        footnote=footnote,
        buttons=buttons,
    )


def cards_for(kind: str, tz: str) -> service.Cards:
    return lambda broadcast, role: [appointment_card(broadcast, role, kind, tz)]


def summary_card(
    title: str,
    subtitle: str,
    stats: list[tuple[str, str]],
    *,
    lines_title: str | None = None,
    lines: list[str] | None = None,
    footnote: str = " ",
    buttons: list[dict[str, Any]] | None = None,
    alt: str | None = None,
) -> dict[str, Any]:
    return render.flex(
        "broadcast_summary.json",
        alt or f"{title} {subtitle}",
        title=title,
        subtitle=subtitle,
        stats=[{"label": label, "value": value} for label, value in stats],
        lines_title=lines_title if lines else None,
        lines=lines or [],
        footnote=footnote,
        buttons=buttons or [],
    )


def report_message(broadcast: Broadcast, report: service.Report, tz: str) -> dict[str, Any]:
    """The sender's delivery report, pushed when every multicast has ended."""
    reasons = [f"• {reason}: {count:,} คน" for reason, count in sorted(report.reasons.items())]
    return summary_card(
        "รายงานการส่งประกาศวันประเมิน",
        f"นัด {when_short(broadcast.starts_at, tz)} ณ {render.clip(broadcast.place, 200)}",
        [
            ("ส่งสำเร็จ", f"{report.sent:,} คน"),
            ("ข้าม (บล็อกบัญชี LINE)", f"{report.skipped:,} คน"),
            ("ส่งไม่สำเร็จ", f"{report.failed:,} คน"),
        ],
        lines_title="สาเหตุที่ส่งไม่สำเร็จ",
        lines=reasons,
        footnote="ผู้นำตอบ รับทราบ หรือ ขอเลื่อน ได้จากการ์ดนัดหมาย ดูคำตอบได้จากปุ่มด้านล่างค่ะ",
        buttons=[render.button(_answers_action(broadcast), "primary")],
        alt=f"รายงานการส่งประกาศ: สำเร็จ {report.sent:,} คน ข้าม {report.skipped:,} คน "
        f"ไม่สำเร็จ {report.failed:,} คน",
    )


def _answers_action(broadcast: Broadcast) -> dict[str, Any]:
    return render.postback_action("ดูคำตอบ", _data("bc.answers", b=broadcast.id), "ดูคำตอบ")


def answers_card(ctx: Context, broadcast: Broadcast) -> dict[str, Any]:
    seen = service.answers(ctx.session, broadcast, REASONS_SHOWN)
    lines = [
        f"• {name} ({areas.label(district).split(' ')[0] if district else '-'}): "
        f"{render.clip(reason, 200)}"
        for name, district, reason in seen.reasons
    ]
    if seen.postpone > len(seen.reasons):
        lines.append(f"และอีก {seen.postpone - len(seen.reasons):,} คน")
    title = f"คำตอบนัดประเมิน {when_short(broadcast.starts_at, ctx.timezone)}"
    return summary_card(
        title,
        f"ณ {render.clip(broadcast.place, 200)} · ผู้รับ: {audience_text(broadcast)}",
        [
            ("รับทราบ", f"{seen.acknowledged:,} คน"),
            ("ขอเลื่อน", f"{seen.postpone:,} คน"),
            ("ยังไม่ตอบ", f"{seen.waiting:,} คน"),
        ],
        lines_title="เหตุผลที่ขอเลื่อน",
        lines=lines,
        footnote=f"สถานะ: {service.STATUS_LABELS.get(broadcast.status, '')} · "
        f'แก้ไขประกาศได้จากเมนู "{KEYWORD}"',
        alt=f"{title}: รับทราบ {seen.acknowledged:,} ขอเลื่อน {seen.postpone:,} "
        f"ยังไม่ตอบ {seen.waiting:,}",
    )


# Who may do what ---------------------------------------------------------------------------
def _staff(ctx: Context) -> User | None:
    user = ctx.user
    if user and user.role == "province" and user.status == "active" and user.area_code:
        return user
    return None


def _refuse(ctx: Context, action: str, entity_id: object, message: str) -> None:
    audit.record(ctx.session, f"{action}.denied", "broadcast", str(entity_id)[:20], actor=ctx.user)
    ctx.reply(render.text(message))


def _owned(ctx: Context, action: str, broadcast_id: int | None = None) -> Broadcast | None:
    """The postback's broadcast if the user is staff of its province (from the DB)."""
    broadcast_id = broadcast_id if broadcast_id is not None else ctx.postback_id("b")
    broadcast = service.owned(ctx.session, ctx.user, broadcast_id)
    if broadcast is None:
        _refuse(ctx, action, broadcast_id, NOT_YOURS)
    return broadcast


# The keyword and the list ------------------------------------------------------------------
@registry.on_keyword(
    KEYWORD, roles=("province",), describe="ประกาศวันประเมินให้ผู้นำและพัฒนากร", order=20
)
def broadcasts_menu(ctx: Context) -> None:
    staff = _staff(ctx)
    if staff is None:
        _refuse(ctx, "broadcast.menu", None, ONLY_PROVINCE)
        return
    items = service.upcoming(ctx.session, staff.area_code[:2], ctx.now, LIST_MAX)  # type: ignore[index]
    if not items:
        flow.start(ctx)
        return
    ctx.reply(_list_card(ctx, items))


@registry.on_keyword(KEYWORD)
def not_for_others(ctx: Context) -> None:
    """Leaders and officers who type the province's keyword are told whose it is."""
    _refuse(ctx, "broadcast.menu", None, ONLY_PROVINCE)


def _list_card(ctx: Context, items: list[Broadcast]) -> dict[str, Any]:
    tz = ctx.timezone
    bubbles = []
    for broadcast in items:
        # Clipped: eleven bubbles must stay within a carousel's 50 KB.
        lines = [
            f"ณ {render.clip(broadcast.place, 150)}",
            f"ผู้รับ: {render.clip(audience_text(broadcast), 100)}",
        ]
        if broadcast.status == "scheduled":
            status = f"ตั้งเวลาส่ง {when_short(broadcast.send_at, tz)}"
            buttons = []
        else:
            seen = service.answers(ctx.session, broadcast, shown=0)
            status = f"{service.STATUS_LABELS[broadcast.status]} {broadcast.recipients:,} คน"
            lines.append(
                f"รับทราบ {seen.acknowledged:,} · ขอเลื่อน {seen.postpone:,} · "
                f"ยังไม่ตอบ {seen.waiting:,}"
            )
            buttons = [render.button(_answers_action(broadcast), "primary")]
        picker = datetime_action(
            "เปลี่ยนวันเวลา",
            _data("bc.when", b=broadcast.id),
            broadcast.starts_at,
            _next_minute(ctx),
            _year_end(ctx),
            tz,
        )
        buttons += [
            render.button(picker),
            render.button(
                render.postback_action(
                    "เปลี่ยนสถานที่", _data("bc.place", b=broadcast.id), "เปลี่ยนสถานที่"
                )
            ),
            render.button(
                render.postback_action(
                    "ยกเลิกประกาศ", _data("bc.cancel", b=broadcast.id), "ยกเลิกประกาศ"
                )
            ),
        ]
        bubbles.append(
            {
                "when": when_short(broadcast.starts_at, tz),
                "status": status,
                "lines": lines,
                "buttons": buttons,
            }
        )
    return render.flex(
        "broadcast_list.json",
        f"ประกาศวันประเมินที่กำลังจะถึง {len(items)} รายการ",
        items=bubbles,
        hint="นัดวันประเมินใหม่ เลือกผู้รับ และดูตัวอย่างก่อนส่งค่ะ",
        new=render.postback_action("สร้างประกาศใหม่", _data("bc.new"), "สร้างประกาศใหม่"),
    )


@registry.on_postback("bc.new")
def new_broadcast(ctx: Context) -> None:
    if _staff(ctx) is None:
        _refuse(ctx, "bc.new", None, ONLY_PROVINCE)
        return
    flow.start(ctx)


# The form ----------------------------------------------------------------------------------
flow = registry.add_flow(
    Flow("broadcast", cancelled="ยกเลิกแล้วค่ะ ยังไม่ได้ส่งประกาศใด ๆ", title="ประกาศวันประเมิน")
)


def _values(ctx: Context) -> dict[str, Any]:
    return Flow.data(ctx)


def _draft(ctx: Context) -> service.Draft:
    values = _values(ctx)
    return service.Draft(
        starts_at=datetime.fromisoformat(values["starts_at"]),
        place=values["place"],
        note=values.get("note") or None,
        audience=values["audience"],
        district_codes=list(values.get("district_codes") or []),
    )


def _now_showing(ctx: Context, key: str, shown: str | None = None) -> str:
    value = _values(ctx).get(key)
    return f"\n(ตอนนี้: {shown or value})" if value else ""


def ask_when(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    values = _values(ctx)
    chosen = datetime.fromisoformat(values["starts_at"]) if values.get("starts_at") else None
    tomorrow = datetime.combine(ctx.today + timedelta(days=1), time(9, 0), ZoneInfo(ctx.timezone))
    picker = datetime_action(
        "เลือกวันและเวลา",
        flow.postback_data(ctx, "when"),
        chosen or tomorrow,
        _next_minute(ctx),
        _year_end(ctx),
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
        service.check_starts_at(moment, ctx.now, _year_end(ctx))
    except BroadcastError as exc:
        ctx.reply(render.text(str(exc)))
        ctx.reply(*ask_when(ctx, flow))
        return None
    Flow.update(ctx, starts_at=moment.isoformat())
    return "place"


@when_step.postback
def on_when_pick(ctx: Context, data: dict[str, str]) -> str | None:
    return _take_when(ctx, _picked(ctx))


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


def _province(ctx: Context) -> str:
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
        for d in areas.districts(_province(ctx))
    ]
    pages = [
        options[i : i + DISTRICTS_PER_PAGE] for i in range(0, len(options), DISTRICTS_PER_PAGE)
    ]
    names = _district_names(sorted(chosen))
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
    if code not in {d.code for d in areas.districts(_province(ctx))}:
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


def _transient(ctx: Context, draft: service.Draft) -> Broadcast:
    """An unsaved broadcast, to draw the preview with the very code that draws the real card."""
    return Broadcast(
        province_code=_province(ctx),
        starts_at=draft.starts_at,
        place=draft.place,
        note=draft.note,
        audience=draft.audience,
        district_codes=draft.district_codes,
        revision=1,
        status="scheduled",
    )


def _quota_lines(
    reading: QuotaReading | None, cost: int, tz: str
) -> tuple[list[tuple[str, str]], list[str]]:
    if reading is None:
        return [], ["ยังไม่มีข้อมูลโควตาของเดือนนี้ (ระบบอ่านจาก LINE วันละครั้ง)"]
    read = f"ข้อมูลโควตา ณ {when_short(reading.read_at, tz)}"
    if reading.limit is None:
        return [("โควตาเดือนนี้", "ไม่จำกัด")], [read]
    left = quota.left(reading) or 0
    stats = [
        ("ใช้ไปแล้วเดือนนี้", f"{reading.used:,} / {reading.limit:,}"),
        ("เหลือหลังส่ง", f"{left - cost:,} ข้อความ"),
    ]
    lines = [read]
    if cost > left:
        lines.insert(0, "⚠️ โควตาที่เหลือไม่พอสำหรับประกาศนี้ ข้อความบางส่วนอาจส่งไม่สำเร็จ")
    return stats, lines


def ask_preview(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    draft = _draft(ctx)
    sample = _transient(ctx, draft)
    found = service.resolve(ctx.session, sample.province_code, draft.audience, draft.district_codes)
    role = "officer" if draft.audience == "officers" else "leader"
    card = appointment_card(sample, role, "new", ctx.timezone, sample=True)
    if found.recipients == 0:
        again = render.tap("เลือกผู้รับใหม่", flow.postback_data(ctx, "audience"), "เลือกผู้รับใหม่")
        return [
            card,
            render.text(
                f'ยังไม่มีผู้รับในกลุ่ม "{audience_text(sample)}" ที่ติดตามบัญชีอยู่ค่ะ '
                f"(บล็อกบัญชี {found.skipped:,} คน) กรุณาเลือกผู้รับกลุ่มอื่น",
                [again, *FLOW_CHIPS],
            ),
        ]
    cost = found.cost(1, 1)
    stats: list[tuple[str, str]] = []
    if draft.audience != "officers":
        stats.append(("ผู้นำ", f"{len(found.reachable_leaders):,} คน"))
    if draft.audience in {"officers", "everyone"}:
        stats.append(("พัฒนากร", f"{len(found.reachable_officers):,} คน"))
    stats += [("ข้าม (บล็อกบัญชี LINE)", f"{found.skipped:,} คน"), ("ใช้โควตา", f"{cost:,} ข้อความ")]
    reading = quota.latest(ctx.session, ctx.now, ctx.timezone)
    more_stats, lines = _quota_lines(reading, cost, ctx.timezone)
    quiet_note = _quiet_note(_quiet(ctx), ctx.now, ctx.timezone)
    if quiet_note:
        lines.insert(0, f"ขณะนี้อยู่ใน{quiet_note.replace('ประกาศจะ', 'หากแตะ ส่งเลย ประกาศจะ')}")
    send_at = datetime_action(
        "ตั้งเวลาส่ง",
        flow.postback_data(ctx, "schedule"),
        ctx.now + timedelta(hours=1),
        _next_minute(ctx),
        draft.starts_at - timedelta(minutes=1),
        ctx.timezone,
    )
    shown = "พัฒนากร" if role == "officer" else "ผู้นำ"
    summary = summary_card(
        "ตรวจสอบก่อนส่งประกาศ",
        f"การ์ดด้านบนคือสิ่งที่{shown}จะได้รับค่ะ · ผู้รับ: {audience_text(sample)}",
        stats + more_stats,
        lines_title="หมายเหตุ",
        lines=lines,
        footnote='แตะ "ส่งเลย" เพื่อส่งทันที หรือ "ตั้งเวลาส่ง" เพื่อเลือกเวลาส่งค่ะ',
        buttons=[
            render.button(
                render.postback_action("ส่งเลย", flow.postback_data(ctx, "send"), "ส่งเลย"),
                "primary",
            ),
            render.button(send_at),
            render.button(render.message_action("แก้ไข", "ย้อนกลับ")),
            render.button(render.message_action("ยกเลิก")),
        ],
        alt=f"ตรวจสอบก่อนส่งประกาศ: ผู้รับ {found.recipients:,} คน ใช้โควตา {cost:,} ข้อความ",
    )
    return [card, summary]


preview_step = flow.step(
    "preview",
    ask=ask_preview,
    help='แตะ "ส่งเลย" "ตั้งเวลาส่ง" "แก้ไข" (ย้อนกลับไปแก้) หรือ "ยกเลิก" ค่ะ',
)


@preview_step.postback
def on_preview(ctx: Context, data: dict[str, str]) -> str | None:
    action = data.get("a")
    if action == "audience":
        return "audience"
    staff = _staff(ctx)
    if staff is None:
        _refuse(ctx, "broadcast.send", None, ONLY_PROVINCE)
        return END
    send_at = ctx.now if action == "send" else _picked(ctx)
    if action not in {"send", "schedule"} or send_at is None:
        ctx.reply(render.text("กรุณาเลือกจากปุ่มในการ์ดด้านบนค่ะ"))
        return None
    draft = _draft(ctx)
    quiet = _quiet(ctx)
    try:
        service.check_starts_at(draft.starts_at, ctx.now, _year_end(ctx))
        if action == "schedule" and send_at <= ctx.now:
            raise BroadcastError("เวลาส่งต้องเป็นเวลาในอนาคตค่ะ กรุณาเลือกใหม่")
        broadcast = service.create(ctx.session, staff, draft, send_at=send_at, now=ctx.now)
    except BroadcastError as exc:
        ctx.reply(render.text(str(exc), FLOW_CHIPS))
        return None
    if action == "schedule":
        lines = [f"ตั้งเวลาส่งประกาศแล้วค่ะ จะส่งออก{when_long(send_at, ctx.timezone)}"]
        if note := _quiet_note(quiet, send_at, ctx.timezone):
            lines.append(f"เวลานั้นอยู่ใน{note}")
    else:
        found = service.queue(
            ctx.session, broadcast, cards_for("new", ctx.timezone), now=ctx.now, quiet=quiet
        )
        assert found is not None
        lines = [
            f"ส่งประกาศวันประเมินแล้วค่ะ ({when_short(broadcast.starts_at, ctx.timezone)})",
            f"ผู้รับ: ผู้นำ {len(found.reachable_leaders):,} คน พัฒนากร "
            f"{len(found.reachable_officers):,} คน",
        ]
        if found.skipped:
            lines.append(f"ข้าม {found.skipped:,} คนที่บล็อกบัญชี LINE")
        if note := _quiet_note(quiet, ctx.now, ctx.timezone):
            lines.append(f"ขณะนี้อยู่ใน{note}")
        lines.append("เมื่อส่งครบแล้ว จะส่งรายงานการส่งให้ทราบนะคะ")
    lines.append(f'ดู แก้ไข หรือยกเลิกประกาศได้จากเมนู "{KEYWORD}" ค่ะ')
    ctx.reply(render.text("\n".join(lines), [render.say(KEYWORD)]))
    return END


# Changing and cancelling -------------------------------------------------------------------
def _told(count: int, broadcast: Broadcast) -> str:
    if broadcast.status == "scheduled":
        return "ประกาศนี้ยังไม่ได้ส่ง จะส่งตามเวลาที่ตั้งไว้พร้อมข้อมูลใหม่ค่ะ"
    return f"แจ้งผู้รับเดิม {count:,} คนแล้วค่ะ"


@registry.on_postback("bc.when")
def change_when(ctx: Context) -> None:
    broadcast = _owned(ctx, "bc.when")
    if broadcast is None:
        return
    assert ctx.user is not None
    moment = _picked(ctx)
    if moment is None:
        ctx.reply(render.text("กรุณาเลือกวันและเวลาจากปฏิทินค่ะ"))
        return
    try:
        told = service.change(
            ctx.session,
            broadcast,
            ctx.user,
            cards_for("changed", ctx.timezone),
            now=ctx.now,
            quiet=_quiet(ctx),
            starts_at=moment,
            latest=_year_end(ctx),
        )
    except BroadcastError as exc:
        ctx.reply(render.text(str(exc)))
        return
    ctx.reply(
        render.text(
            f"เปลี่ยนวันนัดเป็น{when_long(moment, ctx.timezone)} แล้ว {_told(told, broadcast)}",
            [render.say(KEYWORD)],
        )
    )


place_flow = registry.add_flow(
    Flow("broadcast_place", cancelled="ยกเลิกแล้วค่ะ สถานที่ยังเหมือนเดิม", title="สถานที่ใหม่")
)


@registry.on_postback("bc.place")
def start_place(ctx: Context) -> None:
    broadcast = _owned(ctx, "bc.place")
    if broadcast is None:
        return
    if broadcast.status == "cancelled":
        ctx.reply(render.text("ประกาศนี้ถูกยกเลิกแล้ว จึงแก้ไขไม่ได้ค่ะ"))
        return
    place_flow.start(ctx, {"broadcast_id": broadcast.id, "place": broadcast.place})


def ask_new_place(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    old = Flow.data(ctx).get("place", "")
    return [render.text(f"พิมพ์สถานที่ใหม่ค่ะ\n(เดิม: {render.clip(old, 300)})", FLOW_CHIPS)]


new_place_step = place_flow.step(
    "place", ask=ask_new_place, help="พิมพ์สถานที่ใหม่ไม่เกิน 300 ตัวอักษร ผู้รับเดิมจะได้รับแจ้งการเปลี่ยนแปลงค่ะ"
)


@new_place_step.text
def on_new_place(ctx: Context, text: str) -> str | None:
    broadcast = _owned(ctx, "bc.place", Flow.data(ctx).get("broadcast_id"))
    if broadcast is None:
        return END
    assert ctx.user is not None
    try:
        told = service.change(
            ctx.session,
            broadcast,
            ctx.user,
            cards_for("changed", ctx.timezone),
            now=ctx.now,
            quiet=_quiet(ctx),
            place=text,
        )
    except BroadcastError as exc:
        ctx.reply(render.text(str(exc), FLOW_CHIPS))
        return None
    ctx.reply(
        render.text(
            f"เปลี่ยนสถานที่เป็น {broadcast.place} แล้ว {_told(told, broadcast)}",
            [render.say(KEYWORD)],
        )
    )
    return END


@registry.on_postback("bc.cancel")
def ask_cancel(ctx: Context) -> None:
    broadcast = _owned(ctx, "bc.cancel")
    if broadcast is None:
        return
    if broadcast.status == "cancelled":
        ctx.reply(render.text("ประกาศนี้ถูกยกเลิกไปแล้วค่ะ"))
        return
    who = (
        "ประกาศนี้ยังไม่ได้ส่ง จึงไม่มีใครได้รับแจ้ง"
        if broadcast.status == "scheduled"
        else f"ผู้รับเดิม {broadcast.recipients:,} คนจะได้รับแจ้งการยกเลิก และนัดหมายของผู้นำจะถูกยกเลิก"
    )
    ctx.reply(
        render.flex(
            "buttons.json",
            "ยกเลิกประกาศนี้ใช่ไหมคะ",
            title="ยกเลิกประกาศนี้ใช่ไหมคะ",
            body=f"นัด {when_long(broadcast.starts_at, ctx.timezone)} ณ {broadcast.place}\n{who}",
            buttons=[
                render.button(
                    render.postback_action(
                        "ยืนยันยกเลิกประกาศ",
                        _data("bc.cancel.yes", b=broadcast.id),
                        "ยืนยันยกเลิกประกาศ",
                    ),
                    "primary",
                ),
                render.button(render.postback_action("ไม่ยกเลิก", _data("bc.keep"), "ไม่ยกเลิก")),
            ],
        )
    )


@registry.on_postback("bc.cancel.yes")
def cancel(ctx: Context) -> None:
    broadcast = _owned(ctx, "bc.cancel")
    if broadcast is None:
        return
    assert ctx.user is not None
    was = broadcast.status
    try:
        told = service.cancel(
            ctx.session,
            broadcast,
            ctx.user,
            cards_for("cancelled", ctx.timezone),
            now=ctx.now,
            quiet=_quiet(ctx),
        )
    except BroadcastError as exc:
        ctx.reply(render.text(str(exc)))
        return
    outcome = (
        "ประกาศนี้ยังไม่ได้ส่ง จึงไม่มีใครได้รับแจ้ง" if was == "scheduled" else f"แจ้งผู้รับเดิม {told:,} คนแล้ว"
    )
    ctx.reply(render.text(f"ยกเลิกประกาศแล้วค่ะ {outcome}", [render.say(KEYWORD)]))


@registry.on_postback("bc.keep")
def keep(ctx: Context) -> None:
    ctx.reply(render.text("ไม่ได้ยกเลิกประกาศค่ะ"))


@registry.on_postback("bc.answers")
def show_answers(ctx: Context) -> None:
    broadcast = _owned(ctx, "bc.answers")
    if broadcast is not None:
        ctx.reply(answers_card(ctx, broadcast))


# The leaders' answers ----------------------------------------------------------------------
def _answerable(
    ctx: Context, action: str, broadcast_id: int | None, revision: int | None
) -> tuple[Broadcast, Appointment] | None:
    """The broadcast and the leader's own appointment for it, if she may answer it now."""
    appointment = service.appointment_of(ctx.session, ctx.user, broadcast_id)
    broadcast = ctx.session.get(Broadcast, broadcast_id) if appointment else None
    if appointment is None or broadcast is None:
        _refuse(ctx, action, broadcast_id, NOT_IN_AUDIENCE)
        return None
    try:
        service.check_current(broadcast, appointment, revision)
    except BroadcastError as exc:
        ctx.reply(render.text(str(exc)))
        if broadcast.status != "cancelled" and appointment.cancelled_at is None:
            ctx.reply(appointment_card(broadcast, "leader", "changed", ctx.timezone))
        return None
    return broadcast, appointment


@registry.on_postback("bc.ack")
def acknowledge(ctx: Context) -> None:
    found = _answerable(ctx, "bc.ack", ctx.postback_id("b"), ctx.postback_id("r"))
    if found is None:
        return
    broadcast, appointment = found
    assert ctx.user is not None
    service.answer(ctx.session, appointment, ctx.user, "acknowledged", None, ctx.now)
    ctx.reply(
        render.text(
            f"บันทึกแล้วค่ะ คุณรับทราบนัดประเมิน{when_long(broadcast.starts_at, ctx.timezone)} "
            f"ณ {broadcast.place} แล้ว จะแจ้งเตือนอีกครั้งก่อนถึงวันนัด 1 วันนะคะ"
        )
    )


postpone_flow = registry.add_flow(
    Flow(
        "broadcast_postpone",
        cancelled="ยกเลิกแล้วค่ะ ยังไม่ได้ส่งคำขอเลื่อน",
        title="เหตุผลที่ขอเลื่อน",
    )
)


@registry.on_postback("bc.postpone")
def start_postpone(ctx: Context) -> None:
    broadcast_id, revision = ctx.postback_id("b"), ctx.postback_id("r")
    if _answerable(ctx, "bc.postpone", broadcast_id, revision) is not None:
        postpone_flow.start(ctx, {"broadcast_id": broadcast_id, "revision": revision})


def ask_reason(ctx: Context, _: Flow) -> list[dict[str, Any]]:
    return [
        render.text(
            f"พิมพ์เหตุผลที่ขอเลื่อน และวันที่สะดวก (ไม่เกิน {service.REASON_MAX} ตัวอักษร) ค่ะ",
            FLOW_CHIPS,
        )
    ]


reason_step = postpone_flow.step(
    "reason", ask=ask_reason, help='เช่น "ติดงานบุญประจำปีของหมู่บ้าน ขอเลื่อนเป็นสัปดาห์ถัดไป"'
)


@reason_step.text
def on_reason(ctx: Context, text: str) -> str | None:
    values = Flow.data(ctx)
    found = _answerable(ctx, "bc.postpone", values.get("broadcast_id"), values.get("revision"))
    if found is None:
        return END
    _, appointment = found
    assert ctx.user is not None
    try:
        reason = service.check_reason(text)
    except BroadcastError as exc:
        ctx.reply(render.text(str(exc), FLOW_CHIPS))
        return None
    service.answer(ctx.session, appointment, ctx.user, "postpone", reason, ctx.now)
    ctx.reply(render.text("บันทึกคำขอเลื่อนแล้วค่ะ เจ้าหน้าที่จังหวัดจะพิจารณาและแจ้งกลับในแชตนี้นะคะ"))
    return END


@registry.on_postback("bc.sample")
def sample_button(ctx: Context) -> None:
    ctx.reply(render.text("นี่คือตัวอย่างการ์ดค่ะ ผู้นำจะแตะปุ่มนี้เพื่อตอบรับหรือขอเลื่อนนัด"))

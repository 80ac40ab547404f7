"""The cards of province broadcasts: the appointment card (leader's and officer's, new, changed
or cancelled), the summary card and the delivery report, the answers, the list of upcoming
broadcasts, and the times they show. Data in, Flex out; no decisions about who may do what.
The scheduler job (`scheduler/broadcasts.py`) draws its cards from here too."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from pythainlp.util import thai_strftime
from sqlalchemy.orm import Session

from bot import render
from bot.context import Context
from bot.models import Broadcast, QuotaReading
from bot.notify import QuietHours
from bot.services import areas, fiscal, quota
from bot.services import broadcasts as service
from bot.services.thai import thai_date

KEYWORD = "ประกาศวันประเมิน"
LIST_MAX = 11  # with the "new" bubble, a carousel's 12
REASONS_SHOWN = 15
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


# Times -------------------------------------------------------------------------------------
def local(moment: datetime, tz: str) -> datetime:
    return moment.astimezone(ZoneInfo(tz))


def when_long(moment: datetime, tz: str) -> str:
    """'วันอาทิตย์ที่ 20 มิถุนายน 2570 เวลา 09:30 น.'"""
    shown = local(moment, tz)
    return f"{thai_strftime(shown, '%A')}ที่ {thai_date(shown.date())} เวลา {shown:%H:%M} น."


def when_short(moment: datetime, tz: str) -> str:
    """'20 มิ.ย. 70 09:30 น.'"""
    shown = local(moment, tz)
    return f"{thai_date(shown.date(), short=True)} {shown:%H:%M} น."


def next_minute(now: datetime, tz: str) -> datetime:
    return local(now, tz).replace(second=0, microsecond=0) + timedelta(minutes=1)


def year_end(today: date, tz: str) -> datetime:
    """The last minute of the fiscal year of `today`: no assessment is set beyond it."""
    last = fiscal.bounds(fiscal.year_of(today))[1]
    return datetime.combine(last, time(23, 59), ZoneInfo(tz))


def _picker_value(moment: datetime, tz: str) -> str:
    return f"{local(moment, tz):%Y-%m-%dT%H:%M}"


def picker(
    label: str, data: str, initial: datetime, earliest: datetime, latest: datetime, tz: str
) -> dict[str, Any]:
    """A date-and-time picker; LINE refuses one whose initial value is out of its range."""
    latest = max(latest, earliest)
    initial = min(max(initial, earliest), latest)
    return render.datetime_action(
        label,
        data,
        _picker_value(initial, tz),
        _picker_value(earliest, tz),
        _picker_value(latest, tz),
    )


# The cards ---------------------------------------------------------------------------------
def district_names(codes: list[str]) -> str:
    return ", ".join(areas.label(code).split(" ")[0] for code in codes)


def audience_text(broadcast: Broadcast) -> str:
    if broadcast.audience == "districts":
        return f"ผู้นำใน {district_names(list(broadcast.district_codes or []))}"
    if broadcast.audience == "everyone":
        return "ผู้นำและพัฒนากรทั้งจังหวัด"
    return service.AUDIENCES.get(broadcast.audience, "")


def data(action: str, **values: str | int) -> str:
    return urlencode({"a": action, **values})


def appointment_card(
    broadcast: Broadcast, role: str, kind: str, tz: str, *, sample: bool = False
) -> dict[str, Any]:
    """The card a leader (with answer buttons) or an officer gets; `sample` for the preview,
    whose buttons only explain themselves."""
    heading, colour = HEADINGS[kind]
    province = areas.find(broadcast.province_code)
    shown = local(broadcast.starts_at, tz)
    struck = kind == "cancelled"
    rows = [
        {
            "label": "วันที่",
            "value": f"{thai_strftime(shown, '%A')}ที่ {thai_date(shown.date())}",
            "strike": struck,
        },
        {"label": "เวลา", "value": f"{shown:%H:%M} น.", "strike": struck},
        {"label": "สถานที่", "value": broadcast.place, "strike": struck},
    ]
    if broadcast.note:
        rows.append({"label": "หมายเหตุ", "value": broadcast.note, "strike": False})
    if role == "officer":
        rows.append({"label": "ผู้รับ", "value": audience_text(broadcast), "strike": False})
    buttons = []
    if role == "leader" and kind != "cancelled":
        ids = {"b": broadcast.id or 0, "r": broadcast.revision or 1}
        ack = data("bc.sample") if sample else data("bc.ack", **ids)
        postpone = data("bc.sample") if sample else data("bc.postpone", **ids)
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
        buttons=[render.button(answers_action(broadcast), "primary")],
        alt=f"รายงานการส่งประกาศ: สำเร็จ {report.sent:,} คน ข้าม {report.skipped:,} คน "
        f"ไม่สำเร็จ {report.failed:,} คน",
    )


def expired_message(broadcast: Broadcast, tz: str) -> dict[str, Any]:
    """To the sender of a scheduled broadcast that no scheduler sent before its date."""
    return render.text(
        f"ขออภัยค่ะ ประกาศนัดประเมิน{when_long(broadcast.starts_at, tz)} "
        f"ณ {render.clip(broadcast.place, 200)} ที่ตั้งเวลาส่งไว้ ยังไม่ได้ส่งออก "
        "เพราะระบบหยุดทำงานจนเลยวันนัดแล้ว ผู้นำจึงยังไม่ได้รับนัดนี้ "
        "กรุณาตรวจสอบและประกาศใหม่หากยังต้องการนัดนะคะ",
        [render.say(KEYWORD)],
    )


def answers_action(broadcast: Broadcast) -> dict[str, Any]:
    return render.postback_action("ดูคำตอบ", data("bc.answers", b=broadcast.id), "ดูคำตอบ")


def answers_card(session: Session, broadcast: Broadcast, tz: str) -> dict[str, Any]:
    seen = service.answers(session, broadcast, REASONS_SHOWN)
    lines = [
        f"• {name} ({areas.label(district).split(' ')[0] if district else '-'}): "
        f"{render.clip(reason, 200)}"
        for name, district, reason in seen.reasons
    ]
    if seen.postpone > len(seen.reasons):
        lines.append(f"และอีก {seen.postpone - len(seen.reasons):,} คน")
    title = f"คำตอบนัดประเมิน {when_short(broadcast.starts_at, tz)}"
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


def list_card(ctx: Context, items: list[Broadcast]) -> dict[str, Any]:
    """The upcoming broadcasts, each with its change and cancel buttons, and a "new" bubble."""
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
            buttons = [render.button(answers_action(broadcast), "primary")]
        when = picker(
            "เปลี่ยนวันเวลา",
            data("bc.when", b=broadcast.id),
            broadcast.starts_at,
            next_minute(ctx.now, tz),
            year_end(ctx.today, tz),
            tz,
        )
        buttons += [
            render.button(when),
            render.button(
                render.postback_action("เปลี่ยนสถานที่", data("bc.place", b=broadcast.id), "เปลี่ยนสถานที่")
            ),
            render.button(
                render.postback_action(
                    "ยกเลิกประกาศ", data("bc.cancel", b=broadcast.id), "ยกเลิกประกาศ"
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
        new=render.postback_action("สร้างประกาศใหม่", data("bc.new"), "สร้างประกาศใหม่"),
    )


def quota_lines(
    reading: QuotaReading | None, cost: int, tz: str
) -> tuple[list[tuple[str, str]], list[str]]:
    """The preview's quota figures and notes: what is used, what is left after this send."""
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


def quiet_note(quiet: QuietHours, moment: datetime, tz: str) -> str | None:
    """Why a send at `moment` waits until morning, or None if it goes out at once."""
    if not quiet.contains(moment):
        return None
    morning = quiet.next_allowed(moment)
    return (
        f"ช่วง {quiet.start:%H:%M}–{quiet.end:%H:%M} น. เป็นช่วงงดส่งข้อความ "
        f"ประกาศจะส่งออกเวลา {quiet.end:%H:%M} น. ของวันที่ {thai_date(morning, tz)} ค่ะ"
    )

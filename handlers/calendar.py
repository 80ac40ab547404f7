"""The programme calendar in LINE: officers and province staff see the year's deadlines;
province staff change their province's dates with a date picker or go back to the department's.

Who may change a date is decided from the database (role and area), never from the postback
data, which only says which entry of which card was tapped."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from bot import render
from bot.context import Context
from bot.models import User
from bot.registry import registry
from bot.services import areas, audit, fiscal
from bot.services import calendar as programme
from bot.services.calendar import CalendarError, Deadline
from handlers.common import needs_role

KEYWORD = "ปฏิทินงาน"
NOT_ALLOWED = "ขออภัยค่ะ การเปลี่ยนวันในปฏิทินงานทำได้เฉพาะเจ้าหน้าที่สำนักงานพัฒนาชุมชนจังหวัด สำหรับจังหวัดของตนเท่านั้น"
OLD_CARD = 'การ์ดนี้เป็นของปีงบประมาณอื่นแล้วค่ะ กรุณาพิมพ์ "ปฏิทินงาน" เพื่อเปิดปฏิทินของปีนี้'


def _data(action: str, **values: str | int) -> str:
    return urlencode({"a": action, **values})


def _buttons(deadline: Deadline, province: str, year: int) -> list[dict[str, Any]]:
    first, last = fiscal.bounds(year)

    def picker(label: str, part: str, current: date) -> dict[str, Any]:
        data = _data("cal.set", pv=province, y=year, k=deadline.key, p=part)
        return render.date_action(
            label, data, current.isoformat(), first.isoformat(), last.isoformat()
        )

    if deadline.ends_on is None:
        buttons = [picker("เปลี่ยนวัน", "start", deadline.starts_on)]
    else:
        buttons = [
            picker("เปลี่ยนวันเริ่ม", "start", deadline.starts_on),
            picker("เปลี่ยนวันสิ้นสุด", "end", deadline.ends_on),
        ]
    if deadline.own:
        data = _data("cal.reset", pv=province, y=year, k=deadline.key)
        buttons.append(render.postback_action("ใช้วันของกรม", data, "ใช้วันของกรม"))
    return buttons


def calendar_card(ctx: Context, user: User, province: str, year: int) -> dict[str, Any]:
    editable = user.role == "province"
    deadlines = programme.deadlines(ctx.session, province, year)
    entries = [
        {
            "title": d.title,
            "when": d.when(),
            "countdown": programme.countdown(d, ctx.today),
            "past": (d.ends_on or d.starts_on) < ctx.today,
            "own": d.own,
            "source": "วันที่จังหวัดกำหนด" if d.own else "วันตามค่าเริ่มต้นของกรม",
            "ref": d.ref,
            "note": d.note,
            "buttons": _buttons(d, province, year) if editable else [],
        }
        for d in deadlines
    ]
    upcoming = next((d for d in deadlines if d.days_left(ctx.today) >= 0), None)
    alt = f"ปฏิทินงาน มชช. ปีงบประมาณ {year}"
    if upcoming is not None:
        alt += f" ถัดไป: {upcoming.title} {upcoming.when()}"
    hint = "แตะปุ่มเพื่อกำหนดวันของจังหวัด เจ้าหน้าที่จะได้รับการแจ้งเตือนตามวันใหม่" if editable else ""
    return render.flex(
        "calendar.json",
        alt,
        year=year,
        subtitle=f"{areas.label(province)} · แจ้งเตือนก่อนถึงกำหนด 14, 7 และ 1 วัน",
        entries=entries,
        hint=hint,
    )


@registry.on_keyword(
    KEYWORD,
    roles=("officer", "province"),
    describe="วันสำคัญของโครงการในปีงบประมาณ",
    order=30,
)
def show_calendar(ctx: Context) -> None:
    if not needs_role(ctx, "officer", "province"):
        return
    user = ctx.user
    assert user is not None
    if not user.area_code:
        ctx.reply(render.text("ยังไม่ได้กำหนดพื้นที่รับผิดชอบของคุณค่ะ กรุณาติดต่อผู้ดูแลระบบ"))
        return
    ctx.reply(calendar_card(ctx, user, user.area_code[:2], fiscal.year_of(ctx.today)))


def _staff(ctx: Context, action: str) -> tuple[User, str, int, str] | None:
    """The province staff member, her province, the year and the entry key tapped; None (after
    refusing or explaining) when she may not change it."""
    data = ctx.postback
    user = ctx.user
    province = data.get("pv", "")
    if (
        user is None
        or user.status != "active"
        or user.role != "province"
        or not user.area_code
        or province != user.area_code
    ):
        tapped = f"{province}:{data.get('y', '')}:{data.get('k', '')}"
        audit.record(ctx.session, f"{action}.denied", "programme_date", tapped[:60], actor=user)
        ctx.reply(render.text(NOT_ALLOWED))
        return None
    year = ctx.postback_id("y")
    if year is None or year != fiscal.year_of(ctx.today):
        ctx.reply(render.text(OLD_CARD, [render.say(KEYWORD)]))
        return None
    return user, province, year, data.get("k", "")


@registry.on_postback("cal.set")
def change_date(ctx: Context) -> None:
    found = _staff(ctx, "calendar.set")
    if found is None:
        return
    user, province, year, key = found
    try:
        day = date.fromisoformat(ctx.postback_params.get("date", ""))
    except ValueError:
        ctx.reply(render.text("กรุณาเลือกวันจากปฏิทินค่ะ"))
        return
    part = ctx.postback.get("p", "start")
    try:
        deadline = programme.set_date(ctx.session, province, year, key, part, day, user)
    except CalendarError as exc:
        ctx.reply(render.text(str(exc), [render.say(KEYWORD)]))
        return
    what = "วันสิ้นสุดของ" if part == "end" else "วันเริ่มของ" if deadline.is_window else "วันของ"
    ctx.reply(
        render.text(
            f'บันทึก{what}"{deadline.title}" เป็น {deadline.when()} แล้วค่ะ '
            f"การแจ้งเตือนของ{areas.label(province)}จะเป็นไปตามวันใหม่นะคะ"
        ),
        calendar_card(ctx, user, province, year),
    )


@registry.on_postback("cal.reset")
def use_default(ctx: Context) -> None:
    found = _staff(ctx, "calendar.reset")
    if found is None:
        return
    user, province, year, key = found
    try:
        changed = programme.reset(ctx.session, province, year, key, user)
    except CalendarError as exc:
        ctx.reply(render.text(str(exc), [render.say(KEYWORD)]))
        return
    deadline = next(d for d in programme.deadlines(ctx.session, province, year) if d.key == key)
    said = (
        f'กลับไปใช้วันตามค่าเริ่มต้นของกรมแล้วค่ะ: "{deadline.title}" {deadline.when()}'
        if changed
        else f'"{deadline.title}" ใช้วันตามค่าเริ่มต้นของกรมอยู่แล้วค่ะ ({deadline.when()})'
    )
    ctx.reply(render.text(said), calendar_card(ctx, user, province, year))

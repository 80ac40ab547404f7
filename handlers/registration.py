"""The leader registration flow: name, province › district › subdistrict, phone, summary."""

from __future__ import annotations

from typing import Any

from bot import render
from bot.context import Context
from bot.conversation import END, Flow
from bot.models import LeaderProfile
from bot.registry import registry
from bot.render import FLOW_CHIPS
from bot.services import areas, plans, registration
from bot.services.registration import LeaderDetails, RegistrationError
from bot.services.thai import format_phone
from handlers.common import help_message, link_menu

flow = registry.add_flow(
    Flow(
        "register",
        cancelled='ยกเลิกการลงทะเบียนแล้วค่ะ ข้อมูลที่กรอกไว้ไม่ได้บันทึก\nพิมพ์ "ลงทะเบียน" เพื่อเริ่มใหม่ได้ทุกเมื่อค่ะ',
    )
)
AREA_HINT = 'หรือพิมพ์ชื่อตำบล อำเภอ หรือจังหวัด เช่น "ต.หอคำ" หรือ "เมืองบึงกาฬ"'


def resume(ctx: Context) -> None:
    """Continue where the user stopped, or start the form."""
    state = ctx.conversation
    if state is not None and state.flow == flow.name:
        ctx.reply(render.text("มาต่อจากที่ค้างไว้นะคะ"))
        flow.ask(ctx)
    else:
        flow.start(ctx, {"display_name": ctx.user.display_name if ctx.user else None})


@registry.on_keyword(
    "ลงทะเบียน", "สมัคร", "เริ่มใหม่", roles=("guest",), describe="ลงทะเบียนเป็นผู้นำ", order=10
)
def start_registration(ctx: Context) -> None:
    resume(ctx)


@registry.on_keyword("แก้ไขข้อมูล", roles=("leader",), describe="แก้ไขชื่อ พื้นที่ หรือเบอร์โทร", order=40)
def edit_registration(ctx: Context) -> None:
    profile = ctx.session.get(LeaderProfile, ctx.user.id) if ctx.user else None
    if profile is None:
        resume(ctx)
        return
    data = {
        "name": profile.full_name,
        "province": profile.province_code,
        "district": profile.district_code,
        "subdistrict": profile.subdistrict_code,
        "phone": profile.phone or "",
    }
    flow.start(ctx, data, at="summary")


def _next(ctx: Context, normal: str) -> str:
    """After a field: back to the summary when editing one, else the next question."""
    return "summary" if flow.data(ctx).get("editing") else normal


def _choices(title: str, hint: str, options: list[tuple[str, str]], per_page: int = 8) -> dict:
    pages = [
        [{"label": label, "data": data} for label, data in options[i : i + per_page]]
        for i in range(0, len(options), per_page)
    ]
    return render.flex("choices.json", title, title=title, hint=hint, pages=pages[:12])


def _area_card(ctx: Context, title: str, found: list[areas.Area], action: str) -> dict[str, Any]:
    per_page = max(8, -(-len(found) // 12))  # at most 12 bubbles in a carousel
    options = [(a.name, flow.postback_data(ctx, action, v=a.code)) for a in found]
    return _choices(title, AREA_HINT, options, per_page)


# 1. Name -------------------------------------------------------------------------------
def ask_name(ctx: Context, _: Flow) -> list[dict]:
    display = flow.data(ctx).get("display_name")
    question = "ชื่อ-นามสกุลของคุณคืออะไรคะ\nพิมพ์ชื่อจริงและนามสกุล"
    chips = []
    if display:
        question += f' หรือแตะ "ใช้ชื่อนี้" เพื่อใช้ชื่อในบัญชี LINE: {display}'
        chips.append(render.tap("ใช้ชื่อนี้", flow.postback_data(ctx, "display"), display))
    return [render.text(question, chips + FLOW_CHIPS)]


name_step = flow.step(
    "name",
    ask=ask_name,
    help='พิมพ์ชื่อและนามสกุลจริง เช่น "สมศรี ใจดี" ชื่อนี้จะใช้ในเอกสารรับรองค่ะ',
)


@name_step.text
def on_name(ctx: Context, text: str) -> str | None:
    try:
        flow.update(ctx, name=registration.clean_name(text))
    except RegistrationError as exc:
        ctx.reply(render.text(str(exc), FLOW_CHIPS))
        return None
    return _next(ctx, "province")


@name_step.postback
def on_display_name(ctx: Context, data: dict[str, str]) -> str | None:
    return on_name(ctx, flow.data(ctx).get("display_name") or "")


# 2–4. Province › district › subdistrict --------------------------------------------------
def ask_province(ctx: Context, _: Flow) -> list[dict]:
    return [
        _area_card(ctx, "เลือกจังหวัด", areas.provinces(), "pick"),
        render.text("เลือกจังหวัดจากการ์ดด้านบน (เลื่อนซ้าย-ขวา)\n" + AREA_HINT, FLOW_CHIPS),
    ]


def ask_district(ctx: Context, _: Flow) -> list[dict]:
    province = flow.data(ctx)["province"]
    return [
        _area_card(ctx, f"เลือกอำเภอใน {areas.label(province)}", areas.districts(province), "pick"),
        render.text("เลือกอำเภอจากการ์ดด้านบน หรือพิมพ์ชื่ออำเภอหรือตำบลค่ะ", FLOW_CHIPS),
    ]


def ask_subdistrict(ctx: Context, _: Flow) -> list[dict]:
    district = flow.data(ctx)["district"]
    return [
        _area_card(
            ctx, f"เลือกตำบลใน {areas.label(district)}", areas.subdistricts(district), "pick"
        ),
        render.text("เลือกตำบลจากการ์ดด้านบน หรือพิมพ์ชื่อตำบลค่ะ", FLOW_CHIPS),
    ]


AREA_HELP = (
    "เลือกพื้นที่ที่คุณเป็นผู้นำสัมมาชีพชุมชน โดยแตะปุ่มในการ์ด หรือพิมพ์ชื่อ "
    'เช่น "ต.หอคำ" "หอคำ เมืองบึงกาฬ" หรือ "อ.เซกา" แล้วบอทจะค้นหาให้ค่ะ'
)
area_steps = [
    flow.step("province", ask=ask_province, help=AREA_HELP),
    flow.step("district", ask=ask_district, help=AREA_HELP),
    flow.step("subdistrict", ask=ask_subdistrict, help=AREA_HELP),
]


def _choose(ctx: Context, code: str) -> str | None:
    """Take a chosen area of any level; go to the question for what is still missing."""
    if areas.find(code) is None:
        ctx.reply(render.text("ไม่พบพื้นที่นี้ค่ะ กรุณาเลือกใหม่อีกครั้ง", FLOW_CHIPS))
        return None
    flow.update(
        ctx,
        province=code[:2],
        district=code[:4] if len(code) >= 4 else None,
        subdistrict=code if len(code) == 6 else None,
    )
    if len(code) == 2:
        return "district"
    if len(code) == 4:
        return "subdistrict"
    return _next(ctx, "phone")


def on_area_tap(ctx: Context, data: dict[str, str]) -> str | None:
    return _choose(ctx, data.get("v", ""))


def on_area_text(ctx: Context, text: str) -> str | None:
    state = ctx.conversation
    assert state is not None
    # Search within what is already chosen, then anywhere (the user may have changed her mind).
    within = {
        "district": flow.data(ctx).get("province"),
        "subdistrict": flow.data(ctx).get("district"),
    }
    found = areas.search(text, within.get(state.state) or "") or areas.search(text)
    if not found:
        ctx.reply(render.text(f'ไม่พบพื้นที่ชื่อ "{render.clip(text, 40)}" ค่ะ\n' + AREA_HINT, FLOW_CHIPS))
        return None
    if len(found) == 1:
        return _choose(ctx, found[0].code)
    options = [
        (render.clip(areas.label(a.code), 40), flow.postback_data(ctx, "pick", v=a.code))
        for a in found
    ]
    ctx.reply(
        _choices("พบหลายพื้นที่ เลือกที่ถูกต้อง", "แตะเพื่อเลือก", options),
        render.text("พบหลายพื้นที่ที่ชื่อคล้ายกัน กรุณาแตะเลือกค่ะ", FLOW_CHIPS),
    )
    return None


for step in area_steps:
    step.text(on_area_text)
    step.postback(on_area_tap)


# 5. Phone ------------------------------------------------------------------------------
def ask_phone(ctx: Context, _: Flow) -> list[dict]:
    skip = render.tap("ข้าม", flow.postback_data(ctx, "skip"), "ข้าม")
    return [render.text('เบอร์โทรศัพท์ที่ติดต่อได้ (ไม่บังคับ)\nพิมพ์ 10 หลัก หรือแตะ "ข้าม"', [skip, *FLOW_CHIPS])]


phone_step = flow.step(
    "phone",
    ask=ask_phone,
    help='เบอร์โทรใช้ให้เจ้าหน้าที่ติดต่อคุณ พิมพ์ เช่น 0812345678 หรือ ๐๘๑-๒๓๔-๕๖๗๘ ไม่ให้ก็ได้ แตะ "ข้าม"',
)


@phone_step.text
def on_phone(ctx: Context, text: str) -> str | None:
    if text == "ข้าม":
        return on_skip_phone(ctx, {})
    try:
        flow.update(ctx, phone=registration.clean_phone(text))
    except RegistrationError as exc:
        ctx.reply(render.text(str(exc), FLOW_CHIPS))
        return None
    return "summary"


@phone_step.postback
def on_skip_phone(ctx: Context, data: dict[str, str]) -> str | None:
    flow.update(ctx, phone="")
    return "summary"


# 6. Summary ----------------------------------------------------------------------------
def ask_summary(ctx: Context, _: Flow) -> list[dict]:
    data = flow.data(ctx)
    flow.update(ctx, editing=True)
    rows = [
        {
            "label": "ชื่อ-นามสกุล",
            "value": data.get("name") or "-",
            "edit": flow.postback_data(ctx, "edit", field="name"),
        },
        {
            "label": "พื้นที่",
            "value": areas.label(data.get("subdistrict") or "") or "-",
            "edit": flow.postback_data(ctx, "edit", field="area"),
        },
        {
            "label": "เบอร์โทรศัพท์",
            "value": format_phone(data["phone"]) if data.get("phone") else "ไม่ระบุ",
            "edit": flow.postback_data(ctx, "edit", field="phone"),
        },
    ]
    card = render.flex(
        "registration_summary.json",
        "ตรวจสอบข้อมูลการลงทะเบียน",
        rows=rows,
        confirm=flow.postback_data(ctx, "confirm"),
    )
    return [card]


summary_step = flow.step(
    "summary",
    ask=ask_summary,
    help='ตรวจข้อมูลในการ์ด ถ้าถูกต้องแตะ "ยืนยัน" ถ้าต้องการเปลี่ยน แตะ "แก้ไข" ที่บรรทัดนั้นค่ะ',
)
EDIT_TARGETS = {"name": "name", "area": "province", "phone": "phone"}


@summary_step.postback
def on_summary_tap(ctx: Context, data: dict[str, str]) -> str | None:
    if data.get("a") == "edit" and data.get("field") in EDIT_TARGETS:
        return EDIT_TARGETS[data["field"]]
    if data.get("a") != "confirm":
        flow.ask(ctx)
        return None
    assert ctx.user is not None
    values = flow.data(ctx)
    first_time = ctx.session.get(LeaderProfile, ctx.user.id) is None
    try:
        profile = registration.complete(
            ctx.session,
            ctx.user,
            LeaderDetails(
                values.get("name") or "",
                values.get("subdistrict") or "",
                values.get("phone") or None,
            ),
        )
    except RegistrationError as exc:
        ctx.reply(render.text(str(exc)))
        return "province"
    ctx.reply(
        render.text(
            f"ลงทะเบียนเรียบร้อยแล้วค่ะ ยินดีต้อนรับคุณ{values.get('name')} 🎉\n"
            f"ผู้นำสัมมาชีพชุมชน {areas.label(values.get('subdistrict') or '')}"
        ),
        help_message(ctx.user),
    )
    link_menu(ctx)
    if first_time:
        tell_district(ctx, profile)
    return END


def tell_district(ctx: Context, profile: LeaderProfile) -> None:
    """The district's officers hear of a new leader at once, with a button to her card."""
    subdistrict = areas.label(profile.subdistrict_code).split(" ")[0]
    said = f"ผู้นำ {profile.full_name} {subdistrict} ลงทะเบียนแล้วค่ะ"
    card = render.buttons_card(
        said,
        f"{areas.label(profile.subdistrict_code)}\nแตะปุ่มเพื่อดูข้อมูลผู้นำ",
        [
            render.button(
                render.postback_action(
                    "ดูข้อมูลผู้นำ", f"a=leader&id={profile.user_id}", f"ดูข้อมูล {profile.full_name}"
                ),
                "primary",
            )
        ],
    )
    for officer in plans.officers_for(ctx.session, profile.district_code):
        ctx.push(officer, [card])


@registry.on_keyword("ลงทะเบียน", "สมัคร", roles=("leader", "officer", "province", "admin"))
def already_registered(ctx: Context) -> None:
    ctx.reply(
        render.text('คุณลงทะเบียนไว้แล้วค่ะ ต้องการเปลี่ยนข้อมูล พิมพ์ "แก้ไขข้อมูล" ได้เลย'),
        help_message(ctx.user),
    )

"""The provincial committee's decisions in LINE: the inspected leaders of the province (awaiting
a decision first, then those decided, to correct), as cards with the district's opinion. The
form a card's button starts is in `handlers.committee_form`.

Who may act is decided from the database at every step (`committee.check_staff`), never from
the postback data."""

from __future__ import annotations

from typing import Any

from bot import render
from bot.context import Context
from bot.models import Plan, User
from bot.registry import registry
from bot.services import areas, fiscal, inspection
from bot.services import committee as service
from bot.services.committee import Candidate, CommitteeError
from bot.services.thai import thai_date
from handlers import common
from handlers.common import province_staff

KEYWORD = "ผลคณะกรรมการ"
PAGE = 10
ONLY_PROVINCE = "ขออภัยค่ะ การบันทึกผลคณะกรรมการใช้ได้เฉพาะเจ้าหน้าที่สำนักงานพัฒนาชุมชนจังหวัดเท่านั้นนะคะ"
NOT_YOURS = "ขออภัยค่ะ คุณบันทึกผลได้เฉพาะผู้นำในจังหวัดที่คุณรับผิดชอบ"
COLORS = {None: "#B7791F", "certified": "#1F6E43", "not_certified": "#C53030"}


# Who may act -------------------------------------------------------------------------------
def refuse(ctx: Context, action: str, entity_id: object, message: str) -> None:
    common.refuse(ctx, action, "plan", entity_id, message)


def decidable(ctx: Context, action: str, plan_id: int | None) -> Plan | None:
    """The plan if the user is staff of its leader's province; refuses (audited) otherwise."""
    staff = province_staff(ctx)
    plan = ctx.session.get(Plan, plan_id) if plan_id is not None else None
    if staff is None:
        refuse(ctx, action, plan_id, ONLY_PROVINCE)
        return None
    if plan is None:
        refuse(ctx, action, plan_id, NOT_YOURS)
        return None
    try:
        service.check_staff(ctx.session, plan, staff)
    except CommitteeError as exc:
        refuse(ctx, action, plan_id, str(exc))
        return None
    return plan


# The list ----------------------------------------------------------------------------------
def _card(item: Candidate) -> dict[str, Any]:
    seen = item.inspection
    rows = [
        {
            "label": "ความเห็นของอำเภอ",
            "value": f"{inspection.OPINIONS.get(seen.opinion, seen.opinion)} "
            f"(ตรวจเมื่อ {thai_date(seen.inspected_on, short=True)})",
        },
        {"label": "เหตุผลของอำเภอ", "value": seen.reasons},
    ]
    decision = item.decision
    if decision is None:
        status, label = "รอคณะกรรมการพิจารณา", "บันทึกผล"
    else:
        status = f"{service.RESULTS[decision.result]}แล้ว"
        if decision.certificate_no:
            status += f" เลขที่ {decision.certificate_no}"
        label = "แก้ไขผล"
        rows.append({"label": "วันที่ประชุม", "value": thai_date(decision.decided_on)})
        if decision.reasons:
            rows.append({"label": "เหตุผลของคณะกรรมการ", "value": decision.reasons})
    name = item.profile.full_name
    return {
        "status": status,
        "color": COLORS[decision.result if decision else None],
        "name": name,
        "area": areas.label(item.profile.subdistrict_code),
        "rows": rows,
        "pending": decision is None,
        "action": render.postback_action(
            label, f"a=cm.pick&p={item.plan.id}", f"{label}ของ {name}"
        ),
    }


def show_list(
    ctx: Context,
    staff: User,
    page: int = 0,
    district: str | None = None,
    pending_only: bool = False,
) -> None:
    """A page of inspected leaders as cards; the district overview lists only those awaiting."""
    year = fiscal.year_of(ctx.today)
    assert staff.area_code
    items = service.candidates(ctx.session, staff.area_code, year, district)
    waiting = sum(1 for i in items if i.decision is None)
    if pending_only:
        items = [i for i in items if i.decision is None]
    where = areas.label(district or staff.area_code)
    if not items:
        ctx.reply(
            render.text(
                f"ยังไม่มีผู้นำใน{where}ที่รอผลคณะกรรมการ ปีงบประมาณ {year} ค่ะ"
                if pending_only
                else f"ยังไม่มีผู้นำใน{where}ที่อำเภอตรวจแล้ว ปีงบประมาณ {year} ค่ะ"
            )
        )
        return
    pages = -(-len(items) // PAGE)
    page = min(max(page, 0), pages - 1)
    shown = items[page * PAGE : (page + 1) * PAGE]
    summary = f"ผู้นำใน{where} ปีงบประมาณ {year}: รอพิจารณา {waiting} คน"
    if not pending_only:
        summary += f" บันทึกผลแล้ว {len(items) - waiting} คน"
    if pages > 1:
        summary += f"\nหน้า {page + 1} จาก {pages}"
    quick = []
    if page + 1 < pages:
        more = f"a=cm.list&n={page + 1}&d={district or ''}&w={int(pending_only)}"
        quick.append(render.tap("หน้าถัดไป", more, "หน้าถัดไป"))
    cards = render.flex("committee_cards.json", summary, cards=[_card(i) for i in shown])
    ctx.reply(render.text(summary + '\nแตะ "บันทึกผล" ใต้ชื่อผู้นำเพื่อบันทึกผลคณะกรรมการค่ะ'))
    ctx.reply(render.with_quick(cards, quick))


@registry.on_keyword(
    KEYWORD, roles=("province",), describe="บันทึกผลการพิจารณาของคณะกรรมการจังหวัด", order=12
)
def committee_list(ctx: Context) -> None:
    staff = province_staff(ctx)
    if staff is None:
        refuse(ctx, "committee.list", None, ONLY_PROVINCE)
        return
    show_list(ctx, staff)


@registry.on_keyword(KEYWORD)
def not_for_others(ctx: Context) -> None:
    refuse(ctx, "committee.list", None, ONLY_PROVINCE)


@registry.on_postback("cm.list")
def next_page(ctx: Context) -> None:
    staff = province_staff(ctx)
    district = ctx.postback.get("d") or None
    if staff is None or (district and not district.startswith(staff.area_code or "-")):
        refuse(ctx, "committee.list", district, ONLY_PROVINCE if staff is None else NOT_YOURS)
        return
    show_list(ctx, staff, ctx.postback_id("n") or 0, district, ctx.postback.get("w") == "1")

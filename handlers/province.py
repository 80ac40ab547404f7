"""Province staff in LINE: the overview of their province per district for the current fiscal
year; tapping a district lists its inspected leaders awaiting the committee's decision."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot import render
from bot.context import Context
from bot.registry import registry
from bot.services import areas, committee, fiscal
from handlers.committee import NOT_YOURS, refuse, show_list
from handlers.common import province_staff

HEADINGS = ["ผู้นำ", "ส่งแผน", "เห็นชอบ", "ตรวจแล้ว", "รับรอง"]
# Bangkok has 50 districts: a page each this many keeps a bubble readable and under LINE's size.
DISTRICTS_PER_PAGE = 15
ONLY_PROVINCE = "ขออภัยค่ะ ภาพรวมจังหวัดใช้ได้เฉพาะเจ้าหน้าที่สำนักงานพัฒนาชุมชนจังหวัดเท่านั้นนะคะ"
HINT = "แตะชื่ออำเภอเพื่อดูผู้นำที่อำเภอตรวจแล้วและรอผลคณะกรรมการค่ะ"


def overview_card(session: Session, province: str, year: int) -> dict:
    counts = committee.overview(session, province, year)
    rows = [
        {
            "name": c.name,
            "data": f"a=prov.district&d={c.code}",
            "counts": [c.leaders, c.submitted, c.approved, c.inspected, c.certified],
        }
        for c in counts
    ]
    totals = [sum(r["counts"][n] for r in rows) for n in range(len(HEADINGS))]
    pages = [rows[i : i + DISTRICTS_PER_PAGE] for i in range(0, len(rows), DISTRICTS_PER_PAGE)]
    title = f"ภาพรวม{areas.label(province)}"
    subtitle = f"ปีงบประมาณ {year}"
    return render.flex(
        "province_overview.json",
        f"{title} {subtitle}: ผู้นำ {totals[0]} คน รับรองแล้ว {totals[-1]} คน",
        title=title,
        subtitle=subtitle,
        headings=HEADINGS,
        pages=pages or [[]],
        totals=totals,
        hint=HINT,
    )


@registry.on_keyword("ภาพรวมจังหวัด", roles=("province",), describe="จำนวนผู้นำแยกตามอำเภอ", order=10)
def province_overview(ctx: Context) -> None:
    staff = province_staff(ctx)
    if staff is None or staff.area_code is None:
        refuse(ctx, "province.overview", None, ONLY_PROVINCE)
        return
    ctx.reply(overview_card(ctx.session, staff.area_code, fiscal.year_of(ctx.today)))


@registry.on_keyword("ภาพรวมจังหวัด")
def not_for_others(ctx: Context) -> None:
    refuse(ctx, "province.overview", None, ONLY_PROVINCE)


@registry.on_postback("prov.district")
def district_waiting(ctx: Context) -> None:
    staff = province_staff(ctx)
    district = ctx.postback.get("d", "")
    if staff is None:
        refuse(ctx, "province.district", district, ONLY_PROVINCE)
        return
    known = {d.code for d in areas.districts(staff.area_code or "")}
    if district not in known:
        refuse(ctx, "province.district", district, NOT_YOURS)
        return
    show_list(ctx, staff, 0, district, pending_only=True)

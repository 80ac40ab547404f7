"""Province staff in LINE: the overview of their province."""

from __future__ import annotations

from sqlalchemy import func, select

from bot import render
from bot.context import Context
from bot.models import LeaderProfile
from bot.registry import registry
from bot.services import areas
from handlers.common import needs_role


@registry.on_keyword("ภาพรวมจังหวัด", roles=("province",), describe="จำนวนผู้นำแยกตามอำเภอ", order=10)
def province_overview(ctx: Context) -> None:
    if not needs_role(ctx, "province"):
        return
    assert ctx.user is not None and ctx.user.area_code
    province = ctx.user.area_code
    counts = dict(
        ctx.session.execute(
            select(LeaderProfile.district_code, func.count())
            .where(LeaderProfile.province_code == province)
            .group_by(LeaderProfile.district_code)
        ).all()
    )
    lines = [f"ผู้นำที่ลงทะเบียนใน{areas.label(province)}"]
    for district in areas.districts(province):
        lines.append(f"• {district.name}: {counts.get(district.code, 0)} คน")
    lines.append(f"รวม {sum(counts.values())} คน")
    ctx.reply(render.text("\n".join(lines)))

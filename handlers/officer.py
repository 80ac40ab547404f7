"""Officers and province staff: the leaders of their area, and nobody else's."""

from __future__ import annotations

from sqlalchemy import func, select

from bot import render
from bot.context import Context
from bot.models import LeaderProfile, User
from bot.registry import registry
from bot.services import access, areas, audit
from bot.services.thai import format_phone, thai_date
from handlers.common import needs_role

LIST_LIMIT = 10


@registry.on_keyword("ผู้นำในอำเภอ", roles=("officer",), describe="รายชื่อผู้นำในอำเภอของคุณ", order=10)
def leaders_in_district(ctx: Context) -> None:
    if not needs_role(ctx, "officer"):
        return
    assert ctx.user is not None and ctx.user.area_code
    query = select(LeaderProfile).where(LeaderProfile.district_code == ctx.user.area_code)
    total = ctx.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    if not total:
        ctx.reply(render.text(f"ยังไม่มีผู้นำลงทะเบียนใน{areas.label(ctx.user.area_code)}ค่ะ"))
        return
    leaders = ctx.session.scalars(
        query.order_by(LeaderProfile.subdistrict_code, LeaderProfile.full_name).limit(LIST_LIMIT)
    ).all()
    options = [
        {
            "label": f"{p.full_name} ({areas.label(p.subdistrict_code).split(' ')[0]})",
            "data": f"a=leader&id={p.user_id}",
        }
        for p in leaders
    ]
    title = f"ผู้นำใน{areas.label(ctx.user.area_code)} {total} คน"
    hint = f"แสดง {len(leaders)} คนแรก" if total > len(leaders) else "แตะชื่อเพื่อดูข้อมูล"
    ctx.reply(render.flex("choices.json", title, title=title, hint=hint, pages=[options]))


@registry.on_postback("leader")
def view_leader(ctx: Context) -> None:
    viewer = ctx.user
    assert viewer is not None
    raw_id = ctx.postback.get("id", "")
    leader_id = ctx.postback_id("id")
    profile = ctx.session.get(LeaderProfile, leader_id) if leader_id is not None else None
    if profile is None or not access.can_view_leader(viewer, profile):
        # The same answer whether the leader exists or not: no probing other areas.
        audit.record(ctx.session, "leader.view.denied", "user", raw_id[:20], actor=viewer)
        ctx.reply(render.text("ขออภัยค่ะ คุณดูข้อมูลได้เฉพาะผู้นำในพื้นที่ที่คุณรับผิดชอบเท่านั้น"))
        return
    leader = ctx.session.get(User, profile.user_id)
    rows = [
        {"label": "พื้นที่", "value": areas.label(profile.subdistrict_code)},
        {"label": "โทร", "value": format_phone(profile.phone) if profile.phone else "ไม่ระบุ"},
        {"label": "ลงทะเบียน", "value": thai_date(profile.registered_at)},
        {"label": "LINE", "value": "ติดตามอยู่" if leader and leader.following else "เลิกติดตามแล้ว"},
    ]
    ctx.reply(
        render.flex(
            "profile.json",
            f"ผู้นำ: {profile.full_name}",
            heading="ผู้นำสัมมาชีพชุมชน",
            name=profile.full_name,
            rows=rows,
            buttons=[{"label": "ดูแผนพัฒนาตนเอง", "data": f"a=plan.view&l={profile.user_id}"}],
        )
    )

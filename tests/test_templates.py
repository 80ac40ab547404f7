"""Every Flex template, filled with the longest Thai text, emoji and the most items the bot
allows, is accepted by the fake platform's schema and size checks (sent as a real push)."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import render
from bot.db import db
from bot.links import Links
from bot.models import LeaderProfile, Plan, User
from bot.services import fiscal, plans
from bot.services.plans import ItemDraft
from handlers import plan_views

LONG = 'ผู้นำสัมมาชีพชุมชนพัฒนาตนเอง🌾 <b>&"ทดสอบ"</b> ภาษาไทยยาวมาก '


def long_text(limit: int) -> str:
    return (LONG * (limit // len(LONG) + 1))[:limit]


@pytest.fixture
def full_plan(app) -> int:
    """A leader's plan with the most activities allowed, every field at its longest."""
    year = fiscal.year_of(date.today())
    first, last = fiscal.bounds(year)
    with db.transaction() as session:
        leader = User(line_user_id="U" + "f" * 32, role="leader", status="active")
        session.add(leader)
        session.flush()
        session.add(
            LeaderProfile(
                user_id=leader.id,
                full_name=long_text(120),
                subdistrict_code="380101",
                district_code="3801",
                province_code="38",
            )
        )
        plan = plans.get_or_create(session, leader, year)
        components = [c for a in plans.edition(session, plan).areas for c in a.components]
        for n in range(plans.MAX_ITEMS):
            plans.add_item(
                session,
                plan,
                ItemDraft(
                    component_id=components[n % len(components)].id,
                    activity=long_text(plans.ACTIVITY_MAX),
                    mode="self" if n % 2 else "help",
                    detail=long_text(plans.DETAIL_MAX),
                    responsible=long_text(plans.RESPONSIBLE_MAX),
                    starts_on=first,
                    ends_on=last - timedelta(days=n),
                ),
                leader,
            )
        plan.status, plan.review_comment = "returned", long_text(plans.COMMENT_MAX)
        return plan.id


# Rendered cards are kept here, so a designer can paste one into LINE's Flex simulator.
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "flex"


def push_all(app, line_platform, messages: list[dict], name: str) -> None:
    gateway = app.extensions["runtime"].gateway
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for n, message in enumerate(messages, start=1):
        gateway.push("U" + "a" * 32, [message], str(uuid.uuid4()))
        if message["type"] == "flex":
            (ARTIFACTS / f"{name}-{n}.json").write_text(
                json.dumps(message["contents"], ensure_ascii=False, indent=1), encoding="utf-8"
            )
    assert not line_platform.errors, "\n".join(line_platform.errors)


def test_plan_cards_and_activity_pages_at_their_largest(app, line_platform, full_plan):
    with db.transaction() as session:
        plan = session.get(Plan, full_plan)
        messages = [
            plan_views.plan_card(session, plan, viewer="leader", today=date.today()),
            plan_views.plan_card(session, plan, viewer="officer", today=date.today()),
        ]
        page = 0
        while (
            listing := plan_views.item_list(session, plan, page=page, editable=True, owner=True)
        ) is not None:
            messages.append(listing)
            page += 1
        links = Links("k", "https://bot.example.test")
        messages.append(plan_views.download_card(links, plan, plan.leader_id))
    assert page == -(-plans.MAX_ITEMS // plan_views.LIST_PAGE)
    assert all(len(m["contents"]["contents"]) <= 12 for m in messages[2:-1])
    push_all(app, line_platform, messages, "plan")
    sizes = [len(json.dumps(m["contents"], ensure_ascii=False).encode()) for m in messages]
    print("largest plan card, activity page (bytes):", sizes[0], max(sizes[2:-1]))


def test_the_activity_form_at_its_largest(app, line_platform):
    rows = [
        {
            "label": f"{n}. หัวข้อ",
            "value": long_text(600),
            "filled": True,
            "current": n == 3,
            "edit": render.postback_action("แก้ไข", "f=item&s=1&a=edit&field=activity"),
        }
        for n in range(1, 8)
    ]
    card = render.flex(
        "item_form.json",
        long_text(2000),
        title="แก้ไขกิจกรรม",
        subtitle=long_text(200),
        rows=rows,
        question=long_text(300),
        buttons=[render.button(render.postback_action(long_text(60), "a=x"), "primary")] * 3,
    )
    quick = [render.say("ตนเอง"), *render.FLOW_CHIPS]
    push_all(app, line_platform, [render.with_quick(card, quick)], "item-form")


def test_every_template_in_the_folder_is_covered():
    """A new template must get a largest-case test here."""
    covered = {"plan_card.json", "item_list.json", "item_form.json", "buttons.json"}
    covered |= {"consent.json", "choices.json", "registration_summary.json", "profile.json"}
    covered |= {"evidence_list.json", "progress_card.json"}
    covered |= {"digest.json", "calendar.json"}  # largest sizes: test_digest, test_calendar
    covered |= {"reminder.json"}  # largest size: test_reminders
    covered |= {"appointment.json", "broadcast_summary.json", "broadcast_list.json"}
    covered |= {"broadcast_districts.json"}  # largest sizes: test_broadcast
    covered |= {"officer_leaders.json"}  # largest size: test_officer_workspace
    # largest sizes: test_province_workspace (Bangkok's 50 districts), test_committee
    covered |= {"province_overview.json", "committee_cards.json"}
    folder = Path(render.TEMPLATES)
    assert {p.name for p in folder.glob("*.json")} == covered


def test_registration_and_profile_templates_at_their_largest(app, line_platform):
    options = [{"label": long_text(40), "data": "f=register&s=99999&a=pick&v=380101"}] * 8
    choices = render.flex(
        "choices.json",
        long_text(100),
        title=long_text(100),
        hint=long_text(200),
        pages=[options] * 12,
    )
    rows = [{"label": long_text(30), "value": long_text(300), "edit": "a=edit"}] * 3
    summary = render.flex("registration_summary.json", "x", rows=rows, confirm="a=ok")
    profile = render.flex(
        "profile.json",
        "x",
        heading=long_text(50),
        name=long_text(120),
        rows=[{"label": long_text(20), "value": long_text(200)}] * 6,
        buttons=[{"label": long_text(40), "data": "a=plan.view&l=1"}] * 3,
    )
    consent = render.flex("consent.json", "x")
    push_all(app, line_platform, [choices, summary, profile, consent], "registration")
    with db.transaction() as session:
        assert session.scalar(select(Plan.id)) is None  # nothing here touched the data


def test_progress_card_and_evidence_carousel_at_their_largest(app, line_platform, full_plan):
    from decimal import Decimal
    from types import SimpleNamespace

    from handlers.progress import progress_card

    with db.transaction() as session:
        plan = session.get(Plan, full_plan)
        plan.status, plan.assessment_status = "approved", "more_info"
        plan.assessment_comment = long_text(plans.COMMENT_MAX)
        plan.households_trained, plan.households_with_occupation = 999_999, 999_998
        plan.income_before, plan.income_after = Decimal("9999999999.99"), Decimal("1.00")
        for item in plan.items:
            item.note = long_text(1000)
        # Every activity late: the card lists five and counts the rest.
        ctx = SimpleNamespace(session=session, today=fiscal.bounds(plan.fiscal_year)[1])
        card = progress_card(ctx, plan, "leader")  # type: ignore[arg-type]
    url = "https://bot.example.test/files/evidence/" + "x" * 180
    bubble = {
        "thumb": url,
        "heading": long_text(300),
        "icon": "📄",
        "name": long_text(255),
        "date": "ถ่ายเมื่อ 30 กันยายน 2570",
        "caption": long_text(500),
        "buttons": [
            render.button(render.uri_action("เปิดไฟล์", url), "primary"),
            render.button(render.postback_action("ลบ", "a=evidence.delete&e=999999999", "ลบ")),
        ],
    }
    more = {"count": 999, "action": render.postback_action("ดูเพิ่มเติม", "a=evidence.list&i=1")}
    carousel = render.flex("evidence_list.json", long_text(500), items=[bubble] * 11, more=more)
    files = render.flex(
        "evidence_list.json", "x", items=[{**bubble, "thumb": None}] * 11, more=None
    )
    push_all(app, line_platform, [card, carousel, files], "progress")
    assert "และอีก" in json.dumps(card, ensure_ascii=False)

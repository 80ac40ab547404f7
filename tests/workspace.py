"""Builders for the officer and province workspace tests: people registered through the
chat, and plans brought to a stage through the services (the plan flows have their own
chat tests; here they are only the ground the workspace stands on)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from bot import clock
from bot.db import db
from bot.models import Plan, User
from bot.services import committee, fiscal, inspection, plans, standard
from tests.test_broadcast import officer_of
from tests.test_broadcast import province_staff as staff_of
from tests.test_registration import register

__all__ = ["STAGES", "leader", "officer_of", "plan_at", "staff_of", "user_of"]

# In order: each stage includes the ones before it.
STAGES = ("registered", "draft", "submitted", "approved", "inspected", "certified")


def user_of(person) -> User:
    with db.transaction() as session:
        found = session.scalar(select(User).where(User.line_user_id == person.user_id))
        assert found is not None, "not registered"
        session.expunge(found)
        return found


def leader(line, name: str, subdistrict: str = "ต.หอคำ", phone: str = "๐๘๑-๒๓๔-๕๖๗๘"):
    """A leader registered through the chat (the default subdistrict is in อ.เมืองบึงกาฬ)."""
    person = line.user(name)
    register(person, subdistrict, phone)
    person.received()
    return person


def plan_at(
    person,
    stage: str,
    officer=None,
    staff=None,
    *,
    opinion: str = "recommend",
    result: str = "certified",
    activities: int = 2,
) -> int | None:
    """Bring the person's plan of the current fiscal year to `stage`; returns the plan id.
    "approved" needs the `officer`, "inspected" too, and "certified" the province `staff`
    (whose decision is `result`, so "certified" with result="not_certified" is a refusal)."""
    if stage == "registered":
        return None
    today = clock.now().date()
    year = fiscal.year_of(today)
    starts, ends = fiscal.bounds(year)
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.line_user_id == person.user_id))
        plan = plans.get_or_create(session, user, year)
        component = standard.version(session, plan.standard_version_id).areas[0].components[0]
        for n in range(activities):
            plans.add_item(
                session,
                plan,
                plans.ItemDraft(
                    component_id=component.id,
                    activity=f"กิจกรรมที่ {n + 1} ของ {user.display_name}",
                    mode="self",
                    detail="ศึกษาด้วยตนเอง",
                    responsible=user.display_name or "ผู้นำ",
                    starts_on=starts,
                    ends_on=ends - timedelta(days=n),
                ),
                user,
            )
        plans.set_ready(session, plan, ends - timedelta(days=1), user)
        if STAGES.index(stage) >= STAGES.index("submitted"):
            plans.submit(session, plan, user)
        if STAGES.index(stage) >= STAGES.index("approved"):
            assert officer is not None, "approving needs an officer"
            officer_user = session.scalar(select(User).where(User.line_user_id == officer.user_id))
            plans.approve(session, plan, officer_user, plan.revision)
        if STAGES.index(stage) >= STAGES.index("inspected"):
            inspection.record(
                session, plan, officer_user, opinion, "ทำกิจกรรมครบตามแผน", today, today
            )
        if stage == "certified":
            assert staff is not None, "the committee's decision needs province staff"
            staff_user = session.scalar(select(User).where(User.line_user_id == staff.user_id))
            reasons = "ยังขาดหลักฐาน" if result == "not_certified" else None
            committee.decide(session, plan, staff_user, result, today, reasons, today)
        return plan.id


def plan_row(plan_id: int) -> Plan:
    with db.transaction() as session:
        row = session.get(Plan, plan_id)
        assert row is not None
        session.expunge(row)
        return row


def today() -> date:
    return clock.now().date()

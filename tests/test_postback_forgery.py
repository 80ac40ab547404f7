"""Postbacks that should not act: truncated, tampered with (another leader's plan, item or
evidence), replayed, from an old card, for a deleted item, or from someone whose role changed.
Each is refused politely in Thai, changes nothing, and is recorded where the project records
refusals (the `*.denied` audit actions).

The postbacks are the ones the bot really sent during a journey (plan review, activity list,
evidence, inspection, committee), collected from what the fake LINE platform delivered.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from sqlalchemy import func, select, text, update

from bot.db import db
from bot.models import AuditLog, Plan, User
from tests.chat import _walk_actions
from tests.test_evidence import photo
from tests.test_hostile_text import answered_safely
from tests.workspace import leader, officer_of, plan_at, staff_of, user_of

WATCHED = ("plans", "plan_items", "evidence", "inspections", "committee_decisions")


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    with db.transaction() as session:
        return {
            name: [tuple(row) for row in session.execute(text(f"SELECT * FROM {name} ORDER BY id"))]
            for name in WATCHED
        }


def denials() -> list[str]:
    with db.transaction() as session:
        return list(
            session.scalars(
                select(AuditLog.action)
                .where(AuditLog.action.like("%.denied"))
                .order_by(AuditLog.id)
            )
        )


def postbacks(person) -> dict[str, list[str]]:
    """Every postback the person was sent, by action name, newest last."""
    found: dict[str, list[str]] = {}
    for message in person.chat.platform.deliveries(person.user_id):
        for action in _walk_actions(message):
            if action.get("type") == "postback":
                name = dict(parse_qsl(action["data"])).get("a", "")
                found.setdefault(name, []).append(action["data"])
    return found


def with_values(data: str, **values: str | int) -> str:
    return urlencode({**dict(parse_qsl(data)), **{k: str(v) for k, v in values.items()}})


OUTCOMES: list[tuple[str, str, str]] = []  # (action, case, what happened) for the report


def refused(person, data: str, action: str, case: str, logged: str | None) -> None:
    """The postback is answered in Thai, changes nothing, and (if `logged`) is audited."""
    before, denied = snapshot(), len(denials())
    person.postback(data)
    answered_safely(person)
    assert snapshot() == before, f"{action}/{case} changed data"
    new = denials()[denied:]
    if logged is not None:
        assert logged in new, f"{action}/{case}: no {logged} in {new}"
    OUTCOMES.append((action, case, f"refused: {person.last_text[:60]!r} {new}"))


@pytest.fixture
def journey(line, runner, clock) -> dict[str, Any]:
    clock.set("2027-03-18 08:00")
    officer = officer_of(line, runner)
    elsewhere = officer_of(line, runner, "3803", "พัฒนากร ต่างถิ่น")
    staff = staff_of(line, runner)
    somsri = leader(line, "สมศรี ใจดี")
    boonma = leader(line, "บุญมา ขยัน")
    kanya = leader(line, "กันยา ศรีสุข")
    people = {"officer": officer, "elsewhere": elsewhere, "staff": staff}
    people.update(somsri=somsri, boonma=boonma, kanya=kanya)
    people["submitted"] = plan_at(somsri, "submitted")
    people["draft"] = plan_at(boonma, "draft")
    people["approved"] = plan_at(kanya, "inspected", officer)

    # The cards, as people reach them in the chat.
    officer.postback(f"a=plan.view&l={user_of(somsri).id}")  # review buttons
    officer.postback(f"a=leader&id={user_of(kanya).id}")  # inspection button
    boonma.say("แผนของฉัน")
    boonma.tap("ดูกิจกรรม")  # edit and delete buttons per activity
    item = dict(parse_qsl(postbacks(boonma)["item.delete"][0]))["i"]
    boonma.postback(f"a=evidence.send&i={item}")
    boonma.send_photos(photo(3))
    boonma.say("เสร็จแล้ว")
    boonma.tap("ดูหลักฐาน")  # delete button per photo
    staff.say("ผลคณะกรรมการ")  # a card per inspected leader
    return people


def test_forged_postbacks_are_refused_and_change_nothing(journey):
    officer, elsewhere, staff = journey["officer"], journey["elsewhere"], journey["staff"]
    somsri, boonma, kanya = journey["somsri"], journey["boonma"], journey["kanya"]
    seen = {**postbacks(officer), **postbacks(boonma), **postbacks(staff)}
    for kind in ("review.approve", "review.return", "item.delete", "evidence.delete", "inspect"):
        assert kind in seen, f"the journey sent no {kind} button: {sorted(seen)}"
    assert "cm.pick" in postbacks(staff)

    approve = seen["review.approve"][-1]
    item_delete = seen["item.delete"][-1]
    evidence_delete = seen["evidence.delete"][-1]
    inspect = seen["inspect"][-1]
    pick = postbacks(staff)["cm.pick"][-1]

    # Truncated data: the action name or the id cut off.
    for action, data in [
        ("review.approve", approve),
        ("item.delete", item_delete),
        ("evidence.delete", evidence_delete),
        ("inspect", inspect),
        ("cm.pick", pick),
    ]:
        person = {"item.delete": boonma, "evidence.delete": boonma, "cm.pick": staff}.get(
            action, officer
        )
        refused(person, data[: len(data) // 2], action, "truncated", None)
        cut = data.rsplit("=", 1)[0] + "="
        refused(person, cut, action, "id cut off", None)

    # Another leader's plan, item or evidence (ids tampered with, or the card of another person).
    refused(elsewhere, approve, "review.approve", "another district", "plan.review.denied")
    refused(elsewhere, inspect, "inspect", "another district", "inspection.denied")
    refused(somsri, item_delete, "item.delete", "another leader's item", "item.delete.denied")
    refused(
        somsri,
        with_values(item_delete, a="item.delete.yes"),
        "item.delete.yes",
        "another leader's item",
        "item.delete.denied",
    )
    refused(
        kanya,
        with_values(evidence_delete, a="evidence.delete.yes"),
        "evidence.delete.yes",
        "another leader's evidence",
        "evidence.delete.denied",
    )
    refused(officer, pick, "cm.pick", "not province staff", "committee.pick.denied")
    refused(boonma, with_values(approve, p=journey["draft"]), "review.approve", "leader", None)

    # An old card: the plan changed (returned, edited, sent again) since the card was made.
    with db.transaction() as session:
        session.execute(
            update(Plan).where(Plan.id == journey["submitted"]).values(revision=Plan.revision + 1)
        )
    refused(officer, approve, "review.approve", "old card (revision)", "plan.review.denied")
    refused(
        officer,
        with_values(approve, a="review.return"),
        "review.return",
        "old card",
        "plan.review.denied",
    )
    with db.transaction() as session:
        session.execute(
            update(Plan).where(Plan.id == journey["submitted"]).values(revision=Plan.revision - 1)
        )

    # Replayed: the first approval acts, the second changes nothing.
    officer.postback(approve)
    assert "เห็นชอบแผน" in officer.last_text
    refused(officer, approve, "review.approve", "replayed", "plan.review.denied")

    # Deleted: the activity deleted once, then the same button again.
    boonma.postback(with_values(item_delete, a="item.delete.yes"))
    assert "ลบกิจกรรมแล้ว" in boonma.last_text
    replay = with_values(item_delete, a="item.delete.yes")
    refused(boonma, replay, "item.delete.yes", "deleted item", "item.delete.denied")
    refused(boonma, item_delete, "item.delete", "deleted item", "item.delete.denied")
    boonma.postback(with_values(evidence_delete, a="evidence.delete.yes"))
    refused(
        boonma,
        with_values(evidence_delete, a="evidence.delete.yes"),
        "evidence.delete.yes",
        "deleted evidence",
        None,
    )

    # A role changed: the officer moved to another district, then lost the role.
    with db.transaction() as session:
        session.execute(
            update(User).where(User.line_user_id == officer.user_id).values(area_code="3803")
        )
    refused(officer, inspect, "inspect", "officer moved", "inspection.denied")
    with db.transaction() as session:
        session.execute(
            update(User).where(User.line_user_id == officer.user_id).values(role="guest")
        )
    refused(officer, inspect, "inspect", "officer demoted", "inspection.denied")
    with db.transaction() as session:
        session.execute(
            update(User).where(User.line_user_id == staff.user_id).values(role="leader")
        )
    refused(staff, pick, "cm.pick", "staff demoted", "committee.pick.denied")

    # Unknown and stale flow cards.
    refused(boonma, "a=plan.nuke&p=1", "unknown", "forged action", "postback.denied")
    refused(boonma, "f=item&s=999&a=save", "flow card", "old serial", "flow.denied")

    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(AuditLog)) > 0
    print("\n".join(" | ".join(row) for row in OUTCOMES))

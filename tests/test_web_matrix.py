"""Who may open what on the web desk: every page and export of the desk against a leader, an
officer of her district and of another, province staff of her province and of another, and
nobody. Each person has a browser (test client) of their own, signed in by their chat link."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from werkzeug.exceptions import MethodNotAllowed, NotFound

from bot.db import db
from bot.models import Evidence, User
from bot.services import committee
from tests.test_evidence import photo
from tests.test_web_desk import desk
from tests.workspace import leader, officer_of, plan_at, staff_of, user_of

PEOPLE = ("leader", "officer", "officer_elsewhere", "province", "province_elsewhere", "nobody")
OK, FORBIDDEN, SIGN_IN, NONE = 200, 403, "sign in", 404
LEADER_PAGE = "leader page"  # a leader's own page: the list sends her there


def expectations(ids: dict[str, int]) -> list[tuple[str, tuple, bool]]:
    """(path, expected answer per person in PEOPLE's order, whether the leader's name may
    appear only for the right area)."""
    leader_id, evidence_id, decision_id = ids["leader"], ids["evidence"], ids["decision"]
    own = (OK, OK, FORBIDDEN, OK, FORBIDDEN, SIGN_IN)
    desk_staff = (FORBIDDEN, OK, OK, OK, OK, SIGN_IN)
    province_only = (FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, OK, SIGN_IN)
    return [
        ("/web/leaders", (LEADER_PAGE, OK, OK, OK, OK, SIGN_IN), True),
        (f"/web/leaders/{leader_id}", own, True),
        (f"/web/evidence/{evidence_id}", own, False),
        ("/web/committee", province_only, True),
        ("/web/settings", province_only, False),
        ("/web/broadcasts", province_only, False),
        ("/web/calendar", desk_staff, False),
        ("/web/audit", desk_staff, True),
        # The exports of the contract (another helper's routes; skipped while absent).
        ("/web/exports/applicants.xlsx", desk_staff, False),
        ("/web/exports/applicants.csv", desk_staff, True),
        ("/web/exports/results.xlsx", desk_staff, False),
        ("/web/exports/photos.zip", province_only, False),
        (
            "/web/exports/outstanding.pdf",
            (FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, NONE, SIGN_IN),
            False,
        ),
        (f"/web/certificates/{decision_id}.pdf", (FORBIDDEN, *own[1:]), False),
        ("/web/certificates.pdf", desk_staff, False),
        ("/web/photos", province_only, False),
    ]


def exists(app, path: str) -> bool:
    try:
        app.url_map.bind("localhost").match(path, method="GET")
    except (NotFound, MethodNotAllowed):
        return False
    return True


@pytest.fixture
def world(line, runner, app, clock):
    clock.set("2027-06-10 09:00")
    officer = officer_of(line, runner)
    elsewhere = officer_of(line, runner, "3803", name="พัฒนากร สมหญิง")
    staff = staff_of(line, runner)
    bangkok = staff_of(line, runner, "เจ้าหน้าที่กรุงเทพ", province="10")
    somsri = leader(line, "สมศรี ใจดี")
    plan_id = plan_at(somsri, "certified", officer, staff)
    somsri.send_photos(photo(5))
    somsri.tap(next(label for label in somsri.labels() if label.startswith("1.")))
    leader_id, staff_id = user_of(somsri).id, user_of(staff).id
    with db.transaction() as session:
        evidence = session.scalar(select(Evidence).where(Evidence.uploaded_by == leader_id))
        decision = committee.of(session, plan_id)
        committee.mark_outstanding(session, decision, session.get(User, staff_id))
        ids = {"leader": leader_id, "evidence": evidence.id, "decision": decision.id}
    people = {
        "leader": desk(app, somsri),
        "officer": desk(app, officer),
        "officer_elsewhere": desk(app, elsewhere),
        "province": desk(app, staff),
        "province_elsewhere": desk(app, bangkok),
        "nobody": app.test_client(),
    }
    return people, ids


def test_every_page_and_file_answers_each_person_as_the_rules_say(app, world):
    people, ids = world
    wrong = []
    checked = 0
    for path, answers, names in expectations(ids):
        if not exists(app, path):
            continue
        checked += 1
        for who, expected in zip(PEOPLE, answers, strict=True):
            response = people[who].get(path)
            got = response.status_code
            location = response.headers.get("Location", "")
            if expected == SIGN_IN:
                fine = got == 302 and "/web/signin" in location
            elif expected == LEADER_PAGE:
                fine = got == 302 and location.endswith(f"/web/leaders/{ids['leader']}")
            else:
                fine = got == expected
            if fine and names and got == 200:
                # A list page answers everyone in its scope, but shows her only to her area.
                shown = "สมศรี ใจดี" in response.get_data(as_text=True)
                fine = shown == (who in {"leader", "officer", "province"})
            if not fine:
                wrong.append(f"{path} as {who}: expected {expected}, got {got} {location}")
    assert checked >= 8
    assert not wrong, "\n".join(wrong)


def test_posting_forms_of_another_area_changes_nothing(app, world):
    people, _ = world
    # An officer cannot post to the committee or settings; a leader cannot either.
    for who in ("leader", "officer"):
        assert people[who].post("/web/committee", data={}).status_code == 403
        assert people[who].post("/web/settings", data={}).status_code == 403
    assert people["nobody"].post("/web/broadcasts", data={}).status_code == 302

"""Hostile text typed into every form step: the bot always answers in Thai, stores the text tidied
and within the field's limit or refuses politely and keeps the step, and shows it back safely in
Flex cards, on the web desk and in the documents.

Not every string meets every step: each step takes a rotating share of the list (so the whole
list passes through the steps several times over) plus the 5,000-character text and a pasted
Flex JSON, which every step gets.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from bot.db import db
from bot.documents.pdf import render_pdf
from bot.documents.summary import render_summary
from bot.documents.xlsx import render_xlsx
from bot.models import (
    CommitteeDecision,
    ConversationState,
    Evidence,
    InboxEvent,
    Plan,
    PlanItem,
    User,
)
from bot.services import plans
from bot.summaries import document_of
from tests.test_evidence import photo
from tests.test_web_desk import desk
from tests.workspace import leader, officer_of, plan_at, staff_of, user_of

LONG = ("ปลูกผักปลอดสารพิษ " * 300)[:5000]
FLEX_JSON = json.dumps(
    {
        "type": "bubble",
        "body": {
            "type": "box",
            "layout": "vertical",
            "contents": [
                {"type": "text", "text": "ได้รางวัล"},
                {
                    "type": "button",
                    "action": {"type": "uri", "label": "รับเลย", "uri": "https://evil.example/x"},
                },
            ],
        },
    },
    ensure_ascii=False,
)
HOSTILE: list[tuple[str, str]] = [
    ("empty", ""),
    ("spaces", "  \u3000 \t "),
    ("emoji", "ปลูกผัก 🌱👩‍🌾🇹🇭 ขายได้ 💰"),
    ("thai digits", "อบรม ๑๒ ครั้ง ๓,๔๕๖ บาท"),
    ("mixed scripts", "ทอผ้า Weaving 织布 織物 Ткачество نسيج"),
    ("zero width", "\u200bอบรม\u200cกลุ่ม\u200dทอผ้า\ufeff"),
    ("only zero width", "\u200b\u200c\u200d\ufeff"),
    ("html", '<script>alert("x")</script><b>ทอผ้า</b> &amp; <img src=x onerror=alert(1)>'),
    ("sql", "ทอผ้า'); DROP TABLE plans; -- \" OR 1=1 /*"),
    ("jinja", "{{ 7*7 }} {% if true %}ทอผ้า{% endif %} ${x}"),
    ("right to left", "\u202eผ้าทอ\u202c abc \u200fשלום\u200e \u2067กลุ่ม\u2069"),
    ("control", "ทอ\x00ผ้า\x07กลุ่ม\x1b[31mแดง\x7f\x08"),
    ("combining", "ก\u0e34\u0e34\u0e49\u0e49\u0e49 Z\u0351\u0352\u0353a\u0300\u0301 ทอผ้า"),
    ("newlines", "บรรทัดหนึ่ง\r\nบรรทัดสอง\n\n\tบรรทัดสาม"),
]
ALWAYS = [("5000 characters", LONG), ("flex json", FLEX_JSON)]

# The steps, in the order the rotation hands out strings.
STEPS = [
    "name",
    "area",
    "phone",
    "activity",
    "detail",
    "responsible",
    "start",
    "progress note",
    "caption",
    "figures",
    "return comment",
    "inspection reasons",
    "search",
    "search typed",
    "committee reasons",
    "broadcast place",
    "broadcast note",
    "outstanding story",
]
PER_STEP = 3


def strings_for(step: str) -> list[tuple[str, str]]:
    """This step's share of the list (rotating), then the two every step gets."""
    start = STEPS.index(step) * PER_STEP
    share = [HOSTILE[(start + k) % len(HOSTILE)] for k in range(PER_STEP)]
    return share + ALWAYS


def test_the_rotation_covers_the_whole_list():
    covered = {name for step in STEPS for name, _ in strings_for(step)}
    assert covered == {name for name, _ in HOSTILE + ALWAYS}


# What a person can read, and what must hold of every answer -----------------------------
FLEX_TYPES = {
    "bubble",
    "carousel",
    "box",
    "text",
    "span",
    "button",
    "image",
    "icon",
    "separator",
    "filler",
    "video",
}
THAI = re.compile(r"[\u0e01-\u0e5b]")


def core(text: str) -> str:
    """The visible letters of a text: no spaces, controls or format marks (zero-width, RTL)."""
    return "".join(
        ch
        for ch in unicodedata.normalize("NFC", text)
        if not ch.isspace() and unicodedata.category(ch) not in {"Cc", "Cf"}
    )


def _flex_nodes(node: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(node, dict):
        if "type" in node and "action" not in node.get("type", ""):
            found.append(node)
        for key, value in node.items():
            if key != "action":
                found += _flex_nodes(value)
    elif isinstance(node, list):
        for value in node:
            found += _flex_nodes(value)
    return found


def _actions(node: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(node, dict):
        if isinstance(node.get("action"), dict):
            found.append(node["action"])
        for value in node.values():
            found += _actions(value)
    elif isinstance(node, list):
        for value in node:
            found += _actions(value)
    return found


def answered_safely(person) -> None:
    """The bot answered, in Thai, without the apology for a failure, and no card was broken."""
    assert person.last, "the bot stayed silent"
    for message in person.last:
        if message["type"] == "text":
            assert THAI.search(message["text"]), message["text"][:200]
        if message["type"] == "flex":
            assert THAI.search(message["altText"]), message["altText"][:200]
            for node in _flex_nodes(message["contents"]):
                assert node["type"] in FLEX_TYPES, f"injected {node['type']!r} into a card"
        for action in _actions(message):
            assert "evil.example" not in json.dumps(action), "a pasted card became a button"
    assert "ระบบขัดข้อง" not in person.last_text
    assert not person.chat.platform.errors, person.chat.platform.errors
    with db.transaction() as session:
        failed = session.scalars(select(InboxEvent).where(InboxEvent.last_error.is_not(None)))
        errors = [e.last_error for e in failed]
    assert not errors, errors[0]


def position(person) -> tuple[str, str] | None:
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.line_user_id == person.user_id))
        state = session.get(ConversationState, user.id) if user else None
        return (state.flow, state.state) if state else None


def form_value(person, key: str) -> Any:
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.line_user_id == person.user_id))
        state = session.get(ConversationState, user.id) if user else None
        return state.data.get(key) if state else None


def tidy(value: str) -> None:
    """What is stored: trimmed, no control characters (a document or a database refuses them)."""
    assert value == value.strip()
    assert all(ch in "\n\t" or unicodedata.category(ch) != "Cc" for ch in value), repr(value)


@dataclass
class Field:
    step: str  # the name in STEPS
    at: tuple[str, str]  # (flow, state) where the text is typed
    read: Callable[[], Any]  # what the step stored
    limit: int
    back: Callable[[], None]  # from after an accepted answer to the step again
    shown: bool = True  # the stored text is shown back in the answer
    one_line: bool = False
    unchanged: Callable[[], Any] = lambda: None  # what a refusal must leave as it was


def push_through(person, field: Field) -> list[str]:
    """Every string of the step's share, typed at the step; returns what was accepted."""
    accepted = []
    for label, text in strings_for(field.step):
        assert position(person) == field.at, f"{field.step}: not at the step before {label}"
        prior, before = field.read(), field.unchanged()
        person.say(text)
        answered_safely(person)
        stored = field.read()
        if stored is not None and stored != prior:
            assert isinstance(stored, str)
            tidy(stored)
            assert core(stored) == core(text), f"{field.step}/{label}: stored {stored!r}"
            assert len(stored) <= field.limit
            if field.one_line:
                assert "\n" not in stored
            if field.shown:
                assert core(stored)[:20] in core(person.last_text), f"{field.step}/{label}"
            accepted.append(stored)
            field.back()
        else:
            assert position(person) == field.at, f"{field.step}/{label} left the step"
            assert field.unchanged() == before, f"{field.step}/{label} changed data"
            assert label not in {"emoji", "thai digits", "zero width"} or field.step in {
                "name",
                "area",
                "phone",
                "start",
                "figures",
            }, f"{field.step} refused ordinary text ({label}): {person.last_text}"
    return accepted


def back_to(person, at: tuple[str, str]) -> Callable[[], None]:
    def back() -> None:
        person.say("ย้อนกลับ")
        answered_safely(person)
        assert position(person) == at

    return back


# Registration and the profile -------------------------------------------------------------
def test_registration_steps(line):
    person = line.user("ผู้ใช้ ทดสอบ")
    person.follow()
    person.tap("ยอมรับ")
    name = Field(
        "name",
        ("register", "name"),
        lambda: form_value(person, "name"),
        120,
        back_to(person, ("register", "name")),
        shown=False,
    )
    push_through(person, name)
    person.say("สมศรี ใจดี")
    person.say("ต.หอคำ")
    assert position(person) == ("register", "phone")
    person.say("ย้อนกลับ")  # to the area, where its name may be typed
    area = Field(
        "area",
        ("register", "province"),
        lambda: form_value(person, "subdistrict"),
        6,
        lambda: None,
        shown=False,
    )
    assert not push_through(person, area)  # nothing hostile names a subdistrict
    person.say("หอคำ")
    phone = Field(
        "phone", ("register", "phone"), lambda: form_value(person, "phone"), 10, lambda: None
    )
    assert not push_through(person, phone)
    person.say("๐๘๑-๒๓๔-๕๖๗๘")
    person.tap("ยืนยัน")
    assert "ลงทะเบียนเรียบร้อยแล้ว" in person.last_text

    # Profile edits go through the same steps, from the summary card.
    person.say("แก้ไขข้อมูล")
    person.tap("แก้ไข")
    assert position(person) == ("register", "name")
    person.say(FLEX_JSON)
    answered_safely(person)
    assert position(person) == ("register", "name")
    person.say("ยกเลิก")
    assert position(person) is None and "ยกเลิก" in person.last_text


# The plan's activity form -----------------------------------------------------------------
def test_plan_item_steps(line):
    somsri = leader(line, "สมศรี ใจดี")
    somsri.say("แผนของฉัน")
    somsri.tap("เพิ่มกิจกรรม")
    # Area and component are buttons: take the first of each.
    area_button = next(a for a in _actions(somsri.last) if a.get("type") == "postback")
    somsri.postback(area_button["data"])
    component_button = next(a for a in _actions(somsri.last) if a.get("type") == "postback")
    somsri.postback(component_button["data"])
    assert position(somsri) == ("item", "activity")

    activity = Field(
        "activity",
        ("item", "activity"),
        lambda: form_value(somsri, "activity"),
        plans.ACTIVITY_MAX,
        back_to(somsri, ("item", "activity")),
    )
    push_through(somsri, activity)
    somsri.say("อบรมกลุ่มทอผ้า")
    somsri.tap("พัฒนาด้วยตนเอง")
    detail = Field(
        "detail",
        ("item", "detail"),
        lambda: form_value(somsri, "detail"),
        plans.DETAIL_MAX,
        back_to(somsri, ("item", "detail")),
    )
    push_through(somsri, detail)
    somsri.say("อ่านหนังสือ")
    responsible = Field(
        "responsible",
        ("item", "responsible"),
        lambda: form_value(somsri, "responsible"),
        plans.RESPONSIBLE_MAX,
        back_to(somsri, ("item", "responsible")),
    )
    push_through(somsri, responsible)
    somsri.say("ตนเอง")
    start = Field(
        "start",
        ("item", "start"),
        lambda: form_value(somsri, "starts_on"),
        10,
        lambda: None,
        shown=False,
    )
    assert not push_through(somsri, start)  # none of it is a date
    # Still in the form: cancelling works and nothing was saved.
    somsri.say("ยกเลิก")
    assert position(somsri) is None and "ไม่ได้บันทึก" in somsri.last_text
    with db.transaction() as session:
        assert not session.scalars(select(PlanItem)).all()


# The leader's progress: note, evidence caption, figures -------------------------------------
def _item_row(item_id: int) -> PlanItem:
    with db.transaction() as session:
        row = session.get(PlanItem, item_id)
        assert row is not None
        session.expunge(row)
        return row


def _items(plan_id: int) -> list[int]:
    with db.transaction() as session:
        return list(
            session.scalars(select(PlanItem.id).where(PlanItem.plan_id == plan_id).order_by("id"))
        )


def test_progress_caption_and_figure_steps(line, runner, clock):
    clock.set("2027-03-18 08:00")
    officer = officer_of(line, runner)
    somsri = leader(line, "สมศรี ใจดี")
    plan_id = plan_at(somsri, "approved", officer)
    item_id = _items(plan_id)[0]

    def to_note() -> None:
        somsri.postback(f"a=progress.item&i={item_id}")
        somsri.tap("กำลังดำเนินการ")
        assert position(somsri) == ("progress", "note")

    to_note()
    note = Field(
        "progress note",
        ("progress", "note"),
        lambda: _item_row(item_id).note,
        1000,
        to_note,
        shown=False,
        unchanged=lambda: _item_row(item_id).state,
    )
    push_through(somsri, note)
    somsri.say("ยกเลิก")

    somsri.postback(f"a=evidence.send&i={item_id}")
    somsri.send_photos(photo(1))

    def caption_now() -> str | None:
        with db.transaction() as session:
            return session.scalar(
                select(Evidence.caption).where(Evidence.plan_item_id == item_id).order_by("id")
            )

    caption = Field("caption", ("evidence", "collect"), caption_now, 500, lambda: None, shown=False)
    captions = push_through(somsri, caption)
    assert captions and all("\n" not in c for c in captions)  # a caption is one line
    somsri.say("เสร็จแล้ว")
    assert position(somsri) is None

    somsri.postback(f"a=figures.start&p={plan_id}")
    figures = Field(
        "figures", ("figures", "trained"), lambda: form_value(somsri, "trained"), 9, lambda: None
    )
    assert not push_through(somsri, figures)  # none of it is a count
    somsri.say("๒๐")  # Thai digits are a count
    assert form_value(somsri, "trained") == 20 and position(somsri) == ("figures", "occupied")


# The officer: returning a plan, inspection reasons, search -------------------------------------
def _plan_row(plan_id: int) -> Plan:
    with db.transaction() as session:
        row = session.get(Plan, plan_id)
        assert row is not None
        session.expunge(row)
        return row


def test_officer_steps(line, runner, clock):
    clock.set("2027-03-18 08:00")
    officer = officer_of(line, runner)
    somsri = leader(line, "สมศรี ใจดี")
    plan_id = plan_at(somsri, "submitted")

    def to_comment() -> None:
        with db.transaction() as session:
            plan = session.get(Plan, plan_id)
            user = session.get(User, plan.leader_id)
            if plan.status != "submitted":
                plans.set_ready(
                    session, plan, plan.ready_on or plans.fiscal.bounds(plan.fiscal_year)[1], user
                )
                plans.submit(session, plan, user)
            revision = plan.revision
        officer.postback(f"a=review.return&p={plan_id}&r={revision}")
        assert position(officer) == ("plan_return", "comment")

    def comment_back() -> None:
        # The leader reads the comment on her plan card.
        comment = _plan_row(plan_id).review_comment or ""
        somsri.received()
        assert core(comment)[:20] in core(somsri.last_text)
        answered_safely(somsri)
        to_comment()

    to_comment()
    comment = Field(
        "return comment",
        ("plan_return", "comment"),
        lambda: _plan_row(plan_id).review_comment,
        plans.COMMENT_MAX,
        comment_back,
        shown=False,
        unchanged=lambda: _plan_row(plan_id).status,
    )
    assert push_through(officer, comment)
    officer.say("ยกเลิก")

    boonma = leader(line, "บุญมา ขยัน")
    approved = plan_at(boonma, "approved", officer)
    officer.postback(f"a=inspect&p={approved}")
    officer.tap("เสนอรับรอง")
    reasons = Field(
        "inspection reasons",
        ("inspect", "reasons"),
        lambda: form_value(officer, "reasons"),
        1000,
        back_to(officer, ("inspect", "reasons")),
        shown=False,
    )
    assert push_through(officer, reasons)
    officer.say("ยกเลิก")

    # Search: the text is not stored; the answer lists leaders or says none matched.
    for _label, text in strings_for("search"):
        officer.say("ค้นหา")
        assert position(officer) == ("leader_search", "query")
        officer.say(text)
        answered_safely(officer)
        if position(officer) is not None:  # nothing to search for: asked again
            officer.say("ยกเลิก")
    for _label, text in strings_for("search typed"):
        officer.say("ค้นหา " + text)
        answered_safely(officer)
    officer.say("ค้นหา สมศรี")
    assert "สมศรี ใจดี" in officer.last_text


# Province staff: committee reasons, broadcast place and note, outstanding story ---------------
def test_province_steps(line, runner, clock):
    clock.set("2027-03-18 08:00")
    officer = officer_of(line, runner)
    staff = staff_of(line, runner)
    somsri = leader(line, "สมศรี ใจดี")
    plan_id = plan_at(somsri, "inspected", officer, staff)

    staff.postback(f"a=cm.pick&p={plan_id}")
    staff.tap("ไม่รับรอง")
    staff.pick("เลือกวันที่ประชุม", "2027-03-18")
    reasons = Field(
        "committee reasons",
        ("committee", "reasons"),
        lambda: form_value(staff, "reasons"),
        1000,
        back_to(staff, ("committee", "reasons")),
    )
    assert push_through(staff, reasons)
    staff.say("ยกเลิก")

    staff.say("ประกาศวันประเมิน")
    if "สร้างประกาศใหม่" in staff.labels():
        staff.tap("สร้างประกาศใหม่")
    staff.pick("เลือกวันและเวลา", "2027-06-20T09:30")
    place = Field(
        "broadcast place",
        ("broadcast", "place"),
        lambda: form_value(staff, "place"),
        300,
        back_to(staff, ("broadcast", "place")),
        shown=False,
        one_line=True,
    )
    assert push_through(staff, place)
    staff.say("ห้องประชุมอำเภอ")
    staff.tap("ผู้นำทั้งจังหวัด")
    note = Field(
        "broadcast note",
        ("broadcast", "note"),
        lambda: form_value(staff, "note"),
        500,
        back_to(staff, ("broadcast", "note")),
    )
    assert push_through(staff, note)
    staff.say("ยกเลิก")

    boonma = leader(line, "บุญมา ขยัน")
    plan_at(boonma, "certified", officer, staff)
    staff.say("ผู้นำดีเด่น")
    staff.tap(next(label for label in staff.labels() if "บุญมา" in label))

    def story_now() -> str | None:
        with db.transaction() as session:
            return session.scalar(
                select(CommitteeDecision.story).where(CommitteeDecision.outstanding.is_(True))
            )

    def marked() -> list[int]:
        with db.transaction() as session:
            outstanding = CommitteeDecision.outstanding.is_(True)
            return list(session.scalars(select(CommitteeDecision.plan_id).where(outstanding)))

    def to_story() -> None:
        staff.say("ผู้นำดีเด่น")
        staff.tap(next(label for label in staff.labels() if "บุญมา" in label))
        assert position(staff) == ("outstanding", "story")

    story = Field(
        "outstanding story",
        ("outstanding", "story"),
        story_now,
        3000,
        to_story,
        shown=False,
        unchanged=marked,
    )
    assert push_through(staff, story)


# Shown back on the web desk and in the documents ---------------------------------------------
def _letters(text: str) -> str:
    """Thai letters only: documents turn digits Thai and drop what the font cannot draw."""
    return re.sub(r"[^\u0e01-\u0e2e]", "", text)


def test_hostile_text_on_the_web_desk_and_in_the_documents(line, runner, app, clock, tmp_path):
    clock.set("2027-03-18 08:00")
    officer = officer_of(line, runner)
    somsri = leader(line, "สมศรี ใจดี")
    plan_id = plan_at(somsri, "draft", activities=0)
    kept = []
    with db.transaction() as session:
        plan = session.get(Plan, plan_id)
        user = session.get(User, plan.leader_id)
        component = plans.edition(session, plan).areas[0].components[0]
        first, last = plans.fiscal.bounds(plan.fiscal_year)
        for label, text in HOSTILE + ALWAYS:
            try:  # what the chat form would keep of it
                activity = plans.clean_text(text, "กิจกรรม", plans.ACTIVITY_MAX)
            except plans.PlanError:
                continue
            plans.add_item(
                session,
                plan,
                plans.ItemDraft(
                    component.id, activity, "help", activity, activity[:100].strip(), first, last
                ),
                user,
            )
            kept.append((label, activity))
        plans.set_ready(session, plan, last, user)
        plans.submit(session, plan, user)
    assert {"html", "flex json", "control", "right to left"} <= {label for label, _ in kept}

    # The web desk escapes it.
    page = desk(app, officer).get(f"/web/leaders/{user_of(somsri).id}")
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert" in page.text
    assert "evil.example" in page.text  # shown as text …
    assert 'href="https://evil.example' not in page.text  # … never as a link

    # The officer's plan card in the chat keeps it in text values.
    officer.postback(f"a=plan.view&l={user_of(somsri).id}")
    answered_safely(officer)

    # The documents are built and hold every activity.
    with db.transaction() as session:
        plan = session.get(Plan, plan_id)
        form = plans.plan_form(session, plan)
        pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(render_pdf(form))).pages)
        sheet = load_workbook(io.BytesIO(render_xlsx(form))).active
        cells = " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value)
        summary, _ = document_of(session, plan)
    out = tmp_path / "summary.pdf"
    render_summary(summary, out)
    summary_text = "".join(p.extract_text() for p in PdfReader(out).pages)
    for label, activity in kept:
        letters = _letters(activity)[:15]
        assert letters in _letters(cells), f"xlsx lost {label}"
        assert letters in _letters(pdf_text), f"plan pdf lost {label}"
        assert letters in _letters(summary_text), f"summary pdf lost {label}"

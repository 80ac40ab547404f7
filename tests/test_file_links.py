"""Who may open which signed file link: the plan (PDF, XLSX), evidence (thumbnail, the original
PDF or video, never a photo's original), the summary document and the certificate, each made
for one person as the chat makes it, against everyone around a leader of district 3801. Then the
link itself: expired, altered, used on another kind's address, or left pointing at a file that
is gone."""

from __future__ import annotations

import io
import json
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_decode, base64_encode
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select, update

from bot.db import db
from bot.links import LINK_MAX_AGE
from bot.models import AuditLog, Evidence, SummaryDocument, User
from bot.services import committee
from tests.test_evidence import mp4, photo
from tests.test_invites import consented, create_code
from tests.test_plan_download import thai_only
from tests.workspace import leader, officer_of, plan_at, staff_of, user_of

BASE = "https://bot.example.test"
REPORT = b"%PDF-1.4\n% the meeting report she sent\n" + b"0" * 4000
VIDEO = mp4(300_000)

# Everyone a link can be made for. All but the first four are refused whatever their link
# says: a leader next door, an officer of another district and province staff of another
# province, an officer who moved to another district after the link was made, an officer who
# had the bot forget him (a guest again), a follower who never registered, and a viewer id that
# names no one. One rule for every kind of link (the table below), as for the chat and the desk.
PEOPLE = (
    "leader",
    "officer",
    "province",
    "admin",
    "neighbour",
    "officer_elsewhere",
    "province_elsewhere",
    "officer_moved",
    "officer_forgotten",
    "guest",
    "unknown",
)
ALLOWED = {"leader", "officer", "province", "admin"}
OK, FORBIDDEN, NONE = 200, 403, 404


@dataclass(frozen=True)
class Kind:
    """One kind of file link: how the app makes it, what an allowed viewer gets back, and the
    audit row a refusal leaves."""

    route: str
    kind: str
    payload: Callable[[dict[str, int]], dict[str, object]]
    mimetype: str | None  # None: no one gets bytes from this link (a photo's original)
    denied: str
    body: Callable[[bytes, dict], bool] = lambda data, world: True


def _starts(prefix: bytes) -> Callable[[bytes, dict], bool]:
    return lambda data, world: data.startswith(prefix)


def _stored(key_of: str) -> Callable[[bytes, dict], bool]:
    return lambda data, world: data == world["objects"][key_of]


KINDS = {
    "plan.pdf": Kind(
        "/files/plan", "plan", lambda ids: {"p": ids["plan"], "f": "pdf"}, "application/pdf",
        "plan.download.denied", _starts(b"%PDF-"),
    ),
    "plan.xlsx": Kind(
        "/files/plan", "plan", lambda ids: {"p": ids["plan"], "f": "xlsx"},
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "plan.download.denied", _starts(b"PK\x03\x04"),
    ),
    "evidence.thumb": Kind(
        "/files/evidence", "evidence", lambda ids: {"e": ids["photo"], "v": "thumb"},
        "image/jpeg", "evidence.view.denied", _stored("thumb"),
    ),
    "evidence.report": Kind(
        "/files/evidence", "evidence", lambda ids: {"e": ids["report"], "v": "file"},
        "application/pdf", "evidence.view.denied", lambda data, world: data == REPORT,
    ),
    "evidence.video": Kind(
        "/files/evidence", "evidence", lambda ids: {"e": ids["video"], "v": "file"},
        "video/mp4", "evidence.view.denied", lambda data, world: data == VIDEO,
    ),
    "evidence.photo_original": Kind(
        "/files/evidence", "evidence", lambda ids: {"e": ids["photo"], "v": "file"},
        None, "evidence.view.denied",
    ),
    "summary": Kind(
        "/files/summary", "summary", lambda ids: {"d": ids["summary"]}, "application/pdf",
        "summary.download.denied", _stored("summary"),
    ),
    "certificate": Kind(
        "/files/certificate", "certificate", lambda ids: {"d": ids["decision"]},
        "application/pdf", "certificate.download.denied", _starts(b"%PDF-"),
    ),
}  # fmt: skip


def expected(kind: Kind, who: str) -> int:
    if who not in ALLOWED:
        return FORBIDDEN
    return OK if kind.mimetype else NONE


def link(app, name: str, ids: dict[str, int], viewer: int) -> str:
    """The path of a link made for `viewer`, with the same call the handlers make."""
    kind = KINDS[name]
    url = app.extensions["runtime"].site.links.url(
        kind.route, kind.kind, **kind.payload(ids), u=viewer
    )
    return url.removeprefix(BASE)


def audited(action: str, actor: int | None = None) -> int:
    """Audit rows of an action (by one person, or by no known person when actor is 0)."""
    query = select(func.count()).select_from(AuditLog).where(AuditLog.action == action)
    if actor == 0:
        query = query.where(AuditLog.actor_user_id.is_(None))
    elif actor is not None:
        query = query.where(AuditLog.actor_user_id == actor)
    with db.transaction() as session:
        return session.scalar(query) or 0


def refused_in_thai(response, status: int, words: str) -> bool:
    if response.status_code != status or response.mimetype != "text/html":
        return False
    text = response.get_data(as_text=True)
    return (
        words in text
        and "ค่ะ" in text
        and b"%PDF" not in response.data
        and b"\xff\xd8" not in response.data  # no JPEG either
    )


@pytest.fixture
def world(line, runner, app, clock):
    """Somsri of ต.หอคำ (3801): a certified plan, a photo, a PDF report and a video as
    evidence, a ready summary document; and links to all of it made for everyone in PEOPLE
    while their roles were still what their names say."""
    clock.set("2027-06-10 09:00")
    officer = officer_of(line, runner)
    moved = officer_of(line, runner, name="พัฒนากร ย้ายไป")
    forgotten = officer_of(line, runner, name="พัฒนากร ลาออก")
    elsewhere = officer_of(line, runner, "3803", name="พัฒนากร โซ่พิสัย")
    staff = staff_of(line, runner)
    bangkok = staff_of(line, runner, "เจ้าหน้าที่กรุงเทพ", province="10")
    admin = consented(line, "ผู้ดูแลระบบ กรม")
    guest = consented(line, "ผู้ติดตาม ทั่วไป")
    somsri = leader(line, "สมศรี ใจดี")
    neighbour = leader(line, "มานี มีสุข", "ต.วิศิษฐ์")
    plan_id = plan_at(somsri, "certified", officer, staff)
    with db.transaction() as session:
        # No chat or desk path makes an admin (the department's accounts are set in the
        # database); the rule for one is still part of the matrix.
        session.execute(
            update(User)
            .where(User.line_user_id == admin.user_id)
            .values(role="admin", status="active")
        )

    somsri.say("แผนของฉัน")
    somsri.tap("ดูกิจกรรม")
    somsri.tap("ส่งหลักฐาน")
    somsri.send_photos(photo(5, exif=True))
    assert somsri.last_text == "รับรูปที่ 1 แล้วค่ะ"
    somsri.send_file(REPORT, "รายงานการประชุม.pdf")
    assert "รับไฟล์ รายงานการประชุม.pdf แล้วค่ะ" in somsri.last_text
    somsri.send_video(VIDEO)
    assert somsri.last_text == "รับวิดีโอแล้วค่ะ"
    somsri.say("เสร็จแล้ว")
    somsri.postback(f"a=summary.make&p={plan_id}")  # built before the chat settles

    leader_id = user_of(somsri).id
    storage = app.extensions["runtime"].storage
    with db.transaction() as session:
        rows = {
            row.kind: row
            for row in session.scalars(select(Evidence).where(Evidence.uploaded_by == leader_id))
        }
        job = session.scalar(select(SummaryDocument).where(SummaryDocument.plan_id == plan_id))
        assert job is not None and job.status == "ready"
        decision = committee.of(session, plan_id)
        assert decision is not None and decision.certificate_no
        ids = {
            "plan": plan_id,
            "photo": rows["image"].id,
            "report": rows["file"].id,
            "video": rows["video"].id,
            "summary": job.id,
            "decision": decision.id,
        }
        keys = {"thumb": rows["image"].thumb_key, "summary": job.storage_key}
        unknown = (session.scalar(select(func.max(User.id))) or 0) + 1000
    objects = {}
    for name, key in keys.items():
        with storage.open(key) as source:
            objects[name] = source.read()

    people = {
        "leader": somsri,
        "officer": officer,
        "province": staff,
        "admin": admin,
        "neighbour": neighbour,
        "officer_elsewhere": elsewhere,
        "province_elsewhere": bangkok,
        "officer_moved": moved,
        "officer_forgotten": forgotten,
        "guest": guest,
    }
    viewers = {who: user_of(person).id for who, person in people.items()}
    viewers["unknown"] = unknown
    links = {(name, who): link(app, name, ids, viewers[who]) for name in KINDS for who in PEOPLE}
    # The certificate the leader keeps is the one pushed with her result.
    own = app.extensions["runtime"].site.links.certificate_url(ids["decision"], leader_id)
    links["certificate", "leader"] = own.removeprefix(BASE)

    # After the links were made: one officer moves to So Phisai, the other asks to be forgotten.
    moved.say(create_code(runner, "officer", "3803"))
    forgotten.say("ข้อมูลของฉัน")
    forgotten.tap("ลบข้อมูลของฉัน")
    forgotten.tap("ลบเลย")
    assert "ลบข้อมูลส่วนบุคคลของคุณแล้ว" in forgotten.last_text
    assert (user_of(moved).area_code, user_of(forgotten).role) == ("3803", "guest")
    return {
        "people": people,
        "viewers": viewers,
        "links": links,
        "ids": ids,
        "keys": keys,
        "objects": objects,
    }


@pytest.mark.parametrize("name", KINDS)
def test_each_link_opens_for_the_people_the_rules_allow_and_no_one_else(name, client, world):
    kind = KINDS[name]
    wrong = []
    for who in PEOPLE:
        actor = 0 if who == "unknown" else world["viewers"][who]
        before = audited(kind.denied, actor)
        response = client.get(world["links"][name, who])
        want = expected(kind, who)
        if want == OK:
            fine = (
                response.status_code == OK
                and response.mimetype == kind.mimetype
                and kind.body(response.data, world)
            )
        elif want == FORBIDDEN:
            fine = refused_in_thai(response, FORBIDDEN, "ไม่มีสิทธิ์")
            fine = fine and audited(kind.denied, actor) == before + 1
        else:
            fine = refused_in_thai(response, NONE, "ลิงก์นี้ไม่ถูกต้อง")
        if not fine:
            wrong.append(f"{name} as {who}: expected {want}, got {response.status_code}")
        # The token is the key: it must not leave in a Referer from a link inside the file.
        assert response.headers.get("Referrer-Policy") == "no-referrer"
        assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert not wrong, "\n".join(wrong)


def _signed_ago(app, payload: dict, seconds: int) -> str:
    class Then(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - seconds

    signer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="file-link", signer=Then)
    return signer.dumps(payload)


def _payload(app, path: str) -> dict:
    route, token = path.rsplit("/", 1)
    return app.extensions["runtime"].site.links.load(token, route.rsplit("/", 1)[1], 10**9)


def test_links_expire_after_a_day_and_the_certificate_after_a_year(app, client, world):
    wrong = []
    for name, kind in KINDS.items():
        if kind.mimetype is None:
            continue
        path = world["links"][name, "leader"]
        payload = _payload(app, path)
        day_old = client.get(f"{kind.route}/{_signed_ago(app, payload, LINK_MAX_AGE + 60)}")
        if name == "certificate":
            # A keepsake in her chat: still good after a day, and a month; not after a year.
            for seconds, status in ((LINK_MAX_AGE + 60, OK), (30 * 86400, OK), (367 * 86400, 410)):
                got = client.get(f"{kind.route}/{_signed_ago(app, payload, seconds)}")
                if got.status_code != status:
                    wrong.append(f"certificate signed {seconds}s ago: {got.status_code}")
            continue
        if not refused_in_thai(day_old, 410, "หมดอายุ"):
            wrong.append(f"{name} a day old: {day_old.status_code}")
        fresh = client.get(f"{kind.route}/{_signed_ago(app, payload, LINK_MAX_AGE - 60)}")
        if fresh.status_code != OK:
            wrong.append(f"{name} nearly a day old: {fresh.status_code}")
    assert not wrong, "\n".join(wrong)


def _changed(text: str, at: int) -> str:
    return text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1 :]


def _reencoded(token: str, **changes: object) -> str:
    """The payload edited and encoded again by someone without the key (old signature kept)."""
    encoded, stamp, signature = token.rsplit(".", 2)
    compressed = encoded.startswith(".")
    raw = base64_decode(encoded.lstrip("."))
    payload = json.loads(zlib.decompress(raw) if compressed else raw)
    payload.update(changes)
    body = base64_encode(json.dumps(payload, separators=(",", ":"))).decode()
    return f"{body}.{stamp}.{signature}"


def test_altered_and_foreign_tokens_are_refused(app, client, world):
    """An officer of another district holds his own valid links and edits them to reach
    Somsri's files as her officer would: one character, the payload re-encoded, a key of
    his own. None of it opens."""
    officer_id = world["viewers"]["officer"]
    wrong = []
    for name in KINDS:
        path = world["links"][name, "officer_elsewhere"]
        route, token = path.rsplit("/", 1)
        body_end = token.index(".", 1)
        stranger = URLSafeTimedSerializer("a key of his own", salt="file-link")
        attempts = {
            "signature": _changed(token, len(token) - 5),
            "payload": _changed(token, body_end // 2),
            "timestamp": _changed(token, body_end + 2),
            "re-encoded as the officer": _reencoded(token, u=officer_id),
            "another key": stranger.dumps(_payload(app, path) | {"u": officer_id}),
            "no signature": token.rsplit(".", 1)[0],
        }
        for what, forged in attempts.items():
            response = client.get(f"{route}/{forged}")
            if not refused_in_thai(response, NONE, "ลิงก์นี้ไม่ถูกต้อง"):
                wrong.append(f"{name}, {what}: {response.status_code}")
    assert not wrong, "\n".join(wrong)


def test_a_token_of_one_kind_does_not_open_another_kinds_address(client, world):
    routes = sorted({kind.route for kind in KINDS.values()})
    wrong = []
    for name, kind in KINDS.items():
        token = world["links"][name, "leader"].rsplit("/", 1)[1]
        for route in routes:
            if route == kind.route:
                continue
            response = client.get(f"{route}/{token}")
            if not refused_in_thai(response, NONE, "ลิงก์นี้ไม่ถูกต้อง"):
                wrong.append(f"{name} on {route}: {response.status_code}")
    assert not wrong, "\n".join(wrong)


def test_links_to_files_that_are_gone_answer_not_found(app, client, world):
    links, ids = world["links"], world["ids"]
    somsri = world["people"]["leader"]
    storage = app.extensions["runtime"].storage

    # She deletes her PDF report: her link and her officer's stop at once.
    somsri.postback(f"a=evidence.delete.yes&e={ids['report']}")
    assert "ลบหลักฐานแล้ว" in somsri.last_text
    for who in ("leader", "officer"):
        gone = client.get(links["evidence.report", who])
        assert refused_in_thai(gone, NONE, "ถูกลบไปแล้ว"), who

    # The photo's thumbnail is missing from storage (a lost disk, a bucket rule): not a 500.
    storage.delete(world["keys"]["thumb"])
    assert refused_in_thai(client.get(links["evidence.thumb", "officer"]), NONE, "ถูกลบไปแล้ว")

    # The summary document's object is gone from storage: refused, and not logged as a download.
    downloads = audited("summary.download")
    storage.delete(world["keys"]["summary"])
    missing = client.get(links["summary", "leader"])
    assert refused_in_thai(missing, NONE, "ถูกลบไปแล้ว")
    assert audited("summary.download") == downloads
    # And once the document's row is gone too, the link names nothing.
    with db.transaction() as session:
        session.delete(session.get(SummaryDocument, ids["summary"]))
    assert refused_in_thai(client.get(links["summary", "officer"]), NONE, "เอกสารสรุปผลงานใหม่")


def _shows_her(response) -> bool:
    """Whether a served plan or certificate still names her."""
    if response.mimetype == "application/pdf":
        text = "".join(PdfReader(io.BytesIO(response.data)).pages[0].extract_text() or "")
        return thai_only("สมศรี") in thai_only(text)
    sheet = load_workbook(io.BytesIO(response.data)).active
    return any("สมศรี" in str(cell.value) for row in sheet.iter_rows() for cell in row)


def test_after_the_leader_asks_to_be_forgotten_no_link_gives_her_away(client, world):
    somsri = world["people"]["leader"]
    somsri.say("ข้อมูลของฉัน")
    somsri.tap("ลบข้อมูลของฉัน")
    somsri.tap("ลบเลย")
    assert "ลบข้อมูลส่วนบุคคลของคุณแล้ว" in somsri.last_text
    wrong = []
    for name, kind in KINDS.items():
        for who in ("leader", "officer", "province", "admin"):
            response = client.get(world["links"][name, who])
            kept = kind.kind == "plan" and who != "leader"
            if response.status_code == OK and kept:
                # The department's numbers keep her plan, anonymised; no certificate is
                # made out to nobody.
                fine = not _shows_her(response)
            else:
                # Her own links stop (she is a guest now); her photos, files and documents are
                # gone for everyone.
                fine = refused_in_thai(response, NONE if who != "leader" else FORBIDDEN, "ค่ะ")
                fine = fine or refused_in_thai(response, NONE, "ค่ะ")
            if not fine:
                wrong.append(f"{name} as {who}: {response.status_code} {response.mimetype}")
    assert not wrong, "\n".join(wrong)

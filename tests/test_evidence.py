"""Evidence photos, videos and files, as a leader sends them in LINE and others see them."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from PIL import Image
from sqlalchemy import select

from bot.db import db
from bot.intake import Confirmations
from bot.models import AuditLog, Evidence, OutboxMessage
from tests.test_plan import fill_plan, items_of, leader_and_officer


def photo(seed: int, size: tuple[int, int] = (640, 480), exif: bool = False) -> bytes:
    """A real JPEG, different for each seed; with EXIF time and GPS when asked."""
    image = Image.new("RGB", size, ((seed * 53) % 256, (seed * 97) % 256, (seed * 31) % 256))
    image.putpixel((seed % size[0], 0), (255, 255, 255))
    out = io.BytesIO()
    if exif:
        data = Image.Exif()
        data[0x0132] = "2026:03:12 10:30:00"
        gps = {1: "N", 2: (18.0, 21.0, 36.0), 3: "E", 4: (103.0, 39.0, 0.0)}
        data[0x8825] = gps
        image.save(out, "JPEG", exif=data)
    else:
        image.save(out, "JPEG")
    return out.getvalue()


def mp4(size: int) -> bytes:
    header = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    return header + b"\x00" * (size - len(header))


@pytest.fixture
def somsri(line, runner):
    """A registered leader with three activities in her plan."""
    leader, _ = leader_and_officer(line, runner)
    leader.say("แผนของฉัน")
    fill_plan(leader, 3)
    return leader


def rows_of(person) -> list[Evidence]:
    items = {i.id for i in items_of(person)}
    with db.transaction() as session:
        return list(
            session.scalars(
                select(Evidence)
                .where(Evidence.plan_item_id.in_(items) | Evidence.plan_item_id.is_(None))
                .order_by(Evidence.id)
            )
        )


def open_evidence(person, client, nth_item: int = 0):
    """Open an activity's evidence carousel; returns the messages."""
    person.say("แผนของฉัน")
    person.tap("ดูกิจกรรม")
    labels = [label for label in person.labels() if label.startswith("ดูหลักฐาน")]
    return person.tap(labels[nth_item])


def test_a_set_of_five_photos_without_context_asks_once_then_goes_to_the_chosen_activity(
    somsri, client
):
    photos = [photo(n, exif=n == 0) for n in range(5)]
    somsri.send_photos(*photos)
    assert "รูปนี้เป็นหลักฐานของกิจกรรมไหนคะ" in somsri.last_text
    assert len(somsri.last) == 1  # asked once for the whole set, no per-photo noise
    somsri.tap("2. กิจกรรม 1")
    assert 'แนบรูป 5 รายการกับกิจกรรม "กิจกรรม 1"' in somsri.last_text

    rows = rows_of(somsri)
    second = items_of(somsri)[1]
    assert [r.status for r in rows] == ["stored"] * 5
    assert {r.plan_item_id for r in rows} == {second.id}
    assert len({r.content_hash for r in rows}) == 5
    # EXIF time and place are kept as data …
    assert rows[0].taken_at is not None and rows[0].gps_lat == pytest.approx(18.36, abs=0.01)

    somsri.say("อบรมกลุ่มทอผ้า")
    assert "บันทึกคำอธิบายให้ 5 รายการแล้ว" in somsri.last_text
    somsri.tap("เสร็จแล้ว")
    assert "มีหลักฐาน 5 รายการแล้ว" in somsri.last_text

    carousel = open_evidence(somsri, client, 1)[0]
    bubbles = carousel["contents"]["contents"]
    assert len(bubbles) == 5
    assert "อบรมกลุ่มทอผ้า" in somsri.last_text and "ถ่ายเมื่อ 12 มีนาคม 2569" in somsri.last_text
    # … and stripped from the thumbnail everyone else sees.
    url = bubbles[0]["hero"]["url"]
    assert url.startswith("https://bot.example.test/files/evidence/")
    response = client.get(url.removeprefix("https://bot.example.test"))
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    thumb = Image.open(io.BytesIO(response.data))
    assert not thumb.getexif() and b"Exif" not in response.data


def test_from_an_activity_card_each_photo_is_counted(somsri):
    somsri.say("แผนของฉัน")
    somsri.tap("ดูกิจกรรม")
    somsri.tap("ส่งหลักฐาน")
    assert "ส่งรูป วิดีโอ หรือไฟล์ของกิจกรรม" in somsri.last_text
    somsri.send_photos(photo(1))
    assert somsri.last_text == "รับรูปที่ 1 แล้วค่ะ"
    somsri.send_photos(photo(2))
    assert somsri.last_text == "รับรูปที่ 2 แล้วค่ะ"
    somsri.send_file(b"%PDF-1.4\n" + b"0" * 2000, "รายงานการประชุม.pdf")
    assert "รับไฟล์ รายงานการประชุม.pdf แล้วค่ะ" in somsri.last_text
    # The same photo again is kept once, and she is told.
    somsri.send_photos(photo(1))
    assert 'รูปนี้มีอยู่แล้ว ในกิจกรรม "กิจกรรม 0"' in somsri.last_text
    stored = [r for r in rows_of(somsri) if r.status == "stored"]
    assert len(stored) == 3
    assert [r.status for r in rows_of(somsri)].count("duplicate") == 1


def test_what_she_sends_is_fetched_at_once_not_at_the_next_poll(somsri, app, line):
    """The event worker that stores an evidence row (or a summary document to build) wakes
    the background threads; their poll is the fallback for rows written by other processes.
    With the poll made an hour long, only that wake can finish these within `settle`'s bound."""
    background = app.extensions["runtime"].background
    background.stop()
    background.poll_seconds = 3600
    background.start()
    time.sleep(0.2)  # each thread's first round finds nothing; then they sleep

    somsri.say("แผนของฉัน")
    somsri.tap("ดูกิจกรรม")
    somsri.tap("ส่งหลักฐาน")
    somsri.send_photos(photo(11))
    assert somsri.last_text == "รับรูปที่ 1 แล้วค่ะ"
    (row,) = rows_of(somsri)
    assert row.status == "stored" and row.thumb_key is not None

    somsri.say("ความคืบหน้า")
    somsri.tap("เอกสารสรุปผลงาน (PDF)")
    pushed = [m for m in line.platform.deliveries(somsri.user_id) if "เปิดเอกสาร" in str(m)]
    assert pushed, "the summary document was not built"


def test_a_fetch_that_fails_twice_then_succeeds(somsri, line):
    somsri.say("แผนของฉัน")
    somsri.tap("ดูกิจกรรม")
    somsri.tap("ส่งหลักฐาน")
    line.platform.fail("content", 500, times=2)
    somsri.send_photos(photo(7))
    assert somsri.last_text == "รับรูปที่ 1 แล้วค่ะ"
    (row,) = rows_of(somsri)
    assert row.status == "stored" and row.attempts == 3


def test_a_fetch_that_always_fails_asks_her_to_send_it_again(somsri, line):
    somsri.say("แผนของฉัน")
    somsri.tap("ดูกิจกรรม")
    somsri.tap("ส่งหลักฐาน")
    line.platform.fail("content", 500, times=20)
    somsri.send_photos(photo(8))
    assert "รับรูปที่ส่งเมื่อ" in somsri.last_text and "กรุณาส่งรูปนั้นอีกครั้ง" in somsri.last_text
    (row,) = rows_of(somsri)
    assert row.status == "failed" and row.attempts == 5 and row.storage_key is None


def test_a_file_that_claims_to_be_an_image_and_an_oversize_video(somsri, app):
    somsri.say("แผนของฉัน")
    somsri.tap("ดูกิจกรรม")
    somsri.tap("ส่งหลักฐาน")
    somsri.send_photos(b"<html>not a photo</html>")
    assert "รูปนี้เปิดอ่านไม่ได้" in somsri.last_text
    # A photo cut off in the middle passes the first look and fails when decoded.
    cut = photo(11, (1600, 1200))
    somsri.send_photos(cut[: len(cut) // 2])
    assert "รูปนี้เปิดอ่านไม่ได้" in somsri.last_text
    app.extensions["runtime"].intake.limits = type(app.extensions["runtime"].intake.limits)(
        video=1024 * 1024
    )
    somsri.send_video(mp4(2 * 1024 * 1024))
    assert "วิดีโอนี้ใหญ่เกินไป" in somsri.last_text and "ไม่เกิน 1 MB" in somsri.last_text
    somsri.send_video(mp4(300_000))
    assert somsri.last_text == "รับวิดีโอแล้วค่ะ"
    statuses = [r.status for r in rows_of(somsri)]
    assert statuses == ["refused", "refused", "refused", "stored"]
    files = [p for p in Path(app.config["EVIDENCE_STORAGE_URL"]).rglob("*") if p.is_file()]
    assert len(files) == 1 and files[0].suffix == ".mp4"  # nothing left of the refused ones


def test_cancelling_the_question_keeps_nothing(somsri):
    somsri.send_photos(photo(3))
    somsri.say("ยกเลิก")
    assert "ไม่ได้บันทึก 1 รายการ" in somsri.last_text
    (row,) = rows_of(somsri)
    assert row.deleted_at is not None and row.plan_item_id is None


def test_a_photo_in_the_middle_of_another_form_is_not_taken(somsri):
    somsri.say("แผนของฉัน")
    somsri.tap("เพิ่มกิจกรรม")
    somsri.send_photos(photo(4))
    assert "กรอกกิจกรรมของแผนค้างอยู่" in somsri.last_text
    assert rows_of(somsri) == []


def test_deleting_her_own_evidence_asks_first(somsri, client, line):
    somsri.say("แผนของฉัน")
    somsri.tap("ดูกิจกรรม")
    somsri.tap("ส่งหลักฐาน")
    somsri.send_photos(photo(5))
    somsri.say("เสร็จแล้ว")
    somsri.tap("ดูหลักฐาน")
    thumb_url = somsri.last[0]["contents"]["contents"][0]["hero"]["url"]
    somsri.tap("ลบ")
    assert "ลบรูปนี้ใช่ไหมคะ" in somsri.last_text
    somsri.tap("ไม่ลบ")
    assert rows_of(somsri)[0].deleted_at is None
    somsri.postback(f"a=evidence.delete.yes&e={rows_of(somsri)[0].id}")
    assert "ลบหลักฐานแล้ว" in somsri.last_text
    assert client.get(thumb_url.removeprefix("https://bot.example.test")).status_code == 404
    # Someone else's evidence cannot be deleted with a forged postback.
    other = line.user("คนอื่น")
    other.follow()
    other.postback(f"a=evidence.delete.yes&e={rows_of(somsri)[0].id}")
    assert "ไม่พบหลักฐานนี้" in other.last_text


def test_signed_links_valid_expired_and_tampered(somsri, client, app):
    somsri.say("แผนของฉัน")
    somsri.tap("ดูกิจกรรม")
    somsri.tap("ส่งหลักฐาน")
    somsri.send_photos(photo(6))
    somsri.say("เสร็จแล้ว")
    somsri.tap("ดูหลักฐาน")
    url = somsri.last[0]["contents"]["contents"][0]["hero"]["url"]
    path = url.removeprefix("https://bot.example.test")
    assert client.get(path).status_code == 200
    token = path.rsplit("/", 1)[1]
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert client.get(tampered).status_code == 404

    class Yesterday(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 2 * 24 * 3600

    links = app.extensions["runtime"].site.links
    payload = links.load(token, "evidence")
    old = URLSafeTimedSerializer(
        app.config["SECRET_KEY"], salt="file-link", signer=Yesterday
    ).dumps(payload)
    expired = client.get(f"/files/evidence/{old}")
    assert expired.status_code == 410 and "หมดอายุ" in expired.get_data(as_text=True)


def test_officers_see_evidence_of_their_district_only(somsri, line, runner, client):
    somsri.say("แผนของฉัน")
    somsri.tap("ดูกิจกรรม")
    somsri.tap("ส่งหลักฐาน")
    somsri.send_photos(photo(9))
    item = items_of(somsri)[0]
    from tests.test_invites import consented, create_code

    stranger = consented(line, "เจ้าหน้าที่อำเภออื่น")
    stranger.say(create_code(runner, "officer", "3802"))
    stranger.postback(f"a=evidence.list&i={item.id}")
    assert "ไม่พบกิจกรรมนี้แล้ว" in stranger.last_text
    with db.transaction() as session:
        denied = session.scalars(
            select(AuditLog.action).where(AuditLog.action == "evidence.list.denied")
        ).all()
    assert denied


def test_png_and_heic_photos_are_kept_and_shown_as_jpeg_thumbnails(somsri, client):
    import pillow_heif  # noqa: F401 - registers the HEIF writer with Pillow

    png, heic = io.BytesIO(), io.BytesIO()
    Image.new("RGBA", (300, 200), (0, 128, 0, 128)).save(png, "PNG")
    Image.new("RGB", (1200, 900), "blue").save(heic, "HEIF", quality=60)
    somsri.say("แผนของฉัน")
    somsri.tap("ดูกิจกรรม")
    somsri.tap("ส่งหลักฐาน")
    somsri.send_photos(png.getvalue(), content_type="image/png")
    assert somsri.last_text == "รับรูปที่ 1 แล้วค่ะ"
    somsri.send_photos(heic.getvalue(), content_type="image/heic")
    assert somsri.last_text == "รับรูปที่ 2 แล้วค่ะ"
    assert [(r.mime_type, r.storage_key.rsplit(".", 1)[1]) for r in rows_of(somsri)] == [
        ("image/png", "png"),
        ("image/heic", "heic"),
    ]
    somsri.say("เสร็จแล้ว")
    somsri.tap("ดูหลักฐาน")
    for bubble in somsri.last[0]["contents"]["contents"]:
        response = client.get(bubble["hero"]["url"].removeprefix("https://bot.example.test"))
        assert response.status_code == 200 and response.data[:2] == b"\xff\xd8"  # JPEG


def test_photos_never_given_an_activity_are_dropped_after_a_week(somsri, clock, scheduler, app):
    somsri.send_photos(photo(8))
    assert "กิจกรรมไหน" in somsri.last_text or somsri.labels()
    (row,) = rows_of(somsri)
    key = row.storage_key
    storage = app.extensions["runtime"].storage
    assert key and storage.exists(key)

    clock.advance(days=6)
    scheduler.run("expire_unassigned_evidence")
    assert rows_of(somsri)[0].deleted_at is None  # she may still come back to it

    clock.advance(days=2)
    scheduler.run("expire_unassigned_evidence")
    (row,) = rows_of(somsri)
    assert row.deleted_at is not None
    clock.advance(minutes=2)  # deleted bytes are purged a minute after, by the intake worker
    deadline = time.monotonic() + 15
    while storage.exists(key) and time.monotonic() < deadline:
        time.sleep(0.2)  # the intake worker purges deleted objects in the background
    assert not storage.exists(key)


def test_the_same_photo_twice_in_one_set_is_kept_once_and_each_is_answered(somsri):
    # Both copies are fetched at once by the two fetchers: whether one is a copy is decided
    # when each finishes, one after the other, so they cannot both be kept.
    somsri.say("แผนของฉัน")
    somsri.tap("ดูกิจกรรม")
    somsri.tap("ส่งหลักฐาน")
    somsri.send_photos(photo(11), photo(11))
    texts = [m["text"] for m in somsri.last]
    assert texts.count("รับรูปที่ 1 แล้วค่ะ") == 1
    assert sum("รูปนี้มีอยู่แล้ว" in t for t in texts) == 1 and len(texts) == 2
    statuses = sorted(r.status for r in rows_of(somsri))
    assert statuses == ["duplicate", "stored"]


def test_photos_are_each_confirmed_once_when_line_answers_slowly(somsri, line):
    # Confirmations go out on their own thread, in order, while the fetchers go on.
    somsri.say("แผนของฉัน")
    somsri.tap("ดูกิจกรรม")
    somsri.tap("ส่งหลักฐาน")
    line.platform.hang("reply", 0.5)
    somsri.send_photos(photo(21), photo(22), photo(23))
    texts = sorted(m["text"] for m in somsri.last)
    assert texts == ["รับรูปที่ 1 แล้วค่ะ", "รับรูปที่ 2 แล้วค่ะ", "รับรูปที่ 3 แล้วค่ะ"]
    assert [r.status for r in rows_of(somsri)] == ["stored"] * 3


def test_confirmations_finished_together_go_in_one_reply_of_up_to_five(somsri, line, monkeypatch):
    # Gathered for a moment, then sent together (LINE takes five messages a request). The
    # moment is made long here, so that a slow machine finishing the photos far apart
    # gathers them too.
    monkeypatch.setattr(Confirmations, "GATHER_SECONDS", 2.0)
    somsri.say("แผนของฉัน")
    somsri.tap("ดูกิจกรรม")
    somsri.tap("ส่งหลักฐาน")
    before = len(line.platform.requests)
    received = somsri.send_photos(*(photo(40 + n) for n in range(6)))
    assert [m["text"] for m in received] == [f"รับรูปที่ {n} แล้วค่ะ" for n in range(1, 7)]
    replies = [r for r in line.platform.requests[before:] if r.endpoint == "reply"]
    assert [(r.status, len(r.json["messages"])) for r in replies] == [(200, 5), (200, 1)]
    with db.transaction() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        confirmations = [o for o in rows if "รับรูปที่" in o.messages[0].get("text", "")]
    # The first of each request carries it; the others name it.
    assert [(o.status, len(o.messages)) for o in confirmations] == [
        ("sent", 5),
        *[("merged", 1)] * 4,
        ("sent", 1),
    ]
    carrier = f"sent with outbox {confirmations[0].id}"
    assert all(o.last_error == carrier for o in confirmations[1:5])


def test_confirmations_sent_together_are_retried_together_when_line_fails(
    somsri, line, monkeypatch
):
    monkeypatch.setattr(Confirmations, "GATHER_SECONDS", 2.0)
    somsri.say("แผนของฉัน")
    somsri.tap("ดูกิจกรรม")
    somsri.tap("ส่งหลักฐาน")
    # The reply is refused, then the push that takes its place fails once: the three go on
    # together in one row, retried with its one retry key, and she gets each once.
    line.platform.fail("reply", 400, times=1)
    line.platform.fail("push", 500, times=1)
    before = len(line.platform.requests)
    received = somsri.send_photos(photo(50), photo(51), photo(52))
    line.settle(timeout=30)
    received += somsri.received()
    assert [m["text"] for m in received] == [
        "รับรูปที่ 1 แล้วค่ะ",
        "รับรูปที่ 2 แล้วค่ะ",
        "รับรูปที่ 3 แล้วค่ะ",
    ]
    sends = [
        (r.endpoint, r.status, len(r.json["messages"]))
        for r in line.platform.requests[before:]
        if r.endpoint in {"reply", "push"}
    ]
    assert sends == [("reply", 400, 3), ("push", 500, 3), ("push", 200, 3)]
    pushes = [r for r in line.platform.requests[before:] if r.endpoint == "push"]
    assert len({r.headers["x-line-retry-key"] for r in pushes}) == 1
    with db.transaction() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        confirmations = [o for o in rows if o.id >= rows[-3].id]
    assert [o.status for o in confirmations] == ["sent", "merged", "merged"]

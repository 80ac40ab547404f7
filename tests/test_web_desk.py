"""The web desk's pages: the leaders table, a leader's page, the committee meeting, the
province settings, broadcasts, the calendar and the audit log, as officers and staff see them."""

from __future__ import annotations

import io
import re
from concurrent.futures import ThreadPoolExecutor

import requests
from PIL import Image
from sqlalchemy import select

from bot.db import db
from bot.models import CommitteeDecision, Evidence
from bot.services import committee
from tests import served
from tests.test_evidence import photo
from tests.test_web_signin import link_of
from tests.workspace import leader, officer_of, plan_at, staff_of, user_of


def desk(app, person):
    """A browser of its own, signed in by the person's chat link."""
    browser = app.test_client()
    assert browser.post(link_of(person)).status_code == 302
    return browser


def csrf(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def table(html: str, table_id: str) -> str:
    return html.split(f'<table id="{table_id}">', 1)[1].split("</table>", 1)[0]


def names_in_table(html: str) -> list[str]:
    body = table(html, "leaders")
    return re.findall(r'<a href="/web/leaders/\d+[^"]*">([^<]+)</a>', body)


def test_the_leaders_table_filters_sorts_and_shows_thai_dates(line, runner, app, clock):
    clock.set("2027-03-18 08:00")
    officer = officer_of(line, runner)
    staff = staff_of(line, runner)
    leader(line, "สมศรี ใจดี")
    clock.set("2027-03-19 08:00")
    boonmee = leader(line, "บุญมี รักถิ่น")
    plan_at(boonmee, "submitted")
    kanya = leader(line, "กันยา ศรีสุข")
    plan_at(kanya, "certified", officer, staff)
    leader(line, "ดารา ไกลบ้าน", "ต.โซ่")  # another district

    browser = desk(app, officer)
    page = browser.get("/web/leaders")
    assert page.status_code == 200
    assert names_in_table(page.text) == ["กันยา ศรีสุข", "บุญมี รักถิ่น", "สมศรี ใจดี"]
    assert "ดารา ไกลบ้าน" not in page.text  # another district's leader is never listed
    assert "18 มีนาคม 2570" in page.text and "19 มีนาคม 2570" in page.text
    assert "รับรองแล้ว" in page.text and "ส่งแผนแล้ว รอตรวจ" in page.text

    submitted = browser.get("/web/leaders?state=submitted")
    assert names_in_table(submitted.text) == ["บุญมี รักถิ่น"]
    by_date = browser.get("/web/leaders?sort=registered&dir=desc")
    assert names_in_table(by_date.text)[-1] == "สมศรี ใจดี"
    by_state = browser.get("/web/leaders?sort=state")
    assert names_in_table(by_state.text) == ["สมศรี ใจดี", "บุญมี รักถิ่น", "กันยา ศรีสุข"]
    # An unknown sort key falls back to the name, it never reaches the SQL.
    assert names_in_table(browser.get("/web/leaders?sort=phone;drop").text)[0] == "กันยา ศรีสุข"

    # Province staff see both districts and can narrow to one, and to a subdistrict.
    province = desk(app, staff)
    everyone = province.get("/web/leaders")
    assert "ดารา ไกลบ้าน" in names_in_table(everyone.text)
    soi = province.get("/web/leaders?district=3803")
    assert names_in_table(soi.text) == ["ดารา ไกลบ้าน"]
    hokham = province.get("/web/leaders?district=3801&subdistrict=380104")
    assert "ดารา ไกลบ้าน" not in hokham.text


def test_a_leader_page_shows_plan_progress_evidence_opinion_and_timeline(line, runner, app, clock):
    clock.set("2027-03-18 08:00")
    officer = officer_of(line, runner)
    staff = staff_of(line, runner)
    somsri = leader(line, "สมศรี ใจดี")
    plan_id = plan_at(somsri, "certified", officer, staff)
    somsri.send_photos(photo(3, exif=True))
    first = next(label for label in somsri.labels() if label.startswith("1."))
    somsri.tap(first)
    leader_id = user_of(somsri).id
    with db.transaction() as session:
        evidence = session.scalar(select(Evidence).where(Evidence.uploaded_by == leader_id))
        decision = committee.of(session, plan_id)
    assert evidence is not None and evidence.status == "stored"

    browser = desk(app, officer)
    page = browser.get(f"/web/leaders/{user_of(somsri).id}")
    assert page.status_code == 200
    text = page.text
    assert "สมศรี ใจดี" in text and "ต.หอคำ อ.เมืองบึงกาฬ จ.บึงกาฬ" in text
    assert "081-234-5678" in text and "18 มีนาคม 2570" in text
    assert "กิจกรรมที่ 1 ของ สมศรี ใจดี" in text and "ศึกษาด้วยตนเอง" in text
    assert "ความสามารถในการพัฒนาตนเอง" in text  # the official form's headings
    assert "เสร็จแล้ว 0 จาก 2 กิจกรรม" in text
    assert "เสนอรับรอง" in text and "ทำกิจกรรมครบตามแผน" in text
    assert "รับรอง" in text and decision.certificate_no in text
    assert "ส่งแผนให้เจ้าหน้าที่" in text and "เจ้าหน้าที่เห็นชอบแผน" in text
    assert "คณะกรรมการจังหวัดบันทึกผล" in text

    full = browser.get(f"/web/evidence/{evidence.id}")
    assert full.status_code == 200 and full.mimetype == "image/jpeg"
    image = Image.open(io.BytesIO(full.data))
    assert not image.getexif()  # the copy without time and place, never the original
    assert f"/web/evidence/{evidence.id}" in text


def test_a_leader_signed_in_sees_only_her_own_page(line, runner, app):
    somsri = leader(line, "สมศรี ใจดี")
    other = leader(line, "บุญมี รักถิ่น")
    browser = desk(app, somsri)
    own = f"/web/leaders/{user_of(somsri).id}"
    listing = browser.get("/web/leaders")
    assert listing.status_code == 302 and listing.headers["Location"].endswith(own)
    assert browser.get(own).status_code == 200
    assert browser.get(f"/web/leaders/{user_of(other).id}").status_code == 403
    assert browser.get("/web/leaders/999999").status_code == 403  # same answer as above


def test_the_committee_records_a_meeting_all_or_nothing_and_tells_the_leaders(
    line, runner, app, clock
):
    clock.set("2027-06-10 09:00")
    officer = officer_of(line, runner)
    staff = staff_of(line, runner)
    somsri = leader(line, "สมศรี ใจดี")
    boonmee = leader(line, "บุญมี รักถิ่น")
    kanya = leader(line, "กันยา ศรีสุข")
    first = plan_at(somsri, "inspected", officer)
    second = plan_at(boonmee, "inspected", officer, opinion="not_yet")
    plan_at(kanya, "approved", officer)  # not inspected: not on the committee's list

    browser = desk(app, staff)
    page = browser.get("/web/committee")
    assert page.status_code == 200
    assert "สมศรี ใจดี" in page.text and "บุญมี รักถิ่น" in page.text
    assert "กันยา ศรีสุข" not in page.text
    assert "เสนอรับรอง" in page.text and "ยังไม่เสนอ" in page.text
    token = csrf(page)

    # ไม่รับรอง without reasons: nothing is kept, not even the row that was right.
    refused = browser.post(
        "/web/committee",
        data={
            "csrf_token": token,
            "year": "2570",
            "meeting_date": "2027-06-09",
            f"result-{first}": "certified",
            f"result-{second}": "not_certified",
        },
    )
    assert refused.status_code == 400
    assert "กรุณาพิมพ์เหตุผลที่ไม่รับรองค่ะ" in refused.text
    assert "ยังไม่ได้บันทึกผลใด ๆ" in refused.text
    with db.transaction() as session:
        assert session.scalars(select(CommitteeDecision)).all() == []

    saved = browser.post(
        "/web/committee",
        data={
            "csrf_token": token,
            "year": "2570",
            "meeting_date": "2027-06-09",
            f"result-{first}": "certified",
            f"result-{second}": "not_certified",
            f"reasons-{second}": "ยังขาดหลักฐานกิจกรรมที่ 2",
        },
    )
    assert saved.status_code == 302
    after = browser.get(saved.headers["Location"])
    assert "บันทึกผลการพิจารณาแล้ว 2 คน" in after.text
    assert "38-0001/2570" in after.text
    with db.transaction() as session:
        rows = {d.plan_id: d for d in session.scalars(select(CommitteeDecision))}
    assert rows[first].certificate_no == committee.certificate_no("38", 2570, 1)
    assert rows[second].result == "not_certified" and rows[second].certificate_no is None
    assert str(rows[first].decided_on) == "2027-06-09"

    line.settle()
    somsri.received()
    assert "38-0001/2570" in somsri.last_text
    assert "https://bot.example.test/files/certificate/" in somsri.last_text
    boonmee.received()
    assert "ยังขาดหลักฐานกิจกรรมที่ 2" in boonmee.last_text

    # A future meeting date is refused per row, in Thai.
    future = browser.post(
        "/web/committee",
        data={
            "csrf_token": token,
            "year": "2570",
            "meeting_date": "2027-07-01",
            f"result-{first}": "certified",
        },
    )
    assert future.status_code == 400 and "ต้องไม่เกินวันนี้" in future.text


def test_the_committee_form_needs_its_token(line, runner, app):
    officer = officer_of(line, runner)
    staff = staff_of(line, runner)
    somsri = leader(line, "สมศรี ใจดี")
    plan_id = plan_at(somsri, "inspected", officer)
    browser = desk(app, staff)
    forged = browser.post(
        "/web/committee",
        data={"csrf_token": "x", "meeting_date": "2027-01-01", f"result-{plan_id}": "certified"},
    )
    assert forged.status_code == 400
    with db.transaction() as session:
        assert session.scalars(select(CommitteeDecision)).all() == []


def test_settings_keep_the_signer(line, runner, app):
    staff = staff_of(line, runner)
    browser = desk(app, staff)
    page = browser.get("/web/settings")
    assert page.status_code == 200
    empty = browser.post("/web/settings", data={"csrf_token": csrf(page), "signer_name": " "})
    assert empty.status_code == 400 and "กรุณาพิมพ์ชื่อผู้ลงนามค่ะ" in empty.text
    saved = browser.post(
        "/web/settings",
        data={
            "csrf_token": csrf(page),
            "signer_name": "นายสมชาย ใจกว้าง",
            "signer_position": "พัฒนาการจังหวัดบึงกาฬ",
        },
    )
    assert saved.status_code == 302
    again = browser.get("/web/settings")
    assert "นายสมชาย ใจกว้าง" in again.text and "พัฒนาการจังหวัดบึงกาฬ" in again.text


def test_broadcasts_are_created_listed_and_cancelled_like_in_line(line, runner, app, clock):
    clock.set("2027-06-10 09:00")
    staff = staff_of(line, runner)
    somsri = leader(line, "สมศรี ใจดี")
    browser = desk(app, staff)
    page = browser.get("/web/broadcasts")
    assert page.status_code == 200 and "ยังไม่มีประกาศค่ะ" in page.text
    token = csrf(page)

    past = browser.post(
        "/web/broadcasts",
        data={
            "csrf_token": token,
            "starts_at": "2027-06-01T09:30",
            "place": "ที่ว่าการอำเภอ",
            "audience": "leaders",
            "when": "now",
        },
    )
    assert past.status_code == 400 and "วันและเวลานัดต้องเป็นเวลาในอนาคตค่ะ" in past.text

    nobody = browser.post(
        "/web/broadcasts",
        data={
            "csrf_token": token,
            "starts_at": "2027-06-20T09:30",
            "place": "ที่ว่าการอำเภอ",
            "audience": "districts",
            "when": "now",
        },
    )
    assert nobody.status_code == 400 and "กรุณาเลือกอย่างน้อย 1 อำเภอค่ะ" in nobody.text

    sent = browser.post(
        "/web/broadcasts",
        data={
            "csrf_token": token,
            "starts_at": "2027-06-20T09:30",
            "place": "ห้องประชุมที่ว่าการอำเภอเมืองบึงกาฬ",
            "audience": "leaders",
            "when": "now",
        },
    )
    assert sent.status_code == 302
    listing = browser.get("/web/broadcasts")
    assert "ส่งประกาศวันประเมินแล้วค่ะ ผู้รับ: ผู้นำ 1 คน" in listing.text
    assert "20 มิถุนายน 2570 เวลา 09:30 น." in listing.text
    assert "รับทราบ 0 · ขอเลื่อน 0 · ยังไม่ตอบ 1" in listing.text
    line.settle()
    somsri.received()
    assert "ห้องประชุมที่ว่าการอำเภอเมืองบึงกาฬ" in somsri.last_text
    assert "รับทราบ" in somsri.labels()

    broadcast_id = int(re.search(r"/web/broadcasts/(\d+)/cancel", listing.text).group(1))
    cancelled = browser.post(f"/web/broadcasts/{broadcast_id}/cancel", data={"csrf_token": token})
    assert cancelled.status_code == 302
    assert "ยกเลิกแล้ว" in browser.get("/web/broadcasts").text
    line.settle()
    somsri.received()
    assert "ยกเลิก" in somsri.last_text


def test_the_calendar_and_the_audit_log_of_the_district(line, runner, app, clock):
    clock.set("2027-03-18 08:00")
    officer = officer_of(line, runner)
    somsri = leader(line, "สมศรี ใจดี")
    plan_at(somsri, "submitted")
    dara = leader(line, "ดารา ไกลบ้าน", "ต.โซ่")
    plan_at(dara, "submitted")
    browser = desk(app, officer)

    calendar = browser.get("/web/calendar")
    assert calendar.status_code == 200 and "ปีงบประมาณ 2570" in calendar.text
    assert re.search(r"\d+ \S+ 25\d\d", calendar.text)  # BE dates

    log = browser.get("/web/audit")
    assert log.status_code == 200
    rows = table(log.text, "audit")
    assert "ส่งแผนให้เจ้าหน้าที่" in rows and "สมศรี ใจดี" in rows
    assert "ดารา ไกลบ้าน" not in rows  # another district's leader
    only = table(browser.get("/web/audit?action=leader.register").text, "audit")
    assert "ลงทะเบียนผู้นำ" in only and "ส่งแผนให้เจ้าหน้าที่" not in only
    before = browser.get("/web/audit?to=2027-03-17").text
    assert "ไม่พบรายการตามเงื่อนไขนี้ค่ะ" in before


def test_province_staff_move_their_dates_on_the_calendar_page(line, runner, app, clock):
    clock.set("2027-03-18 08:00")
    staff = staff_of(line, runner)
    browser = desk(app, staff)
    page = browser.get("/web/calendar")
    assert 'name="key" value="assessment"' in page.text

    def change(**form: str):
        data = {"csrf_token": csrf(page), "year": "2570", **form}
        return browser.post("/web/calendar", data=data, follow_redirects=True)

    # The August window moved wholly past its old end: saved in one go.
    moved = change(key="assessment", starts_on="2027-09-01", ends_on="2027-09-10")
    assert "บันทึกแล้วค่ะ" in moved.text and "1 – 10 กันยายน 2570" in moved.text
    bad = change(key="assessment", starts_on="2027-09-10", ends_on="2027-09-01")
    assert "อยู่ก่อนวันเริ่ม" in bad.text
    outside = change(key="applicants", starts_on="2027-10-05")
    assert "อยู่นอกปีงบประมาณ 2570" in outside.text
    assert "ไม่พบรายการนี้" in change(key="nonsense", starts_on="2027-03-01").text

    reset = change(key="assessment", reset="1")
    assert "กลับไปใช้วันตามค่าเริ่มต้นของกรมแล้วค่ะ" in reset.text

    # Officers see the calendar but cannot change it; the province's change reaches LINE.
    officer = desk(app, officer_of(line, runner))
    assert 'name="starts_on"' not in officer.get("/web/calendar").text
    refused = officer.post("/web/calendar", data={"key": "applicants", "starts_on": "2027-03-01"})
    assert refused.status_code == 403
    change(key="applicants", starts_on="2027-03-20")
    staff.say("ปฏิทินงาน")
    assert "20 มี.ค. 2570" in staff.last_text or "20 มีนาคม 2570" in staff.last_text


def test_the_desk_works_from_gevent_web_processes(line, runner, app_config):
    """The desk from gevent workers (WEB_WORKER_CLASS=gevent, RUN_WORKERS=0: the README's web
    processes whose event workers run elsewhere), over real HTTP: signing in by the chat link,
    then the leaders table ten times at once and a leader's page."""
    officer = officer_of(line, runner)
    leader(line, "สมศรี ใจดี")
    path = link_of(officer)
    gevent = {"WEB_CONCURRENCY": "1", "RUN_WORKERS": "0", "WEB_WORKER_CLASS": "gevent"}
    with served.gunicorn(app_config, **gevent) as (_, url):
        signed = requests.post(f"{url}{path}", allow_redirects=False, timeout=10)
        assert signed.status_code == 302
        # The session cookie is marked Secure; plain HTTP to 127.0.0.1 must be given it by hand.
        cookies = signed.cookies.get_dict()
        assert cookies

        def leaders_table(_: int) -> list[str]:
            page = requests.get(f"{url}/web/leaders", cookies=cookies, timeout=10)
            assert page.status_code == 200
            return names_in_table(page.text)

        with ThreadPoolExecutor(10) as pool:
            tables = list(pool.map(leaders_table, range(10)))
        assert tables == [["สมศรี ใจดี"]] * 10
        page = requests.get(f"{url}/web/leaders", cookies=cookies, timeout=10)
        (link,) = re.findall(r'href="(/web/leaders/\d+)[^"]*"', table(page.text, "leaders"))
        one = requests.get(f"{url}{link}", cookies=cookies, timeout=10)
        assert one.status_code == 200 and "สมศรี ใจดี" in one.text
        stranger = requests.get(f"{url}/web/leaders", allow_redirects=False, timeout=10)
        assert stranger.status_code == 302  # to the sign-in page: the cookie is what let her in

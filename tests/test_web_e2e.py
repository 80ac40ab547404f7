"""The web desk in a real browser: province staff sign in by the link from the chat, filter
the leaders table, open a leader, record the committee's decision and download the
certificate. Screenshots of every page are kept in test-artifacts/screenshots/."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from werkzeug.serving import make_server

from tests.workspace import leader, officer_of, plan_at, staff_of

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no browser: Debian's chromium is not at /usr/bin/chromium"
)


@pytest.fixture
def server(app) -> Iterator[str]:
    """The app on a real port of this machine, as a browser reaches it."""
    running = make_server("localhost", 0, app, threaded=True)
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{running.server_port}"
    running.shutdown()
    thread.join(10)


@pytest.fixture
def browser() -> Iterator:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox"], headless=True
        )
        yield launched
        launched.close()


def sign_in_link(person, base: str) -> str:
    person.say("เข้าเว็บ")
    found = re.search(r"https://bot\.example\.test(/web/signin/\S+)", person.last_text)
    assert found, person.last_text
    return base + found.group(1)


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_staff_sign_in_filter_open_decide_and_download(line, runner, app, clock, server, browser):
    clock.set("2027-06-10 09:00")
    officer = officer_of(line, runner)
    staff = staff_of(line, runner)
    somsri = leader(line, "สมศรี ใจดี")
    plan_at(somsri, "inspected", officer)
    boonmee = leader(line, "บุญมี รักถิ่น")
    plan_at(boonmee, "submitted")

    context = browser.new_context(locale="th-TH", accept_downloads=True)
    page = context.new_page()
    page.goto(sign_in_link(staff, server))
    shot(page, "01-signin")
    page.get_by_role("button", name="เข้าสู่ระบบ").click()
    page.wait_for_url(f"{server}/web/")
    assert "สวัสดีค่ะ" in page.inner_text("main")
    shot(page, "02-home")

    page.goto(f"{server}/web/leaders")
    table = page.locator("#leaders")
    assert "บุญมี รักถิ่น" in table.inner_text() and "สมศรี ใจดี" in table.inner_text()
    page.locator("select[name=state]").select_option(label="อำเภอตรวจแล้ว")
    page.get_by_role("button", name="แสดง").click()
    page.wait_for_url(re.compile(r"state=inspected"))
    assert "สมศรี ใจดี" in table.inner_text() and "บุญมี รักถิ่น" not in table.inner_text()
    shot(page, "03-leaders-filtered")

    page.get_by_role("link", name="สมศรี ใจดี").click()
    page.wait_for_url(re.compile(r"/web/leaders/\d+"))
    assert "เสนอรับรอง" in page.inner_text("#inspection")
    assert "กิจกรรมที่ 1 ของ สมศรี ใจดี" in page.inner_text("#plan")
    shot(page, "04-leader")

    page.goto(f"{server}/web/committee")
    page.get_by_label("ผลของ สมศรี ใจดี").select_option(label="รับรอง")
    shot(page, "05-committee-form")
    page.get_by_role("button", name="บันทึกผลการประชุมและแจ้งผู้นำ").click()
    page.wait_for_load_state()
    assert "บันทึกผลการพิจารณาแล้ว 1 คน" in page.inner_text("main")
    assert "38-0001/2570" in page.inner_text("#committee")
    shot(page, "06-committee-saved")

    link = page.get_by_role("link", name="เกียรติบัตร (PDF)")
    if link.count():
        with page.expect_download() as waiting:
            link.click()
        body = Path(waiting.value.path()).read_bytes()
        assert body.startswith(b"%PDF")
        (SHOTS.parent / "certificate.pdf").write_bytes(body)  # kept with the screenshots
        text = PdfReader(io.BytesIO(body)).pages[0].extract_text()
        assert "เกียรติบัตร" in text and "สมศรี" in text
    else:
        pytest.fail("the committee page has no certificate link (exports.certificate missing)")

    # Every other page of the menu, for the record.
    for number, href in enumerate(
        page.locator("header nav a").evaluate_all("links => links.map(a => a.href)"), start=7
    ):
        response = page.goto(href)
        assert response is not None and response.status == 200, href
        shot(page, f"{number:02d}-{href.rsplit('/', 1)[-1] or 'home'}")

    phone = browser.new_context(locale="th-TH", viewport={"width": 390, "height": 844})
    phone.add_cookies(context.cookies())
    small = phone.new_page()
    small.goto(f"{server}/web/leaders")
    assert small.locator("#leaders").is_visible()
    shot(small, "20-leaders-phone")
    phone.close()
    context.close()

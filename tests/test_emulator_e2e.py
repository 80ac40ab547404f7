"""The emulator in a real browser, as the issue's "done when" reads: a demo leader adds a plan
activity with the date picker, sends a photo from disk and submits her plan; the district
officer, switched to on the same page, has the push. Screenshots go to
test-artifacts/screenshots/emulator/."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from bot import clock, demo
from bot.db import db
from bot.models import Evidence, Plan, PlanItem, User
from bot.services import fiscal

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots" / "emulator"

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no browser: Debian's chromium is not at /usr/bin/chromium"
)


@pytest.fixture
def page(emulator_app, emulator_server) -> Iterator:
    runtime = emulator_app.extensions["runtime"]
    emulator_app.extensions["emulator"].prepare(
        runtime.db, runtime.gateway, runtime.storage, clock.now()
    )
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox"], headless=True
        )
        context = browser.new_context(locale="th-TH", viewport={"width": 1100, "height": 900})
        opened = context.new_page()
        errors: list[str] = []
        opened.on("pageerror", lambda exc: errors.append(str(exc)))
        opened.goto(f"{emulator_server}/emulator/")
        yield opened
        browser.close()
        assert not errors, errors


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def newest(page):  # type: ignore[no-untyped-def]
    """The bot's newest message in the chat."""
    return page.locator(".emu-bot .emu-body").last


def bot_says(page, words: str, timeout: float = 15.0) -> None:
    """One of the bot's messages since the user's latest message contains `words`."""
    deadline = time.monotonic() + timeout
    while True:
        answers = page.evaluate(
            """() => {
                const rows = [...document.querySelectorAll('#messages > div')];
                let mine = -1;
                rows.forEach((row, n) => { if (!row.classList.contains('emu-bot')) mine = n; });
                return rows.slice(mine + 1).map((row) => row.innerText);
            }"""
        )
        if any(words in answer for answer in answers):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the bot did not say {words!r}; it said {answers}")
        time.sleep(0.1)


def tap(page, label: str) -> None:
    """A button of the newest card, or a quick reply chip, by its label."""
    chips = page.locator("#quick-replies .emu-chip", has_text=label)
    if chips.count():
        chips.first.click()
        return
    newest(page).get_by_role("button", name=label, exact=True).first.click()


def say(page, text: str) -> None:
    page.fill("#text", text)
    page.press("#text", "Enter")


def pick(page, label: str, value: date) -> None:
    """LINE's picker, as the emulator draws it: an input that keeps to the button's min/max."""
    tap(page, label)
    field = page.locator("#picker-input")
    sync_api.expect(field).to_be_visible()
    assert field.get_attribute("min") and field.get_attribute("max")
    assert field.get_attribute("type") == "date"
    field.fill(value.isoformat())
    page.locator("#picker").get_by_role("button", name="ตกลง").click()


def choose_person(page, name: str) -> None:
    page.locator(".emu-person", has_text=name).click()
    sync_api.expect(page.locator("#who")).to_contain_text(name)


def test_a_demo_leader_plans_sends_a_photo_and_the_officer_gets_the_push(page, tmp_path):
    thongbai = demo.person("thongbai")
    officer = demo.person("officer")
    year = fiscal.year_of(clock.now().date())
    first, last = fiscal.bounds(year)
    start, end = max(first, clock.now().date()), date(first.year + 1, 3, 31)

    sync_api.expect(page.locator(".emu-person")).to_have_count(len(demo.PEOPLE), timeout=10_000)
    choose_person(page, thongbai.name)
    shot(page, "01-people-and-menu")

    # The leader's rich menu works: its "แผนของฉัน" area shows her draft plan.
    page.get_by_role("button", name="เมนู แผนของฉัน").click()
    bot_says(page, "แผนพัฒนาตนเอง")
    shot(page, "02-plan-card")

    tap(page, "เพิ่มกิจกรรม")
    bot_says(page, "ข้อ 1")
    tap(page, "ด้านการบริหารงาน")
    bot_says(page, "ข้อ 2")
    newest(page).get_by_role("button").first.click()  # the area's first component
    bot_says(page, "ข้อ 3")
    say(page, "แปรรูปกล้วยตากพลังงานแสงอาทิตย์ 🍌")
    bot_says(page, "ข้อ 4")
    tap(page, "พัฒนาด้วยตนเอง")
    bot_says(page, "ข้อ 5")
    say(page, "ตากกล้วยในโรงอบพลังงานแสงอาทิตย์ของกลุ่ม")
    bot_says(page, "ข้อ 6")
    tap(page, "ตนเอง")
    bot_says(page, "วันเริ่มกิจกรรม")
    pick(page, "เลือกจากปฏิทิน", start)
    bot_says(page, "วันสิ้นสุดกิจกรรม")
    pick(page, "เลือกจากปฏิทิน", end)
    bot_says(page, "ตรวจสอบกิจกรรมก่อนบันทึก")
    shot(page, "03-review-card")
    tap(page, "บันทึก")
    bot_says(page, "บันทึกกิจกรรมในแผนแล้ว")

    with db.transaction() as session:
        item = session.scalar(
            select(PlanItem).where(PlanItem.activity == "แปรรูปกล้วยตากพลังงานแสงอาทิตย์ 🍌")
        )
        assert item is not None and (item.starts_on, item.ends_on) == (start, end)

    # A photo from disk: the bot asks which activity, then says it is attached.
    photo = tmp_path / "banana.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (1024, 768), "#e0b040").save(buffer, "JPEG")
    photo.write_bytes(buffer.getvalue())
    page.set_input_files("#file", str(photo))
    sync_api.expect(page.locator(".emu-user img.emu-image").last).to_be_visible()
    chip = page.locator("#quick-replies .emu-chip", has_text=re.compile("แปรรูปกล้วยตาก"))
    chip.first.click(timeout=15_000)
    bot_says(page, "แนบรูป 1 รายการกับกิจกรรม")
    shot(page, "04-photo-received")
    tap(page, "เสร็จแล้ว")
    with db.transaction() as session:
        kept = session.scalar(select(Evidence).where(Evidence.plan_item_id == item.id))
        assert kept is not None and kept.status == "stored"

    # Submit: the ready-for-assessment date first, then the plan goes to the officer.
    say(page, "แผนของฉัน")
    bot_says(page, "แผนพัฒนาตนเอง")
    pick(page, "วันพร้อมรับการประเมิน", min(date(first.year + 1, 8, 15), last))
    bot_says(page, "พร้อมรับการประเมิน")
    say(page, "แผนของฉัน")
    bot_says(page, "แผนพัฒนาตนเอง")
    tap(page, "ส่งแผนให้เจ้าหน้าที่")
    bot_says(page, "ส่งแผนเรียบร้อยแล้ว")

    # The officer's chat lights up, and the push is there with the review buttons.
    officer_entry = page.locator(".emu-person", has_text=officer.name)
    sync_api.expect(officer_entry.locator(".emu-unread")).to_be_visible(timeout=15_000)
    shot(page, "05-officer-has-news")
    choose_person(page, officer.name)
    sync_api.expect(page.locator("#messages")).to_contain_text(
        f"{thongbai.name} ส่งแผนพัฒนาตนเอง", timeout=10_000
    )
    sync_api.expect(page.get_by_role("button", name="เห็นชอบแผน").last).to_be_visible()
    shot(page, "06-officer-push")
    with db.transaction() as session:
        plan = session.scalar(
            select(Plan)
            .join(User, User.id == Plan.leader_id)
            .where(User.line_user_id == thongbai.line_user_id)
        )
        assert plan is not None and plan.status == "submitted"

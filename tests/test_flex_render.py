"""The Flex renderer (bot/emulator/static/flex.js) in a real browser, through the preview page
/emulator/flex: every template the bot sends renders whole (every text and button label on
screen, LINE's button colours, one-line texts on one line), hostile text stays text, and the
preview's server check reports what LINE would refuse. A screenshot of every template is kept
in test-artifacts/screenshots/flex/."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from bot import render
from bot.emulator.samples import SAMPLES
from fakeline import limits

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots" / "flex"
LINE_GREEN = "#17C950"  # LINE's primary button colour when the card gives none


# ----- the check API, through the test client (no browser needed) ---------------------------


def check(client, body: str) -> tuple[int, dict[str, Any]]:
    response = client.post(
        "/emulator/api/flex/check", data=body.encode(), content_type="application/json"
    )
    return response.status_code, response.get_json()


def bubble_with(text: str) -> dict[str, Any]:
    return {
        "type": "bubble",
        "body": {"type": "box", "layout": "vertical", "contents": [{"type": "text", "text": text}]},
    }


def test_the_check_passes_every_template_the_bot_sends(emulator_app):
    client = emulator_app.test_client()
    for name, build in SAMPLES.items():
        status, verdict = check(client, json.dumps(build(), ensure_ascii=False))
        assert status == 200, name
        assert verdict["problems"] == [], (name, verdict["problems"])
        assert 0 < verdict["size"] <= verdict["limit"], name


def test_a_too_big_carousel_reports_its_size(emulator_app):
    bubbles = [bubble_with("ก" * 2000) for _ in range(12)]  # ~6 KB each in UTF-8, 12 of them
    status, verdict = check(
        emulator_app.test_client(), json.dumps({"type": "carousel", "contents": bubbles})
    )
    assert status == 200
    assert verdict["limit"] == limits.MAX_CAROUSEL_BYTES
    assert verdict["size"] > limits.MAX_CAROUSEL_BYTES
    problems = {p["property"]: p["message"] for p in verdict["problems"]}
    assert f"at most {limits.MAX_CAROUSEL_BYTES} bytes" in problems["messages[0].contents"]


def test_a_bare_bubble_is_measured_against_the_bubble_limit(emulator_app):
    status, verdict = check(emulator_app.test_client(), json.dumps(bubble_with("สวัสดีค่ะ")))
    assert status == 200
    assert verdict == {
        "size": limits.json_size(bubble_with("สวัสดีค่ะ")),
        "limit": limits.MAX_BUBBLE_BYTES,
        "problems": [],
        "schema": emulator_app.extensions["emulator"].fake.schema_path is not None,
    }


def test_an_invalid_message_reports_each_problem(emulator_app):
    card = render.flex("buttons.json", "x", title="t", body="b", buttons=[])
    card["altText"] = ""
    label = "ป" * 41
    card["contents"]["footer"]["contents"] = [
        {"type": "button", "action": {"type": "postback", "label": label, "data": "a=1"}}
    ]
    status, verdict = check(emulator_app.test_client(), json.dumps(card))
    assert status == 200
    problems = {p["property"]: p["message"] for p in verdict["problems"]}
    assert problems["messages[0].altText"] == "May not be empty"
    assert "at most 40" in problems["messages[0].contents.footer.contents[0].action.label"]


def test_invalid_json_gets_a_thai_message(emulator_app):
    status, body = check(emulator_app.test_client(), '{"type": "bubble",')
    assert status == 400
    assert body["error"].startswith("JSON ไม่ถูกต้องค่ะ")
    status, body = check(emulator_app.test_client(), "[1, 2]")
    assert status == 400 and body["error"].endswith("ค่ะ")


def test_the_preview_page_and_samples_are_served(emulator_app):
    client = emulator_app.test_client()
    page = client.get("/emulator/flex")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "แสดงผล" in html and "ตัวอย่างจากบอท" in html and "preview.js" in html
    assert "<script>" not in html  # scripts come from files only
    assert client.get("/emulator/api/flex/samples/consent.json").get_json()["type"] == "flex"
    assert client.get("/emulator/api/flex/samples/nothing.json").status_code == 404


def test_every_template_has_a_sample():
    """A new template must get a sample in bot/emulator/samples.py (and so a render test)."""
    assert set(SAMPLES) == {p.name for p in Path(render.TEMPLATES).glob("*.json")}


# ----- in the browser -------------------------------------------------------------------------

needs_browser = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no browser: Debian's chromium is not at /usr/bin/chromium"
)


@pytest.fixture
def server(emulator_app) -> Iterator[str]:
    """The emulator app on a real port of this machine, as a browser reaches it."""
    running = make_server("localhost", 0, emulator_app, threaded=True)
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{running.server_port}"
    running.shutdown()
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    if not CHROMIUM.exists():
        pytest.skip("no browser: Debian's chromium is not at /usr/bin/chromium")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox"], headless=True
        )
        yield launched
        launched.close()


@pytest.fixture
def preview(browser, server) -> Iterator[Any]:
    """The preview page; fails the test on any JavaScript error or alert."""
    context = browser.new_context(locale="th-TH", viewport={"width": 1280, "height": 900})
    # Nothing outside this machine: the sample images point at a host that does not exist.
    context.route(lambda url: not url.startswith(server), lambda route: route.abort())
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: (errors.append("dialog: " + dialog.message), dialog.dismiss()))
    page.goto(f"{server}/emulator/flex")
    yield page
    context.close()
    assert not errors, errors


def show(page, message: Any) -> Any:
    """Pastes `message` into the preview, presses แสดงผล and waits for the server's check."""
    pasted = (
        message if isinstance(message, str) else json.dumps(message, ensure_ascii=False, indent=1)
    )
    page.fill("#flex-json", pasted)
    page.get_by_role("button", name="แสดงผล").click()
    page.wait_for_selector("#flex-check[data-state=done]")
    return page.locator("#flex-screen .lf-message")


def texts_of(node: Any) -> Iterator[str]:
    """Every string a user should read in a Flex container: texts, spans and button labels."""
    if isinstance(node, dict):
        if node.get("type") == "text":
            spans = [s.get("text", "") for s in node.get("contents", []) if isinstance(s, dict)]
            yield from spans or [node.get("text", "")]
        elif node.get("type") == "button":
            yield node["action"].get("label", "")
        for key, value in node.items():
            if key != "action":
                yield from texts_of(value)
    elif isinstance(node, list):
        for value in node:
            yield from texts_of(value)


def one_line_texts(node: Any) -> Iterator[dict[str, Any]]:
    """Text components without wrap: LINE shows them on one line, cut with an ellipsis."""
    if isinstance(node, dict):
        if node.get("type") == "text" and node.get("wrap") is not True:
            yield node
        for value in node.values():
            yield from one_line_texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from one_line_texts(value)


def primary_colours(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if node.get("type") == "button" and node.get("style") == "primary":
            yield node.get("color", LINE_GREEN)
        for value in node.values():
            yield from primary_colours(value)
    elif isinstance(node, list):
        for value in node:
            yield from primary_colours(value)


def rgb(colour: str) -> str:
    value = colour.lstrip("#")
    return "rgb({}, {}, {})".format(*(int(value[i : i + 2], 16) for i in (0, 2, 4)))


# Heights of one-line texts against their line height, widths of bubbles, and so on, measured
# by the browser's layout.
MEASURE = """
root => {
  const lines = [...root.querySelectorAll('.lf-line:not(.lf-wrap)')].map(p => ({
    text: p.textContent,
    height: p.getBoundingClientRect().height,
    lineHeight: parseFloat(getComputedStyle(p).lineHeight),
  }));
  const wrapped = [...root.querySelectorAll('.lf-line.lf-wrap')].map(p => ({
    height: p.getBoundingClientRect().height,
    lineHeight: parseFloat(getComputedStyle(p).lineHeight),
    scroll: p.scrollWidth, width: p.clientWidth,
  }));
  const faces = [...root.querySelectorAll('.lf-button-primary')].map(
    b => getComputedStyle(b).backgroundColor);
  const bubbles = [...root.querySelectorAll('.lf-bubble')].map(
    b => b.getBoundingClientRect().height);
  return {text: root.textContent, lines, wrapped, faces, bubbles};
}
"""


@needs_browser
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_template_renders_whole(preview, name):
    message = SAMPLES[name]()
    rendered = show(preview, message)
    box = rendered.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 50, box
    assert preview.inner_text("#flex-check").count("ผ่านการตรวจ") == 1

    seen = rendered.evaluate(MEASURE)
    missing = [t for t in texts_of(message["contents"]) if t not in seen["text"]]
    assert not missing, f"{name}: the renderer dropped {missing}"
    assert sorted(seen["faces"]) == sorted(rgb(c) for c in primary_colours(message["contents"]))
    assert [line["text"] for line in seen["lines"]] == [
        t["text"] for t in one_line_texts(message["contents"])
    ]
    for line in seen["lines"]:  # wrap=false: one line, cut with an ellipsis
        assert line["height"] < 1.5 * line["lineHeight"], (name, line)
    for line in seen["wrapped"]:  # wrap=true: nothing runs out of the bubble
        assert line["scroll"] <= line["width"] + 1, (name, line)
    if message["contents"]["type"] == "carousel":
        assert len(set(seen["bubbles"])) == 1, f"{name}: carousel bubbles differ in height"

    SHOTS.mkdir(parents=True, exist_ok=True)
    preview.locator("main").screenshot(path=str(SHOTS / f"{name.removesuffix('.json')}.png"))


@needs_browser
def test_samples_from_the_dropdown_and_taps_are_logged(preview):
    preview.select_option("#flex-sample", "consent.json")
    preview.wait_for_selector("#flex-check[data-state=done]")
    assert "ยินดีต้อนรับค่ะ" in preview.inner_text("#flex-screen")
    preview.locator("#flex-screen .lf-button-face", has_text="ยอมรับ").last.click()
    assert preview.inner_text("#flex-log") == "postback: data=a=consent&v=yes (แสดง: ยอมรับ)"


@needs_browser
def test_html_in_a_card_is_shown_as_text(preview):
    hostile = "<img src=x onerror=alert(1)>"
    card = bubble_with(hostile)
    card["footer"] = {
        "type": "box",
        "layout": "vertical",
        "contents": [
            {"type": "button", "action": {"type": "message", "label": hostile, "text": "x"}}
        ],
    }
    rendered = show(preview, card)
    assert rendered.locator(".lf-line").inner_text() == hostile
    assert rendered.locator(".lf-button-label").inner_text() == hostile
    assert rendered.locator("img[src=x]").count() == 0
    assert preview.evaluate("() => document.querySelectorAll('img[src=\"x\"]').length") == 0


@needs_browser
def test_layout_follows_lines_pixel_values(preview):
    card = {
        "type": "bubble",
        "size": "kilo",
        "styles": {"footer": {"separator": True, "backgroundColor": "#EEEEEE"}},
        "body": {
            "type": "box",
            "layout": "vertical",
            "spacing": "lg",
            "contents": [
                {"type": "text", "text": "ใหญ่", "size": "xl", "weight": "bold"},
                {"type": "text", "text": "เล็ก", "size": "xxs", "margin": "xxl"},
                {"type": "text", "text": "12px", "size": "12px", "color": "#C0392B"},
                {"type": "sparkle", "text": "?"},
                {
                    "type": "box",
                    "layout": "horizontal",
                    "contents": [
                        {"type": "text", "text": "หนึ่ง", "flex": 1},
                        {"type": "text", "text": "สอง", "flex": 3},
                    ],
                },
                {"type": "text", "text": "ยาวมาก " * 40, "wrap": True, "maxLines": 2},
                {"type": "text", "text": "บรรทัดเดียว " * 40},
            ],
        },
        "footer": {
            "type": "box",
            "layout": "vertical",
            "contents": [
                {
                    "type": "button",
                    "style": "secondary",
                    "height": "sm",
                    "action": {"type": "uri", "label": "เปิด", "uri": "https://example.test"},
                }
            ],
        },
    }
    rendered = show(preview, card)
    texts = rendered.locator(".lf-text")
    styles = texts.evaluate_all(
        "ts => ts.map(t => [getComputedStyle(t).fontSize, getComputedStyle(t).color,"
        " getComputedStyle(t).marginTop, t.getBoundingClientRect().width,"
        " t.getBoundingClientRect().height])"
    )
    assert [s[0] for s in styles[:3]] == ["22px", "11px", "12px"]
    assert styles[1][2] == "20px" and styles[2][2] == "12px"  # margin beats the box's spacing
    assert styles[2][1] == "rgb(192, 57, 43)"
    one, three = styles[3][3], styles[4][3]
    assert abs(three - 3 * one) < 2  # flex 1 : 3
    clamped = float(styles[5][4]) / float(styles[5][0].removesuffix("px"))
    assert 2.5 < clamped < 3.0, styles[5]  # two lines of 1.4em, not forty words
    one_line = float(styles[6][4]) / float(styles[6][0].removesuffix("px"))
    assert 1.3 < one_line < 1.5, styles[6]  # wrap=false: one line of 1.4em ...
    cut = rendered.locator(".lf-line").last
    assert cut.evaluate("p => p.scrollWidth > p.clientWidth")  # ... cut at the bubble's edge
    assert cut.evaluate("p => getComputedStyle(p).textOverflow") == "ellipsis"
    assert rendered.locator(".lf-unknown").inner_text() == "ไม่รองรับ: sparkle"
    assert rendered.locator(".lf-bubble").bounding_box()["width"] == 260
    face = rendered.locator(".lf-button-face")
    assert face.bounding_box()["height"] == 40
    assert face.evaluate("f => getComputedStyle(f).backgroundColor") == "rgb(220, 223, 229)"
    footer = rendered.locator(".lf-footer")
    assert footer.evaluate("f => getComputedStyle(f).borderTopWidth") == "1px"
    assert footer.evaluate("f => getComputedStyle(f).backgroundColor") == "rgb(238, 238, 238)"
    face.click()
    assert preview.inner_text("#flex-log") == "uri: https://example.test"


@needs_browser
def test_what_is_not_flex_gets_a_placeholder_not_an_error(preview):
    show(preview, {"type": "text", "text": "สวัสดี"})
    assert "ไม่รองรับ" in preview.inner_text("#flex-screen")
    show(preview, '{"type": "bubble"')
    assert "JSON ไม่ถูกต้องค่ะ" in preview.inner_text("#flex-check")
    assert "JSON ไม่ถูกต้อง" in preview.inner_text("#flex-screen")


@needs_browser
def test_images_icons_video_and_positioned_boxes(preview):
    card = {
        "type": "bubble",
        "size": "mega",
        "hero": {
            "type": "video",
            "url": "https://example.test/v.mp4",
            "previewUrl": "https://example.test/v.jpg",
            "aspectRatio": "16:9",
            "altContent": {"type": "image", "url": "https://example.test/v.jpg"},
            "action": {"type": "uri", "label": "ดู", "uri": "https://example.test/v"},
        },
        "body": {
            "type": "box",
            "layout": "vertical",
            "background": {
                "type": "linearGradient",
                "angle": "90deg",
                "startColor": "#FF0000",
                "endColor": "#0000FF",
            },
            "contents": [
                {
                    "type": "image",
                    "url": "https://example.test/a.png",
                    "size": "sm",
                    "aspectRatio": "2:1",
                    "aspectMode": "cover",
                },
                {
                    "type": "box",
                    "layout": "baseline",
                    "contents": [
                        {"type": "icon", "url": "https://example.test/star.png", "size": "xl"},
                        {"type": "text", "text": "4.5", "size": "sm"},
                    ],
                },
                {
                    "type": "box",
                    "layout": "vertical",
                    "position": "absolute",
                    "offsetTop": "md",
                    "offsetEnd": "10px",
                    "contents": [{"type": "text", "text": "ใหม่", "size": "xxs"}],
                },
            ],
        },
    }
    rendered = show(preview, card)
    frame = rendered.locator(".lf-image:not(.lf-video) .lf-image-frame").bounding_box()
    assert frame["width"] == 80 and frame["height"] == 40
    video = rendered.locator(".lf-video .lf-image-frame").bounding_box()
    assert video["width"] == 300 and abs(video["height"] - 300 * 9 / 16) < 1
    assert rendered.locator(".lf-icon-picture").bounding_box()["width"] == 22
    body = rendered.locator(".lf-body > .lf-box")
    assert "linear-gradient(90deg" in body.evaluate("b => getComputedStyle(b).backgroundImage")
    badge = rendered.locator(".lf-box", has_text="ใหม่").last
    assert badge.evaluate("b => getComputedStyle(b).position") == "absolute"
    assert badge.evaluate("b => [getComputedStyle(b).top, getComputedStyle(b).right]") == [
        "8px",
        "10px",
    ]
    rendered.locator(".lf-video").click()
    assert preview.inner_text("#flex-log") == "uri: https://example.test/v"

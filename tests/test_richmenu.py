"""Each audience gets its own rich menu, drawn in Sarabun, whose entries are typed keywords."""

from __future__ import annotations

import io

from PIL import Image

from bot import richmenu
from bot.registry import registry
from tests.test_invites import consented, create_code
from tests.test_registration import register


def test_sync_uploads_menus_sets_the_default_and_links_by_role(line, runner):
    leader = line.user("ผู้นำ หนึ่ง")
    register(leader)
    result = runner.invoke(args=["richmenu", "sync"])
    assert result.exit_code == 0, result.output
    menus = line.platform.rich_menus
    assert len(menus) == len(richmenu.AUDIENCES)
    for menu in menus.values():
        image = Image.open(io.BytesIO(menu["image"]))
        assert image.size == (2500, 843)
    by_name = {m["menu"]["name"]: menu_id for menu_id, m in menus.items()}
    assert line.platform.default_rich_menu == by_name["mchch-new"]
    assert line.platform.user_rich_menu(leader.user_id) == by_name["mchch-leader"]

    # A second sync changes nothing on LINE.
    before = len(line.platform.requests)
    again = runner.invoke(args=["richmenu", "sync"])
    assert "unchanged" in again.output
    assert not [r for r in line.platform.requests[before:] if r.endpoint == "richmenu.create"]

    # Taking a role relinks at once.
    officer = consented(line, "พัฒนากร")
    officer.say(create_code(runner, "officer", "3801"))
    assert line.platform.user_rich_menu(officer.user_id) == by_name["mchch-officer"]


def test_every_menu_entry_is_a_keyword_that_answers(line, runner):
    """Tapping an entry sends its text; each must reach a real handler, not the fallback."""
    person = line.user()
    register(person)
    for word in richmenu.entries("leader"):
        assert registry.keyword(word, "leader") is not None, word
        person.say(word)
        assert person.last and "ไม่เข้าใจ" not in person.last_text, word
    for audience in richmenu.AUDIENCES:
        words = richmenu.entries(audience)
        assert words[-1] == "ช่วยเหลือ" and len(words) <= 6
        assert all(registry.keyword(w, audience) for w in words), audience

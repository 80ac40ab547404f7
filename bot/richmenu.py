"""Rich menus, one per audience, drawn with Pillow in Sarabun and linked per user.

The entries are the audience's typed keywords (from the registry), so the menu and the
help message can never disagree, and every menu tap works as typed text too.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from functools import cache
from typing import Any

from fontpkg_sarabun import ROOT as SARABUN
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.line_gateway import LineError, LineGateway
from bot.models import RichMenu, User
from bot.registry import registry

log = logging.getLogger(__name__)

WIDTH, HEIGHT = 2500, 843
AUDIENCES = ("new", "guest", "leader", "officer", "province")
COLOURS = {
    "new": "#1F6E43",
    "guest": "#1F6E43",
    "leader": "#1F6E43",
    "officer": "#1B4F8A",
    "province": "#6B2C91",
}
TITLES = {  # the chat bar under the menu: 14 characters at most
    "new": "เมนู มชช.",
    "guest": "เมนู มชช.",
    "leader": "เมนูผู้นำ",
    "officer": "เมนูพัฒนากร",
    "province": "เมนูจังหวัด",
}


def entries(audience: str) -> list[str]:
    """The keywords on the menu: at most six, help always last."""
    words = [k.label for k in registry.keywords_for(audience) if k.label != "ช่วยเหลือ"]
    return [*words[:5], "ช่วยเหลือ"]


def _cells(count: int) -> list[tuple[int, int, int, int]]:
    columns = count if count <= 3 else (2 if count == 4 else 3)
    rows = -(-count // columns)
    w, h = WIDTH // columns, HEIGHT // rows
    return [((i % columns) * w, (i // columns) * h, w, h) for i in range(count)]


def definition(audience: str) -> dict[str, Any]:
    words = entries(audience)
    return {
        "size": {"width": WIDTH, "height": HEIGHT},
        "selected": True,
        "name": f"mchch-{audience}",
        "chatBarText": TITLES[audience],
        "areas": [
            {
                "bounds": {"x": x, "y": y, "width": w, "height": h},
                "action": {"type": "message", "label": word, "text": word},
            }
            for word, (x, y, w, h) in zip(words, _cells(len(words)), strict=True)
        ],
    }


@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(SARABUN / "files" / "Sarabun-Bold.ttf"), size)


def draw(audience: str) -> bytes:
    """The menu image as PNG: coloured cells with the keyword in Sarabun, centred."""
    words = entries(audience)
    image = Image.new("RGB", (WIDTH, HEIGHT), COLOURS[audience])
    pen = ImageDraw.Draw(image)
    for word, (x, y, w, h) in zip(words, _cells(len(words)), strict=True):
        pen.rectangle([x + 12, y + 12, x + w - 12, y + h - 12], fill="#FFFFFF", outline="#DDDDDD")
        size = 110
        while _font(size).getlength(word) > w - 80 and size > 40:
            size -= 6
        pen.text(
            (x + w / 2, y + h / 2), word, font=_font(size), fill=COLOURS[audience], anchor="mm"
        )
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def sync(session: Session, gateway: LineGateway) -> list[str]:
    """Upload changed menus, make the newcomers' menu the default, relink every user.

    Returns a line per audience saying what happened (for the CLI)."""
    report = []
    for audience in AUDIENCES:
        menu, image = definition(audience), draw(audience)
        digest = hashlib.sha256(json.dumps(menu, sort_keys=True).encode() + image).hexdigest()
        row = session.get(RichMenu, audience)
        if row is not None and row.content_hash == digest:
            report.append(f"{audience}: unchanged ({row.line_rich_menu_id})")
            continue
        menu_id = gateway.create_rich_menu(menu, image)
        if row is not None:
            gateway.delete_rich_menu(row.line_rich_menu_id)
            row.line_rich_menu_id, row.content_hash = menu_id, digest
        else:
            session.add(RichMenu(role=audience, line_rich_menu_id=menu_id, content_hash=digest))
        report.append(f"{audience}: uploaded {menu_id}")
    session.flush()
    gateway.set_default_rich_menu(session.get(RichMenu, "new").line_rich_menu_id)  # type: ignore[union-attr]
    by_audience: dict[str, list[str]] = {}
    for user in session.scalars(select(User).where(User.following.is_(True))):
        by_audience.setdefault(user.audience, []).append(user.line_user_id)
    for audience, user_ids in by_audience.items():
        row = session.get(RichMenu, audience)
        if row is not None:
            gateway.link_rich_menu_bulk(user_ids, row.line_rich_menu_id)
            report.append(f"{audience}: linked {len(user_ids)} users")
    return report


def link_user(session: Session, gateway: LineGateway, user: User) -> None:
    """Best effort: a failed link is logged and mended by the next `richmenu sync`."""
    row = session.get(RichMenu, user.audience)
    if row is None or not user.following:
        return
    try:
        gateway.link_rich_menu(user.line_user_id, row.line_rich_menu_id)
    except LineError as exc:
        log.warning("rich menu not linked for user %s: %s", user.id, exc)

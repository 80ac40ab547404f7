"""The one renderer: plain texts, quick replies, and Flex messages from `flex_templates/`.

Flex templates are JSON files with Jinja tags. Every `{{ value }}` is written out as a JSON
literal (strings quoted and escaped), so text a user typed can never break a card's structure.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot import message_limits

TEMPLATES = Path(__file__).resolve().parent.parent / "flex_templates"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    undefined=StrictUndefined,
    autoescape=False,  # JSON, not HTML: escaping is done by `finalize`
    finalize=lambda value: json.dumps(value, ensure_ascii=False),
    trim_blocks=True,
    lstrip_blocks=True,
)


def clip(value: str, limit: int) -> str:
    """Shorten text to fit a field, marking the cut."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


_env.filters["clip"] = clip


def flex_contents(template: str, **values: Any) -> dict[str, Any]:
    """A bubble or carousel from a template file such as `registration_summary.json`."""
    return json.loads(_env.get_template(template).render(**values))


def flex(template: str, alt_text: str, **values: Any) -> dict[str, Any]:
    message = {
        "type": "flex",
        "altText": clip(alt_text, message_limits.MAX_ALT_TEXT),
        "contents": flex_contents(template, **values),
    }
    return message


def text(body: str, quick: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "text", "text": clip(body, message_limits.MAX_TEXT)}
    return with_quick(message, quick)


def with_quick(message: dict[str, Any], quick: list[dict[str, Any]] | None) -> dict[str, Any]:
    if quick:
        message["quickReply"] = {"items": quick[: message_limits.MAX_QUICK_REPLY]}
    return message


def say(label: str, typed: str | None = None) -> dict[str, Any]:
    """A quick reply chip that sends a message, as if the user typed it."""
    return {
        "type": "action",
        "action": {"type": "message", "label": clip(label, 20), "text": typed or label},
    }


def tap(label: str, data: str, display: str | None = None) -> dict[str, Any]:
    """A quick reply chip that sends a postback."""
    action = {"type": "postback", "label": clip(label, 20), "data": data}
    if display:
        action["displayText"] = display
    return {"type": "action", "action": action}


FLOW_CHIPS = [say("ย้อนกลับ"), say("ยกเลิก"), say("ช่วยเหลือ")]


# Actions for buttons in Flex templates (passed in as `button.action`) ----------------------
def postback_action(label: str, data: str, display: str | None = None) -> dict[str, Any]:
    action = {"type": "postback", "label": clip(label, 40), "data": data}
    if display:
        action["displayText"] = clip(display, 300)
    return action


def message_action(label: str, typed: str | None = None) -> dict[str, Any]:
    return {"type": "message", "label": clip(label, 40), "text": typed or label}


def uri_action(label: str, uri: str) -> dict[str, Any]:
    return {"type": "uri", "label": clip(label, 40), "uri": uri}


def date_action(label: str, data: str, initial: str, earliest: str, latest: str) -> dict[str, Any]:
    """A date picker (YYYY-MM-DD); the choice comes back in the postback's params."""
    return {
        "type": "datetimepicker",
        "label": clip(label, 40),
        "data": data,
        "mode": "date",
        "initial": initial,
        "min": earliest,
        "max": latest,
    }


def datetime_action(
    label: str, data: str, initial: str, earliest: str, latest: str
) -> dict[str, Any]:
    """A date-and-time picker (YYYY-MM-DDTHH:MM); the choice comes back in the postback's
    params."""
    return {
        "type": "datetimepicker",
        "label": clip(label, 40),
        "data": data,
        "mode": "datetime",
        "initial": initial,
        "min": earliest,
        "max": latest,
    }


def button(action: dict[str, Any], style: str = "secondary") -> dict[str, Any]:
    return {"action": action, "style": style}


def chip(action: dict[str, Any]) -> dict[str, Any]:
    """A quick reply item from any action (quick reply labels are at most 20 characters)."""
    return {"type": "action", "action": {**action, "label": clip(action["label"], 20)}}


def buttons_card(title: str, body: str, buttons: list[dict[str, Any]]) -> dict[str, Any]:
    """The plain card: a title (also its alt text), a body and buttons (from `button`)."""
    return flex("buttons.json", title, title=title, body=body, buttons=buttons)

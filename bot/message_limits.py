"""LINE's documented message limits, checked before anything is sent.

The OpenAPI description does not carry these, so a message that breaks one would only be
refused by LINE in production; checking here turns that into a failing test instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

MAX_MESSAGES = 5
MAX_TEXT = 5000
MAX_ALT_TEXT = 1500
MAX_BUBBLES = 12
MAX_BUBBLE_BYTES = 30 * 1024
MAX_CAROUSEL_BYTES = 50 * 1024
MAX_QUICK_REPLY = 13
MAX_POSTBACK_DATA = 300
MAX_QUICK_REPLY_LABEL = 20
MAX_MULTICAST = 500


class MessageLimitError(ValueError):
    """A message breaks one of LINE's limits: a bug in the code that built it."""


def _size(obj: Any) -> int:
    return len(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode())


def _actions(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        action = node.get("action")
        if isinstance(action, dict):
            yield action
        for value in node.values():
            yield from _actions(value)
    elif isinstance(node, list):
        for value in node:
            yield from _actions(value)


def problems(messages: list[dict[str, Any]]) -> list[str]:
    """Every limit the messages break, as readable strings (empty when all is well)."""
    found: list[str] = []
    if not messages:
        found.append("no messages")
    if len(messages) > MAX_MESSAGES:
        found.append(f"{len(messages)} messages in one request (max {MAX_MESSAGES})")
    for i, msg in enumerate(messages):
        kind = msg.get("type")
        if kind == "text" and len(msg.get("text", "")) > MAX_TEXT:
            found.append(f"message {i}: text longer than {MAX_TEXT} characters")
        if kind == "text" and not msg.get("text", "").strip():
            found.append(f"message {i}: empty text")
        if kind in {"flex", "template"}:
            alt = msg.get("altText", "")
            if not alt or len(alt) > MAX_ALT_TEXT:
                found.append(f"message {i}: altText empty or longer than {MAX_ALT_TEXT}")
        if kind == "flex":
            found += [f"message {i}: {p}" for p in _flex_problems(msg.get("contents", {}))]
        items = (msg.get("quickReply") or {}).get("items", [])
        if len(items) > MAX_QUICK_REPLY:
            found.append(f"message {i}: {len(items)} quick reply items (max {MAX_QUICK_REPLY})")
        for item in items:
            label = item.get("action", {}).get("label", "")
            if len(label) > MAX_QUICK_REPLY_LABEL:
                found.append(f"message {i}: quick reply label {label!r} over 20 characters")
        for action in _actions(msg):
            data = action.get("data")
            if isinstance(data, str) and len(data) > MAX_POSTBACK_DATA:
                found.append(f"message {i}: postback data over {MAX_POSTBACK_DATA} characters")
    return found


def _flex_problems(contents: dict[str, Any]) -> list[str]:
    if contents.get("type") == "carousel":
        bubbles = contents.get("contents", [])
        found = [
            f"bubble {j} over 30 KB" for j, b in enumerate(bubbles) if _size(b) > MAX_BUBBLE_BYTES
        ]
        if len(bubbles) > MAX_BUBBLES:
            found.append(f"{len(bubbles)} bubbles in a carousel (max {MAX_BUBBLES})")
        if _size(contents) > MAX_CAROUSEL_BYTES:
            found.append("carousel over 50 KB")
        return found
    return ["bubble over 30 KB"] if _size(contents) > MAX_BUBBLE_BYTES else []


def check(messages: list[dict[str, Any]]) -> None:
    found = problems(messages)
    if found:
        raise MessageLimitError("; ".join(found))

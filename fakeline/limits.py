"""LINE's documented request limits that its OpenAPI file does not hold.

These checks always run, with or without the OpenAPI file, so a bot that builds a
message LINE would refuse fails its tests on every machine. Each problem names the
JSON path the way LINE's error `details[].property` does: `messages[0].contents.body`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

MAX_MESSAGES = 5
MAX_RECIPIENTS = 500  # multicast `to` and bulk rich-menu link `userIds`
MAX_TEXT = 5000
MAX_FLEX_ALT_TEXT = 1500
MAX_TEMPLATE_ALT_TEXT = 400
MAX_CAROUSEL_BUBBLES = 12
MAX_BUBBLE_BYTES = 30 * 1024
MAX_CAROUSEL_BYTES = 50 * 1024
MAX_QUICK_REPLY_ITEMS = 13
MAX_QUICK_REPLY_LABEL = 20
MAX_FLEX_BUTTON_LABEL = 40
MAX_TEMPLATE_LABEL = 20
MAX_IMAGE_CAROUSEL_LABEL = 12
MAX_POSTBACK_DATA = 300
MAX_CHAT_BAR_TEXT = 14
MAX_RICH_MENU_AREAS = 20
LOADING_SECONDS = range(5, 61, 5)

# Keys that hold the URL of an image, video or audio file; LINE fetches these only over HTTPS.
# (`uri` of a URI action is not one: it may be http, tel: or line:.)
MEDIA_URL_KEYS = frozenset(
    {
        "originalContentUrl",
        "previewImageUrl",
        "thumbnailImageUrl",
        "imageUrl",
        "iconUrl",
        "baseUrl",
        "url",
        "previewUrl",
    }
)


class Problem(NamedTuple):
    """One entry of LINE's 400 answer: `{"message": ..., "property": ...}`."""

    property: str
    message: str


def json_size(obj: Any) -> int:
    """Bytes of `obj` as compact UTF-8 JSON, the measure of LINE's bubble/carousel size limits."""
    return len(json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def check(endpoint: str, body: Any) -> list[Problem]:
    """Problems in the JSON body of a request to `endpoint` (a FakeLine endpoint name)."""
    if not isinstance(body, dict):
        return [Problem("", "The request body must be a JSON object")]
    checker = _CHECKERS.get(endpoint)
    return checker(body) if checker else []


def _reply(body: dict[str, Any]) -> list[Problem]:
    return _non_empty_string(body, "replyToken") + _messages(body.get("messages"))


def _push(body: dict[str, Any]) -> list[Problem]:
    return _non_empty_string(body, "to") + _messages(body.get("messages"))


def _multicast(body: dict[str, Any]) -> list[Problem]:
    return _id_list(body.get("to"), "to") + _messages(body.get("messages"))


def _to_all(body: dict[str, Any]) -> list[Problem]:
    return _messages(body.get("messages"))


def _loading(body: dict[str, Any]) -> list[Problem]:
    problems = _non_empty_string(body, "chatId")
    seconds = body.get("loadingSeconds", 20)  # LINE's default when omitted
    if isinstance(seconds, bool) or seconds not in LOADING_SECONDS:
        problems.append(Problem("loadingSeconds", "Must be 5 to 60 in steps of 5"))
    return problems


def _rich_menu(body: dict[str, Any]) -> list[Problem]:
    problems = [
        Problem(key, "May not be empty")
        for key in ("size", "selected", "name", "chatBarText", "areas")
        if key not in body
    ]
    problems += _max_length(body.get("chatBarText"), MAX_CHAT_BAR_TEXT, "chatBarText")
    areas = body.get("areas")
    if isinstance(areas, list) and len(areas) > MAX_RICH_MENU_AREAS:
        problems.append(Problem("areas", f"Size must be at most {MAX_RICH_MENU_AREAS}"))
    return problems + _everywhere(body, "")


def _bulk_link(body: dict[str, Any]) -> list[Problem]:
    return _non_empty_string(body, "richMenuId") + _id_list(body.get("userIds"), "userIds")


_CHECKERS: dict[str, Callable[[dict[str, Any]], list[Problem]]] = {
    "reply": _reply,
    "push": _push,
    "multicast": _multicast,
    "narrowcast": _to_all,
    "broadcast": _to_all,
    "loading": _loading,
    "richmenu.create": _rich_menu,
    "richmenu.bulk_link": _bulk_link,
}


def _messages(messages: Any) -> list[Problem]:
    items = _as_list(messages)
    problems = []
    if not 1 <= len(items) <= MAX_MESSAGES:
        problems.append(Problem("messages", f"Size must be between 1 and {MAX_MESSAGES}"))
    for index, message in enumerate(items):
        problems += _message(message, f"messages[{index}]")
    return problems


def _message(message: Any, path: str) -> list[Problem]:
    if not isinstance(message, dict):
        return [Problem(path, "Must be an object")]
    problems: list[Problem] = []
    kind = message.get("type")
    if kind in ("text", "textV2"):
        problems += _text(message.get("text"), MAX_TEXT, f"{path}.text")
    elif kind == "flex":
        problems += _text(message.get("altText"), MAX_FLEX_ALT_TEXT, f"{path}.altText")
        problems += _flex_container(message.get("contents"), f"{path}.contents")
    elif kind == "template":
        problems += _text(message.get("altText"), MAX_TEMPLATE_ALT_TEXT, f"{path}.altText")
        problems += _template_labels(message.get("template"), f"{path}.template")
    problems += _quick_reply(message.get("quickReply"), f"{path}.quickReply")
    return problems + _everywhere(message, path)


def _flex_container(container: Any, path: str) -> list[Problem]:
    if not isinstance(container, dict):
        return []  # the OpenAPI schema reports a missing or malformed container
    problems: list[Problem] = []
    if container.get("type") == "carousel":
        bubbles = _as_list(container.get("contents"))
        if len(bubbles) > MAX_CAROUSEL_BUBBLES:
            problems.append(
                Problem(f"{path}.contents", f"Size must be at most {MAX_CAROUSEL_BUBBLES}")
            )
        problems += _size(container, MAX_CAROUSEL_BYTES, path)
        for index, bubble in enumerate(bubbles):
            problems += _size(bubble, MAX_BUBBLE_BYTES, f"{path}.contents[{index}]")
    else:
        problems += _size(container, MAX_BUBBLE_BYTES, path)
    for node_path, node in _objects(container, path):
        if node.get("type") == "button" and isinstance(node.get("action"), dict):
            label = node["action"].get("label")
            problems += _max_length(label, MAX_FLEX_BUTTON_LABEL, f"{node_path}.action.label")
    return problems


def _template_labels(template: Any, path: str) -> list[Problem]:
    """Template action labels: 20 characters, 12 in an image carousel."""
    if not isinstance(template, dict):
        return []
    actions: list[tuple[str, Any, int]] = []
    if template.get("type") in ("buttons", "confirm"):
        actions += _listed(template.get("actions"), f"{path}.actions", MAX_TEMPLATE_LABEL)
    for index, column in enumerate(_as_list(template.get("columns"))):
        column_path = f"{path}.columns[{index}]"
        if not isinstance(column, dict):
            continue
        if template.get("type") == "image_carousel":
            actions.append(
                (f"{column_path}.action", column.get("action"), MAX_IMAGE_CAROUSEL_LABEL)
            )
        else:
            actions += _listed(column.get("actions"), f"{column_path}.actions", MAX_TEMPLATE_LABEL)
    problems: list[Problem] = []
    for action_path, action, limit in actions:
        if isinstance(action, dict):
            problems += _max_length(action.get("label"), limit, f"{action_path}.label")
    return problems


def _quick_reply(quick_reply: Any, path: str) -> list[Problem]:
    if not isinstance(quick_reply, dict):
        return []
    items = _as_list(quick_reply.get("items"))
    problems: list[Problem] = []
    if len(items) > MAX_QUICK_REPLY_ITEMS:
        problems.append(Problem(f"{path}.items", f"Size must be at most {MAX_QUICK_REPLY_ITEMS}"))
    for index, item in enumerate(items):
        action = item.get("action") if isinstance(item, dict) else None
        if isinstance(action, dict):
            label_path = f"{path}.items[{index}].action.label"
            problems += _max_length(action.get("label"), MAX_QUICK_REPLY_LABEL, label_path)
    return problems


def _everywhere(obj: Any, path: str) -> list[Problem]:
    """Rules that hold wherever the object sits: postback data length and HTTPS media URLs."""
    problems: list[Problem] = []
    for node_path, node in _objects(obj, path):
        if node.get("type") == "postback":
            problems += _max_length(node.get("data"), MAX_POSTBACK_DATA, f"{node_path}.data")
        for key in MEDIA_URL_KEYS.intersection(node):
            url = node[key]
            if isinstance(url, str) and not url.startswith("https://"):
                problems.append(Problem(_join(node_path, key), "Must be an https URL"))
    return problems


def _objects(obj: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every JSON object inside `obj` (itself included) with its path."""
    if isinstance(obj, dict):
        yield path, obj
        for key, value in obj.items():
            yield from _objects(value, _join(path, key))
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            yield from _objects(value, f"{path}[{index}]")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _listed(actions: Any, path: str, limit: int) -> list[tuple[str, Any, int]]:
    return [(f"{path}[{index}]", action, limit) for index, action in enumerate(_as_list(actions))]


def _text(value: Any, maximum: int, path: str) -> list[Problem]:
    """A required, non-empty string of at most `maximum` characters."""
    if not isinstance(value, str) or not value:
        return [Problem(path, "May not be empty")]
    if len(value) > maximum:
        return [Problem(path, f"Length must be at most {maximum} characters (got {len(value)})")]
    return []


def _max_length(value: Any, maximum: int, path: str) -> list[Problem]:
    if isinstance(value, str) and len(value) > maximum:
        return [Problem(path, f"Length must be at most {maximum} characters (got {len(value)})")]
    return []


def _non_empty_string(body: dict[str, Any], key: str) -> list[Problem]:
    value = body.get(key)
    return [] if isinstance(value, str) and value else [Problem(key, "May not be empty")]


def _id_list(ids: Any, path: str) -> list[Problem]:
    if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_RECIPIENTS:
        return [Problem(path, f"Size must be between 1 and {MAX_RECIPIENTS}")]
    return [
        Problem(f"{path}[{index}]", "Must be a non-empty string")
        for index, value in enumerate(ids)
        if not isinstance(value, str) or not value
    ]


def _size(container: Any, maximum: int, path: str) -> list[Problem]:
    size = json_size(container)
    if size > maximum:
        return [Problem(path, f"JSON size must be at most {maximum} bytes (got {size})")]
    return []

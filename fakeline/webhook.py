"""What LINE sends the bot: signed webhook requests carrying event objects.

`sign` uses only the standard library, independent of the SDK on purpose, so a test can
show the bot checks signatures exactly as LINE computes them. The event builders follow
LINE's webhook shapes (shared/line-openapi/webhook.yml and the SDK's own test fixtures).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from typing import Any, TypedDict, Unpack

DEFAULT_DESTINATION = "U" + "deadbeef" * 4  # a bot user ID: "U" and 32 hex digits
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def sign(channel_secret: str, body: bytes) -> str:
    """The `x-line-signature` header LINE sends: base64(HMAC-SHA256(channel secret, body))."""
    digest = hmac.new(channel_secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def new_event_id() -> str:
    """A ULID (26 characters of Crockford base32: 48-bit ms time, 80 random bits), as LINE uses."""
    value = (time.time_ns() // 1_000_000) << 80 | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def envelope(
    events: list[dict[str, Any]], destination: str = DEFAULT_DESTINATION
) -> dict[str, Any]:
    """The webhook request body. An empty `events` list is what the console's Verify sends."""
    return {"destination": destination, "events": events}


class EventOptions(TypedDict, total=False):
    """Keyword options every event builder takes."""

    ts: int  # event time in ms; default now
    event_id: str  # webhookEventId; default a fresh ULID
    mode: str  # "active" (default) or "standby"
    source_type: str  # "user" (default), "group" or "room"
    group_id: str  # the group's, or for source_type "room" the room's, ID
    redelivery: bool  # deliveryContext.isRedelivery; default False


def text_event(
    user_id: str, text: str, reply_token: str, **options: Unpack[EventOptions]
) -> dict[str, Any]:
    message = {"id": _message_id(), "type": "text", "text": text, "quoteToken": _quote_token()}
    return _event("message", user_id, reply_token, {"message": message}, **options)


def postback_event(
    user_id: str,
    data: str,
    reply_token: str,
    *,
    params: dict[str, str] | None = None,
    **options: Unpack[EventOptions],
) -> dict[str, Any]:
    """`params` comes from a datetime picker: {"date": ...}, {"time": ...} or {"datetime": ...}."""
    postback: dict[str, Any] = {"data": data}
    if params is not None:
        postback["params"] = params
    return _event("postback", user_id, reply_token, {"postback": postback}, **options)


def follow_event(
    user_id: str,
    reply_token: str,
    *,
    is_unblocked: bool = False,
    **options: Unpack[EventOptions],
) -> dict[str, Any]:
    """A user added the bot as a friend (`is_unblocked`: or unblocked it)."""
    return _event(
        "follow", user_id, reply_token, {"follow": {"isUnblocked": is_unblocked}}, **options
    )


def unfollow_event(user_id: str, **options: Unpack[EventOptions]) -> dict[str, Any]:
    """A user blocked the bot; there is nothing to reply to, so no reply token."""
    return _event("unfollow", user_id, None, {}, **options)


def image_event(
    user_id: str,
    message_id: str,
    reply_token: str,
    *,
    image_set: tuple[str, int, int] | None = None,
    **options: Unpack[EventOptions],
) -> dict[str, Any]:
    """A photo sent in LINE; its bytes come from the data API (`FakeLine.add_content`).
    Photos sent together carry `image_set` = (set id, index from 1, total)."""
    message: dict[str, Any] = {
        "id": message_id,
        "type": "image",
        "contentProvider": {"type": "line"},
        "quoteToken": _quote_token(),
    }
    if image_set is not None:
        set_id, index, total = image_set
        message["imageSet"] = {"id": set_id, "index": index, "total": total}
    return _event("message", user_id, reply_token, {"message": message}, **options)


def video_event(
    user_id: str,
    message_id: str,
    reply_token: str,
    *,
    duration_ms: int = 10_000,
    **options: Unpack[EventOptions],
) -> dict[str, Any]:
    """A video sent in LINE; its bytes come from the data API (`FakeLine.add_content`)."""
    message = {
        "id": message_id,
        "type": "video",
        "duration": duration_ms,
        "contentProvider": {"type": "line"},
        "quoteToken": _quote_token(),
    }
    return _event("message", user_id, reply_token, {"message": message}, **options)


def file_event(
    user_id: str,
    message_id: str,
    reply_token: str,
    *,
    file_name: str = "document.pdf",
    file_size: int = 1024,
    **options: Unpack[EventOptions],
) -> dict[str, Any]:
    """A file sent in LINE; its bytes come from the data API (`FakeLine.add_content`)."""
    message = {"id": message_id, "type": "file", "fileName": file_name, "fileSize": file_size}
    return _event("message", user_id, reply_token, {"message": message}, **options)


def _event(
    event_type: str,
    user_id: str,
    reply_token: str | None,
    fields: dict[str, Any],
    *,
    ts: int | None = None,
    event_id: str | None = None,
    mode: str = "active",
    source_type: str = "user",
    group_id: str | None = None,
    redelivery: bool = False,
) -> dict[str, Any]:
    """The fields every event has, around the event's own `fields`.

    LINE leaves the reply token out of standby-mode events: another channel answers those.
    """
    event: dict[str, Any] = {"type": event_type, "mode": mode}
    if reply_token is not None and mode == "active":
        event["replyToken"] = reply_token
    event.update(
        timestamp=ts if ts is not None else time.time_ns() // 1_000_000,
        source=_source(user_id, source_type, group_id),
        webhookEventId=event_id or new_event_id(),
        deliveryContext={"isRedelivery": redelivery},
        **fields,
    )
    return event


def _source(user_id: str, source_type: str, group_id: str | None) -> dict[str, str]:
    if source_type == "user":
        return {"type": "user", "userId": user_id}
    if source_type not in ("group", "room") or group_id is None:
        raise ValueError("source_type must be 'user', or 'group'/'room' with a group_id")
    return {"type": source_type, f"{source_type}Id": group_id, "userId": user_id}


def _message_id() -> str:
    return str(secrets.randbelow(10**18))


def _quote_token() -> str:
    return secrets.token_urlsafe(32)

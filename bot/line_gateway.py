"""The one place that talks to LINE. Everything else hands it plain LINE JSON dicts.

Every call goes through line-bot-sdk v3; failures come back as `LineError`, which says
whether trying again may help (5xx, 429, time-outs) or not (any other 4xx).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

import urllib3
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    MessagingApi,
    MessagingApiBlob,
    MulticastRequest,
    PushMessageRequest,
    ReplyMessageRequest,
    RichMenuBulkLinkRequest,
    RichMenuRequest,
    ShowLoadingAnimationRequest,
)

from bot import message_limits
from bot.ratelimit import TokenBucket, line_limits

log = logging.getLogger(__name__)
T = TypeVar("T")
# Calls made while a handler holds its database transaction (loading dots, the profile's
# display name, a rich-menu link) are nice to have: give up on them quickly.
QUICK_CALL_TIMEOUT = 3.0


@dataclass
class LineError(Exception):
    status: int | None  # None when LINE never answered (time-out, connection refused)
    message: str
    details: list[Any] = field(default_factory=list)
    retry_after: float | None = None

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status == 429 or self.status >= 500

    def __str__(self) -> str:
        return f"LINE {self.status or 'no answer'}: {self.message} {self.details or ''}".strip()


# Requests whose JSON `_OnePassClient` writes itself (with pydantic's `dict`, as the SDK does).
ONE_PASS = (ReplyMessageRequest, PushMessageRequest, MulticastRequest)


class _OnePassClient(ApiClient):
    """line-bot-sdk's API client, serialising message requests in one pass.

    The SDK's generated `to_dict` calls each nested model's `to_dict`, and each of those runs
    pydantic's `dict()` over its whole subtree again, so a Flex card's innermost boxes are
    serialised once per level above them: about 2 ms of CPU for a form card, more than the
    validation. One `dict()` with the same options (aliases, no None) at the top gives the same
    JSON, since pydantic applies them all the way down.
    """

    def sanitize_for_serialization(self, obj: Any) -> Any:
        if isinstance(obj, ONE_PASS):
            obj = obj.dict(by_alias=True, exclude_none=True)
        return super().sanitize_for_serialization(obj)


class LineGateway:
    def __init__(
        self,
        access_token: str,
        api_base_url: str,
        data_api_base_url: str,
        timeout: float = 10.0,
        limits: dict[str, TokenBucket] | None = None,
    ) -> None:
        self.timeout = timeout
        self._token = access_token
        self._limits = limits or line_limits()
        self._api = MessagingApi(_OnePassClient(self._configuration(access_token, api_base_url)))
        self._blob = MessagingApiBlob(
            ApiClient(self._configuration(access_token, data_api_base_url))
        )

    @staticmethod
    def _configuration(token: str, host: str) -> Configuration:
        configuration = Configuration(host=host, access_token=token)
        # Retries are ours to make (with retry keys and backoff), never urllib3's behind our back.
        configuration.retries = urllib3.Retry(total=0, redirect=0)
        return configuration

    def _call(
        self,
        bucket: str,
        fn: Callable[..., T],
        *args: Any,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> T:
        self._limits[bucket].acquire()
        try:
            limit = min(timeout, self.timeout) if timeout else self.timeout
            return fn(*args, _request_timeout=limit, **kwargs)
        except ApiException as exc:
            raise _line_error(exc) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise LineError(None, type(exc).__name__) from None

    # Messages --------------------------------------------------------------------------
    def reply(self, reply_token: str, messages: list[dict[str, Any]]) -> None:
        message_limits.check(messages)
        request = ReplyMessageRequest.from_dict({"replyToken": reply_token, "messages": messages})
        self._call("message", self._api.reply_message_with_http_info, request)

    def push(self, to: str, messages: list[dict[str, Any]], retry_key: str) -> None:
        message_limits.check(messages)
        request = PushMessageRequest.from_dict({"to": to, "messages": messages})
        self._call(
            "message", self._api.push_message_with_http_info, request, x_line_retry_key=retry_key
        )

    def multicast(self, to: list[str], messages: list[dict[str, Any]], retry_key: str) -> None:
        message_limits.check(messages)
        if not 0 < len(to) <= message_limits.MAX_MULTICAST:
            raise message_limits.MessageLimitError("multicast takes 1 to 500 recipients")
        request = MulticastRequest.from_dict({"to": to, "messages": messages})
        self._call(
            "message", self._api.multicast_with_http_info, request, x_line_retry_key=retry_key
        )

    def show_loading(self, user_id: str, seconds: int = 5) -> None:
        request = ShowLoadingAnimationRequest(chat_id=user_id, loading_seconds=seconds)
        self._call(
            "loading",
            self._api.show_loading_animation_with_http_info,
            request,
            timeout=QUICK_CALL_TIMEOUT,
        )

    # The monthly message quota ---------------------------------------------------------
    def message_quota(self) -> int | None:
        """This month's message limit, or None when the plan has none."""
        response = self._call("message", self._api.get_message_quota_with_http_info)
        quota = response.data
        return quota.value if quota.type.value == "limited" else None

    def quota_consumption(self) -> int:
        """Messages counted against the quota so far this month (replies are free)."""
        response = self._call("message", self._api.get_message_quota_consumption_with_http_info)
        return int(response.data.total_usage)

    # Users and content -----------------------------------------------------------------
    def profile(self, user_id: str) -> dict[str, Any] | None:
        """The user's LINE profile, or None when LINE does not know the user (404)."""
        try:
            response = self._call(
                "profile", self._api.get_profile_with_http_info, user_id, timeout=QUICK_CALL_TIMEOUT
            )
        except LineError as exc:
            if exc.status == 404:
                return None
            raise
        return response.data.to_dict()

    def content(self, message_id: str) -> urllib3.BaseHTTPResponse:
        """A streaming response for content a user sent; the caller reads and releases it.

        The SDK's blob call reads the whole body into memory (`ApiResponse.raw_data`), which a
        100 MB video must not do; its REST client streams, so it is called directly, with the
        SDK's own configuration, authentication and error mapping."""
        client = self._blob.api_client
        url = f"{client.configuration.host}/v2/bot/message/{quote(message_id, safe='')}/content"
        headers = {
            "Authorization": f"Bearer {self._token}",
            "User-Agent": client.user_agent,
        }
        return self._call(
            "content", client.request, "GET", url, headers=headers, _preload_content=False
        )

    # Rich menus -----------------------------------------------------------------------
    def create_rich_menu(self, menu: dict[str, Any], image_png: bytes) -> str:
        request = RichMenuRequest.from_dict(menu)
        created = self._call("richmenu", self._api.create_rich_menu_with_http_info, request)
        menu_id = created.data.rich_menu_id
        self._call(
            "message",
            self._blob.set_rich_menu_image_with_http_info,
            menu_id,
            body=bytes(image_png),
            _headers={"Content-Type": "image/png"},
        )
        return menu_id

    def delete_rich_menu(self, menu_id: str) -> None:
        try:
            self._call("richmenu", self._api.delete_rich_menu_with_http_info, menu_id)
        except LineError as exc:
            if exc.status != 404:  # already gone is what we wanted
                raise

    def set_default_rich_menu(self, menu_id: str) -> None:
        self._call("message", self._api.set_default_rich_menu_with_http_info, menu_id)

    def link_rich_menu(self, user_id: str, menu_id: str) -> None:
        self._call(
            "message",
            self._api.link_rich_menu_id_to_user_with_http_info,
            user_id,
            menu_id,
            timeout=QUICK_CALL_TIMEOUT,
        )

    def link_rich_menu_bulk(self, user_ids: list[str], menu_id: str) -> None:
        for start in range(0, len(user_ids), 500):
            chunk = user_ids[start : start + 500]
            request = RichMenuBulkLinkRequest(rich_menu_id=menu_id, user_ids=chunk)
            self._call("message", self._api.link_rich_menu_id_to_users_with_http_info, request)


def _line_error(exc: ApiException) -> LineError:
    message, details = str(exc.reason or ""), []
    try:
        body = json.loads(exc.body or b"{}")
        message = body.get("message", message)
        details = body.get("details", [])
    except (ValueError, AttributeError):
        pass
    retry_after = None
    headers = dict(exc.headers or {})
    raw = headers.get("Retry-After") or headers.get("retry-after")
    if raw:
        try:
            retry_after = float(raw)
        except ValueError:
            retry_after = None
    return LineError(exc.status, message, details, retry_after)

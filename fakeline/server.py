"""FakeLine: the LINE Messaging API (api.line.me and api-data.line.me) as a real local HTTP server.

The bot under test is pointed at `fake.base_url` for both hosts. The fake checks what the bot
sends the way LINE does (access token, reply tokens, retry keys, message limits, OpenAPI
schema), answers with LINE's status codes and JSON, and records everything for assertions.
"""

from __future__ import annotations

import copy
import http
import inspect
import itertools
import json
import re
import secrets
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from . import limits, schema
from .limits import Problem

# CI and developers keep LINE's OpenAPI files in ../shared beside the repository.
DEFAULT_SCHEMA_PATH = Path(__file__).parents[1].parent / "shared/line-openapi/messaging-api.yml"

RETRY_KEY_TTL = 24 * 60 * 60.0  # LINE remembers an accepted X-Line-Retry-Key for 24 hours
MAX_RICH_MENU_IMAGE = 1024 * 1024
RICH_MENU_IMAGE_TYPES = ("image/png", "image/jpeg")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)

_ROUTES = Map(
    [
        Rule("/v2/bot/message/reply", methods=["POST"], endpoint="reply"),
        Rule("/v2/bot/message/push", methods=["POST"], endpoint="push"),
        Rule("/v2/bot/message/multicast", methods=["POST"], endpoint="multicast"),
        Rule("/v2/bot/message/narrowcast", methods=["POST"], endpoint="narrowcast"),
        Rule("/v2/bot/message/broadcast", methods=["POST"], endpoint="broadcast"),
        Rule("/v2/bot/message/quota", methods=["GET"], endpoint="quota"),
        Rule("/v2/bot/message/quota/consumption", methods=["GET"], endpoint="quota.consumption"),
        Rule("/v2/bot/profile/<user_id>", methods=["GET"], endpoint="profile"),
        Rule("/v2/bot/message/<message_id>/content", methods=["GET"], endpoint="content"),
        Rule("/v2/bot/chat/loading/start", methods=["POST"], endpoint="loading"),
        Rule("/v2/bot/richmenu", methods=["POST"], endpoint="richmenu.create"),
        Rule("/v2/bot/richmenu/list", methods=["GET"], endpoint="richmenu.list"),
        Rule("/v2/bot/richmenu/<menu_id>", methods=["GET"], endpoint="richmenu.get"),
        Rule("/v2/bot/richmenu/<menu_id>", methods=["DELETE"], endpoint="richmenu.delete"),
        Rule("/v2/bot/richmenu/<menu_id>/content", methods=["POST"], endpoint="richmenu.upload"),
        Rule("/v2/bot/user/all/richmenu/<menu_id>", methods=["POST"], endpoint="richmenu.default"),
        Rule("/v2/bot/user/all/richmenu", methods=["GET", "DELETE"], endpoint="richmenu.default"),
        Rule(
            "/v2/bot/user/<user_id>/richmenu/<menu_id>", methods=["POST"], endpoint="richmenu.link"
        ),
        Rule("/v2/bot/user/<user_id>/richmenu", methods=["DELETE"], endpoint="richmenu.unlink"),
        Rule("/v2/bot/user/<user_id>/richmenu", methods=["GET"], endpoint="richmenu.of_user"),
        Rule("/v2/bot/richmenu/bulk/link", methods=["POST"], endpoint="richmenu.bulk_link"),
    ]
)
ENDPOINTS = frozenset(rule.endpoint for rule in _ROUTES.iter_rules())
RETRY_KEY_ENDPOINTS = ("push", "multicast", "narrowcast", "broadcast")

# Endpoints with a JSON body and the OpenAPI schema it must satisfy.
BODY_SCHEMAS = {
    "reply": "ReplyMessageRequest",
    "push": "PushMessageRequest",
    "multicast": "MulticastRequest",
    "narrowcast": "NarrowcastRequest",
    "broadcast": "BroadcastRequest",
    "loading": "ShowLoadingAnimationRequest",
    "richmenu.create": "RichMenuRequest",
    "richmenu.bulk_link": "RichMenuBulkLinkRequest",
}

AUTH_FAILED = (
    "Authentication failed. Confirm that the access token in the authorization header is valid."
)


@dataclass
class Recorded:
    """One request the fake received, and what it answered."""

    method: str
    path: str
    endpoint: str  # a name from ENDPOINTS, or "unknown"
    headers: dict[str, str]  # lower-case keys
    json: Any  # the parsed body, None if it is not JSON
    body: bytes
    status: int  # what the fake answered; 0 while it is still answering (see `hang`)
    time: float  # time.time() when the request arrived


@dataclass(frozen=True)
class _Failure:
    status: int
    message: str
    retry_after: int | None


@dataclass(frozen=True)
class _Accepted:
    """A request that LINE accepted under a retry key, for answering its repeats with 409."""

    expires: float
    request_id: str
    sent_messages: list[dict[str, str]] | None


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without its access log: tests would print a line per request."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class FakeLine:
    """A fake LINE platform on 127.0.0.1, for tests. Thread-safe: the bot calls it concurrently.

    `schema_path` is LINE's messaging-api.yml; it is used only if the file exists, and
    `fake.schema_path` is None when schema checks are off (the documented limits always run).
    """

    def __init__(
        self,
        access_token: str = "test-access-token",
        schema_path: Path | None = DEFAULT_SCHEMA_PATH,
        *,
        allow_local_http: bool = False,
    ) -> None:
        self.access_token = access_token
        # The emulator serves media from this machine, where there is no HTTPS certificate.
        self.allow_local_http = allow_local_http
        self._listeners: list[Callable[[str, list[dict[str, Any]], str], None]] = []
        self.schema_path = schema_path if schema_path is not None and schema_path.exists() else None
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        # Re-entrant: a send under a retry key holds it across the handler, which takes it too.
        self._lock = threading.RLock()
        self._handlers: dict[str, Callable[[Recorded, dict[str, str]], Response]] = {
            "reply": self._reply,
            "push": self._push,
            "multicast": self._multicast,
            "narrowcast": self._accept,
            "broadcast": self._broadcast,
            "quota": self._quota_limit,
            "quota.consumption": self._quota_consumption,
            "profile": self._profile,
            "content": self._content,
            "loading": self._accept,
            "richmenu.create": self._rich_menu_create,
            "richmenu.list": self._rich_menu_list,
            "richmenu.get": self._rich_menu_get,
            "richmenu.delete": self._rich_menu_delete,
            "richmenu.upload": self._rich_menu_upload,
            "richmenu.default": self._rich_menu_default,
            "richmenu.link": self._rich_menu_link,
            "richmenu.unlink": self._rich_menu_unlink,
            "richmenu.of_user": self._rich_menu_of_user,
            "richmenu.bulk_link": self._rich_menu_bulk_link,
        }
        self.reset()

    # ----- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("FakeLine is already started")
        if self.schema_path is not None:
            for schema_name in BODY_SCHEMAS.values():  # compile now, not in the first request
                schema.validator(self.schema_path, schema_name)
        self._server = make_server(
            "127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # how long stop() waits for the loop to notice
            name="fakeline",
            daemon=True,
        )
        self._thread.start()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeLine is not started")
        return f"http://127.0.0.1:{self._server.server_port}"

    def stop(self) -> None:
        """Stop serving. Requests still sleeping in `hang` die with the process (daemon threads)."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def reset(self) -> None:
        """Forget everything: requests, deliveries, faults, tokens, errors, users and menus."""
        with self._lock:
            self._requests: list[Recorded] = []
            self._errors: list[str] = []
            self._deliveries: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
            self._failures: defaultdict[str, deque[_Failure]] = defaultdict(deque)
            # (seconds, whether the work is done before the wait or after it)
            self._hangs: defaultdict[str, deque[tuple[float, bool]]] = defaultdict(deque)
            self._reply_tokens: dict[str, tuple[str, float]] = {}  # token -> (user, expiry)
            self._retry_keys: dict[str, _Accepted] = {}
            self._friends: set[str] = set()  # who a broadcast reaches
            self._profiles: dict[str, dict[str, str]] = {}
            self._contents: dict[str, tuple[bytes, str]] = {}
            self._rich_menus: dict[str, dict[str, Any]] = {}
            self._user_menus: dict[str, str] = {}
            self._default_menu: str | None = None
            self._message_ids = itertools.count(470_000_000_000_000_001)
            self._quota: int | None = None  # the monthly message limit; None: no limit
            self._usage = 0  # messages delivered this month by push, multicast and broadcast

    # ----- test set-up -----------------------------------------------------------------------

    def issue_reply_token(self, user_id: str, ttl_seconds: float = 60.0) -> str:
        """A fresh single-use reply token for a webhook event from `user_id`."""
        token = secrets.token_hex(16)
        with self._lock:
            self._reply_tokens[token] = (user_id, time.monotonic() + ttl_seconds)
            self._friends.add(user_id)
        return token

    def set_profile(self, user_id: str, display_name: str, picture_url: str | None = None) -> None:
        profile = {"userId": user_id, "displayName": display_name, "language": "th"}
        if picture_url is not None:
            profile["pictureUrl"] = picture_url
        with self._lock:
            self._profiles[user_id] = profile
            self._friends.add(user_id)

    def add_content(self, message_id: str, data: bytes, content_type: str) -> None:
        """Content a user sent (image, file ...), served by the data API."""
        with self._lock:
            self._contents[message_id] = (data, content_type)

    def set_quota(self, limit: int | None) -> None:
        """The account's monthly message limit as the quota endpoint reports it (None: the
        plan has no limit, `{"type": "none"}`)."""
        with self._lock:
            self._quota = limit

    def set_usage(self, messages: int) -> None:
        """Messages already counted this month; what the bot sends from now on adds to it."""
        with self._lock:
            self._usage = messages

    def on_deliver(self, listener: Callable[[str, list[dict[str, Any]], str], None]) -> None:
        """Call `listener(user_id, messages, how)` for every delivery (how: "reply", "push",
        "multicast" or "broadcast"), under the fake's lock, so calls come in delivery order."""
        with self._lock:
            self._listeners.append(listener)

    def fail(
        self, endpoint: str, status: int, times: int = 1, retry_after: int | None = None
    ) -> None:
        """The next `times` calls to `endpoint` answer `status` with LINE's error JSON.

        Faults apply to requests that pass validation: a request LINE would refuse with 400
        is refused (and reported in `errors`) without using one up. The same holds for `hang`.
        """
        self._check_endpoint(endpoint)
        # LINE's own wording for these: "Too Many Requests", "Internal Server Error".
        failure = _Failure(status, http.HTTPStatus(status).phrase, retry_after)
        with self._lock:
            self._failures[endpoint].extend([failure] * times)

    def hang(
        self, endpoint: str, seconds: float, times: int = 1, *, done_first: bool = False
    ) -> None:
        """The next `times` calls to `endpoint` wait `seconds`, then answer as usual. With
        `done_first` the work is done at once and only the answer is late, as when LINE's
        answer is lost on the way: a retry then always finds the work done, however busy the
        machine running the test is."""
        self._check_endpoint(endpoint)
        with self._lock:
            self._hangs[endpoint].extend([(seconds, done_first)] * times)

    # ----- what tests read -------------------------------------------------------------------

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    @property
    def errors(self) -> list[str]:
        """Problems in requests the bot sent that LINE would refuse; should stay empty."""
        with self._lock:
            return list(self._errors)

    @property
    def usage(self) -> int:
        """Messages counted against the quota so far (what the consumption endpoint answers)."""
        with self._lock:
            return self._usage

    def deliveries(self, user_id: str) -> list[dict[str, Any]]:
        """Message objects delivered to `user_id` by reply, push, multicast or broadcast."""
        with self._lock:
            return copy.deepcopy(self._deliveries.get(user_id, []))

    def texts(self, user_id: str) -> list[str]:
        """The text of each delivered message: `text`, or `altText` for flex/template/imagemap."""
        texts = []
        for message in self.deliveries(user_id):
            if message.get("type") in ("text", "textV2"):
                texts.append(message["text"])
            elif "altText" in message:
                texts.append(message["altText"])
        return texts

    @property
    def rich_menus(self) -> dict[str, dict[str, Any]]:
        """Rich menu ID -> {"menu": the JSON the bot created, "image": uploaded bytes or None}."""
        with self._lock:
            return copy.deepcopy(self._rich_menus)

    def rich_menu_image(self, menu_id: str) -> bytes | None:
        with self._lock:
            menu = self._rich_menus.get(menu_id)
            return menu["image"] if menu else None

    def content(self, message_id: str) -> tuple[bytes, str] | None:
        """What `add_content` stored for a message: (bytes, content type)."""
        with self._lock:
            return self._contents.get(message_id)

    @property
    def default_rich_menu(self) -> str | None:
        with self._lock:
            return self._default_menu

    def user_rich_menu(self, user_id: str) -> str | None:
        """The rich menu `user_id` sees: the one linked to them, else the default."""
        with self._lock:
            return self._user_menus.get(user_id, self._default_menu)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Poll `predicate` until it holds; on timeout fail with what the fake saw."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline:
                raise AssertionError(self._timeout_report(predicate, timeout))
            time.sleep(0.02)

    def _timeout_report(self, predicate: Callable[[], bool], timeout: float) -> str:
        try:
            condition = inspect.getsource(predicate).strip()
        except (OSError, TypeError):
            condition = repr(predicate)
        seen = "\n".join(
            f"  {r.method} {r.path} [{r.endpoint}] -> {r.status or 'pending'}"
            for r in self.requests[-15:]
        )
        return (
            f"not true within {timeout}s: {condition}\n"
            f"last requests to FakeLine:\n{seen or '  (none)'}\n"
            f"errors: {self.errors}"
        )

    # ----- HTTP ------------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        try:
            endpoint, args = _ROUTES.bind_to_environ(environ).match()
        except HTTPException:
            endpoint, args = "unknown", {}
        body = request.get_data()
        record = Recorded(
            method=request.method,
            path=request.path,
            endpoint=endpoint,
            headers={key.lower(): value for key, value in request.headers.items()},
            json=_parse_json(body),
            body=body,
            status=0,
            time=time.time(),
        )
        with self._lock:
            self._requests.append(record)
        request_id = str(uuid.uuid4())
        try:
            response = self._answer(record, args, request_id)
        except Exception as exc:  # a bug in the fake must fail the test, not vanish in a log
            self._error(f"FakeLine crashed on {record.method} {record.path}: {exc!r}")
            response = _json(500, {"message": "Internal Server Error"})
        response.headers["X-Line-Request-Id"] = request_id
        with self._lock:
            record.status = response.status_code
        return response(environ, start_response)

    def _answer(self, record: Recorded, args: dict[str, str], request_id: str) -> Response:
        if record.endpoint == "unknown":
            self._error(f"unknown endpoint: {record.method} {record.path}")
            return _json(404, {"message": "Not found"})
        if record.headers.get("authorization") != f"Bearer {self.access_token}":
            return _json(401, {"message": AUTH_FAILED})
        problems = self._problems(record)
        if problems:
            for problem in problems:
                self._error(f"{record.endpoint}: {problem.property or '(body)'}: {problem.message}")
            return _json(
                400,
                {
                    "message": f"The request body has {len(problems)} error(s)",
                    "details": [p._asdict() for p in problems],
                },
            )
        with self._lock:
            hangs = self._hangs[record.endpoint]
            hang, done_first = hangs.popleft() if hangs else (0.0, False)
        if done_first:
            answer = self._work(record, args, request_id)
            time.sleep(hang)
            return answer
        time.sleep(hang)
        return self._work(record, args, request_id)

    def _work(self, record: Recorded, args: dict[str, str], request_id: str) -> Response:
        """Injected failures first, then what LINE would do."""
        with self._lock:
            failures = self._failures[record.endpoint]
            failure = failures.popleft() if failures else None
        if failure is not None:
            retry_after = failure.retry_after
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            return _json(failure.status, {"message": failure.message}, headers)
        if record.endpoint in RETRY_KEY_ENDPOINTS and "x-line-retry-key" in record.headers:
            return self._send_once(record, args, request_id)
        return self._handlers[record.endpoint](record, args)

    def _problems(self, record: Recorded) -> list[Problem]:
        """What LINE would refuse with 400 in the request's headers and body."""
        problems = []
        retry_key = record.headers.get("x-line-retry-key")
        if (
            record.endpoint in RETRY_KEY_ENDPOINTS
            and retry_key is not None
            and not _UUID.fullmatch(retry_key)
        ):
            problems.append(Problem("X-Line-Retry-Key", "Must be a UUID"))
        if record.endpoint == "richmenu.upload":
            content_type = record.headers.get("content-type", "").partition(";")[0].strip()
            if content_type not in RICH_MENU_IMAGE_TYPES:
                problems.append(Problem("Content-Type", "Must be image/png or image/jpeg"))
            if not 0 < len(record.body) <= MAX_RICH_MENU_IMAGE:
                problems.append(Problem("(image)", "Size must be 1 byte to 1 MB"))
        if record.endpoint not in BODY_SCHEMAS:
            return problems
        found = self.check_body(record.endpoint, record.json)
        return problems + found

    def check_body(self, endpoint: str, body: Any) -> list[Problem]:
        """What LINE would refuse in a JSON request body sent to `endpoint` (limits and schema)."""
        if body is None:
            return [Problem("", "The request body must be JSON")]
        found = limits.check(endpoint, body)
        if self.allow_local_http:
            found = [p for p in found if not _local_http(p, body)]
        if self.schema_path is not None:
            # The limits say it better where both complain about the same property.
            seen = {problem.property for problem in found}
            found += [
                problem
                for problem in schema.problems(self.schema_path, BODY_SCHEMAS[endpoint], body)
                if problem.property not in seen
            ]
        return found

    def _send_once(self, record: Recorded, args: dict[str, str], request_id: str) -> Response:
        """A send under X-Line-Retry-Key: a repeat of an accepted request answers 409."""
        key = record.headers["x-line-retry-key"]
        with self._lock:
            accepted = self._retry_keys.get(key)
            if accepted is not None and accepted.expires > time.monotonic():
                payload: dict[str, Any] = {"message": "The retry key is already accepted"}
                if accepted.sent_messages is not None:
                    payload["sentMessages"] = accepted.sent_messages
                return _json(409, payload, {"X-Line-Accepted-Request-Id": accepted.request_id})
            # Under the lock, so two concurrent requests with one key deliver only once.
            response = self._handlers[record.endpoint](record, args)
            if response.status_code < 300:
                sent = json.loads(response.get_data()).get("sentMessages")
                self._retry_keys[key] = _Accepted(
                    time.monotonic() + RETRY_KEY_TTL, request_id, sent
                )
            return response

    # ----- messaging -------------------------------------------------------------------------

    def _reply(self, record: Recorded, _: dict[str, str]) -> Response:
        with self._lock:
            user_id, expiry = self._reply_tokens.pop(record.json["replyToken"], (None, 0.0))
            if user_id is None or expiry < time.monotonic():
                return _json(400, {"message": "Invalid reply token"})
            sent = self._deliver([user_id], record.json["messages"], "reply")
        return _json(200, {"sentMessages": sent})

    def _push(self, record: Recorded, _: dict[str, str]) -> Response:
        with self._lock:
            sent = self._deliver([record.json["to"]], record.json["messages"], "push")
        return _json(200, {"sentMessages": sent})

    def _multicast(self, record: Recorded, _: dict[str, str]) -> Response:
        with self._lock:
            self._deliver(record.json["to"], record.json["messages"], "multicast")
        return _json(200, {})

    def _broadcast(self, record: Recorded, _: dict[str, str]) -> Response:
        with self._lock:
            self._deliver(sorted(self._friends), record.json["messages"], "broadcast")
        return _json(200, {})

    def _quota_limit(self, _: Recorded, __: dict[str, str]) -> Response:
        with self._lock:
            limit = self._quota
        if limit is None:
            return _json(200, {"type": "none"})
        return _json(200, {"type": "limited", "value": limit})

    def _quota_consumption(self, _: Recorded, __: dict[str, str]) -> Response:
        with self._lock:
            return _json(200, {"totalUsage": self._usage})

    def _deliver(
        self, user_ids: list[str], messages: list[dict[str, Any]], how: str
    ) -> list[dict[str, str]]:
        """Store the messages for each user; caller holds the lock. Returns `sentMessages`.
        Every kind but replies (which are free) uses the monthly quota."""
        if how != "reply":
            self._usage += len(user_ids) * len(messages)
        for user_id in user_ids:
            self._deliveries[user_id].extend(copy.deepcopy(messages))
            for listener in self._listeners:
                listener(user_id, copy.deepcopy(messages), how)
        return [
            {"id": str(next(self._message_ids)), "quoteToken": secrets.token_urlsafe(24)}
            for _ in messages
        ]

    def _accept(self, _: Recorded, __: dict[str, str]) -> Response:
        """Narrowcast and loading animation: 202, nothing to keep beyond the recorded request.

        (The fake does not evaluate narrowcast audiences, so a narrowcast delivers nothing.)
        """
        return _json(202, {})

    # ----- users and content -----------------------------------------------------------------

    def _profile(self, _: Recorded, args: dict[str, str]) -> Response:
        with self._lock:
            profile = self._profiles.get(args["user_id"])
        return _json(200, profile) if profile else _json(404, {"message": "Not found"})

    def _content(self, _: Recorded, args: dict[str, str]) -> Response:
        with self._lock:
            content = self._contents.get(args["message_id"])
        if content is None:
            return _json(404, {"message": "Not found"})
        data, content_type = content
        return Response(data, 200, content_type=content_type)

    # ----- rich menus ------------------------------------------------------------------------

    def _rich_menu_create(self, record: Recorded, _: dict[str, str]) -> Response:
        menu_id = f"richmenu-{secrets.token_hex(16)}"
        with self._lock:
            self._rich_menus[menu_id] = {"menu": record.json, "image": None}
        return _json(200, {"richMenuId": menu_id})

    def _rich_menu_list(self, _: Recorded, __: dict[str, str]) -> Response:
        with self._lock:
            menus = [{"richMenuId": id_, **m["menu"]} for id_, m in self._rich_menus.items()]
        return _json(200, {"richmenus": menus})

    def _rich_menu_get(self, _: Recorded, args: dict[str, str]) -> Response:
        with self._lock:
            menu = self._rich_menus.get(args["menu_id"])
        if menu is None:
            return _json(404, {"message": "Not found"})
        return _json(200, {"richMenuId": args["menu_id"], **menu["menu"]})

    def _rich_menu_delete(self, _: Recorded, args: dict[str, str]) -> Response:
        menu_id = args["menu_id"]
        with self._lock:
            if self._rich_menus.pop(menu_id, None) is None:
                return _json(404, {"message": "Not found"})
            self._user_menus = {u: m for u, m in self._user_menus.items() if m != menu_id}
            if self._default_menu == menu_id:
                self._default_menu = None
        return _json(200, {})

    def _rich_menu_upload(self, record: Recorded, args: dict[str, str]) -> Response:
        with self._lock:
            menu = self._rich_menus.get(args["menu_id"])
            if menu is None:
                return _json(404, {"message": "Not found"})
            if menu["image"] is not None:  # LINE does not let an image be replaced
                return _json(400, {"message": "An image has already been uploaded to the richmenu"})
            menu["image"] = record.body
        return _json(200, {})

    def _rich_menu_default(self, record: Recorded, args: dict[str, str]) -> Response:
        with self._lock:
            if record.method == "GET":
                if self._default_menu is None:
                    return _json(404, {"message": "no default richmenu"})
                return _json(200, {"richMenuId": self._default_menu})
            if record.method == "DELETE":
                self._default_menu = None
                return _json(200, {})
            refusal = self._unusable_menu(args["menu_id"])
            if refusal is not None:
                return refusal
            self._default_menu = args["menu_id"]
        return _json(200, {})

    def _rich_menu_link(self, _: Recorded, args: dict[str, str]) -> Response:
        with self._lock:
            refusal = self._unusable_menu(args["menu_id"])
            if refusal is not None:
                return refusal
            self._user_menus[args["user_id"]] = args["menu_id"]
        return _json(200, {})

    def _rich_menu_bulk_link(self, record: Recorded, _: dict[str, str]) -> Response:
        with self._lock:
            refusal = self._unusable_menu(record.json["richMenuId"])
            if refusal is not None:
                return refusal
            for user_id in record.json["userIds"]:
                self._user_menus[user_id] = record.json["richMenuId"]
        return _json(202, {})

    def _rich_menu_unlink(self, _: Recorded, args: dict[str, str]) -> Response:
        with self._lock:
            self._user_menus.pop(args["user_id"], None)
        return _json(200, {})

    def _rich_menu_of_user(self, _: Recorded, args: dict[str, str]) -> Response:
        """Like LINE: only a menu linked to this user, not the default."""
        with self._lock:
            menu_id = self._user_menus.get(args["user_id"])
        if menu_id is None:
            return _json(404, {"message": "the user has no richmenu"})
        return _json(200, {"richMenuId": menu_id})

    def _unusable_menu(self, menu_id: str) -> Response | None:
        """Why a menu can't be shown to users (unknown, or no image yet); caller holds the lock."""
        menu = self._rich_menus.get(menu_id)
        if menu is None:
            return _json(404, {"message": "Not found"})
        if menu["image"] is None:
            return _json(400, {"message": "must upload richmenu image before applying it to user"})
        return None

    # ----- helpers ---------------------------------------------------------------------------

    def _error(self, text: str) -> None:
        with self._lock:
            self._errors.append(text)

    @staticmethod
    def _check_endpoint(endpoint: str) -> None:
        if endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; one of {sorted(ENDPOINTS)}")


def _json(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(payload), status, headers, content_type="application/json")


def _local_http(problem: Problem, body: Any) -> bool:
    """Whether `problem` is only an http:// URL pointing at this machine."""
    if problem.message != "Must be an https URL":
        return False
    node: Any = body
    try:
        for part in re.findall(r"[^.\[\]]+", problem.property):
            node = node[int(part)] if isinstance(node, list) else node.get(part)
    except (AttributeError, IndexError, ValueError):
        return False
    host = urlparse(node).hostname if isinstance(node, str) else None
    return host in {"127.0.0.1", "localhost", "::1"}


def _parse_json(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:  # also UnicodeDecodeError
        return None

"""`POST /callback` (LINE's webhook) and `GET /healthz`.

The webhook only verifies, stores and acknowledges. Handling happens in the workers, so the
answer never waits on handlers or on LINE (LINE gives up after 2 seconds).

`/callback` is answered by a WSGI middleware in front of Flask, not by a view: it is the one
address LINE calls thousands of times a minute, and Flask's request context, session and
response objects cost more CPU per request than verifying and storing the events do
(bench/RESULTS.md). It uses nothing of Flask's per-request machinery.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from flask import Blueprint, Flask, jsonify
from linebot.v3.webhook import SignatureValidator
from sqlalchemy import text
from werkzeug.wsgi import get_content_length, get_input_stream

from bot import inbox
from bot.db import db

log = logging.getLogger(__name__)
bp = Blueprint("webhook", __name__)

PATH = "/callback"
MAX_BODY = 1024 * 1024
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Webhook:
    """WSGI middleware: answers `/callback` itself and hands every other request to Flask."""

    def __init__(self, app: Flask, inner: WsgiApp) -> None:
        self.app = app
        self.inner = inner
        self._validator: tuple[str, SignatureValidator] | None = None

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH:
            return self.inner(environ, start_response)
        if environ.get("REQUEST_METHOD") != "POST":
            return _answer(start_response, "405 METHOD NOT ALLOWED", {"error": "POST only"})
        status, answer = self.receive(environ)
        return _answer(start_response, status, answer)

    def receive(self, environ: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        length = get_content_length(environ)
        if length is not None and length > MAX_BODY:
            return _refused("body over 1 MB")
        # What Content-Length says (LINE always sends it) rather than a megabyte, which a raw
        # stream's read() allocates whatever the body's size; without it (chunked), up to the limit.
        body = get_input_stream(environ).read(MAX_BODY + 1 if length is None else length)
        if len(body) > MAX_BODY:
            return _refused("body over 1 MB")
        signature = environ.get("HTTP_X_LINE_SIGNATURE", "")
        try:
            text_body = body.decode("utf-8")
        except UnicodeDecodeError:
            return _refused("body is not UTF-8")
        if not signature or not self.validator().validate(text_body, signature):
            return _refused("bad signature")
        try:
            events = inbox.parse_envelope(body)
        except inbox.EnvelopeError as exc:
            return _refused(str(exc))
        if events:
            try:
                self.app.extensions["inbox_writer"].store(events)
            except Exception:
                # Not acknowledged: LINE delivers these events again later.
                log.exception("webhook: events not stored")
                return "500 INTERNAL SERVER ERROR", {"error": "events not stored"}
            runtime = self.app.extensions.get("runtime")
            if runtime is not None:
                runtime.notify()
        return "200 OK", {"ok": True}

    def validator(self) -> SignatureValidator:
        # Read per request: the emulator sets its channel secret after the app is made.
        secret = self.app.config["LINE_CHANNEL_SECRET"]
        if self._validator is None or self._validator[0] != secret:
            self._validator = (secret, SignatureValidator(secret))
        return self._validator[1]


def _refused(reason: str) -> tuple[str, dict[str, Any]]:
    log.warning("webhook refused: %s", reason)
    return "400 BAD REQUEST", {"error": reason}


def _answer(start_response: Callable[..., Any], status: str, answer: dict[str, Any]) -> list[bytes]:
    body = json.dumps(answer).encode() + b"\n"
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    try:
        with db.transaction() as session:
            session.execute(text("SELECT 1"))
            pending = inbox.count(session, "pending")
            failed = inbox.count(session, "failed")
    except Exception as exc:  # the point of a health check is to say so, not to crash
        log.warning("health check: database unreachable: %s", type(exc).__name__)
        return jsonify(database="unreachable"), 503
    return jsonify(
        database="ok",
        pending_events=pending,
        failed_events=failed,
    )

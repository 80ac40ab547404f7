"""`POST /callback` (LINE's webhook) and `GET /healthz`.

The webhook only verifies, stores and acknowledges. Handling happens in the workers, so the
answer never waits on handlers or on LINE (LINE gives up after 2 seconds).
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request
from linebot.v3.webhook import SignatureValidator
from sqlalchemy import text

from bot import inbox
from bot.db import db

log = logging.getLogger(__name__)
bp = Blueprint("webhook", __name__)

MAX_BODY = 1024 * 1024


def _bad(reason: str):  # type: ignore[no-untyped-def]
    log.warning("webhook refused: %s", reason)
    return jsonify(error=reason), 400


@bp.post("/callback")
def callback():  # type: ignore[no-untyped-def]
    if (request.content_length or 0) > MAX_BODY:
        return _bad("body over 1 MB")
    body = request.stream.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        return _bad("body over 1 MB")
    signature = request.headers.get("x-line-signature", "")
    try:
        text_body = body.decode("utf-8")
    except UnicodeDecodeError:
        return _bad("body is not UTF-8")
    validator = SignatureValidator(current_app.config["LINE_CHANNEL_SECRET"])
    if not signature or not validator.validate(text_body, signature):
        return _bad("bad signature")
    try:
        events = inbox.parse_envelope(body)
    except inbox.EnvelopeError as exc:
        return _bad(str(exc))
    if events:
        # If this fails (database down), Flask answers 500 and LINE redelivers later.
        current_app.extensions["inbox_writer"].store(events)
        runtime = current_app.extensions.get("runtime")
        if runtime is not None:
            runtime.notify()
    return jsonify(ok=True)


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

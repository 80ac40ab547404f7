"""The chat page and its API: who you are, what you send, what the bot answered.

The page never calls the bot directly: what the user does becomes a signed webhook event
posted to /callback (`Emulator.send`), and what the bot sends is read from the fake LINE.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request

from bot import clock
from bot.db import db
from bot.emulator.platform import Emulator, EmulatorError

bp = Blueprint(
    "emulator_chat",
    __name__,
    url_prefix="/emulator",
    static_folder="static",
    template_folder="templates",
)

MAX_UPLOAD = 100 * 1024 * 1024  # LINE's own limit for what a user sends is larger; 100 MB will do
UPLOAD_TYPES = {  # by file name when the browser gives no type
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".heic": "image/heic",
    ".mp4": "video/mp4",
    ".pdf": "application/pdf",
}


def _emulator() -> Emulator:
    return current_app.extensions["emulator"]  # type: ignore[no-any-return]


def _callback_url() -> str:
    # The address the browser reached this server by reaches it from here too.
    return request.host_url + "callback"


def _refusal(message: str, status: int) -> tuple[Response, int]:
    return jsonify({"message": message}), status


@bp.get("/")
def page() -> str:
    return render_template("emulator/chat.html")


@bp.get("/api/people")
def people() -> Response:
    with db.transaction() as session:
        found = _emulator().people(session, clock.now().date())
    return jsonify(
        people=[asdict(p) for p in found],
        latest=_emulator().transcript.latest(),
    )


@bp.post("/api/people")
def new_person() -> Response:
    return jsonify(asdict(_emulator().newcomer()))


@bp.get("/api/chat/<user_id>")
def chat(user_id: str) -> Response:
    after = request.args.get("after", "0")
    entries = _emulator().transcript.since(user_id, int(after) if after.isdigit() else 0)
    return jsonify(entries=entries, menu=_emulator().rich_menu(user_id))


@bp.post("/api/chat/<user_id>/send")
def send(user_id: str) -> Any:
    action = request.get_json(silent=True)
    if not isinstance(action, dict):
        return _refusal("ข้อมูลที่ส่งไม่ถูกต้องค่ะ", 400)
    try:
        _emulator().send(_callback_url(), user_id, action)
    except ValueError:
        return _refusal("ส่งข้อความว่างไม่ได้ค่ะ", 400)
    except EmulatorError:
        current_app.logger.exception("emulator: the bot did not take the event")
        return _refusal("บอทไม่ได้รับข้อความนี้ค่ะ กรุณาลองใหม่", 502)
    return jsonify(ok=True)


@bp.post("/api/chat/<user_id>/upload")
def upload(user_id: str) -> Any:
    if (request.content_length or 0) > MAX_UPLOAD:
        return _refusal("ไฟล์ใหญ่เกิน 100 MB ค่ะ", 413)
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        return _refusal("ยังไม่ได้เลือกไฟล์ค่ะ", 400)
    data = sent.read()
    if not data:
        return _refusal("ไฟล์นี้ว่างเปล่าค่ะ", 400)
    name = sent.filename.replace("\\", "/").rsplit("/", 1)[-1]
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    content_type = sent.mimetype
    if not content_type or content_type == "application/octet-stream":
        content_type = UPLOAD_TYPES.get(suffix, "application/octet-stream")
    try:
        _emulator().upload(_callback_url(), user_id, data, content_type, name)
    except EmulatorError:
        current_app.logger.exception("emulator: the bot did not take the upload")
        return _refusal("บอทไม่ได้รับไฟล์นี้ค่ะ กรุณาลองใหม่", 502)
    return jsonify(ok=True)


@bp.get("/api/content/<message_id>")
def content(message_id: str) -> Response:
    """What a user sent, as LINE's data API serves it to the bot."""
    found = _emulator().fake.content(message_id)
    if found is None:
        abort(404)
    data, content_type = found
    return Response(data, mimetype=content_type)


@bp.get("/api/richmenu/<menu_id>.png")
def rich_menu_image(menu_id: str) -> Response:
    image = _emulator().fake.rich_menu_image(menu_id)
    if image is None:
        abort(404)
    return Response(image, mimetype="image/png", headers={"Cache-Control": "max-age=3600"})

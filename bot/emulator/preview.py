"""The Flex preview page: paste a Flex message, see it rendered, and what LINE would refuse."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request

from bot.emulator.samples import SAMPLE_NAMES, SAMPLES, Message
from fakeline import limits

bp = Blueprint("emulator_preview", __name__, url_prefix="/emulator")

# Any well-formed user ID: the check only needs a valid push request around the message.
PREVIEW_RECIPIENT = "U" + "0" * 32


@bp.get("/flex")
def page() -> str:
    return render_template("emulator/flex.html", samples=SAMPLE_NAMES)


@bp.post("/api/flex/check")
def check() -> tuple[Response, int]:
    """LINE's verdict on a pasted message: its size against the limit and every problem."""
    try:
        pasted = json.loads(request.get_data(as_text=True))
    except ValueError as error:
        message = f"JSON ไม่ถูกต้องค่ะ (บรรทัด {error.lineno} ตำแหน่ง {error.colno})"
        return jsonify(error=message), 400
    if not isinstance(pasted, dict):
        return jsonify(error="กรุณาวาง JSON ของข้อความ Flex หรือ bubble หรือ carousel ค่ะ"), 400
    return jsonify(verdict(pasted)), 200


def verdict(pasted: dict[str, Any]) -> dict[str, Any]:
    message = as_message(pasted)
    fake = current_app.extensions["emulator"].fake
    contents = message.get("contents") if message.get("type") == "flex" else message
    carousel = isinstance(contents, dict) and contents.get("type") == "carousel"
    problems = fake.check_body("push", {"to": PREVIEW_RECIPIENT, "messages": [message]})
    return {
        "size": limits.json_size(contents),
        "limit": limits.MAX_CAROUSEL_BYTES if carousel else limits.MAX_BUBBLE_BYTES,
        "problems": [{"property": p.property, "message": p.message} for p in problems],
        "schema": fake.schema_path is not None,
    }


def as_message(pasted: dict[str, Any]) -> Message:
    """A bare bubble or carousel is wrapped the way the bot sends it; a message stays as is."""
    if pasted.get("type") in ("bubble", "carousel"):
        return {"type": "flex", "altText": "ตัวอย่าง", "contents": pasted}
    return pasted


@bp.get("/api/flex/samples/<name>")
def sample(name: str) -> Response:
    if name not in SAMPLES:
        abort(404)
    return jsonify(SAMPLES[name]())

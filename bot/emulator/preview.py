"""The Flex preview page: paste a Flex message, see it rendered, and what LINE would refuse."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("emulator_preview", __name__, url_prefix="/emulator")


@bp.get("/flex")
def page() -> str:
    return "placeholder"

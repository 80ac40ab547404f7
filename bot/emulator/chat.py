"""The chat page and its API: who you are, what you send, what the bot answered."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint(
    "emulator_chat",
    __name__,
    url_prefix="/emulator",
    static_folder="static",
    template_folder="templates",
)


@bp.get("/")
def page() -> str:
    return render_template("emulator/chat.html")

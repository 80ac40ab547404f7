"""The LINE emulator: the bot's chat in a browser when no LINE channel is configured.

With neither `LINE_CHANNEL_SECRET` nor `LINE_CHANNEL_ACCESS_TOKEN` set, `create_app` calls
`init_app` before anything talks to LINE: it starts the fake LINE platform (the one the tests
use, `fakeline`) inside this process and points the gateway at it. The page `/emulator` then
talks to the bot the way LINE does: it signs webhook events and posts them to `/callback`,
and shows what the bot sent to the fake. `/emulator/flex` previews a pasted Flex message.

Everything lives in one process (the fake, the chats), so the emulator runs one gunicorn
worker; its pages answer only this machine unless EMULATOR_ALLOW_REMOTE is set (a trainer
showing it to a room), because whoever reaches them can act as anyone.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, request

from bot import clock
from bot.emulator.platform import Emulator

__all__ = ["Emulator", "init_app", "start"]

log = logging.getLogger(__name__)
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def init_app(app: Flask) -> None:
    from bot.emulator import chat, preview

    emulator = Emulator(app.config["LINE_CHANNEL_SECRET"], app.config["LINE_CHANNEL_ACCESS_TOKEN"])
    app.config["LINE_API_BASE_URL"] = emulator.fake.base_url
    app.config["LINE_DATA_API_BASE_URL"] = emulator.fake.base_url
    app.extensions["emulator"] = emulator
    app.register_blueprint(chat.bp)
    app.register_blueprint(preview.bp)

    @app.before_request
    def only_this_machine() -> Response | None:
        if not request.path.startswith("/emulator") or app.config["EMULATOR_ALLOW_REMOTE"]:
            return None
        if request.remote_addr in LOOPBACK:
            return None
        return Response(
            "ตัวจำลองเปิดให้ใช้จากเครื่องนี้เท่านั้นค่ะ (ตั้ง EMULATOR_ALLOW_REMOTE=1 เพื่อเปิดให้เครื่องอื่น)",
            status=403,
            mimetype="text/plain",
        )


def start(app: Flask, address: str) -> None:
    """Once the app serves: demo data on an empty database, rich menus on the fake, and the
    address to open printed where the person who started it looks."""
    runtime = app.extensions["runtime"]
    try:
        app.extensions["emulator"].prepare(
            runtime.db, runtime.gateway, runtime.storage, clock.now()
        )
    except Exception:  # the chat still works without demo people or menus; say why
        log.exception("emulator: the demo data or the rich menus could not be prepared")
    print(
        f"\nไม่ได้ตั้งค่าช่อง LINE จึงเปิดตัวจำลอง LINE: {address}/emulator\n"
        f"No LINE channel configured: the LINE emulator is at {address}/emulator\n",
        flush=True,
    )

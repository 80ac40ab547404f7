"""The LINE emulator: the bot's chat in a browser when no LINE channel is configured.

With neither `LINE_CHANNEL_SECRET` nor `LINE_CHANNEL_ACCESS_TOKEN` set, `create_app` calls
`init_app` before anything talks to LINE: it starts the fake LINE platform (the one the tests
use, `fakeline`) inside this process and points the gateway at it. The page `/emulator` then
talks to the bot the way LINE does: it signs webhook events and posts them to `/callback`,
and shows what the bot sent to the fake. `/emulator/flex` previews a pasted Flex message.
"""

from __future__ import annotations

from flask import Flask

from bot.emulator.platform import Emulator

__all__ = ["Emulator", "init_app"]


def init_app(app: Flask) -> None:
    from bot.emulator import chat, preview

    emulator = Emulator(app.config["LINE_CHANNEL_SECRET"], app.config["LINE_CHANNEL_ACCESS_TOKEN"])
    app.config["LINE_API_BASE_URL"] = emulator.fake.base_url
    app.config["LINE_DATA_API_BASE_URL"] = emulator.fake.base_url
    app.extensions["emulator"] = emulator
    app.register_blueprint(chat.bp)
    app.register_blueprint(preview.bp)

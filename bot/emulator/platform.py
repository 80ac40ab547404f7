"""The emulator's LINE: the fake platform running in this process, and what each user saw."""

from __future__ import annotations

from fakeline import FakeLine


class Emulator:
    def __init__(self, channel_secret: str, access_token: str) -> None:
        self.channel_secret = channel_secret
        self.fake = FakeLine(access_token=access_token, allow_local_http=True)
        self.fake.start()

    def stop(self) -> None:
        self.fake.stop()

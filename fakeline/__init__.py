"""A fake LINE platform: a real HTTP server imitating the Messaging API.

The tests, the benchmarks and the emulator (`bot/emulator`, the chat in a browser when no LINE
channel is configured) all run the bot against it.

Start a `FakeLine`, point the bot's LINE_API_BASE_URL and LINE_DATA_API_BASE_URL at
`fake.base_url`, post webhooks built and signed with `fakeline.webhook`, then assert on
`fake.deliveries(user_id)` / `fake.texts(user_id)` (waiting with `fake.wait_for`) and check
that `fake.errors` is empty.
"""

from .server import FakeLine, Recorded

__all__ = ["FakeLine", "Recorded"]

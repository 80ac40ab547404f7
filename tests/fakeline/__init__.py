"""A fake LINE platform for tests: a real HTTP server imitating the Messaging API.

Start a `FakeLine`, point the bot's LINE_API_BASE_URL and LINE_DATA_API_BASE_URL at
`fake.base_url`, post webhooks built and signed with `tests.fakeline.webhook`, then assert on
`fake.deliveries(user_id)` / `fake.texts(user_id)` (waiting with `fake.wait_for`) and check
that `fake.errors` is empty.
"""

from .server import FakeLine, Recorded

__all__ = ["FakeLine", "Recorded"]

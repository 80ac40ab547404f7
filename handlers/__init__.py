"""Event handlers, one module per event kind or flow. Importing this package registers them."""

from handlers import (  # noqa: F401
    consent,
    follow,
    invite,
    officer,
    postback,
    profile,
    registration,
    text,
)

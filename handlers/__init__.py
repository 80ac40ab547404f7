"""Event handlers, one module per event kind or flow. Importing this package registers them."""

from handlers import (  # noqa: F401
    appointment,
    broadcast,
    broadcast_changes,
    broadcast_send,
    calendar,
    consent,
    evidence,
    follow,
    invite,
    officer,
    plan,
    plan_item,
    plan_review,
    postback,
    profile,
    progress,
    registration,
    reminders,
    text,
    web,
)

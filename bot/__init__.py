"""The มชช. LINE bot: `create_app` builds the Flask app (flaskr-style factory)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask

from bot.config import ConfigError, environment, load_config
from bot.db import db

__all__ = ["ConfigError", "RedactSecrets", "create_app"]


class RedactSecrets(logging.Filter):
    """Belt and braces: no log line may carry the channel secret or access token."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: list[str]) -> None:
        self.secrets += [s for s in secrets if s and len(s) >= 6 and s not in self.secrets]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(s in message for s in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "[redacted]")
            record.msg, record.args = message, None
        return True


def _logging(app: Flask) -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    root.setLevel(app.config["LOG_LEVEL"])
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # Two lines per job run every 15 s would bury what matters (the emulator's address too).
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    secrets = [app.config["LINE_CHANNEL_SECRET"], app.config["LINE_CHANNEL_ACCESS_TOKEN"]]
    for handler in root.handlers:
        redact = next((f for f in handler.filters if isinstance(f, RedactSecrets)), None)
        if redact is None:
            handler.addFilter(RedactSecrets(secrets))
        else:  # another app in this process (tests, the emulator): its secrets stay hidden too
            redact.add(secrets)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    env = environment() if test_config is None else {**os.environ, **test_config}
    app.config.from_mapping(load_config(env, Path(app.instance_path)))
    if test_config:
        app.config.update({k: v for k, v in test_config.items() if k not in app.config})
    _logging(app)
    db.init_app(app)
    if app.config["EMULATOR"]:
        from bot import emulator

        emulator.init_app(app)  # before the runtime: it sets where LINE's API is

    import handlers  # noqa: F401 - registers every handler with the registry
    from bot import cli, downloads, web, webhook
    from bot.inbox_process import InboxWriterProcess
    from bot.inbox_writer import InboxWriter
    from bot.runtime import Runtime

    app.register_blueprint(webhook.bp)
    app.register_blueprint(downloads.bp)
    web.init_app(app)
    if app.config["INBOX_WRITER"] == "process":
        app.extensions["inbox_writer"] = InboxWriterProcess(
            app.config["DATABASE_URL"], app.config["INBOX_WRITER_SOCKET"]
        )
    else:
        app.extensions["inbox_writer"] = InboxWriter(db)
    app.wsgi_app = webhook.Webhook(app, app.wsgi_app)  # type: ignore[method-assign]
    cli.init_app(app)
    app.extensions["runtime"] = Runtime(app, db)
    return app

"""The web desk: server-rendered pages for officers and province staff (and a leader's own
page), signed in by a one-time link from the chat. `init_app` registers its blueprints."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from bot.web import auth

    app.register_blueprint(auth.bp)
    auth.init_app(app)

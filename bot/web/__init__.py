"""The web desk: server-rendered pages for officers and province staff (and a leader's own
page), signed in by a one-time link from the chat. `init_app` registers its blueprints."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from bot.web import audit, auth, committee, desk, exports, notices, public

    auth.init_app(app)
    for module in (auth, desk, committee, audit, notices, exports, public):
        app.register_blueprint(module.bp)

"""The floor the webhook is compared with: a Flask endpoint that only checks the signature.

It does what any LINE webhook must do before answering (read the body, verify
`x-line-signature` with line-bot-sdk's SignatureValidator) and nothing the bot adds (parsing,
storing in the inbox, waking workers). Served by gunicorn exactly like the app
(`bare_gunicorn.conf.py`), so the gap between the two is what the bot's webhook costs.
"""

from __future__ import annotations

import os

from flask import Flask, Response, jsonify, request
from linebot.v3.webhook import SignatureValidator

app = Flask(__name__)
validator = SignatureValidator(os.environ["LINE_CHANNEL_SECRET"])


@app.post("/callback")
def callback() -> tuple[Response, int]:
    body = request.get_data(as_text=True)
    signature = request.headers.get("x-line-signature", "")
    if not signature or not validator.validate(body, signature):
        return jsonify(error="bad signature"), 400
    return jsonify(ok=True), 200  # the same answer the app gives


@app.get("/healthz")
def healthz() -> Response:
    return jsonify(ok=True)

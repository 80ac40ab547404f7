"""Start-up settings: a bad one stops start-up with one line naming it; secrets stay out of logs."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import ConfigError, RedactSecrets, create_app

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("change", "variable"),
    [
        ({"LINE_CHANNEL_SECRET": ""}, "LINE_CHANNEL_SECRET"),
        ({"LINE_CHANNEL_ACCESS_TOKEN": None}, "LINE_CHANNEL_ACCESS_TOKEN"),
        ({"LINE_API_BASE_URL": "api.line.me"}, "LINE_API_BASE_URL"),
        ({"PUBLIC_BASE_URL": "http://bot.example.org"}, "PUBLIC_BASE_URL"),
        ({"APP_TIMEZONE": "Mars/Olympus"}, "APP_TIMEZONE"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"INBOX_WORKERS": "many"}, "INBOX_WORKERS"),
    ],
)
def test_a_bad_setting_names_the_variable(app_config, change, variable):
    config = {**app_config, **change}
    config = {k: v for k, v in config.items() if v is not None}
    with pytest.raises(ConfigError, match=variable):
        create_app(config)


def start_up_error(module_argv: list[str], env: dict[str, str]) -> str:
    """Run `python -m <module_argv>` from the project's folder; it must fail. What it printed."""
    result = subprocess.run(
        [sys.executable, "-m", *module_argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    return result.stderr.strip()


def test_the_command_line_prints_one_clear_line(tmp_path):
    # A token without its secret is a half-configured channel, not a wish for the emulator.
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINE_")}
    env["LINE_CHANNEL_ACCESS_TOKEN"] = "a-token-without-its-secret"
    assert start_up_error(["flask", "--app", "wsgi", "invite", "list"], env) == (
        "configuration error: LINE_CHANNEL_SECRET is not set "
        "(see README: connecting a LINE channel)"
    )


def test_gunicorn_refuses_an_unknown_worker_class_in_one_line():
    env = {**os.environ, "WEB_WORKER_CLASS": "eventlet", "BIND": "127.0.0.1:0"}
    assert start_up_error(["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], env) == (
        "configuration error: WEB_WORKER_CLASS must be gthread or gevent, not 'eventlet'"
    )


def test_defaults(app_config):
    config = {k: v for k, v in app_config.items() if not k.startswith("LINE_API")}
    app = create_app(config)
    assert app.config["LINE_API_BASE_URL"] == "https://api.line.me"
    assert app.config["APP_TIMEZONE"] == "Asia/Bangkok"


def test_secrets_never_reach_a_log(app, caplog):
    secret = app.config["LINE_CHANNEL_SECRET"]
    token = app.config["LINE_CHANNEL_ACCESS_TOKEN"]
    root = logging.getLogger()
    with caplog.at_level(logging.INFO):
        redact = next(f for h in root.handlers for f in h.filters if isinstance(f, RedactSecrets))
        caplog.handler.addFilter(redact)
        logging.getLogger("bot.test").warning("token %s and secret %s", token, secret)
    assert secret not in caplog.text and token not in caplog.text
    assert "[redacted]" in caplog.text

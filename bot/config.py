"""Configuration, read only from the environment (a local `.env` may fill it in)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable and never its value."""


# What an s3:// evidence store reads besides its URL (boto3's usual names).
S3_VARIABLES = (
    "EVIDENCE_S3_ENDPOINT_URL",
    "AWS_ENDPOINT_URL",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
)


def _url(env: Mapping[str, Any], name: str, default: str | None, *, https_only: bool) -> str | None:
    value = env.get(name) or default
    if value is None:
        return None
    parsed = urlparse(str(value))
    local = parsed.hostname in {"localhost", "127.0.0.1", "::1"}
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise ConfigError(f"{name} must be an http(s) URL such as https://example.org")
    if https_only and parsed.scheme != "https" and not local:
        raise ConfigError(f"{name} must use https:// (LINE only reaches HTTPS addresses)")
    return str(value).rstrip("/")


def _int(env: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a whole number from {low} to {high}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}")
    return value


def _bool(env: Mapping[str, Any], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false")


def _choice(env: Mapping[str, Any], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = str(env.get(name) or default).strip().lower()
    if value not in choices:
        raise ConfigError(f"{name} must be one of: {', '.join(choices)}")
    return value


def _clock(env: Mapping[str, Any], name: str, default: str) -> tuple[int, int]:
    """A time of day written HH:MM."""
    raw = str(env.get(name) or default).strip()
    hours, _, minutes = raw.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        raise ConfigError(f"{name} must be a time of day written HH:MM, such as 08:00")
    return int(hours), int(minutes)


def _required(env: Mapping[str, Any], name: str) -> str:
    value = env.get(name)
    if not value or not str(value).strip():
        raise ConfigError(f"{name} is not set (see README: connecting a LINE channel)")
    return str(value).strip()


def _secret_key(env: Mapping[str, Any], instance_path: Path) -> str:
    """Use SECRET_KEY when given; otherwise keep one random key per instance folder."""
    if env.get("SECRET_KEY"):
        return str(env["SECRET_KEY"])
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def _bind_port(env: Mapping[str, Any]) -> int | None:
    """The TCP port gunicorn listens on (BIND, default 127.0.0.1:8000); None for a socket."""
    host, _, port = str(env.get("BIND") or "127.0.0.1:8000").rpartition(":")
    return int(port) if host and port.isdigit() else None


def _channel(env: Mapping[str, Any]) -> dict[str, Any]:
    """The LINE channel, or the emulator when neither of its two settings is given.

    Only both missing means the emulator: one of the two alone is a half-configured channel,
    which must stop start-up rather than quietly serve a fake LINE.
    """
    if env.get("LINE_CHANNEL_SECRET") or env.get("LINE_CHANNEL_ACCESS_TOKEN"):
        return {
            "EMULATOR": False,
            "LINE_CHANNEL_SECRET": _required(env, "LINE_CHANNEL_SECRET"),
            "LINE_CHANNEL_ACCESS_TOKEN": _required(env, "LINE_CHANNEL_ACCESS_TOKEN"),
            "LINE_API_BASE_URL": _url(
                env, "LINE_API_BASE_URL", "https://api.line.me", https_only=True
            ),
            "LINE_DATA_API_BASE_URL": _url(
                env, "LINE_DATA_API_BASE_URL", "https://api-data.line.me", https_only=True
            ),
            "PUBLIC_BASE_URL": _url(env, "PUBLIC_BASE_URL", None, https_only=True),
        }
    # The emulator's own channel: fresh secrets each start (nothing outside this process uses
    # them), LINE's API played by the fake that bot.emulator starts, links on this machine.
    port = _bind_port(env)
    local_base = f"http://127.0.0.1:{port}" if port else None
    return {
        "EMULATOR": True,
        "EMULATOR_ALLOW_REMOTE": _bool(env, "EMULATOR_ALLOW_REMOTE", False),
        "LINE_CHANNEL_SECRET": secrets.token_hex(16),
        "LINE_CHANNEL_ACCESS_TOKEN": "emulator-" + secrets.token_hex(16),
        "LINE_API_BASE_URL": None,  # set when the emulator's fake platform has started
        "LINE_DATA_API_BASE_URL": None,
        "PUBLIC_BASE_URL": _url(env, "PUBLIC_BASE_URL", local_base, https_only=True),
    }


def database_url_of(env: Mapping[str, Any], instance_path: Path) -> str:
    database_url = str(env.get("DATABASE_URL") or f"sqlite:///{instance_path / 'mchch.db'}")
    if database_url.startswith("postgresql://") or database_url.startswith("postgres://"):
        # psycopg 3 is the driver we ship; plain URLs would ask for psycopg2.
        database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]
    if not database_url.startswith(("sqlite:", "postgresql+psycopg:")):
        raise ConfigError("DATABASE_URL must be an sqlite:/// or postgresql:// URL")
    return database_url


def load_config(env: Mapping[str, Any], instance_path: Path) -> dict[str, Any]:
    """Turn environment variables into Flask config keys, failing on the first bad one."""
    timezone = str(env.get("APP_TIMEZONE") or "Asia/Bangkok")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("APP_TIMEZONE must be an IANA time zone such as Asia/Bangkok") from None

    database_url = database_url_of(env, instance_path)
    return {
        **_channel(env),
        "LINE_REQUEST_TIMEOUT": _int(env, "LINE_REQUEST_TIMEOUT", 10, 1, 120),
        "APP_TIMEZONE": timezone,
        "DATABASE_URL": database_url,
        "SECRET_KEY": _secret_key(env, instance_path),
        "INBOX_WORKERS": _int(env, "INBOX_WORKERS", 4, 0, 64),
        # Who commits webhook events: a thread of each web process, or a writer process
        # (bot/inbox_process.py; under gunicorn one for all workers, and its default).
        "INBOX_WRITER": _choice(env, "INBOX_WRITER", "thread", ("thread", "process")),
        # Set by gunicorn.conf.py: the socket of the one writer its master runs for all workers.
        "INBOX_WRITER_SOCKET": str(env.get("INBOX_WRITER_SOCKET") or "") or None,
        # Threads fetching evidence and building documents (off the event workers' path).
        "BACKGROUND_WORKERS": _int(env, "BACKGROUND_WORKERS", 2, 0, 32),
        # Where evidence goes: a directory (default instance/evidence) or s3://bucket/prefix.
        "EVIDENCE_STORAGE_URL": str(env.get("EVIDENCE_STORAGE_URL") or "") or None,
        "EVIDENCE_S3_ENV": {k: str(env[k]) for k in S3_VARIABLES if env.get(k)},
        "EVIDENCE_MAX_IMAGE_MB": _int(env, "EVIDENCE_MAX_IMAGE_MB", 10, 1, 200),
        "EVIDENCE_MAX_VIDEO_MB": _int(env, "EVIDENCE_MAX_VIDEO_MB", 100, 1, 1000),
        "EVIDENCE_MAX_FILE_MB": _int(env, "EVIDENCE_MAX_FILE_MB", 20, 1, 1000),
        # How far an Office file (a ZIP inside) may unpack before it counts as a zip bomb.
        "EVIDENCE_MAX_UNZIPPED_MB": _int(env, "EVIDENCE_MAX_UNZIPPED_MB", 300, 10, 4000),
        # Content fetches: tries, and the first wait in milliseconds (doubling each time).
        "CONTENT_FETCH_ATTEMPTS": _int(env, "CONTENT_FETCH_ATTEMPTS", 5, 1, 20),
        "CONTENT_RETRY_MS": _int(env, "CONTENT_RETRY_MS", 2000, 1, 600_000),
        "RUN_SCHEDULER": _bool(env, "RUN_SCHEDULER", False),
        # The scheduler: local times (APP_TIMEZONE) of the leaders' morning reminders and the
        # officers' Monday digest; unasked-for pushes wait out the quiet hours.
        "REMINDER_TIME": _clock(env, "REMINDER_TIME", "08:00"),
        "DIGEST_TIME": _clock(env, "DIGEST_TIME", "08:00"),
        "QUIET_FROM": _clock(env, "QUIET_FROM", "20:00"),
        "QUIET_UNTIL": _clock(env, "QUIET_UNTIL", "07:00"),
        # How late a missed daily run still runs (a scheduler down at 08:00, up at 10:30).
        "MISFIRE_GRACE_MINUTES": _int(env, "MISFIRE_GRACE_MINUTES", 240, 1, 720),
        "QUOTA_WARN_PERCENT": _int(env, "QUOTA_WARN_PERCENT", 80, 1, 100),
        # How long each kind of data is kept (PDPA), in days; scheduler/housekeeping.py.
        "RETENTION_MESSAGES_DAYS": _int(env, "RETENTION_MESSAGES_DAYS", 30, 1, 3650),
        "RETENTION_FAILED_DAYS": _int(env, "RETENTION_FAILED_DAYS", 90, 1, 3650),
        "RETENTION_UNASSIGNED_EVIDENCE_DAYS": _int(
            env, "RETENTION_UNASSIGNED_EVIDENCE_DAYS", 7, 1, 365
        ),
        "RETENTION_DOCUMENTS_DAYS": _int(env, "RETENTION_DOCUMENTS_DAYS", 90, 1, 3650),
        "RETENTION_AUDIT_DAYS": _int(env, "RETENTION_AUDIT_DAYS", 1825, 30, 36500),
        "LOG_LEVEL": str(env.get("LOG_LEVEL") or "INFO").upper(),
    }


def environment() -> dict[str, str]:
    """The process environment, with a local `.env` file filling gaps (never overriding)."""
    from dotenv import dotenv_values

    values = {k: v for k, v in dotenv_values(".env").items() if v is not None}
    values.update(os.environ)
    return values

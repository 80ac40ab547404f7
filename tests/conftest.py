"""Fixtures: a fake LINE platform over real HTTP, the app on SQLite or PostgreSQL, and a
chat driver so tests read like a conversation.

Set TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/test) to run on PostgreSQL.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

from bot import clock as app_clock
from bot import create_app, migrate, throttle
from bot.db import db
from bot.models import Base
from bot.registry import registry
from bot.services import standard
from fakeline import FakeLine
from scheduler import Scheduler
from tests.chat import Chat

SECRET = "test-channel-secret"
TOKEN = "test-access-token"


def _database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated from empty once per run, through the real migrations."""
    url = _database_url(tmp_path_factory)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def fake_line() -> Iterator[FakeLine]:
    fake = FakeLine(access_token=TOKEN)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def line_platform(fake_line: FakeLine) -> Iterator[FakeLine]:
    fake_line.reset()
    yield fake_line
    assert not fake_line.errors, "the bot sent messages LINE would refuse:\n" + "\n".join(
        fake_line.errors
    )


def _empty(app: Flask) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with db.transaction() as session:
        if db.is_sqlite:
            for name in tables:
                session.execute(text(f"DELETE FROM {name}"))
        else:
            session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        standard.seed_default(session)


@pytest.fixture
def app_config(database_url: str, line_platform: FakeLine, tmp_path: Path) -> dict:
    return {
        "LINE_CHANNEL_SECRET": SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
        "LINE_API_BASE_URL": line_platform.base_url,
        "LINE_DATA_API_BASE_URL": line_platform.base_url,
        "LINE_REQUEST_TIMEOUT": "2",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "PUBLIC_BASE_URL": "https://bot.example.test",
        "INBOX_WORKERS": "2",
        "EVIDENCE_STORAGE_URL": str(tmp_path / "evidence"),
        "CONTENT_RETRY_MS": "20",
        "TESTING": True,
    }


@contextmanager
def made_app(config: dict, *, start: bool = True) -> Iterator[Flask]:
    """An app on an empty database, its background workers started unless `start` is False
    (then the test starts them); everything it started is stopped afterwards."""
    app = create_app(config)
    _empty(app)
    throttle.windows.reset()  # rate limits count per process: each test starts afresh
    if start:
        app.extensions["runtime"].start()
    try:
        yield app
    finally:
        app.extensions["runtime"].stop()
        app.extensions["inbox_writer"].stop()
        if "emulator" in app.extensions:
            app.extensions["emulator"].stop()
        db.dispose()


@pytest.fixture
def stopped_app(app_config: dict) -> Iterator[Flask]:
    """The app on an empty database, its background workers not started (tests start them)."""
    with made_app(app_config, start=False) as app:
        yield app


@pytest.fixture
def app(stopped_app: Flask) -> Flask:
    """The app with its event workers and outbox sender running."""
    stopped_app.extensions["runtime"].start()
    return stopped_app


@pytest.fixture
def emulator_app(app_config: dict) -> Iterator[Flask]:
    """The app in emulator mode (no LINE channel configured): its own fake LINE inside, the
    /emulator pages served, workers running, on an empty database."""
    with socket.socket() as probe:  # the port `emulator_server` serves on, known to links
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = {k: v for k, v in app_config.items() if not k.startswith("LINE_")}
    config.update(PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", TEST_PORT=port)
    with made_app(config) as app:
        yield app


@pytest.fixture
def emulator_server(emulator_app: Flask) -> Iterator[str]:
    """The emulator app on a real port, as a browser reaches it; yields its base URL."""
    server = make_server("127.0.0.1", emulator_app.config["TEST_PORT"], emulator_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


@pytest.fixture
def client(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture
def line(app: Flask, line_platform: FakeLine) -> Chat:
    return Chat(app, line_platform, SECRET)


@pytest.fixture
def keyword() -> Iterator:
    """Register a throw-away keyword handler for one test (for faults no real flow has)."""
    added = []

    def add(word: str, handler) -> None:  # type: ignore[no-untyped-def]
        registry.on_keyword(word)(handler)
        added.append(registry.keywords[-1])

    yield add
    for entry in added:
        registry.keywords.remove(entry)


BANGKOK = ZoneInfo("Asia/Bangkok")


class Clock:
    """What time the app thinks it is. `set("2027-03-18 08:00")` takes local Bangkok time;
    the clock keeps running from there, so waits and retry backoffs pass as usual."""

    def set(self, local: str) -> datetime:
        moment = datetime.fromisoformat(local).replace(tzinfo=BANGKOK)
        app_clock.travel_to(moment)
        return moment

    def advance(self, **delta: float) -> datetime:
        moment = app_clock.now() + timedelta(**delta)
        app_clock.travel_to(moment)
        return moment

    def now(self) -> datetime:
        return app_clock.now()


@pytest.fixture
def clock() -> Iterator[Clock]:
    yield Clock()
    app_clock.reset()


@pytest.fixture
def scheduler(app: Flask, clock: Clock) -> Iterator[Scheduler]:
    """A scheduler holding the lease, without the catch-up that gaining it starts (tests set
    the clock first, then call `scheduler.run(job)` or `scheduler.catch_up()` themselves)."""
    running = Scheduler(app.extensions["runtime"])
    running.held = running.lease.acquire(clock.now())
    assert running.held
    yield running
    running.stop()


# A real S3 API (moto's server) for the object storage backend.
S3_BUCKET = "evidence-test"
S3_SECRET = "not-a-real-secret-but-never-log-it"


def s3_client(endpoint: str, **config: object) -> object:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key=S3_SECRET,
        config=Config(s3={"addressing_style": "path"}, **config),
    )


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    s3_client(endpoint).create_bucket(Bucket=S3_BUCKET)
    yield endpoint
    server.stop()

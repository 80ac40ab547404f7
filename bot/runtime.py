"""The background parts of one process: the LINE gateway, event workers, outbox sender loop
and (optionally) the embedded scheduler, started together and stopped together."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask

from bot import media, storage
from bot.background import Background
from bot.db import Database
from bot.dispatch import Site, handle_event
from bot.intake import Intake
from bot.line_gateway import LineGateway
from bot.links import Links
from bot.notify import QuietHours
from bot.outbox import OutboxSender
from bot.registry import registry
from bot.services.evidence import MB, Limits
from bot.summaries import Summaries
from bot.workers import EventWorkers

if TYPE_CHECKING:
    from scheduler import Scheduler

log = logging.getLogger(__name__)
OUTBOX_BATCH = 50


class Runtime:
    def __init__(self, app: Flask, db: Database) -> None:
        config = app.config
        self.app = app
        self.db = db
        self.gateway = LineGateway(
            config["LINE_CHANNEL_ACCESS_TOKEN"],
            config["LINE_API_BASE_URL"],
            config["LINE_DATA_API_BASE_URL"],
            timeout=config["LINE_REQUEST_TIMEOUT"],
        )
        self.sender = OutboxSender(db, self.gateway, QuietHours.from_config(config))
        self.storage = storage.from_url(
            config["EVIDENCE_STORAGE_URL"], Path(app.instance_path), config["EVIDENCE_S3_ENV"]
        )
        self.site = Site(
            Links(config["SECRET_KEY"], config["PUBLIC_BASE_URL"]),
            config["APP_TIMEZONE"],
            QuietHours.from_config(config),
            config["RETENTION_MESSAGES_DAYS"],
        )
        self.intake = Intake(
            db,
            self.gateway,
            self.storage,
            self.sender,
            limits=Limits(
                image=config["EVIDENCE_MAX_IMAGE_MB"] * MB,
                video=config["EVIDENCE_MAX_VIDEO_MB"] * MB,
                file=config["EVIDENCE_MAX_FILE_MB"] * MB,
            ),
            zip_limits=media.ZipLimits(unpacked=config["EVIDENCE_MAX_UNZIPPED_MB"] * MB),
            attempts=config["CONTENT_FETCH_ATTEMPTS"],
            retry_base=config["CONTENT_RETRY_MS"] / 1000,
            timezone=config["APP_TIMEZONE"],
        )
        self.summaries = Summaries(db, self.storage, self.sender, self.site)
        self.background = Background(
            [self.intake.work_once, self.intake.thumbnail_once, self.summaries.work_once],
            config["BACKGROUND_WORKERS"],
            poll_seconds=min(1.0, config["CONTENT_RETRY_MS"] / 1000),
        )
        self.workers = EventWorkers(
            db,
            lambda session, row: handle_event(session, self.gateway, registry, row, self.site),
            self.sender,
            config["INBOX_WORKERS"],
            after=self.background.notify,
        )
        self.scheduler: Scheduler | None = None
        self._stop = threading.Event()
        self._sender_thread: threading.Thread | None = None

    def start(self, *, workers: bool = True, scheduler: bool = False) -> None:
        if workers and self.workers.count:
            self.workers.start()
            self._sender_thread = threading.Thread(
                target=self._send_loop, name="outbox", daemon=True
            )
            self._sender_thread.start()
            self.background.start()
        if scheduler:
            from scheduler import Scheduler

            self.scheduler = Scheduler(self)
            self.scheduler.start()

    def stop(self) -> None:
        self._stop.set()
        self.workers.stop()
        self.background.stop()
        if self._sender_thread is not None:
            self._sender_thread.join(10)
        if self.scheduler is not None:
            self.scheduler.stop()

    def notify(self) -> None:
        """Events were stored: wake an event worker. Not the background threads: their work
        (evidence to fetch, documents to build) comes from handling events, and the event
        workers wake them when it does; waking them here cost each a query per task."""
        self.workers.notify()

    def _send_loop(self) -> None:
        """Retries and sends left behind by a crashed process."""
        pause = 0.0
        while not self._stop.wait(pause):
            pause = 1.0
            try:
                due = self.sender.due_ids(OUTBOX_BATCH)
                for row_id in due:
                    self.sender.deliver(row_id)
                if len(due) == OUTBOX_BATCH:
                    pause = 0.0  # a backlog (a morning's reminders): keep going
            except Exception:
                log.exception("outbox loop: unexpected error")

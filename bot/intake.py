"""Fetching evidence from LINE's data API into storage, in the background.

LINE deletes what users sent after an unannounced time, so each `Evidence` row is fetched as
soon as it is written. Bytes stream from LINE into a spooled file in storage's staging area
(bounded memory, hashed on the way), are checked by content, and are moved under their
content hash. No database transaction is held while bytes move: a row is claimed with a
lease, fetched, then finished in a short transaction; a process that dies mid-fetch leaves
a lease that runs out, and the row is fetched again. Failures are retried with backoff; the
leader is told when it finally fails, so nothing she sent is lost without her knowing.
"""

from __future__ import annotations

import io
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import urllib3
from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from bot import media, message_limits, outbox, render
from bot.db import Database
from bot.line_gateway import LineError, LineGateway
from bot.models import Evidence, OutboxMessage, PlanItem, User, UTCDateTime, utcnow
from bot.services import evidence
from bot.services.evidence import KIND_LABELS, Limits
from bot.storage import Storage, StorageError, TooLarge, spool

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)  # a 100 MB video over a slow link still fits
PURGE_EVERY = timedelta(minutes=1)
# Not larger: reads of 1 MB made the kernel map fresh pages for each chunk (measured: +0.4 s
# of system CPU, +0.4 s of wall time, over the evidence benchmark's 322 MB).
CHUNK = 64 * 1024
# Rows one call of `work_once` fetches in turn before handing its thread back to the loop,
# which checks for a stop and lets lower-priority tasks in once nothing is due.
RUN = 8
# LINE shows a card's photo ~400 px wide and the summary PDF ~85 mm: 800 px is plenty, and
# lets a 12 MP JPEG be decoded at 1/4 scale (Image.draft).
THUMB_SIDE = 800
# A file message may hold any of these; an image or video message must be what it says.
ACCEPTED_BY_MESSAGE = {"image": {"image"}, "video": {"video"}, "file": {"file", "image", "video"}}
BAD_TYPE = {
    "image": "รูปนี้เปิดอ่านไม่ได้ค่ะ ระบบรับรูปแบบ JPEG, PNG, HEIC, WEBP กรุณาถ่ายหรือส่งรูปใหม่อีกครั้งนะคะ",
    "video": "วิดีโอนี้เปิดอ่านไม่ได้ค่ะ ระบบรับวิดีโอแบบ MP4, MOV หรือ WEBM กรุณาส่งใหม่อีกครั้งนะคะ",
    "file": "ไฟล์นี้ไม่ใช่ชนิดที่ระบบรับค่ะ รับได้เฉพาะ PDF, Word, Excel, PowerPoint รูปภาพ และวิดีโอ",
}
# Hostile or broken files, each named for what is wrong, so the leader knows what to fix.
EMPTY = "{label}ที่ส่งมาว่างเปล่า ไม่มีข้อมูลอยู่เลยค่ะ กรุณาตรวจสอบ{label}แล้วส่งใหม่อีกครั้งนะคะ"
TOO_MANY_PIXELS = (
    "รูปนี้มีจำนวนพิกเซลมากเกินไปค่ะ ระบบรับรูปได้ไม่เกิน {mp} ล้านพิกเซล กรุณาย่อขนาดรูปหรือถ่ายใหม่ แล้วส่งอีกครั้งนะคะ"
)
ZIP_BOMB = (
    "ไฟล์นี้ถูกบีบอัดไว้ผิดปกติ เมื่อขยายออกจะใหญ่เกินกว่าที่ระบบรับได้ค่ะ ระบบจึงไม่รับไฟล์นี้ "
    "กรุณาบันทึกเอกสารใหม่จากโปรแกรม Word, Excel หรือ PowerPoint แล้วส่งอีกครั้งนะคะ"
)
POLYGLOT = "{label}นี้มีไฟล์ชนิดอื่นแฝงอยู่ภายใน ระบบจึงไม่รับไว้เพื่อความปลอดภัยค่ะ กรุณาส่ง{label}ต้นฉบับอีกครั้งนะคะ"


# Statements run for every row, built once: building them is a good part of their cost.
_NOW = bindparam("now", type_=UTCDateTime())
_DUE = or_(
    (Evidence.status == "pending") & (Evidence.next_attempt_at <= _NOW),
    (Evidence.status == "fetching") & (Evidence.locked_until < _NOW),
)
# SKIP LOCKED (PostgreSQL; SQLite has one writer at a time anyway): two fetchers claiming at
# once take the two oldest rows, instead of the second finding the first's row taken.
_OLDEST_DUE = (
    select(Evidence.id)
    .where(_DUE)
    .order_by(Evidence.id)
    .limit(1)
    .with_for_update(skip_locked=True)
    .scalar_subquery()
)
_CLAIM = (
    update(Evidence)
    # `_DUE` again on the row itself: re-checked there once a racing claim commits.
    .where(Evidence.id == _OLDEST_DUE, _DUE)
    .values(
        status="fetching",
        locked_until=bindparam("lease_end", type_=UTCDateTime()),
        attempts=Evidence.attempts + 1,
    )
    .returning(Evidence)
    .execution_options(synchronize_session=False)
)
# What finishing a row needs of it and of its leader.
_FACTS = (
    select(
        Evidence.uploaded_by,
        Evidence.plan_item_id,
        Evidence.kind,
        Evidence.announced,
        Evidence.reply_token,
        Evidence.reply_by,
        Evidence.deleted_at,
        Evidence.file_name,
        User.line_user_id,
    )
    .outerjoin(User, User.id == Evidence.uploaded_by)
    .where(Evidence.id == bindparam("row_id"))
)
# The finished row's new values: its SET clause is made of the keys given with it.
_SETTLE = Evidence.__table__.update().where(Evidence.__table__.c.id == bindparam("row_id"))
_LOCK_ACTIVITY = (
    select(PlanItem.activity).where(PlanItem.id == bindparam("item_id")).with_for_update()
)
_ACTIVITY_OF = (
    select(PlanItem.activity)
    .join(Evidence, Evidence.plan_item_id == PlanItem.id)
    .where(Evidence.id == bindparam("row_id"))
)


@dataclass
class Outcome:
    status: str  # stored, duplicate, refused, failed, retry
    values: dict[str, Any] = field(default_factory=dict)
    message: str | None = None  # refusal or failure sentence for the leader
    duplicate_of: int | None = None  # the evidence already holding these bytes


class Confirmations:
    """Sends what the intake tells leaders ("รับรูปที่ 3 แล้วค่ะ") on a thread of its own, in
    the order it was queued, so that a fetcher goes on to the next file instead of waiting for
    LINE's answer (a reply is a round trip to LINE, often longer than fetching a photo).
    Replies to one person queued meanwhile go in one request (`OutboxSender.deliver_together`).

    Messages are queued after their rows commit, marked inline: the outbox loop leaves them
    alone for `outbox.INLINE_GRACE`, then takes them as left behind (this process died with
    them queued). One that waited here past half of that is left to the loop too, so that the
    two never both send it. The thread ends after a second with nothing to send, and the next
    message starts another. A fetcher `drain`s before handing its thread back to the loop, so
    a stopped intake leaves nothing here."""

    IDLE_SECONDS = 1.0
    GATHER_SECONDS = 0.05

    def __init__(self, sender: outbox.OutboxSender) -> None:
        self.sender = sender
        self._queue: queue.SimpleQueue[OutboxMessage] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._running = False
        self._pending = 0
        self._done = threading.Condition()

    def send(self, messages: list[OutboxMessage]) -> None:
        if not messages:
            return
        with self._done:
            self._pending += len(messages)
        for message in messages:
            self._queue.put(message)
        with self._lock:  # after the put: a thread about to end sees the queue non-empty
            if self._running:
                return
            self._running = True
        threading.Thread(target=self._run, name="intake-confirm", daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                batch = [self._queue.get(timeout=self.IDLE_SECONDS)]
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._running = False
                        return
                continue
            # And what is queued within a moment: a set of photos finishes one by one, a few
            # milliseconds apart, and one person's replies then go in one request.
            until = time.monotonic() + self.GATHER_SECONDS
            while len(batch) < message_limits.MAX_MESSAGES:
                try:
                    batch.append(self._queue.get(timeout=max(until - time.monotonic(), 0)))
                except queue.Empty:
                    break
            for group in _together(batch):
                try:
                    self._deliver(group)
                except Exception:  # the rows stay pending; the outbox loop takes them later
                    log.exception("outbox %s: confirmations not sent", [m.id for m in group])
                finally:
                    with self._done:
                        self._pending -= len(group)
                        self._done.notify_all()

    def drain(self) -> None:
        """Wait until everything queued so far has been tried."""
        with self._done:
            self._done.wait_for(lambda: self._pending == 0)

    def _deliver(self, group: list[OutboxMessage]) -> None:
        fresh = []
        for message in group:
            if utcnow() >= message.next_attempt_at - outbox.INLINE_GRACE / 2:
                log.info("outbox %s: confirmation late, left to the outbox loop", message.id)
            else:
                fresh.append(message)
        if fresh:
            self.sender.deliver_together(fresh)


def _together(batch: list[OutboxMessage]) -> list[list[OutboxMessage]]:
    """The batch in order, cut into runs of replies to one person that fit one request."""
    groups: list[list[OutboxMessage]] = []
    for message in batch:
        last = groups[-1] if groups else None
        if (
            last is not None
            and message.kind == "reply" == last[0].kind
            and message.recipients == last[0].recipients
            and sum(len(m.messages) for m in last) + len(message.messages)
            <= message_limits.MAX_MESSAGES
        ):
            last.append(message)
        else:
            groups.append([message])
    return groups


class Intake:
    def __init__(
        self,
        db: Database,
        gateway: LineGateway,
        storage: Storage,
        sender: outbox.OutboxSender,
        *,
        limits: Limits | None = None,
        zip_limits: media.ZipLimits | None = None,
        attempts: int = 5,
        retry_base: float = 2.0,
        timezone: str = "Asia/Bangkok",
    ) -> None:
        self.db = db
        self.gateway = gateway
        self.storage = storage
        self.sender = sender
        self.limits = limits or Limits()
        self.zip_limits = zip_limits or media.ZipLimits()
        # Photos this process is making thumbnails of: its other threads take the next one.
        self._thumbing: set[int] = set()
        self._thumbing_lock = threading.Lock()
        self.attempts = attempts
        self.retry_base = retry_base
        self.timezone = timezone
        self._purged_at = datetime.min.replace(tzinfo=UTC)
        self.confirmations = Confirmations(sender)

    # The loop's unit of work -------------------------------------------------------------
    def work_once(self) -> bool:
        """Fetch due rows, up to RUN of them; False when nothing is due."""
        now = utcnow()
        with self.db.transaction() as session:
            row = self._claim(session, now)
        if row is None:
            if now - self._purged_at > PURGE_EVERY:
                self._purged_at = now
                self._purge()
            return False
        for left in range(RUN - 1, -1, -1):
            try:
                outcome = self._fetch(row)
            except Exception as exc:  # a bug must not leave the row leased for ten minutes
                log.exception("evidence %s: unexpected error", row.id)
                outcome = self._retry_or_fail(row, f"{type(exc).__name__}: {exc}")
            # The next row is claimed in the transaction that finishes this one: one commit
            # (SQLite: one turn of the write lock) per row instead of two.
            sent, row = self._finish(row.id, outcome, claim_next=left > 0)
            self.confirmations.send(sent)
            if row is None:
                break
        self.confirmations.drain()
        return True

    def _claim(self, session: Session, now: datetime) -> Evidence | None:
        """Lease the oldest due row, in one statement; None when none is due or another
        worker took it first (it is looked for again next time round)."""
        row = session.scalars(_CLAIM, {"now": now, "lease_end": now + LEASE}).first()
        if row is not None:
            session.expunge(row)
        return row

    # Fetching, outside any transaction ----------------------------------------------------
    def _fetch(self, row: Evidence) -> Outcome:
        limit = max(self.limits.of(k) for k in ACCEPTED_BY_MESSAGE.get(row.kind, {"file"}))
        try:
            response = self.gateway.content(row.line_message_id)
        except LineError as exc:
            if not exc.retryable:  # e.g. 404: LINE no longer has it; trying again will not help
                return self._fail(row, str(exc))
            return self._retry_or_fail(row, str(exc))
        try:
            declared = int(response.headers.get("Content-Length") or 0)
            if declared > limit:
                return self._refuse(row, self.limits.refusal(row.kind), "too large (declared)")
            spooled = spool(self.storage, response.stream(CHUNK), limit)
        except TooLarge:
            return self._refuse(row, self.limits.refusal(row.kind), "too large")
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            return self._retry_or_fail(row, f"transfer: {type(exc).__name__}")
        except StorageError as exc:
            return self._retry_or_fail(row, f"storage: {exc}", storage=True)
        finally:
            response.release_conn()
        return self._keep(row, spooled.path, spooled.size, spooled.sha256)

    def _keep(self, row: Evidence, path: Path, size: int, sha256: str) -> Outcome:
        label = KIND_LABELS.get(row.kind, "ไฟล์")
        try:
            if size == 0:
                return self._refuse(row, EMPTY.format(label=label), "empty")
            # The thumbnail decodes it anyway; Office files are unpacked here to count.
            sniffed = media.sniff(path, decode=False, zip_limits=self.zip_limits)
            if sniffed is None or sniffed.kind not in ACCEPTED_BY_MESSAGE.get(row.kind, set()):
                return self._refuse(row, BAD_TYPE.get(row.kind, BAD_TYPE["file"]), "bad type")
            if size > self.limits.of(sniffed.kind):
                return self._refuse(row, self.limits.refusal(sniffed.kind), "too large")
            values: dict[str, Any] = {
                "kind": sniffed.kind,
                "mime_type": sniffed.mime,
                "size_bytes": size,
                "content_hash": sha256,
                "storage_key": f"objects/{sha256[:2]}/{sha256}.{sniffed.ext}",
            }
            if sniffed.kind == "image":
                # Time and place now (cheap); the thumbnail later (`thumbnail_once`), so that
                # fetching, which races LINE's deletion of content, never waits on decoding.
                facts = media.image_facts(path)
                values["taken_at"] = self._aware(facts.taken_at)
                if facts.gps:
                    values["gps_lat"], values["gps_lon"] = facts.gps
            # Stored under its content hash, so a duplicate's put finds its twin's object and
            # writes nothing; whether it is one is decided when finishing (`_finish`).
            self.storage.put(values["storage_key"], path, sniffed.mime)
            return Outcome("stored", values)
        except media.TooManyPixels:
            message = TOO_MANY_PIXELS.format(mp=media.MAX_PIXELS // 1_000_000)
            return self._refuse(row, message, "too many pixels")
        except media.ZipBomb as exc:
            return self._refuse(row, ZIP_BOMB, f"zip bomb: {exc}")
        except media.Polyglot as exc:
            return self._refuse(row, POLYGLOT.format(label=label), f"polyglot: {exc}")
        except media.MediaError as exc:
            return self._refuse(row, BAD_TYPE.get(row.kind, BAD_TYPE["file"]), f"unreadable: {exc}")
        except StorageError as exc:
            return self._retry_or_fail(row, f"storage: {exc}", storage=True)
        except OSError as exc:  # the staging disk, while checking (e.g. unpacking to count)
            return self._retry_or_fail(row, f"storage: {type(exc).__name__}", storage=True)
        finally:
            path.unlink(missing_ok=True)

    def _aware(self, local: datetime | None) -> datetime | None:
        """EXIF times carry no zone: read them as the app's time zone."""
        if local is None:
            return None
        return local.replace(tzinfo=ZoneInfo(self.timezone)).astimezone(UTC)

    def _refuse(self, row: Evidence, message: str, why: str) -> Outcome:
        log.info("evidence %s refused: %s", row.id, why)
        return Outcome("refused", {"last_error": why}, message)

    def _fail(self, row: Evidence, why: str, storage: bool = False) -> Outcome:
        log.warning("evidence %s failed for good: %s", row.id, why)
        label = KIND_LABELS.get(row.kind, "ไฟล์")
        sent_at = row.created_at.astimezone(ZoneInfo(self.timezone)).strftime("%H:%M")
        if storage:
            message = (
                f"ขออภัยค่ะ ระบบเก็บไฟล์ขัดข้อง จึงบันทึก{label}ที่ส่งเมื่อ {sent_at} น. ไม่ได้ "
                f"กรุณาส่ง{label}นั้นอีกครั้งในภายหลังนะคะ"
            )
        else:
            message = f"ขออภัยค่ะ รับ{label}ที่ส่งเมื่อ {sent_at} น. ไม่สำเร็จ กรุณาส่ง{label}นั้นอีกครั้งนะคะ"
        return Outcome("failed", {"last_error": why[:2000]}, message)

    def _retry_or_fail(self, row: Evidence, why: str, storage: bool = False) -> Outcome:
        if row.attempts >= self.attempts:
            return self._fail(row, why, storage)
        delay = self.retry_base * 2 ** (row.attempts - 1)
        log.info("evidence %s: %s; retry %d in %.1fs", row.id, why, row.attempts, delay)
        return Outcome(
            "retry",
            {"last_error": why[:2000], "next_attempt_at": utcnow() + timedelta(seconds=delay)},
        )

    # Finishing, in one short transaction --------------------------------------------------
    def _finish(
        self, row_id: int, outcome: Outcome, claim_next: bool = False
    ) -> tuple[list[OutboxMessage], Evidence | None]:
        """Record the outcome, queue what the leader hears, and (with `claim_next`) lease the
        next due row, all in one transaction: the messages to send, and that row."""
        with self.db.transaction() as session:
            sent = self._settle(session, row_id, outcome)
            following = self._claim(session, utcnow()) if claim_next else None
            return sent, following

    def _settle(self, session: Session, row_id: int, outcome: Outcome) -> list[OutboxMessage]:
        # Columns, not ORM objects: this runs once per row, under SQLite's write lock, and
        # loading whole rows (the evidence, its activity, the leader) was most of its time.
        row = session.execute(_FACTS, {"row_id": row_id}).first()
        if row is None:
            return []
        activity: str | None = None
        if outcome.status == "stored" and row.plan_item_id is not None:
            # Lock the activity first: two photos finishing together are then neither both
            # "the 3rd" nor, when they are the same bytes, both stored.
            activity = session.scalar(_LOCK_ACTIVITY, {"item_id": row.plan_item_id})
        if outcome.status == "stored":
            sha256 = outcome.values["content_hash"]
            twin = evidence.duplicate_of(session, row.uploaded_by, sha256, row_id)
            if twin is not None:
                outcome = Outcome("duplicate", {"content_hash": sha256}, duplicate_of=twin)
        changes: dict[str, Any] = {**outcome.values, "locked_until": None}
        changes["status"] = "pending" if outcome.status == "retry" else outcome.status
        if outcome.status == "stored":
            changes["stored_at"] = utcnow()
        text = None
        if outcome.status != "retry":
            kind = changes.get("kind", row.kind)
            text = self._tell(session, row, outcome, kind, activity)
        told = text is not None and row.line_user_id is not None and row.deleted_at is None
        if told:
            changes["announced"] = True
        session.execute(_SETTLE, {**changes, "row_id": row_id})
        if not told:
            return []
        assert text is not None and row.line_user_id is not None
        token = row.reply_token if row.reply_by and utcnow() < row.reply_by else None
        # inline: this thread sends it right after commit; the outbox loop must not too.
        message = outbox.enqueue_reply(
            session,
            token,
            row.line_user_id,
            [render.text(text)],
            reply_by=row.reply_by,
            inline=True,
        )
        session.flush()
        return [message]

    def _tell(
        self, session: Session, row: Any, outcome: Outcome, kind: str, activity: str | None
    ) -> str | None:
        """What the leader hears about this row, or None when nothing needs saying. `kind`
        is the row's kind as checked; `activity` the name of its locked activity (stored)."""
        if outcome.status in {"refused", "failed"}:
            return outcome.message
        label = KIND_LABELS.get(kind, "ไฟล์")
        if outcome.status == "duplicate":
            name = session.scalar(_ACTIVITY_OF, {"row_id": outcome.duplicate_of})
            where = f' ในกิจกรรม "{render.clip(name, 60)}"' if name is not None else ""
            return f"{label}นี้มีอยู่แล้ว{where} ค่ะ จึงไม่บันทึกซ้ำ"
        if row.announced or row.plan_item_id is None or activity is None:
            # Told already with its set, still waiting for "which activity", or the activity
            # is gone.
            return None
        if kind == "image":
            # Counted under the activity's lock, before this row is marked stored.
            n = evidence.count_of_kind(session, row.plan_item_id, "image") + 1
            return f"รับรูปที่ {n} แล้วค่ะ"
        if kind == "video":
            return "รับวิดีโอแล้วค่ะ"
        return f"รับไฟล์ {row.file_name or ''} แล้วค่ะ".replace("  ", " ")

    # Thumbnails: made after the fetch, at lower priority -----------------------------------
    def thumbnail_once(self) -> bool:
        """Make one stored photo's thumbnail (EXIF-free, what others see); False when none
        is waiting. A photo that cannot be decoded after all is refused and the leader told."""
        # The database first: waiting for it (SQLite's write lock, under load) while holding
        # `_thumbing_lock` kept this process's other fetcher waiting too, fetching nothing.
        with self.db.transaction() as session, self._thumbing_lock:
            row = session.scalars(
                select(Evidence)
                .where(
                    Evidence.status == "stored",
                    Evidence.kind == "image",
                    Evidence.thumb_key.is_(None),
                    Evidence.storage_key.is_not(None),
                    Evidence.deleted_at.is_(None),
                    Evidence.id.not_in(self._thumbing or [0]),
                )
                .order_by(Evidence.id)
                .limit(1)
            ).first()
            if row is None:
                return False
            row_id, source_key, sha = row.id, row.storage_key, row.content_hash
            self._thumbing.add(row_id)
        try:
            return self._make_thumbnail(row_id, source_key, sha)
        finally:
            with self._thumbing_lock:
                self._thumbing.discard(row_id)

    def _make_thumbnail(self, row_id: int, source_key: str, sha: str) -> bool:
        key = f"thumbs/{sha[:2]}/{sha}.jpg"
        original: Path | None = None
        thumb: Path | None = None
        try:
            # Copied through `spool` like any upload: a full disk is a StorageError (try again
            # later), never mistaken for an unreadable photo.
            with self.storage.open(source_key) as source:
                original = spool(self.storage, iter(lambda: source.read(CHUNK), b""), None).path
            jpeg = io.BytesIO()  # a few hundred KB at most: THUMB_SIDE bounds it
            media.thumbnail(original, jpeg, THUMB_SIDE)
            thumb = spool(self.storage, [jpeg.getvalue()], None).path
            self.storage.put(key, thumb, "image/jpeg")
            outcome = None
        except media.MediaError:
            log.info("evidence %s refused: unreadable image", row_id)
            outcome = BAD_TYPE["image"]
        except StorageError as exc:
            log.warning("evidence %s: no thumbnail yet: %s", row_id, exc)
            return False
        finally:
            for leftover in (original, thumb):
                if leftover is not None:
                    leftover.unlink(missing_ok=True)
        sent: list[OutboxMessage] = []
        with self.db.transaction() as session:
            found = session.get(Evidence, row_id)
            if found is not None and outcome is None:
                found.thumb_key = key
            elif found is not None and outcome is not None:
                found.status, found.last_error = "refused", "unreadable image"
                if not evidence.still_used(session, sha):
                    self.storage.delete(source_key)  # nothing else holds these bytes
                found.storage_key = None
                user = session.get(User, found.uploaded_by)
                if user is not None and found.deleted_at is None:
                    sent.append(
                        outbox.enqueue_push(
                            session, user.line_user_id, [render.text(outcome)], inline=True
                        )
                    )
                    session.flush()
        for message in sent:
            self.sender.deliver_now(message, check_following=False)
        return True

    # Deleted evidence: its bytes go once nobody uses them ---------------------------------
    def _purge(self) -> None:
        # Staged files and S3 multipart uploads older than any lease belong to no live fetch:
        # a process killed mid-fetch, or an upload the bucket failed too hard to abort. Real
        # time, not the app's clock: file times and S3's are real.
        swept = self.storage.sweep(datetime.now(UTC) - LEASE)
        if swept:
            log.info("swept %d abandoned staged files or uploads", swept)
        with self.db.transaction() as session:
            rows = evidence.purgeable(session)
            for row in rows:
                if row.content_hash and not evidence.still_used(session, row.content_hash):
                    for key in (row.storage_key, row.thumb_key):
                        if key:
                            try:
                                self.storage.delete(key)
                            except StorageError as exc:
                                log.warning("evidence %s not purged: %s", row.id, exc)
                                return
                row.storage_key = None
                row.thumb_key = None

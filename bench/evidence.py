"""Evidence ingest: a 20 MB video and a hundred 3 MB photos sent through the webhook, fetched
from a fake LINE data API (in its own process) into local storage by the bot's background
workers. Compared, in the same run, with copying the same bytes from the same server to disk
with a plain HTTP client (urllib3, as many threads as the bot's fetchers).

Reports the bot process's peak RSS growth during ingest (aim: under 30 MB, i.e. streamed, not
buffered) and the ingest time against the plain copy (aim: within 2x).
"""

from __future__ import annotations

import io
import json
import os
import resource
import shutil
import sqlite3
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import urllib3
from PIL import Image
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bench import fake_line
from bench.harness import Options, Row, children_cpu, log

NAME = "evidence"
PHOTOS = 100
VIDEO_MB = 20
FETCHERS = 2  # BACKGROUND_WORKERS, and the plain copy's threads
SECRET = "bench-channel-secret"
USER_ID = "U" + "b" * 32


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Usage:
    """What this process used during a span: its resident memory sampled every 5 ms
    (`peak - start` is the growth) and its CPU (`user`, `system`), and the fake LINE's CPU
    (`fake`). The bot's threads share one interpreter lock, so its CPU per file is what bounds
    the ingest rate."""

    def __enter__(self) -> Usage:
        self._rusage = resource.getrusage(resource.RUSAGE_SELF)
        self._fake = children_cpu()
        self.start = self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, rss_mb())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())
        usage = resource.getrusage(resource.RUSAGE_SELF)
        self.user = usage.ru_utime - self._rusage.ru_utime
        self.system = usage.ru_stime - self._rusage.ru_stime
        self.fake = children_cpu() - self._fake

    @property
    def growth(self) -> float:
        return self.peak - self.start


class Statements:
    """The SQL statements and commits the bot's engine ran during a span. Counted, not timed:
    nearly the same on a busy evening as on a quiet one (only the claims that find nothing
    vary, by a few tenths per file), so a change to the per-file work shows even when this
    machine's speed moves more than the change does."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statements = self.commits = 0

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._commit)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)

    def _statement(self, *args: object) -> None:
        self.statements += 1  # threads may race here; a miscount of one in thousands is noise

    def _commit(self, *args: object) -> None:
        self.commits += 1


def make_content(folder: Path) -> int:
    """Files named by message id. Photos: 12 MP JPEGs of about 3 MB, each made different by
    bytes after the end marker (decoders ignore them), so none is a duplicate."""
    rng = __import__("random").Random(7)
    small = Image.frombytes("RGB", (500, 375), rng.randbytes(500 * 375 * 3))
    out = io.BytesIO()
    small.resize((4000, 3000), Image.BICUBIC).save(out, "JPEG", quality=85)
    jpeg = out.getvalue()
    total = 0
    for n in range(PHOTOS):
        data = jpeg + n.to_bytes(4, "big")
        (folder / f"{9000 + n}.jpg").write_bytes(data)
        total += len(data)
    header = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    video = header + rng.randbytes(VIDEO_MB * 2**20 - len(header))
    (folder / "8000.mp4").write_bytes(video)
    (folder / "7000.jpg").write_bytes(jpeg + b"warmup")  # loads Pillow and friends first
    return total + len(video)


def write_out(*spent: Path) -> None:
    """Before each timed span: remove the files earlier spans wrote (`spent`) and write the
    rest out to disk, so that every span starts from the same state.

    Syncing: the plain copy never syncs, and the kernel wrote its 322 MB out during whatever
    ran next, which was the ingest. Removing: on this machine (a VM) page cache written into
    memory the guest has not used before costs about ten times more to write (322 MB: 0.08 s
    three times in a row, then 0.8 s; after deleting those files, 0.07 s again; see
    bench/RESULTS.md). Kept, each span's files pushed the next one into such memory: the
    first span ran in used memory and every later one, the ingest included, in new."""
    for folder in spent:
        shutil.rmtree(folder)
    os.sync()


def copy_files(
    base_url: str,
    ids: list[str],
    target: Path,
    *,
    stored: bool = False,
    synced: bool = False,
    spent: tuple[Path, ...] = (),
) -> float:
    """Copy the files with urllib3 on FETCHERS threads (the plain copy); the time it took. With
    `synced`, one `os.sync()` after the last file is in the time: the bytes are then on disk,
    not only in the page cache. With `stored`, each goes through the bot's own `storage.spool`
    and `put` instead of a plain write: hashed, synced to disk and moved under its hash, what
    keeping a file safely costs at the least."""
    from bot.storage import LocalStorage, spool

    http = urllib3.PoolManager(maxsize=FETCHERS)
    storage = LocalStorage(target) if stored else None

    def copy(message_id: str) -> None:
        response = http.request(
            "GET",
            f"{base_url}/v2/bot/message/{message_id}/content",
            headers={"Authorization": "Bearer bench-access-token"},
            preload_content=False,
        )
        if storage is not None:
            spooled = spool(storage, response.stream(64 * 1024), None)
            storage.put(spooled.sha256, spooled.path, "application/octet-stream")
        else:
            with open(target / message_id, "wb") as out:
                for chunk in response.stream(64 * 1024):
                    out.write(chunk)
        response.release_conn()

    write_out(*spent)
    started = time.perf_counter()
    with ThreadPoolExecutor(FETCHERS) as pool:
        list(pool.map(copy, ids))
    if synced:
        os.sync()
    return time.perf_counter() - started


def run(out_dir: Path, options: Options) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="bench-evidence-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "content").mkdir()
        total = make_content(tmp / "content")
        log(f"evidence: {PHOTOS} photos and a {VIDEO_MB} MB video, {total / 2**20:.0f} MB in all")
        # A valid reply token per event, as LINE gives: confirmations go as free replies.
        with fake_line.running(tmp / "content", USER_ID, PHOTOS + 2) as base_url:
            return _measure(out_dir, tmp, base_url, total)


def _measure(out_dir: Path, tmp: Path, base_url: str, total: int) -> list[Row]:
    from sqlalchemy import func, select

    from bot import create_app, migrate
    from bot.db import db
    from bot.models import ConversationState, Evidence, LeaderProfile, User
    from bot.services import fiscal, plans
    from bot.services.plans import ItemDraft
    from fakeline import webhook as events

    app = create_app(
        {
            "LINE_CHANNEL_SECRET": SECRET,
            "LINE_CHANNEL_ACCESS_TOKEN": "bench-access-token",
            "LINE_API_BASE_URL": base_url,
            "LINE_DATA_API_BASE_URL": base_url,
            "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
            "SECRET_KEY": "bench",
            "PUBLIC_BASE_URL": "https://bot.example.test",
            "EVIDENCE_STORAGE_URL": str(tmp / "evidence"),
            "INBOX_WORKERS": "2",
            "BACKGROUND_WORKERS": str(FETCHERS),
            "LOG_LEVEL": "WARNING",
        }
    )
    migrate.upgrade(db.engine)
    today = time.localtime()
    year = fiscal.year_of(__import__("datetime").date(today.tm_year, today.tm_mon, today.tm_mday))
    first, last = fiscal.bounds(year)
    with db.transaction() as session:
        from bot.services import standard

        standard.seed_default(session)
        leader = User(line_user_id=USER_ID, role="leader", status="active")
        session.add(leader)
        session.flush()
        session.add(
            LeaderProfile(
                user_id=leader.id,
                full_name="ผู้นำ ทดสอบ",
                subdistrict_code="380101",
                district_code="3801",
                province_code="38",
            )
        )
        plan = plans.get_or_create(session, leader, year)
        component = plans.edition(session, plan).areas[0].components[0]
        item = plans.add_item(
            session,
            plan,
            ItemDraft(component.id, "อบรมอาชีพ", "self", "อบรม", "ตนเอง", first, last),
            leader,
        )
        session.add(
            ConversationState(
                user_id=leader.id,
                flow="evidence",
                state="collect",
                data={"item_id": item.id, "sticky": True, "_history": []},
                serial=1,
            )
        )
    runtime = app.extensions["runtime"]
    runtime.start()
    client = app.test_client()
    user_id = USER_ID
    tokens = iter(fake_line.reply_tokens)

    def post(ids: list[str]) -> None:
        batch = []
        for message_id in ids:
            maker = events.video_event if message_id == "8000" else events.image_event
            batch.append(maker(user_id, message_id, next(tokens)))
        body = json.dumps(events.envelope(batch)).encode()
        response = client.post(
            "/callback",
            data=body,
            headers={"x-line-signature": events.sign(SECRET, body)},
            content_type="application/json",
        )
        assert response.status_code == 200, response.status_code

    # The watcher reads on a connection of its own, read-only: the app's sessions begin with
    # BEGIN IMMEDIATE (SQLite's write lock), so polling through them would queue the watcher
    # behind the fetchers' writes and make them wait for it in turn, slowing what it measures.
    # In WAL mode a reader sees every committed row without taking that lock.
    watcher = sqlite3.connect(f"file:{tmp / 'bench.db'}?mode=ro", uri=True, timeout=30)

    def stored() -> int:
        counted = watcher.execute(
            "SELECT count(*) FROM evidence WHERE status NOT IN ('pending', 'fetching')"
        ).fetchone()
        return int(counted[0])

    def unsent() -> int:
        counted = watcher.execute(
            "SELECT count(*) FROM outbox_messages WHERE status = 'pending'"
        ).fetchone()
        return int(counted[0])

    def wait_for(count: int, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while stored() < count:
            if time.monotonic() > deadline:
                raise RuntimeError("ingest did not finish")
            time.sleep(0.005)  # a cheap read: the finish is seen within 5 ms

    def wait_for_confirmations(timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while unsent():
            if time.monotonic() > deadline:
                raise RuntimeError("confirmations not sent")
            time.sleep(0.005)

    post(["7000"])
    wait_for(1)
    ids = ["8000", *(str(9000 + n) for n in range(PHOTOS))]

    # Untimed: the first 322 MB this run writes go into memory the guest may never have used
    # (see `write_out`); a fresh machine's first copy took 0.5-0.85 s where later ones took
    # 0.3. After this, every span writes into pages freed by the one before.
    (tmp / "warm-up").mkdir()
    copy_files(base_url, ids, tmp / "warm-up")
    (tmp / "copy").mkdir()
    with Usage() as copy_usage:
        copy_seconds = copy_files(base_url, ids, tmp / "copy", spent=(tmp / "warm-up",))
    log(f"evidence: plain copy {copy_seconds:.2f} s, +{copy_usage.growth:.1f} MB")
    (tmp / "synced-copy").mkdir()
    synced_copy = copy_files(base_url, ids, tmp / "synced-copy", synced=True, spent=(tmp / "copy",))
    log(f"evidence: plain copy then one sync {synced_copy:.2f} s")
    (tmp / "stored-copy").mkdir()
    stored_copy = copy_files(
        base_url, ids, tmp / "stored-copy", stored=True, spent=(tmp / "synced-copy",)
    )
    log(f"evidence: copy hashed, synced and stored like the bot's {stored_copy:.2f} s")

    write_out(tmp / "stored-copy")
    with Usage() as ingest_usage, Statements(db.engine) as ingest_sql:
        started = time.perf_counter()
        for start in range(0, len(ids), 10):  # LINE batches events per webhook
            post(ids[start : start + 10])
        wait_for(1 + len(ids))
        ingest_seconds = time.perf_counter() - started
        # Not the measured span (the bytes are safe once stored), but shown beside it: the
        # leader's confirmations go out after their rows are stored, on their own thread.
        wait_for_confirmations()
        confirmed_seconds = time.perf_counter() - started
    runtime.stop()
    watcher.close()
    with db.transaction() as session:
        statuses = dict(
            session.execute(select(Evidence.status, func.count()).group_by(Evidence.status)).all()
        )
    (tmp / "copy-after").mkdir()
    copy_after = copy_files(base_url, ids, tmp / "copy-after", spent=(tmp / "evidence",))
    log(f"evidence: plain copy after the ingest {copy_after:.2f} s")
    log(f"evidence: ingest {ingest_seconds:.2f} s, +{ingest_usage.growth:.1f} MB, {statuses}")
    summary = {
        "bytes": total,
        "copy_seconds": copy_seconds,
        "copy_rss_growth_mb": copy_usage.growth,
        "ingest_seconds": ingest_seconds,
        "confirmed_seconds": confirmed_seconds,
        "copy_after_seconds": copy_after,
        "stored_copy_seconds": stored_copy,
        "synced_copy_seconds": synced_copy,
        "ingest_rss_growth_mb": ingest_usage.growth,
        "ingest_cpu_user_s": ingest_usage.user,
        "ingest_cpu_system_s": ingest_usage.system,
        "ingest_fake_cpu_s": ingest_usage.fake,
        "copy_cpu_user_s": copy_usage.user,
        "copy_cpu_system_s": copy_usage.system,
        "copy_fake_cpu_s": copy_usage.fake,
        "rss_before_ingest_mb": ingest_usage.start,
        "ingest_sql_statements": ingest_sql.statements,
        "ingest_sql_commits": ingest_sql.commits,
        "statuses": statuses,
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=1))
    mb = total / 2**20
    files = len(ids)
    return [
        Row(
            NAME,
            f"{PHOTOS} photos of 3 MB + {VIDEO_MB} MB video",
            "peak RSS growth of the bot process",
            f"{ingest_usage.growth:.1f} MB",
            f"aim < 30 MB; plain copy +{copy_usage.growth:.1f} MB",
        ),
        Row(
            NAME,
            f"{PHOTOS} photos of 3 MB + {VIDEO_MB} MB video",
            "ingest time (webhook to all stored)",
            f"{ingest_seconds:.2f} s ({mb / ingest_seconds:.0f} MB/s)",
            f"plain copy {copy_seconds:.2f} s ({mb / copy_seconds:.0f} MB/s) before the ingest, "
            f"{copy_after:.2f} s after it; ratio {ingest_seconds / copy_seconds:.2f}x to the "
            f"first (aim <= 2x); the copy with one sync at the end {synced_copy:.2f} s "
            f"({synced_copy / copy_seconds:.2f}x); the copy hashed, synced and stored as the bot "
            f"stores {stored_copy:.2f} s ({stored_copy / copy_seconds:.2f}x); every "
            f"confirmation sent at {confirmed_seconds:.2f} s",
        ),
        Row(
            NAME,
            f"{PHOTOS} photos of 3 MB + {VIDEO_MB} MB video",
            "CPU of the bot process during the ingest (user + system)",
            _cpu(ingest_usage, files),
            f"plain copy {_cpu(copy_usage, files)}; the fake LINE {ingest_usage.fake:.2f} s "
            f"during the ingest, {copy_usage.fake:.2f} s during the copy",
        ),
        Row(
            NAME,
            f"{PHOTOS} photos of 3 MB + {VIDEO_MB} MB video",
            "SQL statements per file, webhook to confirmation sent (commits)",
            f"{ingest_sql.statements / files:.1f} ({ingest_sql.commits / files:.1f})",
            "counted on the bot's engine: does not move with the machine's speed; "
            f"{ingest_sql.statements} statements, {ingest_sql.commits} commits in all",
        ),
        Row(NAME, "outcome", "evidence rows by status", json.dumps(statuses), "all stored"),
    ]


def _cpu(span: Usage, files: int) -> str:
    used = span.user + span.system
    return (
        f"{used:.2f} s, {used / files * 1000:.1f} ms per file "
        f"(user {span.user:.2f}, system {span.system:.2f})"
    )

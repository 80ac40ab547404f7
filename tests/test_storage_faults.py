"""The disk fills up or the object storage goes away while evidence is being saved: the leader
is told to send that one again later, no half file is left anywhere, and evidence sent once the
fault is gone is kept as usual.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import random
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from PIL import Image

from bot import storage as storage_module
from bot.storage import LocalStorage, S3Storage, spool
from fakeline import webhook as events
from tests.conftest import S3_BUCKET, S3_SECRET, s3_client
from tests.test_evidence import rows_of, somsri  # noqa: F401 - the fixture

LATER = "กรุณาส่ง{label}นั้นอีกครั้งในภายหลังนะคะ"


def noisy_photo(seed: int, size: tuple[int, int] = (400, 300)) -> bytes:
    """A JPEG that does not compress away: tens of KB, so a disk can fill in the middle."""
    rng = random.Random(seed)
    image = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


class Disk:
    """A disk that fills up. A full disk cannot be made portably (no mounts in CI), so the
    storage's one write path (`bot.storage._open_spool`) is wrapped: real bytes go to the real
    file until `room` runs out, then writes fail with ENOSPC as the kernel's would, leaving
    a real half-written file for the code to clean up. `at_sync` fails at flush/fsync instead
    (delayed allocation, NFS); `spared` files are let through first; `frees_after` failures
    someone makes room."""

    def __init__(self) -> None:
        self.room: int | None = None  # None: plenty
        self.at_sync = False
        self.spared = 0
        self.frees_after: int | None = None
        self.failures = 0
        self.lock = threading.Lock()

    def fill(
        self,
        room: int = 0,
        *,
        at_sync: bool = False,
        spared: int = 0,
        frees_after: int | None = None,
    ) -> None:
        self.room, self.at_sync, self.spared, self.frees_after = room, at_sync, spared, frees_after

    def free(self) -> None:
        self.room = None

    def full(self) -> OSError:
        with self.lock:
            self.failures += 1
            if self.frees_after is not None and self.failures >= self.frees_after:
                self.room = None
        return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def open(self, fd: int) -> BinaryIO:
        real = os.fdopen(fd, "wb")
        with self.lock:
            spare = self.spared > 0
            self.spared -= spare
        if spare or self.room is None:
            return real
        return _Filling(real, self)  # type: ignore[return-value]


class _Filling:
    def __init__(self, real: BinaryIO, disk: Disk) -> None:
        self.real = real
        self.disk = disk

    def write(self, data: bytes) -> int:
        room = self.disk.room
        if room is None or self.disk.at_sync:
            return self.real.write(data)
        if len(data) <= room:
            self.disk.room = room - len(data)
            return self.real.write(data)
        self.real.write(data[:room])
        self.real.flush()  # the part that fitted is really on disk
        self.disk.room = 0
        raise self.disk.full()

    def flush(self) -> None:
        self.real.flush()
        if self.disk.at_sync and self.disk.room is not None:
            raise self.disk.full()

    def fileno(self) -> int:
        return self.real.fileno()

    def close(self) -> None:
        self.real.close()


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch) -> Disk:
    full = Disk()
    monkeypatch.setattr(storage_module, "_open_spool", full.open)
    return full


@pytest.fixture
def collecting(somsri):  # noqa: F811
    somsri.say("แผนของฉัน")
    somsri.tap("ดูกิจกรรม")
    somsri.tap("ส่งหลักฐาน")
    return somsri


def staged_settled(root: Path, timeout: float = 10.0) -> None:
    """Wait until no thumbnail is being copied through staging (two background threads may
    both be at one), so what is left there is what a failure left."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and files_in(root / ".staging"):
        time.sleep(0.05)


def files_in(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# --- local disk --------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["write", "sync"])
def test_disk_full_while_saving_asks_her_to_send_it_again_later(collecting, disk, app, where):
    root = Path(app.config["EVIDENCE_STORAGE_URL"])
    data = noisy_photo(1)
    assert len(data) > 20_000
    disk.fill(room=10_000, at_sync=where == "sync")  # fills up in the middle of the photo
    collecting.send_photos(data)
    assert "ระบบเก็บไฟล์ขัดข้อง" in collecting.last_text
    assert LATER.format(label="รูป") in collecting.last_text
    (row,) = rows_of(collecting)
    assert (row.status, row.attempts, row.storage_key) == ("failed", 5, None)
    assert row.last_error == "storage: cannot write the evidence to disk"
    assert disk.failures == 5
    assert files_in(root) == []  # not half a photo, not a staged part

    disk.free()
    collecting.send_photos(data)  # she sends it again, as asked
    assert collecting.last_text == "รับรูปที่ 1 แล้วค่ะ"
    kept = [r for r in rows_of(collecting) if r.status == "stored"]
    assert len(kept) == 1
    assert (root / kept[0].storage_key).read_bytes() == data
    assert hashlib.sha256(data).hexdigest() == kept[0].content_hash
    staged_settled(root)
    assert {p.parent.parent.name for p in files_in(root)} == {"objects", "thumbs"}


def test_a_disk_that_frees_up_between_tries_keeps_the_photo_quietly(collecting, disk, app, line):
    disk.fill(room=0, frees_after=2)
    collecting.send_photos(noisy_photo(2))
    assert collecting.last_text == "รับรูปที่ 1 แล้วค่ะ"  # told once, nothing about the fault
    (row,) = rows_of(collecting)
    assert (row.status, row.attempts) == ("stored", 3)
    # The thumbnail comes after, copying the photo through the same staging folder (two
    # background threads may both be at it): once that is done, nothing is left there.
    staging = Path(app.config["EVIDENCE_STORAGE_URL"]) / ".staging"
    line.platform.wait_for(lambda: rows_of(collecting)[0].thumb_key is not None)
    line.platform.wait_for(lambda: files_in(staging) == [])


def test_disk_full_while_making_the_thumbnail_does_not_lose_the_photo(collecting, disk, app, line):
    root = Path(app.config["EVIDENCE_STORAGE_URL"])
    told_before = len(line.platform.texts(collecting.user_id))
    disk.fill(room=0, spared=1)  # room for the photo itself, none for making its thumbnail
    message_id = str(10**15 + 777)
    line.platform.add_content(message_id, noisy_photo(3), "image/jpeg")
    token = line.platform.issue_reply_token(collecting.user_id)
    line.send(events.image_event(collecting.user_id, message_id, token))
    line.platform.wait_for(lambda: "รับรูปที่ 1 แล้วค่ะ" in line.platform.texts(collecting.user_id))
    line.platform.wait_for(lambda: disk.failures >= 3)  # the thumbnailer tried, and tried again
    (row,) = rows_of(collecting)
    assert row.status == "stored" and row.thumb_key is None
    assert (root / row.storage_key).is_file()
    # The thumbnailer keeps trying while the disk is full, so one try may be between making
    # its staging file and removing it just now: what counts is that none is left behind.
    line.platform.wait_for(lambda: files_in(root / ".staging") == [])

    disk.free()
    line.settle()
    (row,) = rows_of(collecting)
    assert row.status == "stored" and row.thumb_key and (root / row.thumb_key).is_file()
    # She heard that it was received, and nothing else: never "unreadable", never twice.
    assert line.platform.texts(collecting.user_id)[told_before:] == ["รับรูปที่ 1 แล้วค่ะ"]


# --- object storage ----------------------------------------------------------------------------


class CutProxy:
    """A TCP proxy to the S3 server that can be cut like a pulled cable: `cut_after(n)` drops
    every connection once n more bytes went upstream, and refuses new ones until `restore`."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.down = False
        self.budget: int | None = None
        self.lock = threading.Lock()
        self.sockets: set[socket.socket] = set()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cut_after(self, n: int) -> None:
        self.budget = n

    def cut(self) -> None:
        with self.lock:
            self.down = True
            for sock in list(self.sockets):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self.sockets.clear()

    def restore(self) -> None:
        with self.lock:
            self.down, self.budget = False, None

    def close(self) -> None:
        self.stopped.set()
        self.cut()
        self.thread.join(5)
        self.listener.close()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self.lock:
                if self.down:
                    client.close()  # the bucket is gone: the request gets no answer
                    continue
                server = socket.create_connection(self.upstream)
                self.sockets |= {client, server}
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, upstream: bool) -> None:
        try:
            while data := source.recv(65536):
                if upstream and self.budget is not None:
                    self.budget -= len(data)
                    if self.budget <= 0:
                        self.cut()
                        return
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def proxy(s3_endpoint: str) -> Iterator[CutProxy]:
    host, port = s3_endpoint.removeprefix("http://").split(":")
    running = CutProxy((host, int(port)))
    yield running
    running.close()


@pytest.fixture
def app_config(
    app_config: dict, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch
) -> dict:
    if "proxy" not in request.fixturenames:
        return app_config
    # S3 staging lives in the temp folder: this test's own, so leftovers can be counted.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    proxy = request.getfixturevalue("proxy")
    return {
        **app_config,
        "EVIDENCE_STORAGE_URL": f"s3://{S3_BUCKET}/faults-{uuid.uuid4().hex}",
        "EVIDENCE_S3_ENDPOINT_URL": proxy.url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": S3_SECRET,
        "AWS_REGION": "us-east-1",
        "CONTENT_FETCH_ATTEMPTS": "3",
    }


def big_pdf(seed: int) -> bytes:
    """Over S3's 8 MB multipart threshold, so it goes up in parts."""
    return b"%PDF-1.4\n" + random.Random(seed).randbytes(9 * 1024 * 1024) + b"\n%%EOF\n"


def test_object_storage_gone_during_an_upload(collecting, app, proxy, s3_endpoint, tmp_path):
    direct = s3_client(s3_endpoint)  # looks at the bucket behind the proxy's back
    prefix = app.config["EVIDENCE_STORAGE_URL"].split("/", 3)[3] + "/"

    def objects() -> list[dict[str, Any]]:
        return direct.list_objects_v2(Bucket=S3_BUCKET, Prefix=prefix).get("Contents", [])

    def uploads() -> list[dict[str, Any]]:
        return direct.list_multipart_uploads(Bucket=S3_BUCKET, Prefix=prefix).get("Uploads", [])

    data = big_pdf(1)
    proxy.cut_after(3 * 1024 * 1024)  # the bucket goes away with a third of the parts sent
    collecting.send_file(data, "รายงานประจำปี.pdf")
    assert "ระบบเก็บไฟล์ขัดข้อง" in collecting.last_text
    assert LATER.format(label="ไฟล์") in collecting.last_text
    (row,) = rows_of(collecting)
    assert (row.status, row.storage_key) == ("failed", None)
    assert row.last_error.startswith("storage: object storage")
    assert S3_SECRET not in row.last_error
    assert objects() == []  # no object, not even a short one
    assert len(uploads()) == 1  # the cut came mid-upload: boto3 could not abort it
    assert files_in(tmp_path / "tmp") == []  # nothing staged left behind

    proxy.restore()
    collecting.send_photos(noisy_photo(4))  # the bucket is back: evidence goes on
    assert collecting.last_text == "รับรูปที่ 1 แล้วค่ะ"
    collecting.send_file(data, "รายงานประจำปี.pdf")  # and she sends the file again
    assert collecting.last_text == "รับไฟล์ รายงานประจำปี.pdf แล้วค่ะ"
    assert uploads() == []  # the half upload went before the new one
    stored = [r for r in rows_of(collecting) if r.status == "stored"]
    sizes = {o["Key"].removeprefix(prefix): o["Size"] for o in objects()}
    assert sizes[stored[1].storage_key] == len(data)
    assert set(sizes) == {stored[0].storage_key, stored[0].thumb_key, stored[1].storage_key}
    assert files_in(tmp_path / "tmp") == []


def test_the_sweep_aborts_abandoned_uploads_and_staged_files(s3_endpoint, tmp_path):
    client = s3_client(s3_endpoint)
    storage = S3Storage(S3_BUCKET, f"sweep-{uuid.uuid4().hex}", client, tmp_path / "staging")
    key = f"{storage.prefix}/objects/ab/abandoned.pdf"
    client.create_multipart_upload(Bucket=S3_BUCKET, Key=key)
    staged = spool(storage, [b"half a file"], None).path
    now = datetime.now(UTC)
    # moto dates every multipart upload 2010-11-10, so only the staged file shows the age rule.
    assert storage.sweep(now - timedelta(minutes=10)) == 1
    assert client.list_multipart_uploads(Bucket=S3_BUCKET, Prefix=key).get("Uploads", []) == []
    assert staged.exists()  # young: maybe a fetch still writing it
    assert storage.sweep(now + timedelta(minutes=1)) == 1
    assert not staged.exists()


def test_the_sweep_removes_a_summary_build_left_by_a_killed_process(tmp_path):
    """The benchmark of faults killed a worker mid-PDF: its folder of copied photos stayed."""
    storage = LocalStorage(tmp_path / "evidence")
    work = storage.staging_dir() / "summary-abc123"
    work.mkdir()
    (work / "photo-1.jpg").write_bytes(b"copied for the PDF")
    now = datetime.now(UTC)
    assert storage.sweep(now - timedelta(minutes=10)) == 0  # young: maybe still building
    assert work.exists()
    assert storage.sweep(now + timedelta(minutes=1)) == 1
    assert not work.exists()

"""Photos for report 3.2: the province's own activity photos (the workshop and the committee
meeting) and a ZIP of them, with the certified leaders' evidence when asked. Flask free.

The ZIP is written to a non-seekable sink and handed out chunk by chunk, so a province's
photos are never held whole in memory. Leaders' evidence goes in as the EXIF-free thumbnails
everyone else sees: the originals keep the time and place of the phone's camera.
"""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import media
from bot.models import CommitteeDecision, LeaderProfile, Plan, ProvincePhoto, User, utcnow
from bot.services import audit, evidence
from bot.services.thai import clean_text
from bot.storage import Storage, StorageError, TooLarge, spool

log = logging.getLogger(__name__)

BANGKOK = ZoneInfo("Asia/Bangkok")
ACTIVITIES = {"workshop": "อบรมเชิงปฏิบัติการ", "committee": "คณะกรรมการ"}
MAX_BYTES = 15 * 1024 * 1024
THUMB_SIDE = 800
CAPTION_MAX = 300
CHUNK = 256 * 1024
ZIP64_NEAR = 1 << 31
MISSING_NOTE = "ไฟล์ที่หาไม่พบ.txt"
EXT = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}
EXT |= {"image/heic": "heic", "image/heif": "heif"}


class PhotoError(ValueError):
    """Why a photo cannot be kept; the message is Thai, for the page."""


# Province photos ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Stored:
    key: str
    sha256: str
    mime: str
    size: int


def thumb_key(sha256: str) -> str:
    return f"province-thumbs/{sha256[:2]}/{sha256}.jpg"


def store(storage: Storage, chunks: Iterable[bytes]) -> Stored:
    """Keep an uploaded file under its content hash, with an EXIF-free thumbnail beside it.
    What it is comes from its bytes (Pillow), never from its name or declared type."""
    try:
        spooled = spool(storage, chunks, MAX_BYTES)
    except TooLarge:
        raise PhotoError(f"รูปใหญ่เกินไปค่ะ รับได้ไม่เกิน {MAX_BYTES // (1024 * 1024)} MB") from None
    thumb = Path(f"{spooled.path}.thumb.jpg")
    try:
        sniffed = media.sniff(spooled.path)
        if sniffed is None or sniffed.kind != "image":
            raise PhotoError("ไฟล์นี้ไม่ใช่รูปภาพที่ระบบรับค่ะ รับ JPEG, PNG, HEIC หรือ WEBP")
        media.thumbnail(spooled.path, thumb, THUMB_SIDE)
        key = f"province/{spooled.sha256[:2]}/{spooled.sha256}.{sniffed.ext}"
        storage.put(thumb_key(spooled.sha256), thumb, "image/jpeg")
        storage.put(key, spooled.path, sniffed.mime)
        return Stored(key, spooled.sha256, sniffed.mime, spooled.size)
    except media.MediaError:
        raise PhotoError("รูปนี้เปิดอ่านไม่ได้หรือใหญ่เกินไปค่ะ กรุณาเลือกรูปอื่น") from None
    finally:
        spooled.path.unlink(missing_ok=True)
        thumb.unlink(missing_ok=True)


def record(
    session: Session,
    stored: Stored,
    province_code: str,
    year: int,
    activity: str,
    caption: str,
    staff: User,
) -> ProvincePhoto:
    if activity not in ACTIVITIES:
        raise PhotoError("กรุณาเลือกกิจกรรม อบรมเชิงปฏิบัติการ หรือ คณะกรรมการ ค่ะ")
    text = clean_text(caption, "คำอธิบายรูป", CAPTION_MAX, PhotoError, required=False)
    twin = session.scalar(
        select(ProvincePhoto.id).where(
            ProvincePhoto.province_code == province_code,
            ProvincePhoto.fiscal_year == year,
            ProvincePhoto.content_hash == stored.sha256,
            ProvincePhoto.deleted_at.is_(None),
        )
    )
    if twin is not None:
        raise PhotoError("รูปนี้อัปโหลดไว้แล้วค่ะ")
    row = ProvincePhoto(
        province_code=province_code,
        fiscal_year=year,
        activity=activity,
        storage_key=stored.key,
        content_hash=stored.sha256,
        mime_type=stored.mime,
        size_bytes=stored.size,
        caption=text or None,
        uploaded_by=staff.id,
    )
    session.add(row)
    session.flush()
    audit.record(session, "province.photo.add", "province_photo", row.id, actor=staff)
    return row


def listed(session: Session, province_code: str, year: int) -> list[ProvincePhoto]:
    return list(
        session.scalars(
            select(ProvincePhoto)
            .where(
                ProvincePhoto.province_code == province_code,
                ProvincePhoto.fiscal_year == year,
                ProvincePhoto.deleted_at.is_(None),
            )
            .order_by(ProvincePhoto.activity.desc(), ProvincePhoto.id)
        )
    )


def delete(session: Session, storage: Storage, row: ProvincePhoto, staff: User) -> None:
    """Mark deleted; the bytes go when no other live row (another year, say) holds them."""
    row.deleted_at = utcnow()
    session.flush()
    others = session.scalar(
        select(ProvincePhoto.id).where(
            ProvincePhoto.content_hash == row.content_hash, ProvincePhoto.deleted_at.is_(None)
        )
    )
    if others is None:
        for key in (row.storage_key, thumb_key(row.content_hash)):
            try:
                storage.delete(key)
            except StorageError as exc:  # the row is gone; stray bytes are only space
                log.warning("province photo %s: %s not deleted: %s", row.id, key, exc)
    audit.record(session, "province.photo.delete", "province_photo", row.id, actor=staff)


# The ZIP -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ZipEntry:
    name: str  # the path inside the ZIP
    key: str  # the storage key
    size: int  # bytes when known, else 0: decides whether the entry needs ZIP64
    at: datetime | None = None


def zip_entries(
    session: Session, province_code: str, year: int, with_evidence: bool
) -> list[ZipEntry]:
    entries = []
    counts = dict.fromkeys(ACTIVITIES, 0)
    for row in listed(session, province_code, year):
        counts[row.activity] += 1
        caption = f"-{safe_name(row.caption, 40)}" if row.caption else ""
        name = f"{ACTIVITIES[row.activity]}/{counts[row.activity]:03d}{caption}"
        ext = EXT.get(row.mime_type, "jpg")
        entries.append(ZipEntry(f"{name}.{ext}", row.storage_key, row.size_bytes, row.created_at))
    if with_evidence:
        entries += _evidence_entries(session, province_code, year)
    return entries


def _evidence_entries(session: Session, province_code: str, year: int) -> list[ZipEntry]:
    certified = session.execute(
        select(Plan, LeaderProfile)
        .join(CommitteeDecision, CommitteeDecision.plan_id == Plan.id)
        .join(LeaderProfile, LeaderProfile.user_id == Plan.leader_id)
        .where(
            CommitteeDecision.province_code == province_code,
            CommitteeDecision.fiscal_year == year,
            CommitteeDecision.result == "certified",
        )
        .order_by(CommitteeDecision.certificate_seq)
    ).all()
    entries = []
    for plan, profile in certified:
        folder = f"ผู้นำ/{safe_name(profile.full_name)}"
        for number, item in enumerate(plan.items, start=1):
            photos = [r for r in evidence.shown(session, item.id) if r.kind == "image"]
            for n, row in enumerate(photos, start=1):
                if row.thumb_key:
                    name = f"{folder}/กิจกรรม{number:02d}-รูป{n:02d}.jpg"
                    entries.append(ZipEntry(name, row.thumb_key, 0, row.taken_at or row.created_at))
    return entries


class _Sink:
    """A write-only stream that cannot seek: ZipFile then writes each entry's sizes after its
    data, so an entry can go out while its bytes are still being read."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._pos = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self._pos += len(data)
        return len(data)

    def tell(self) -> int:
        return self._pos

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        out, self._parts = b"".join(self._parts), []
        return out


def zip_stream(entries: Iterable[ZipEntry], opener: Callable[[str], BinaryIO]) -> Iterator[bytes]:
    """The ZIP, chunk by chunk: one chunk of one file in memory at a time. Files missing from
    storage are named in a note inside the ZIP instead of failing the whole download."""
    sink = _Sink()
    missing: list[str] = []
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_STORED) as archive:
        for entry in entries:
            try:
                source = opener(entry.key)
            except StorageError as exc:
                log.warning("zip: %s not added: %s", entry.key, exc)
                missing.append(entry.name)
                continue
            moment = (entry.at or datetime(1980, 1, 1, tzinfo=BANGKOK)).astimezone(BANGKOK)
            info = zipfile.ZipInfo(entry.name, date_time=moment.timetuple()[:6])
            info.file_size = entry.size
            with source, archive.open(info, "w", force_zip64=entry.size >= ZIP64_NEAR) as dest:
                while chunk := source.read(CHUNK):
                    dest.write(chunk)
                    yield sink.drain()
            yield sink.drain()
        if missing:
            archive.writestr(MISSING_NOTE, "\n".join(missing) + "\n")
    yield sink.drain()


def safe_name(text: str, limit: int = 60) -> str:
    """A file or folder name from user text: no slashes or control characters."""
    cleaned = "".join(" " if ch in '/\\:*?"<>|' or ord(ch) < 32 else ch for ch in text)
    return " ".join(cleaned.split())[:limit].strip(". ") or "-"

"""What an uploaded file really is, and the small JPEG we show instead of the original.

Files are judged by their first bytes (and, for images, by Pillow actually reading them), never by
their name: a leader's phone may call anything "photo.jpg". Only the few kinds evidence needs are
accepted; everything else is None. Accepted kinds are then checked for what would hurt whoever
opens them later: images with more pixels than memory allows, Office files (ZIPs) that unpack
into far more than they weigh, and polyglots (one file that is also another kind of file).
"""

from __future__ import annotations

import contextlib
import math
import struct
import tempfile
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, BinaryIO, Literal

import pillow_heif
from PIL import Image, ImageOps

pillow_heif.register_heif_opener()  # HEIC is what iPhones send

# A phone photo is 12-50 MP; beyond this a small file may unpack into gigabytes of pixels.
MAX_PIXELS = 40_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)

Kind = Literal["image", "video", "file"]

# Pillow plugin name -> (mime, ext). Only these parsers are ever tried on uploads.
IMAGE_FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    "GIF": ("image/gif", "gif"),
    "HEIF": ("image/heic", "heic"),
}
# ISO-BMFF brands (the `ftyp` box) that mean a still image, not a video.
IMAGE_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"heif"}
IMAGE_BRANDS |= {b"avif", b"avis"}
MP4_BRANDS = {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"mmp4"}
MP4_BRANDS |= {b"M4V ", b"M4VH", b"M4VP", b"dash", b"MSNV", b"f4v "}
OOXML = {
    "word/": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "xl/": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "ppt/": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx"),
}
OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
# Pillow's ways of saying "this is not a readable image".
_BAD_IMAGE = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error)
MB = 1024 * 1024
CHUNK = 64 * 1024
# Readers look for these near the start only: Acrobat wants "%PDF-" in the first 1024 bytes,
# browsers sniff HTML in the first 512. Markers are matched lower-cased.
POLYGLOT_WINDOW = 1024
HTML_MARKERS = (b"<html", b"<script", b"<!doctype html", b"<svg", b"<iframe", b"<body", b"<?php")
ZIP_END = b"PK\x05\x06"
ZIP_LOCAL = b"PK\x03\x04"


class MediaError(Exception):
    """The file cannot be used: unreadable, or one of the subclasses below."""


class TooManyPixels(MediaError):
    """An image declaring more than MAX_PIXELS pixels (a decompression bomb, or just too big)."""


class ZipBomb(MediaError):
    """An archive that would unpack into far more than it weighs, or is built to look so."""


class Polyglot(MediaError):
    """A file that is also another kind of file (a JPEG that is a ZIP, a photo holding a PDF
    or a web page): whoever opens it with the other program gets something we never checked."""


@dataclass(frozen=True)
class ZipLimits:
    """How far an Office file (a ZIP) may unpack. A real 20 MB document unpacks to a few times
    its size; a zip bomb to gigabytes from kilobytes. Every entry is really decompressed (in
    chunks, nothing kept), so a header that lies about sizes is caught too."""

    unpacked: int = 300 * MB  # all entries together, archives inside archives included
    ratio: int = 100  # unpacked / packed, checked once past `ratio_from`
    ratio_from: int = 10 * MB
    entries: int = 5_000
    depth: int = 2  # an Office file inside an Office file (a chart's data) is depth 1


@dataclass(frozen=True)
class Sniffed:
    kind: Kind
    mime: str
    ext: str


@dataclass(frozen=True)
class ImageFacts:
    width: int
    height: int
    taken_at: datetime | None  # naive camera-local time, as EXIF stores it
    gps: tuple[float, float] | None  # (latitude, longitude), south and west negative


def _open(path: Path) -> Image.Image:
    """Open with only our parsers and refuse decompression bombs before any pixel is decoded."""
    try:
        im = Image.open(path, formats=list(IMAGE_FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooManyPixels("too many pixels") from None
    if im.width * im.height > MAX_PIXELS:
        im.close()
        raise TooManyPixels("too many pixels")
    return im


def sniff(path: Path, decode: bool = True, zip_limits: ZipLimits | None = None) -> Sniffed | None:
    """The file's real kind from its content; None when it is none of the accepted kinds.
    `decode=False` skips decoding images to catch truncation, for callers that decode anyway.

    Raises TooManyPixels for an image with more than MAX_PIXELS pixels, ZipBomb for an Office
    file past `zip_limits`, Polyglot for a file that is also another kind of file, and
    MediaError for an Office file whose entries cannot be read (so cannot be checked).
    """
    found = _kind(path, decode, zip_limits or ZipLimits())
    if found is not None:
        _refuse_polyglot(path, found)
    return found


def _kind(path: Path, decode: bool, zip_limits: ZipLimits) -> Sniffed | None:
    with open(path, "rb") as f:
        head = f.read(64)
    if not head:
        return None
    if head.startswith(b"%PDF-"):
        return Sniffed("file", "application/pdf", "pdf")
    if head.startswith(OLE2_MAGIC):
        # Old Office (doc/xls/ppt) share this container; telling them apart means parsing it.
        return Sniffed("file", "application/x-ole-storage", "doc")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return Sniffed("video", "video/webm", "webm")
    if head[4:8] == b"ftyp":
        video = _ftyp_video(head)
        if video is not None:
            return video
    if head.startswith(ZIP_LOCAL):
        return _ooxml(path, zip_limits)
    return _sniff_image(path, decode)


def _refuse_polyglot(path: Path, sniffed: Sniffed) -> None:
    with open(path, "rb") as f:
        head = f.read(POLYGLOT_WINDOW).lower()
    if sniffed.ext != "pdf" and b"%pdf-" in head:
        raise Polyglot("also a PDF")
    if any(marker in head for marker in HTML_MARKERS):
        raise Polyglot("also a web page")
    if sniffed.ext not in {"docx", "xlsx", "pptx"} and _holds_zip(path):
        raise Polyglot("also a ZIP")


def _zip_entries(f: IO[bytes]) -> int | None:
    """The entry count the end record claims, read before zipfile builds an object per entry
    (a crafted central directory can claim hundreds of thousands); None when there is none."""
    f.seek(0, 2)
    size = f.tell()
    tail_start = max(0, size - (22 + 0xFFFF))  # the end record, then at most a 64 KB comment
    f.seek(tail_start)
    tail = f.read()
    at = tail.rfind(ZIP_END)
    if at < 0 or len(tail) - at < 22:
        return None
    return int(struct.unpack("<4s4H2LH", tail[at : at + 22])[4])


def _holds_zip(path: Path) -> bool:
    # A ZIP is read from its end, so anything (a photo, a PDF) may sit in front of it.
    with open(path, "rb") as f:
        entries = _zip_entries(f)
    if entries is None:
        return False
    if entries > ZipLimits.entries:
        return True  # no photo ends in a claim like that by chance
    try:
        with zipfile.ZipFile(path) as archive:
            return bool(archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error):
        return False


def _ftyp_video(head: bytes) -> Sniffed | None:
    size = int.from_bytes(head[0:4], "big")
    box = head[8 : max(12, min(size, len(head)))]
    major = box[0:4]
    brands = {major} | {box[i : i + 4] for i in range(8, len(box) - 3, 4)}  # skip minor version
    if brands & IMAGE_BRANDS:
        return None  # HEIC/AVIF: left to the image check
    if major == b"qt  ":
        return Sniffed("video", "video/quicktime", "mov")
    if major.startswith((b"3gp", b"3g2", b"3ge", b"3gs")):
        return Sniffed("video", "video/3gpp", "3gp")
    if brands & MP4_BRANDS:
        return Sniffed("video", "video/mp4", "mp4")
    return None


def _ooxml(path: Path, limits: ZipLimits) -> Sniffed | None:
    with open(path, "rb") as f:
        entries = _zip_entries(f)
        if entries is not None and entries > limits.entries:
            raise ZipBomb(f"{entries} entries")
        try:
            archive = zipfile.ZipFile(f)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error):
            return None
        with archive:
            names = archive.namelist()
            for prefix, (mime, ext) in OOXML.items():
                if any(name.startswith(prefix) for name in names):
                    _check_zip(archive, f, limits, _Budget(limits.unpacked), 0, path.parent)
                    return Sniffed("file", mime, ext)
    return None


class _Budget:
    """Bytes still allowed to come out of decompression, across nested archives."""

    def __init__(self, left: int) -> None:
        self.left = left

    def spend(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise ZipBomb("unpacks past the limit")


def _check_zip(
    archive: zipfile.ZipFile,
    f: IO[bytes],
    limits: ZipLimits,
    budget: _Budget,
    depth: int,
    scratch: Path,
) -> None:
    """Refuse what the directory claims first (cheap), then decompress every entry for real,
    counting: a lying header, overlapping entries or a nested bomb shows up here."""
    infos = sorted(archive.infolist(), key=lambda i: i.header_offset)
    if len(infos) > limits.entries:
        raise ZipBomb(f"{len(infos)} entries")
    declared = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    if declared > budget.left:
        raise ZipBomb("declares more than the limit")
    if declared > limits.ratio_from and declared > limits.ratio * max(packed, 1):
        raise ZipBomb("compression ratio")
    end_of_last = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise MediaError("encrypted entry")  # cannot be checked, so not accepted
        if info.compress_type not in {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}:
            raise MediaError("unusual compression")
        start = _data_start(f, info)
        if info.header_offset < end_of_last:
            # Entries sharing bytes: how a small file "holds" thousands of big ones.
            raise ZipBomb("overlapping entries")
        end_of_last = start + info.compress_size
        _check_entry(f, info, start, limits, budget, depth, scratch)


def _data_start(f: IO[bytes], info: zipfile.ZipInfo) -> int:
    f.seek(info.header_offset)
    header = f.read(30)
    if len(header) != 30 or not header.startswith(ZIP_LOCAL):
        raise MediaError("bad local header")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    return info.header_offset + 30 + name_length + extra_length


def _check_entry(
    f: IO[bytes],
    info: zipfile.ZipInfo,
    start: int,
    limits: ZipLimits,
    budget: _Budget,
    depth: int,
    scratch: Path,
) -> None:
    inflate = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    produced = 0
    crc = 0
    nested: IO[bytes] | None = None
    f.seek(start)
    left = info.compress_size
    with contextlib.ExitStack() as stack:
        try:
            while True:
                if inflate is not None and inflate.unconsumed_tail:
                    data = inflate.decompress(inflate.unconsumed_tail, CHUNK)
                elif left > 0:
                    packed = f.read(min(CHUNK, left))
                    if not packed:
                        raise MediaError("entry cut short")
                    left -= len(packed)
                    data = inflate.decompress(packed, CHUNK) if inflate else packed
                else:
                    break
                if not data:
                    continue
                if produced == 0 and data.startswith(ZIP_LOCAL):
                    if depth >= limits.depth:
                        raise ZipBomb("archives nested too deep")
                    # In the staging folder (the upload's own disk), gone once closed.
                    nested = stack.enter_context(tempfile.TemporaryFile(dir=scratch))
                produced += len(data)
                if produced > info.file_size:
                    raise ZipBomb("entry larger than declared")
                budget.spend(len(data))
                crc = zlib.crc32(data, crc)
                if nested is not None:
                    nested.write(data)
            if produced != info.file_size or crc != info.CRC:
                raise MediaError("entry does not match its header")
            if inflate is not None and not inflate.eof:
                raise MediaError("entry cut short")
            if nested is not None:
                entries = _zip_entries(nested)
                if entries is not None and entries > limits.entries:
                    raise ZipBomb(f"{entries} entries")
                nested.seek(0)
                with zipfile.ZipFile(nested) as inner:
                    _check_zip(inner, nested, limits, budget, depth + 1, scratch)
        except (zlib.error, zipfile.BadZipFile) as exc:
            raise MediaError("unreadable entry") from exc


def _sniff_image(path: Path, decode: bool = True) -> Sniffed | None:
    try:
        with _open(path) as im:
            fmt = im.format or ""
            brand_heif = fmt == "HEIF" and im.get_format_mimetype() == "image/heif"
            im.verify()  # structure and checksums (PNG); cheap for the rest
        if decode and fmt != "PNG":
            # verify() does not notice a cut-off JPEG/GIF/WebP/HEIC; decoding does. JPEG decodes
            # at 1/8 scale here, so this stays cheap for big photos.
            with _open(path) as im:
                im.draft("RGB", (64, 64))
                im.load()
    except MediaError:
        raise
    except _BAD_IMAGE:
        return None
    if fmt not in IMAGE_FORMATS:
        return None
    mime, ext = IMAGE_FORMATS[fmt]
    if brand_heif:
        mime, ext = "image/heif", "heif"
    return Sniffed("image", mime, ext)


def _oriented_size(im: Image.Image) -> tuple[int, int]:
    # EXIF orientations 5-8 turn the picture a quarter: width and height swap on screen.
    if im.getexif().get(0x0112) in {5, 6, 7, 8}:
        return im.height, im.width
    return im.width, im.height


def _taken_at(exif: Image.Exif) -> datetime | None:
    raw = exif.get_ifd(0x8769).get(0x9003) or exif.get(0x0132)  # DateTimeOriginal, DateTime
    if not isinstance(raw, str):
        return None
    try:
        return datetime.strptime(raw.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None  # "0000:00:00 00:00:00" and other camera junk


def _gps(exif: Image.Exif) -> tuple[float, float] | None:
    gps = exif.get_ifd(0x8825)

    def degrees(value: object, ref: object, negative: str, limit: float) -> float | None:
        try:
            d, m, s = (float(part) for part in value)  # type: ignore[attr-defined]
        except (TypeError, ValueError, ZeroDivisionError):
            return None
        result = d + m / 60 + s / 3600
        if result != result or not 0 <= result <= limit:  # NaN from a 0 denominator, or nonsense
            return None
        ref_text = ref.decode() if isinstance(ref, bytes) else str(ref or "")
        return -result if ref_text.strip("\x00 ").upper() == negative else result

    lat = degrees(gps.get(2), gps.get(1), "S", 90)
    lon = degrees(gps.get(4), gps.get(3), "W", 180)
    return None if lat is None or lon is None else (lat, lon)


def image_facts(path: Path) -> ImageFacts:
    """Size as displayed (EXIF rotation applied); when and where the camera says it was taken."""
    try:
        with _open(path) as im:
            exif = im.getexif()
            width, height = _oriented_size(im)
            return ImageFacts(width, height, _taken_at(exif), _gps(exif))
    except MediaError:
        raise
    except _BAD_IMAGE as exc:
        raise MediaError("unreadable image") from exc


def thumbnail(path: Path, out: Path | BinaryIO, max_side: int = 1024) -> tuple[int, int]:
    """Write a JPEG no larger than max_side on either side, upright, with no metadata at all
    (no GPS or camera details leak through it). Returns its size."""
    try:
        with _open(path) as im:
            if im.format == "JPEG":
                # Decode at 1/2, 1/4 or 1/8 scale when that still covers the thumbnail: a 50 MP
                # photo then never sits in memory at full size. Asking for the fitted size (not a
                # max_side square) lets a 4:3 photo use the smaller scale too.
                fit = max_side / max(im.size)
                if fit < 1:
                    im.draft("RGB", (math.ceil(im.width * fit), math.ceil(im.height * fit)))
            upright = ImageOps.exif_transpose(im)
            if upright.mode in {"RGBA", "LA", "PA"} or "transparency" in upright.info:
                rgba = upright.convert("RGBA")
                flat = Image.new("RGB", rgba.size, "white")
                flat.paste(rgba, mask=rgba.getchannel("A"))
            else:
                flat = upright.convert("RGB")
            flat.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
            flat.info.clear()  # Pillow would carry a JPEG comment over otherwise
            flat.save(out, "JPEG", quality=82, optimize=True)
            return flat.size
    except MediaError:
        raise
    except _BAD_IMAGE as exc:
        raise MediaError("unreadable image") from exc

"""What an uploaded file really is, and the small JPEG we show instead of the original.

Files are judged by their first bytes (and, for images, by Pillow actually reading them), never by
their name: a leader's phone may call anything "photo.jpg". Only the few kinds evidence needs are
accepted; everything else is None.
"""

from __future__ import annotations

import math
import struct
import warnings
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

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


class MediaError(Exception):
    """The image cannot be used (unreadable, or too many pixels)."""


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
        raise MediaError("too many pixels") from None
    if im.width * im.height > MAX_PIXELS:
        im.close()
        raise MediaError("too many pixels")
    return im


def sniff(path: Path, decode: bool = True) -> Sniffed | None:
    """The file's real kind from its content; None when it is none of the accepted kinds.
    `decode=False` skips decoding images to catch truncation, for callers that decode anyway.

    Raises MediaError for an image with more than MAX_PIXELS pixels.
    """
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
    if head.startswith(b"PK\x03\x04"):
        return _ooxml(path)
    return _sniff_image(path, decode)


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


def _ooxml(path: Path) -> Sniffed | None:
    # Only the central directory is read: member names, never their (possibly bomb) contents.
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    for prefix, (mime, ext) in OOXML.items():
        if any(name.startswith(prefix) for name in names):
            return Sniffed("file", mime, ext)
    return None


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


def thumbnail(path: Path, out: Path, max_side: int = 1024) -> tuple[int, int]:
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

"""Sniffing files by content, reading photo facts, and metadata-free thumbnails, on real files."""

from __future__ import annotations

import struct
import zipfile
import zlib
from datetime import datetime
from pathlib import Path

import pillow_heif
import pytest
from PIL import Image, ImageCms
from PIL.JpegImagePlugin import JpegImageFile

from bot.media import MAX_PIXELS, ImageFacts, MediaError, Sniffed, image_facts, sniff, thumbnail

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _exif(orientation: int | None = None, lat_ref: str = "N", lon_ref: str = "E") -> Image.Exif:
    exif = Image.Exif()
    exif[0x0132] = "2020:01:01 00:00:00"  # DateTime: the later edit, not the shot
    exif[0x010F] = "PhoneMaker"
    if orientation:
        exif[0x0112] = orientation
    exif[0x8769] = {0x9003: "2025:08:15 09:30:05"}  # DateTimeOriginal
    exif[0x8825] = {1: lat_ref, 2: (13.0, 45.0, 36.0), 3: lon_ref, 4: (100.0, 30.0, 0.0)}
    return exif


def _jpeg(path: Path, size=(64, 48), **save) -> Path:
    Image.new("RGB", size, (200, 120, 40)).save(path, "JPEG", **save)
    return path


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_claiming(path: Path, width: int, height: int) -> Path:
    """A few hundred bytes whose header claims width x height 1-bit pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    body = _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


def _zip(path: Path, names: list[str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return path


# --- sniff -----------------------------------------------------------------------------------


def test_images_are_known_by_content_not_name(tmp_path):
    _jpeg(tmp_path / "a.png")
    Image.new("RGBA", (8, 8), (0, 0, 0, 0)).save(tmp_path / "b.jpg", "PNG")
    Image.new("RGB", (8, 8)).save(tmp_path / "c.bin", "WEBP")
    Image.new("P", (8, 8)).save(tmp_path / "d", "GIF")
    Image.new("RGB", (16, 16), "green").save(tmp_path / "e.jpg", "HEIF")
    assert sniff(tmp_path / "a.png") == Sniffed("image", "image/jpeg", "jpg")
    assert sniff(tmp_path / "b.jpg") == Sniffed("image", "image/png", "png")
    assert sniff(tmp_path / "c.bin") == Sniffed("image", "image/webp", "webp")
    assert sniff(tmp_path / "d") == Sniffed("image", "image/gif", "gif")
    assert sniff(tmp_path / "e.jpg") == Sniffed("image", "image/heic", "heic")


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    box = major + b"\x00\x00\x02\x00" + b"".join(compatible)
    return struct.pack(">I", 8 + len(box)) + b"ftyp" + box + b"\x00\x00\x00\x08free"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (_ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41"), ("video", "video/mp4", "mp4")),
        (_ftyp(b"mp42", b"mp42", b"isom"), ("video", "video/mp4", "mp4")),
        (_ftyp(b"M4V ", b"M4V ", b"mp42"), ("video", "video/mp4", "mp4")),
        (_ftyp(b"qt  ", b"qt  "), ("video", "video/quicktime", "mov")),
        (_ftyp(b"3gp4", b"3gp4", b"isom"), ("video", "video/3gpp", "3gp")),
        (
            bytes.fromhex("1A45DFA3 9F4286 8101") + b"\x42\x82\x84webm",
            ("video", "video/webm", "webm"),
        ),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", ("file", "application/pdf", "pdf")),
        (
            bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 504,
            ("file", "application/x-ole-storage", "doc"),
        ),
        # Image brands in a box that holds no picture: neither a video nor an image.
        (_ftyp(b"heic", b"mif1", b"heic"), None),
        (_ftyp(b"mif1", b"mif1", b"heic"), None),
        (_ftyp(b"avif", b"avif", b"mif1"), None),
        (_ftyp(b"abcd", b"efgh"), None),
        (b"hello, this is text pretending to be a photo\n", None),
        (b"", None),
    ],
)
def test_sniff_headers(tmp_path, head, expected):
    path = tmp_path / "upload.jpg"
    path.write_bytes(head)
    assert sniff(path) == (Sniffed(*expected) if expected else None)


def test_office_zips_are_told_apart_by_member_names(tmp_path):
    docx = _zip(tmp_path / "a.zip", ["[Content_Types].xml", "_rels/.rels", "word/document.xml"])
    xlsx = _zip(tmp_path / "b.doc", ["[Content_Types].xml", "xl/workbook.xml", "xl/sheet1.xml"])
    pptx = _zip(tmp_path / "c", ["[Content_Types].xml", "ppt/presentation.xml"])
    other = _zip(tmp_path / "d.docx", ["readme.txt", "src/main.py"])
    assert sniff(docx) == Sniffed("file", DOCX, "docx")
    assert sniff(xlsx) == Sniffed("file", XLSX, "xlsx")
    assert sniff(pptx).ext == "pptx"
    assert sniff(other) is None
    broken = tmp_path / "e.docx"
    broken.write_bytes(docx.read_bytes()[:40])  # local header only, no central directory
    assert sniff(broken) is None


def test_truncated_images_are_not_images(tmp_path):
    whole = _jpeg(tmp_path / "whole.jpg", size=(300, 200), quality=95).read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole[: len(whole) // 2])
    assert sniff(cut) is None
    with pytest.raises(MediaError):
        thumbnail(cut, tmp_path / "thumb.jpg")

    Image.new("RGB", (300, 200), "red").save(tmp_path / "whole.png")
    png = (tmp_path / "whole.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(png[: len(png) - 20])
    assert sniff(tmp_path / "cut.png") is None


# bot.media turns this warning into an error at import; pytest resets filters, so say it again.
@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")
def test_decompression_bombs_are_refused(tmp_path):
    assert MAX_PIXELS < 7000 * 7000  # over the limit, under Pillow's own hard stop
    for width, height in [(20000, 20000), (7000, 7000)]:
        bomb = _png_claiming(tmp_path / f"bomb{width}.png", width, height)
        assert bomb.stat().st_size < 1000
        with pytest.raises(MediaError, match="too many pixels"):
            sniff(bomb)
        with pytest.raises(MediaError, match="too many pixels"):
            thumbnail(bomb, tmp_path / "thumb.jpg")
        with pytest.raises(MediaError, match="too many pixels"):
            image_facts(bomb)


# --- image_facts -----------------------------------------------------------------------------


def test_facts_from_exif(tmp_path):
    north = _jpeg(tmp_path / "n.jpg", exif=_exif())
    facts = image_facts(north)
    assert facts.width == 64 and facts.height == 48
    assert facts.taken_at == datetime(2025, 8, 15, 9, 30, 5)
    assert facts.gps == pytest.approx((13.76, 100.5))

    south = _jpeg(tmp_path / "s.jpg", exif=_exif(lat_ref="S", lon_ref="W"))
    assert image_facts(south).gps == pytest.approx((-13.76, -100.5))


def test_facts_without_exif(tmp_path):
    Image.new("RGBA", (30, 20)).save(tmp_path / "a.png")
    assert image_facts(tmp_path / "a.png") == ImageFacts(30, 20, None, None)
    (tmp_path / "text.jpg").write_text("not an image")
    with pytest.raises(MediaError):
        image_facts(tmp_path / "text.jpg")


def test_facts_from_heic(tmp_path):
    heic = tmp_path / "a.heic"
    Image.new("RGB", (40, 30), "blue").save(heic, "HEIF", exif=_exif().tobytes())
    facts = image_facts(heic)
    assert (facts.width, facts.height) == (40, 30)
    assert facts.taken_at == datetime(2025, 8, 15, 9, 30, 5)
    assert facts.gps == pytest.approx((13.76, 100.5))


# --- thumbnail -------------------------------------------------------------------------------


def _assert_no_metadata(out: Path) -> None:
    data = out.read_bytes()
    assert b"Exif" not in data and b"PhoneMaker" not in data
    assert b"ICC_PROFILE" not in data and b"http://ns.adobe.com/xap" not in data
    with Image.open(out) as im:
        assert im.format == "JPEG"
        assert not im.getexif()
        assert "icc_profile" not in im.info and "comment" not in im.info


def test_thumbnail_of_a_big_photo_is_small_upright_and_clean(tmp_path, monkeypatch):
    scales = []
    original_draft = JpegImageFile.draft

    def spy(self, mode, size):
        result = original_draft(self, mode, size)
        scales.append(result)
        return result

    monkeypatch.setattr(JpegImageFile, "draft", spy)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    photo = _jpeg(
        tmp_path / "big.jpg",
        size=(2000, 1500),
        exif=_exif(),
        icc_profile=srgb,
        xmp=b"<x:xmpmeta>secret place</x:xmpmeta>",
        comment=b"PhoneMaker comment",
    )
    out = tmp_path / "thumb.jpg"
    assert thumbnail(photo, out, max_side=400) == (400, 300)
    # JPEG was decoded at reduced scale (2000x1500 -> 500x375 still covers 400).
    assert scales and scales[-1] is not None and scales[-1][1][2] == 500
    with Image.open(out) as im:
        assert im.size == (400, 300)
    _assert_no_metadata(out)


def test_thumbnail_applies_exif_orientation(tmp_path):
    im = Image.new("RGB", (200, 100), "red")
    im.paste((0, 0, 255), (100, 0, 200, 100))  # left half red, right half blue
    src = tmp_path / "rotated.jpg"
    im.save(src, "JPEG", exif=_exif(orientation=6), quality=95)
    assert (image_facts(src).width, image_facts(src).height) == (100, 200)

    out = tmp_path / "thumb.jpg"
    assert thumbnail(src, out, max_side=100) == (50, 100)
    with Image.open(out) as thumb:
        # Orientation 6 means "turn 90° clockwise to view": the left (red) half ends up on top.
        top, bottom = thumb.getpixel((25, 10)), thumb.getpixel((25, 90))
    assert top[0] > 200 and top[2] < 60
    assert bottom[2] > 200 and bottom[0] < 60
    _assert_no_metadata(out)


def test_thumbnail_flattens_transparency_on_white(tmp_path):
    im = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    im.paste((0, 128, 0, 255), (0, 0, 150, 300))
    im.save(tmp_path / "alpha.png")
    out = tmp_path / "thumb.jpg"
    assert thumbnail(tmp_path / "alpha.png", out, max_side=120) == (120, 120)
    with Image.open(out) as thumb:
        assert thumb.mode == "RGB"
        assert min(thumb.getpixel((110, 60))) > 245  # was transparent: now white
        assert thumb.getpixel((10, 60))[1] > 100  # green stays green


def test_thumbnail_of_heic_and_small_images(tmp_path):
    heic = tmp_path / "a.heic"
    pillow_heif.from_pillow(Image.new("RGB", (1200, 900), "blue")).save(heic, quality=50)
    out = tmp_path / "thumb.jpg"
    assert thumbnail(heic, out) == (1024, 768)
    _assert_no_metadata(out)
    small = _jpeg(tmp_path / "small.jpg", size=(64, 48), exif=_exif())
    assert thumbnail(small, out) == (64, 48)  # never enlarged
    _assert_no_metadata(out)

"""Hostile files sent as evidence: zip bombs, decompression-bomb images, polyglots, empty files
and file names that try to climb out of the storage folder. Each is refused with a Thai message
naming the problem (or, for a name, shown cleaned), and nothing lands outside the storage root.
"""

from __future__ import annotations

import functools
import hashlib
import io
import random
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook
from PIL import Image, ImageFile

from bot import media
from bot.media import MAX_PIXELS, ZipBomb, ZipLimits, sniff
from tests.test_evidence import photo, rows_of, somsri  # noqa: F401 - the fixture

GIB = 1 << 30
MIB = 1 << 20
DOCX_TYPES = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
DOCUMENT = b'<?xml version="1.0"?><w:document xmlns:w="urn:w"><w:body/></w:document>'


# --- building hostile files ------------------------------------------------------------------


@functools.cache
def _zeros_deflated(n_mib: int) -> tuple[bytes, int]:
    """A raw deflate stream of n MiB of zeros (about 1 KB per MiB) and its CRC-32, built from
    one compressed MiB repeated: a full flush makes every repeat byte-for-byte the same."""
    zeros = bytes(MIB)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(n_mib):
        crc = zlib.crc32(zeros, crc)
    return segment * n_mib + deflate.flush(zlib.Z_FINISH), crc


def raw_zip(entries: list[tuple[str, bytes, int, int, int]], shared: bool = False) -> bytes:
    """A ZIP written by hand from (name, deflated data, uncompressed size, crc, method) entries,
    so sizes can be huge (or lie). `shared` points every directory entry at the first local
    entry's data, the way a small "overlapping" bomb holds thousands of big files."""
    out = io.BytesIO()
    directory = []
    for name, data, size, crc, method in entries:
        encoded = name.encode()
        offset = out.tell()
        if not (shared and directory):
            out.write(
                struct.pack(
                    "<4s5H3L2H",
                    b"PK\x03\x04",
                    20,
                    0,
                    method,
                    0,
                    0,
                    crc,
                    len(data),
                    size,
                    len(encoded),
                    0,
                )
                + encoded
                + data
            )
        else:
            offset = directory[0][-1]
        directory.append((encoded, crc, len(data), size, method, offset))
    start = out.tell()
    for encoded, crc, packed, size, method, offset in directory:
        out.write(
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                20,
                20,
                0,
                method,
                0,
                0,
                crc,
                packed,
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
    end = out.tell()
    out.write(
        struct.pack(
            "<4s4H2LH", b"PK\x05\x06", 0, 0, len(directory), len(directory), end - start, start, 0
        )
    )
    return out.getvalue()


def _stored(name: str, data: bytes) -> tuple[str, bytes, int, int, int]:
    return (name, data, len(data), zlib.crc32(data), 0)


def _zeros(name: str, n_mib: int) -> tuple[str, bytes, int, int, int]:
    data, crc = _zeros_deflated(n_mib)
    return (name, data, n_mib * MIB, crc, 8)


def docx(*extra: tuple[str, bytes, int, int, int], shared: bool = False) -> bytes:
    base = [_stored("[Content_Types].xml", DOCX_TYPES), _stored("word/document.xml", DOCUMENT)]
    if shared:
        return raw_zip([*extra, *base], shared=True)
    return raw_zip([*base, *extra])


def xlsx() -> bytes:
    """A real spreadsheet, as Excel or LibreOffice would send it."""
    book = Workbook()
    sheet = book.active
    for row in range(1, 200):
        sheet.append([row, f"ครัวเรือนที่ {row}", row * 1500])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A few hundred bytes whose header claims width x height pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = (
        chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 4096)) + chunk(b"IEND", b"")
    )
    return b"\x89PNG\r\n\x1a\n" + body


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header (SOF0) is rewritten to claim width x height."""
    data = bytearray(photo(42, (64, 48)))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def jpeg_with_comment(text: bytes, seed: int = 7) -> bytes:
    """A real, decodable JPEG carrying `text` in a comment segment right after its start."""
    data = photo(seed)
    return data[:2] + b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text + data[2:]


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def a_zip(name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(name, content)
    return out.getvalue()


# --- the app around it -----------------------------------------------------------------------


def _files(root: Path, skip: set[Path]) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file() and not any(s in p.parents for s in skip)}


@pytest.fixture
def collecting(somsri):  # noqa: F811
    """Somsri, sending evidence for her first activity."""
    somsri.say("แผนของฉัน")
    somsri.tap("ดูกิจกรรม")
    somsri.tap("ส่งหลักฐาน")
    return somsri


@pytest.fixture
def watched(app, tmp_path: Path, database_url: str) -> Iterator[Path]:
    """The storage root; afterwards, every file written around it during the test must be an
    evidence object named by its hash, with the staging folder empty, and /etc/passwd as it
    was (the run is root here: a path taken from a file name would really overwrite it)."""
    root = Path(app.config["EVIDENCE_STORAGE_URL"])
    around = tmp_path.parent  # this test's and earlier tests' folders
    skip = (
        {Path(database_url.removeprefix("sqlite:///")).parent}
        if "sqlite" in database_url
        else set()
    )
    before = _files(around, skip)
    passwd = hashlib.sha256(Path("/etc/passwd").read_bytes()).hexdigest()
    yield root
    new = _files(around, skip) - before
    outside = [p for p in new if root not in p.parents]
    assert outside == [], f"written outside the storage root: {outside}"
    for path in new:
        kind, prefix, name = path.relative_to(root).parts
        assert kind in {"objects", "thumbs"} and name.startswith(prefix)
        assert len(name.split(".")[0]) == 64  # a SHA-256, never the sender's name
    staging = root / ".staging"
    assert not staging.exists() or list(staging.iterdir()) == []
    assert hashlib.sha256(Path("/etc/passwd").read_bytes()).hexdigest() == passwd


def stored(person) -> list:
    return [r for r in rows_of(person) if r.status == "stored"]


# --- zip bombs -------------------------------------------------------------------------------

BOMB = "ถูกบีบอัดไว้ผิดปกติ"


def test_office_zip_bombs_are_refused_and_real_office_files_kept(collecting, watched):
    leader = collecting
    bombs = {
        # 4 GiB of zeros in 4 MB: sizes honestly declared.
        "honest.docx": docx(*[_zeros(f"word/media/zero{n}.bin", 1024) for n in range(4)]),
        # Fifty directory entries sharing one 1 GiB stream: 50 GiB "in" 1 MB.
        "overlap.docx": docx(*[_zeros(f"word/x{n}.xml", 1024) for n in range(50)], shared=True),
        # The header says 1 KB; the stream says 64 MiB.
        "liar.docx": docx(("word/styles.xml", _zeros_deflated(64)[0], 1024, 0, 8)),
        # Small outside, the bomb packed in an embedded archive (as 42.zip does).
        "nested.docx": docx(
            _stored(
                "word/embeddings/package.zip", raw_zip([_zeros(f"z{n}", 1024) for n in range(3)])
            )
        ),
        "deep.docx": docx(
            _stored(
                "word/embeddings/a.zip",
                a_zip("b.zip", a_zip("c.zip", a_zip("d.txt", b"down the rabbit hole"))),
            )
        ),
    }
    for name, data in bombs.items():
        assert len(data) < 6 * MIB, name
        leader.send_file(data, name)
        assert BOMB in leader.last_text, name
        assert not leader.last_text.startswith("รับไฟล์")

    leader.send_file(xlsx(), "ครัวเรือน.xlsx")
    assert leader.last_text == "รับไฟล์ ครัวเรือน.xlsx แล้วค่ะ"
    leader.send_file(docx(_stored("word/embeddings/chart.xlsx", xlsx())), "รายงาน.docx")
    assert leader.last_text == "รับไฟล์ รายงาน.docx แล้วค่ะ"

    rows = rows_of(leader)
    refused = [r for r in rows if r.status == "refused"]
    assert len(refused) == len(bombs)
    assert all(r.last_error.startswith("zip bomb") and r.storage_key is None for r in refused)
    assert [r.mime_type.rsplit(".", 1)[1] for r in stored(leader)] == ["sheet", "document"]


def _bomb_reason(tmp_path: Path, data: bytes, limits: ZipLimits) -> str:
    path = tmp_path / "upload.part"
    path.write_bytes(data)
    with pytest.raises(ZipBomb) as caught:
        sniff(path, zip_limits=limits)
    assert list(tmp_path.iterdir()) == [path]  # nested archives were unpacked to temp files, gone
    return str(caught.value)


def test_each_zip_bomb_trick_is_caught_on_its_own(tmp_path):
    """With the other checks loosened, each check still catches its own trick."""
    loose = ZipLimits(unpacked=100 * GIB, ratio=10**9, entries=10**6, depth=5)
    honest = docx(_zeros("word/a.bin", 1024))
    assert _bomb_reason(tmp_path, honest, ZipLimits(ratio=10**9)) == "declares more than the limit"
    assert _bomb_reason(tmp_path, honest, ZipLimits(unpacked=10 * GIB)) == "compression ratio"
    overlap = docx(*[_zeros(f"word/{n}.xml", 1) for n in range(3)], shared=True)
    assert _bomb_reason(tmp_path, overlap, loose) == "overlapping entries"
    liar = docx(("word/a.xml", _zeros_deflated(4)[0], 1024, 0, 8))
    assert _bomb_reason(tmp_path, liar, loose) == "entry larger than declared"
    nested = docx(_stored("word/e.zip", raw_zip([_zeros("z", 64)])))
    # Small outside (a 64 KB entry): the inner archive's own claim is what gives it away.
    assert (
        _bomb_reason(tmp_path, nested, ZipLimits(unpacked=32 * MIB))
        == "declares more than the limit"
    )
    deep = docx(_stored("word/a.zip", a_zip("b.zip", a_zip("c.txt", b"x"))))
    assert _bomb_reason(tmp_path, deep, ZipLimits(depth=1)) == "archives nested too deep"
    many = docx(*[_stored(f"word/{n}.xml", b"<x/>") for n in range(30)])
    assert _bomb_reason(tmp_path, many, ZipLimits(entries=20)) == "32 entries"
    # The same files pass when the limits allow them: the checks are not just refusing ZIPs.
    path = tmp_path / "ok.part"
    path.write_bytes(deep)
    assert sniff(path, zip_limits=loose).ext == "docx"


# --- decompression-bomb images -----------------------------------------------------------------

PIXELS = "มีจำนวนพิกเซลมากเกินไป"


# bot.media turns this warning into an error at import; pytest resets filters, so say it again.
@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")
def test_decompression_bomb_images_are_refused_before_any_pixel_is_decoded(
    collecting, watched, monkeypatch
):
    # Watch what Pillow decodes (not a stand-in: the real load runs): nothing over the limit.
    decoded: list[tuple[int, int]] = []
    real_load = ImageFile.ImageFile.load

    def load(self: ImageFile.ImageFile):  # type: ignore[no-untyped-def]
        decoded.append(self.size)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    leader = collecting
    bombs = [
        png_claiming(50_000, 50_000),
        png_claiming(7_000, 7_000),
        jpeg_claiming(50_000, 50_000),
    ]
    assert MAX_PIXELS < 7_000 * 7_000 and all(len(b) < 2_000 for b in bombs)
    for bomb in bombs:
        leader.send_photos(bomb)
        assert PIXELS in leader.last_text and "40 ล้านพิกเซล" in leader.last_text
    leader.send_file(png_claiming(30_000, 30_000), "แผนที่.png")  # as a file, the same
    assert PIXELS in leader.last_text

    leader.send_photos(photo(3, (1600, 1200)))
    assert leader.last_text == "รับรูปที่ 1 แล้วค่ะ"
    assert decoded  # the good photo was decoded (for its thumbnail) while we watched
    assert all(w * h <= MAX_PIXELS for w, h in decoded)
    rows = rows_of(leader)
    assert [r.status for r in rows] == ["refused"] * 4 + ["stored"]
    assert all(r.thumb_key is None for r in rows[:4]) and rows[4].thumb_key


# --- polyglots ---------------------------------------------------------------------------------

HIDDEN = "มีไฟล์ชนิดอื่นแฝงอยู่ภายใน"


def test_polyglot_files_are_refused(collecting, watched):
    leader = collecting
    photos = {
        "JPEG + ZIP": photo(21) + a_zip("index.html", b"<script>alert(1)</script>"),
        "JPEG + PDF": jpeg_with_comment(PDF[:40]) + PDF,
        "JPEG + HTML": jpeg_with_comment(b"<html><script>fetch('/x')</script></html>"),
    }
    for what, data in photos.items():
        with Image.open(io.BytesIO(data)) as im:
            im.load()  # a real photo to any image viewer
        leader.send_photos(data)
        assert f"รูปนี้{HIDDEN}" in leader.last_text, what
    files = {
        "pdf-with-jpeg-header.pdf": jpeg_with_comment(PDF, seed=8),
        "pdf-and-zip.pdf": PDF + a_zip("payload.exe", b"MZ" + bytes(100)),
        "pdf-and-html.pdf": PDF[:9] + b"<html><body onload=alert(1)>" + PDF[9:],
        "docx-and-html.docx": docx(_stored("word/a.htm", b"<!DOCTYPE html><script>x()</script>")),
    }
    for name, data in files.items():
        leader.send_file(data, name)
        assert f"ไฟล์นี้{HIDDEN}" in leader.last_text, name
    rows = rows_of(leader)
    assert {r.status for r in rows} == {"refused"}
    assert all(r.last_error.startswith("polyglot") for r in rows)


def test_android_motion_photos_are_not_polyglots(collecting):
    """Pixel and Samsung phones append a video after the JPEG: that is not a hidden file kind
    a browser or reader would open, and leaders send such photos every day."""
    video = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(
        random.Random(1).randbytes(50_000)
    )
    collecting.send_photos(photo(30) + video)
    assert collecting.last_text == "รับรูปที่ 1 แล้วค่ะ"


# --- empty files ---------------------------------------------------------------------------------


def test_empty_files_are_refused_by_name(collecting, watched):
    leader = collecting
    leader.send_photos(b"")
    assert "รูปที่ส่งมาว่างเปล่า" in leader.last_text
    leader.send_file(b"", "รายงาน.pdf")
    assert "ไฟล์ที่ส่งมาว่างเปล่า" in leader.last_text
    leader.send_video(b"")
    assert "วิดีโอที่ส่งมาว่างเปล่า" in leader.last_text
    assert [(r.status, r.last_error) for r in rows_of(leader)] == [("refused", "empty")] * 3


# --- file names ----------------------------------------------------------------------------------

NAMES = {
    "../../etc/passwd": "passwd",
    "..\\..\\..\\Windows\\win.ini": "win.ini",
    "/etc/shadow": "shadow",
    "C:\\Users\\สมศรี\\รายงาน.pdf": "รายงาน.pdf",
    "ok\x00.pdf\x00.sh": "ok.pdf.sh",
    "line\r\nbreak.pdf": "line break.pdf",
    "\u202efdp.exe": "fdp.exe",  # a right-to-left override that shows "exe.pdf"
    "../": None,
    "." * 300: None,
    "ก" * 5000 + ".pdf": "ก" * 115 + "….pdf",  # clipped to 120, the extension kept
}


def test_file_names_with_paths_are_shown_cleaned_and_never_used_as_paths(collecting, watched):
    leader = collecting
    for n, (name, shown) in enumerate(NAMES.items()):
        leader.send_file(PDF + f"% {n}\n".encode(), name)
        if shown is None:
            assert leader.last_text == "รับไฟล์ แล้วค่ะ"
        else:
            assert leader.last_text == f"รับไฟล์ {shown} แล้วค่ะ"
    rows = rows_of(leader)
    assert [r.file_name for r in rows] == list(NAMES.values())
    assert all(r.status == "stored" for r in rows)
    for row in rows:
        assert row.storage_key == f"objects/{row.content_hash[:2]}/{row.content_hash}.pdf"
    leader.say("เสร็จแล้ว")
    leader.tap("ดูหลักฐาน")
    shown_names = leader.last_text
    assert "passwd" in shown_names and "../" not in shown_names and "\\" not in shown_names


def test_media_module_limits_are_sane():
    """A plain real-world size passes each limit with room to spare."""
    limits = ZipLimits()
    assert limits.unpacked >= 15 * 20 * MIB  # a 20 MB document of XML unpacks ~15 times
    assert limits.depth >= 1 and media.MAX_PIXELS >= 4032 * 3024 * 2  # a 24 MP photo, twice

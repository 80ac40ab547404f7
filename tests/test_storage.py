"""Evidence storage: the same behaviour on a local folder and on a real S3 API (moto's server)."""

from __future__ import annotations

import hashlib
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import ConfigError
from bot.storage import (
    LocalStorage,
    S3Storage,
    Storage,
    StorageError,
    StorageMissing,
    TooLarge,
    from_url,
    spool,
)
from tests.conftest import S3_BUCKET as BUCKET
from tests.conftest import S3_SECRET as SECRET
from tests.conftest import s3_client as _client

KEY = "objects/ab/cdef0123.jpg"


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "local":
        return LocalStorage(tmp_path / "evidence")
    endpoint = request.getfixturevalue("s3_endpoint")
    # A fresh prefix per test keeps tests apart in the one bucket.
    return S3Storage(BUCKET, f"t/{uuid.uuid4().hex}", _client(endpoint), tmp_path / "staging")


def _spooled(storage: Storage, data: bytes) -> Path:
    return spool(storage, [data], limit=None).path


def _staged_files(storage: Storage) -> list[Path]:
    return list(storage.staging_dir().iterdir())


def test_put_then_read_back(storage):
    path = _spooled(storage, b"photo bytes")
    assert not storage.exists(KEY)
    assert storage.put(KEY, path, "image/jpeg") is True
    assert not path.exists()  # moved or uploaded, never left behind
    assert storage.exists(KEY)
    assert storage.size(KEY) == len(b"photo bytes")
    with storage.open(KEY) as stream:
        assert stream.read() == b"photo bytes"


def test_same_key_twice_keeps_the_first_and_drops_the_spool(storage):
    storage.put(KEY, _spooled(storage, b"first"), "image/jpeg")
    second = _spooled(storage, b"second")
    assert storage.put(KEY, second, "image/jpeg") is False
    assert not second.exists()
    with storage.open(KEY) as stream:
        assert stream.read() == b"first"
    assert _staged_files(storage) == []


def test_missing_objects(storage):
    with pytest.raises(StorageMissing):
        storage.open("objects/no/such.jpg")
    with pytest.raises(StorageMissing):
        storage.size("objects/no/such.jpg")
    storage.delete("objects/no/such.jpg")  # nothing to delete is fine


def test_delete(storage):
    storage.put(KEY, _spooled(storage, b"x"), "image/jpeg")
    storage.delete(KEY)
    assert not storage.exists(KEY)


def test_a_large_file_streams_in_parts(storage):
    chunk = bytes(range(256)) * 4096  # 1 MiB
    spooled = spool(storage, (chunk for _ in range(9)), limit=None)  # above the 8 MiB multipart cut
    assert storage.put(KEY, spooled.path, "video/mp4")
    digest = hashlib.sha256()
    with storage.open(KEY) as stream:
        while block := stream.read(300_000):
            digest.update(block)
    assert digest.hexdigest() == spooled.sha256
    assert storage.size(KEY) == 9 * len(chunk)


@pytest.mark.parametrize(
    "key",
    ["", "../x", "objects/../../x", "/etc/passwd", "a\\b", "a//b", "a/", "./a", ".staging/x"],
)
def test_bad_keys_are_refused(storage, key):
    path = _spooled(storage, b"x")
    with pytest.raises(ValueError):
        storage.exists(key)
    with pytest.raises(ValueError):
        storage.put(key, path, "image/jpeg")
    with pytest.raises(ValueError):
        storage.open(key)


def test_spool_hashes_and_counts_a_generator(storage):
    parts = [b"abc", b"", b"defg" * 1000]
    spooled = spool(storage, (p for p in parts), limit=10_000)
    assert spooled.size == 4003
    assert spooled.sha256 == hashlib.sha256(b"".join(parts)).hexdigest()
    assert spooled.path.read_bytes() == b"".join(parts)
    assert spooled.path.parent == storage.staging_dir()


def test_spool_stops_at_the_limit_and_leaves_nothing(storage):
    taken = []

    def chunks() -> Iterator[bytes]:
        for i in range(100):
            taken.append(i)
            yield b"x" * 100

    with pytest.raises(TooLarge) as caught:
        spool(storage, chunks(), limit=250)
    assert caught.value.limit == 250
    assert len(taken) == 3  # stopped reading at once
    assert _staged_files(storage) == []


def test_spool_cleans_up_when_the_source_fails(storage):
    def chunks() -> Iterator[bytes]:
        yield b"partial"
        raise ConnectionError("LINE went away")

    with pytest.raises(ConnectionError):
        spool(storage, chunks(), limit=None)
    assert _staged_files(storage) == []


def test_local_writes_are_atomic_renames(tmp_path):
    storage = LocalStorage(tmp_path)
    assert storage.staging_dir() == tmp_path / ".staging"
    path = _spooled(storage, b"data")
    storage.put(KEY, path, "image/jpeg")
    assert (tmp_path / KEY).read_bytes() == b"data"
    assert _staged_files(storage) == []


def test_s3_keeps_the_content_type_under_the_prefix(s3_endpoint, tmp_path):
    client = _client(s3_endpoint)
    storage = S3Storage(BUCKET, "/some/prefix/", client, tmp_path)
    storage.put(KEY, _spooled(storage, b"%PDF-1.7"), "application/pdf")
    head = client.head_object(Bucket=BUCKET, Key=f"some/prefix/{KEY}")
    assert head["ContentType"] == "application/pdf"


def test_unreachable_s3_raises_storage_error(tmp_path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = _client(f"http://127.0.0.1:{port}", retries={"max_attempts": 1}, connect_timeout=2)
    storage = S3Storage(BUCKET, "", client, tmp_path)
    with pytest.raises(StorageError) as caught:
        storage.exists(KEY)
    assert SECRET not in str(caught.value)
    path = _spooled(storage, b"x")
    with pytest.raises(StorageError):
        storage.put(KEY, path, "image/jpeg")
    assert not path.exists()
    with pytest.raises(StorageError):
        storage.open(KEY)
    with pytest.raises(StorageError):
        storage.delete(KEY)


def test_from_url_local(tmp_path):
    assert isinstance(from_url(None, tmp_path, {}), LocalStorage)
    assert from_url("", tmp_path, {}).root == tmp_path / "evidence"
    assert from_url(str(tmp_path / "ev"), tmp_path, {}).root == tmp_path / "ev"
    assert from_url(f"file://{tmp_path}/my%20ev", tmp_path, {}).root == tmp_path / "my ev"


def test_from_url_s3(tmp_path):
    env = {
        "EVIDENCE_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
        "AWS_REGION": "ap-southeast-1",
        "AWS_ACCESS_KEY_ID": "id",
        "AWS_SECRET_ACCESS_KEY": SECRET,
    }
    storage = from_url("s3://my-bucket/mchch/evidence/", tmp_path, env)
    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.prefix) == ("my-bucket", "mchch/evidence")
    assert storage.client.meta.endpoint_url == "http://127.0.0.1:9000"
    assert storage.client.meta.region_name == "ap-southeast-1"

    plain = from_url(
        "s3://my-bucket", tmp_path, {"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}
    )
    assert plain.prefix == ""
    assert plain.client.meta.region_name == "us-east-1"


@pytest.mark.parametrize(
    "url", ["http://example.org/x", "s3://", "s3:///prefix", "ftp://host/x", "file://host/x"]
)
def test_from_url_refuses_other_urls(tmp_path, url):
    with pytest.raises(ConfigError, match="EVIDENCE_STORAGE_URL"):
        from_url(url, tmp_path, {})

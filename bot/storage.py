"""Where evidence files live: a folder on this machine or an S3-compatible bucket.

Both backends take files the same way. The caller first spools the incoming bytes into a temp file
in `storage.staging_dir()` (see `spool`, which also hashes and measures them), then hands that file
to `put`. So a key never points at half a file, and nothing is ever held whole in memory.

`put` takes ownership of the spooled file: once it returns or raises, the file is gone.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from urllib.parse import unquote, urlparse

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from bot.config import ConfigError

log = logging.getLogger(__name__)

# Files from this size are uploaded to S3 in parts (boto3's default, said once for both uses).
MULTIPART_THRESHOLD = 8 * 1024 * 1024
TRANSFER = TransferConfig(multipart_threshold=MULTIPART_THRESHOLD)
URL_ERROR = "EVIDENCE_STORAGE_URL must be a directory path, file:// or s3://bucket/prefix URL"


class StorageError(Exception):
    """The backend failed (disk full, bucket unreachable). The message is short and safe to log."""


class StorageMissing(StorageError):
    """No object under this key."""


class TooLarge(Exception):
    """The incoming file is bigger than allowed; nothing was kept."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"file is larger than {limit} bytes")
        self.limit = limit


class Storage(Protocol):
    def staging_dir(self) -> Path: ...
    def exists(self, key: str) -> bool: ...
    def put(self, key: str, path: Path, content_type: str) -> bool: ...
    def open(self, key: str) -> BinaryIO: ...
    def delete(self, key: str) -> None: ...
    def size(self, key: str) -> int: ...
    def sweep(self, before: datetime) -> int: ...


def check_key(key: str) -> str:
    """Keys are relative slash paths; anything that could escape the root or hide in it fails."""
    if not key or "\\" in key or "\0" in key or key.startswith("/"):
        raise ValueError("invalid storage key")
    # Parts starting with "." cover "..", "." and our own ".staging" folder.
    if any(not part or part.startswith(".") for part in key.split("/")):
        raise ValueError("invalid storage key")
    return key


def _discard(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def staging_dir(self) -> Path:
        # Inside root, so the final os.replace stays on one filesystem and is atomic.
        staging = self.root / ".staging"
        try:
            staging.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError("cannot create the evidence staging folder") from exc
        return staging

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def put(self, key: str, path: Path, content_type: str) -> bool:
        try:
            target = self._path(key)
            if target.is_file():
                return False  # same content hash: already stored
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(path, target)
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
                # Spooled on another filesystem: copy next to the target first, then rename.
                fd, tmp = tempfile.mkstemp(dir=self.staging_dir(), suffix=".part")
                os.close(fd)
                try:
                    shutil.copyfile(path, tmp)
                    os.replace(tmp, target)
                finally:
                    _discard(Path(tmp))
            return True
        except OSError as exc:
            raise StorageError("cannot write the evidence file to disk") from exc
        finally:
            _discard(Path(path))

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError:
            raise StorageMissing("no such evidence file") from None
        except OSError as exc:
            raise StorageError("cannot read the evidence file") from exc

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError("cannot delete the evidence file") from exc

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            raise StorageMissing("no such evidence file") from None
        except OSError as exc:
            raise StorageError("cannot read the evidence file") from exc

    def sweep(self, before: datetime) -> int:
        """Remove what a killed process left in staging; returns how many went."""
        return _sweep_staging(self.root / ".staging", before)


def _sweep_staging(staging: Path, before: datetime) -> int:
    # Only our own: spooled files, and the work folders of summary documents (photos copied
    # for the PDF). One older than any lease belongs to no live fetch or build.
    removed = 0
    try:
        left = [*staging.glob("*.part"), *staging.glob("summary-*")]
    except OSError:
        return 0
    for path in left:
        with contextlib.suppress(OSError):
            if path.stat().st_mtime >= before.timestamp():
                continue
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed += 1
    return removed


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


class _S3Reader(io.RawIOBase):
    """A botocore StreamingBody as a real binary file; read failures become StorageError."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._body.read(len(buffer))
        except (BotoCoreError, OSError) as exc:
            raise StorageError("reading from object storage failed") from exc
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


class S3Storage:
    def __init__(self, bucket: str, prefix: str, client: Any, staging: Path | None = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client
        self._staging = Path(staging or Path(tempfile.gettempdir()) / "mchch-staging")

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _failed(self, action: str, exc: Exception) -> StorageError:
        # Only the error code goes into the message: never the endpoint's answer or credentials.
        code = _error_code(exc)
        return StorageError(f"object storage {action} failed" + (f" ({code})" if code else ""))

    def staging_dir(self) -> Path:
        try:
            self._staging.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError("cannot create the evidence staging folder") from exc
        return self._staging

    def _head(self, key: str) -> dict[str, Any] | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if _error_code(exc) in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise self._failed("lookup", exc) from exc
        except BotoCoreError as exc:
            raise self._failed("lookup", exc) from exc

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def put(self, key: str, path: Path, content_type: str) -> bool:
        try:
            if self.exists(key):
                return False
            multipart = path.stat().st_size >= MULTIPART_THRESHOLD
            if multipart:
                self._abort_uploads(key)  # a part-uploaded copy from a try that failed
            try:
                # upload_file streams from disk in parts; the file is never read whole.
                self.client.upload_file(
                    str(path),
                    self.bucket,
                    self._key(key),
                    ExtraArgs={"ContentType": content_type},
                    Config=TRANSFER,
                )
            except (BotoCoreError, ClientError, S3UploadFailedError, OSError) as exc:
                if multipart:
                    # boto3 aborts a failed multipart upload itself, unless the bucket is
                    # unreachable by then; parts left behind are still billed. Another try
                    # (or the sweep) aborts them once the bucket is back.
                    self._abort_uploads(key)
                raise self._failed("upload", exc) from exc
            return True
        except OSError as exc:
            raise StorageError("cannot read the spooled evidence file") from exc
        finally:
            _discard(Path(path))

    def _abort_uploads(self, key: str | None = None, before: datetime | None = None) -> int:
        """Abort unfinished multipart uploads of `key` (or, with `before`, of every key under
        the prefix started before then). Best effort: a cleanup that fails must not fail a put."""
        prefix = self._key(key) if key else (f"{self.prefix}/" if self.prefix else "")
        aborted = 0
        try:
            pages = self.client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self.bucket, Prefix=prefix
            )
            for page in pages:
                for upload in page.get("Uploads", []):
                    if key is not None and upload["Key"] != prefix:
                        continue
                    if before is not None and upload["Initiated"] >= before:
                        continue  # maybe still uploading, in another process
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                    aborted += 1
        except (BotoCoreError, ClientError) as exc:
            log.info("multipart uploads not cleaned up: %s", self._failed("cleanup", exc))
        return aborted

    def sweep(self, before: datetime) -> int:
        """Abort multipart uploads and remove staged files older than `before` (left by a
        failure the bucket was too far gone to clean up, or by a killed process)."""
        return self._abort_uploads(before=before) + _sweep_staging(self._staging, before)

    def open(self, key: str) -> BinaryIO:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if _error_code(exc) in {"404", "NoSuchKey", "NotFound"}:
                raise StorageMissing("no such evidence file") from None
            raise self._failed("download", exc) from exc
        except BotoCoreError as exc:
            raise self._failed("download", exc) from exc
        return io.BufferedReader(_S3Reader(response["Body"]), buffer_size=256 * 1024)  # type: ignore[return-value]

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (BotoCoreError, ClientError) as exc:
            raise self._failed("delete", exc) from exc

    def size(self, key: str) -> int:
        head = self._head(key)
        if head is None:
            raise StorageMissing("no such evidence file")
        return int(head["ContentLength"])


@dataclass(frozen=True)
class Spooled:
    path: Path
    size: int
    sha256: str


def _open_spool(fd: int) -> BinaryIO:
    # The one place evidence bytes are written to disk. Tests wrap it to make the disk fill up
    # part-way through a file: a full disk cannot be made portably (no mounts in CI).
    return os.fdopen(fd, "wb")


def spool(storage: Storage, chunks: Iterable[bytes], limit: int | None) -> Spooled:
    """Write chunks to a new temp file in the staging folder, hashing and counting as they pass.

    Raises TooLarge as soon as the size passes `limit`, StorageError when the disk fails (full,
    read-only), and whatever the chunks' source raises as it is; on any failure the temp file
    is removed. A returned file is complete on disk (flushed and synced), so the rename that
    `put` makes never publishes half a file, even after a crash.
    """
    try:
        fd, name = tempfile.mkstemp(dir=storage.staging_dir(), suffix=".part")
    except OSError as exc:
        raise StorageError("cannot create a temp file for the evidence") from exc
    path = Path(name)
    digest = hashlib.sha256()
    size = 0
    out = _open_spool(fd)
    try:
        for chunk in chunks:
            size += len(chunk)
            if limit is not None and size > limit:
                raise TooLarge(limit)
            digest.update(chunk)
            try:
                out.write(chunk)
            except OSError as exc:  # disk full, not the source failing
                raise StorageError("cannot write the evidence to disk") from exc
        try:
            # Buffered bytes and delayed allocation can fail only here (ENOSPC at close).
            out.flush()
            os.fsync(out.fileno())
            out.close()
        except OSError as exc:
            raise StorageError("cannot write the evidence to disk") from exc
    except BaseException:
        with contextlib.suppress(OSError):
            out.close()  # flushing the rest may fail again on a full disk: the file goes anyway
        _discard(path)
        raise
    return Spooled(path=path, size=size, sha256=digest.hexdigest())


def from_url(url: str | None, instance_path: Path, env: Mapping[str, str]) -> Storage:
    """EVIDENCE_STORAGE_URL: empty (instance/evidence), a folder, file:///folder or s3://bucket/prefix."""
    if not url:
        return LocalStorage(Path(instance_path) / "evidence")
    parsed = urlparse(url)
    if parsed.scheme == "":
        return LocalStorage(Path(url).expanduser().resolve())
    if parsed.scheme == "file":
        if parsed.netloc not in {"", "localhost"} or not parsed.path.startswith("/"):
            raise ConfigError(URL_ERROR)
        return LocalStorage(Path(unquote(parsed.path)))
    if parsed.scheme == "s3":
        if not parsed.netloc or parsed.query or parsed.fragment:
            raise ConfigError(URL_ERROR)
        return S3Storage(parsed.netloc, unquote(parsed.path).strip("/"), _s3_client(env))
    raise ConfigError(URL_ERROR)


def _s3_client(env: Mapping[str, str]) -> Any:
    endpoint = env.get("EVIDENCE_S3_ENDPOINT_URL") or env.get("AWS_ENDPOINT_URL") or None
    options: dict[str, Any] = {
        "connect_timeout": 10,
        "read_timeout": 60,
        "retries": {"max_attempts": 3, "mode": "standard"},
    }
    if endpoint:
        # S3-compatible servers (MinIO, moto, ...) usually want path-style addressing and no
        # optional checksum trailers.
        options["s3"] = {"addressing_style": "path"}
        options["request_checksum_calculation"] = "when_required"
    try:
        return boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            # None falls back to boto3's own chain (instance role, ~/.aws, ...).
            aws_access_key_id=env.get("AWS_ACCESS_KEY_ID") or None,
            aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") or None,
            aws_session_token=env.get("AWS_SESSION_TOKEN") or None,
            config=Config(**options),
        )
    except ValueError:
        raise ConfigError("EVIDENCE_S3_ENDPOINT_URL must be an http(s) URL") from None

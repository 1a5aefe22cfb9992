"""Where split files, run records and models are stored: a local folder (:class:`LocalStore`) or an S3 bucket
(:class:`S3Store`), the two :class:`~model_training.ports.Store` implementations.

Keys are ``/``-separated, like S3 keys.  Every write is atomic, so a reader (or a crash) never sees a
half-written object, and a rewrite of the same key with the same bytes is a no-op in effect: a local store
writes the bytes to a temporary file in its ``_tmp/`` folder (never into a channel folder, whose every file the
training container reads), flushes them to disk and renames the file into place; an S3 object exists only
once its upload (single or multipart) has completed.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from model_training.errors import ConfigurationError
from model_training.hashing import HashBehind
from model_training.ports import Chunk, StoredObject


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: Mode of the files written: 0666 less the process's umask, as open() would create them.
FILE_MODE = 0o666 & ~_umask()


#: The folder under a local store's root that holds files being written (``{pid}-*.tmp``).
TMP_FOLDER = "_tmp"


class LocalStore:
    """A folder used like a bucket.

    Args:
        root: the folder; created on first write.

    Keys that would escape the root (``..``, absolute keys, a symlink pointing outside) are refused
    with :class:`ConfigurationError`.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()
        self._swept = False

    def with_tags(self, tags: dict[str, str]) -> LocalStore:
        """The same store (files carry no tags)."""
        return self

    def path(self, key: str) -> Path:
        """The file path of ``key``.

        Raises:
            ConfigurationError: the key is empty, absolute, or resolves outside the root.
        """
        parts = key.split("/")
        if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise ConfigurationError(f"invalid object key {key!r}", "keys are relative paths without '.', '..' or '//'")
        path = self.root.joinpath(*parts)
        root = self.root.resolve()
        resolved = path.resolve()
        if resolved != root and root not in resolved.parents:
            raise ConfigurationError(f"object key {key!r} resolves outside {self.root}", "remove the symlink")
        return path

    def uri(self, key: str) -> str:
        """The ``file://`` URI of ``key``."""
        return self.path(key).as_uri()

    def exists(self, key: str) -> bool:
        """Whether an object exists at ``key``."""
        return self.path(key).is_file()

    def read_bytes(self, key: str) -> bytes:
        """The bytes at ``key``.

        Raises:
            FileNotFoundError: no object at ``key``.
        """
        return self.path(key).read_bytes()

    def write(self, key: str, chunks: Iterable[Chunk]) -> StoredObject:
        """Write ``chunks`` to ``key`` atomically; returns its size and SHA-256 (computed as written)."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = HashBehind()
        size = 0
        fd, tmp = self._temporary()
        try:
            os.fchmod(fd, FILE_MODE)  # mkstemp creates 0600; outputs are ordinary files
            with os.fdopen(fd, "wb") as fh:
                for chunk in chunks:
                    fh.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                fh.flush()
                os.fsync(fh.fileno())
                st = os.fstat(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        stamp = (st.st_dev, st.st_ino, st.st_mtime_ns)
        return StoredObject(key=key, uri=path.as_uri(), size_bytes=size, sha256=digest.hexdigest(), stamp=stamp)

    def write_bytes(self, key: str, data: bytes) -> StoredObject:
        """Write ``data`` to ``key`` atomically."""
        return self.write(key, [data])

    def _temporary(self) -> tuple[int, str]:
        """A new temporary file in ``{root}/_tmp/``, named ``{pid}-...tmp`` (never inside a channel folder,
        whose every file the training container reads); the first call removes the temporary files of
        processes that are gone (a killed run's)."""
        from model_training.processes import sweep_dead

        folder = self.root / TMP_FOLDER
        if not self._swept:
            folder.mkdir(parents=True, exist_ok=True)
            sweep_dead(folder, "")
            self._swept = True
        try:
            return tempfile.mkstemp(prefix=f"{os.getpid()}-", suffix=".tmp", dir=folder)
        except FileNotFoundError:  # removed meanwhile
            folder.mkdir(parents=True, exist_ok=True)
            return tempfile.mkstemp(prefix=f"{os.getpid()}-", suffix=".tmp", dir=folder)

    def sweep(self, prefix: str) -> None:
        """Remove what a killed run left: dead processes' files in ``{root}/_tmp/``, and temporary files of
        older versions of this store (``.{name}.*.tmp``) under the folder ``prefix``."""
        from model_training.processes import sweep_dead

        sweep_dead(self.root / TMP_FOLDER, "")
        self._swept = True
        base = self.path(prefix.rstrip("/"))
        if base.is_dir():
            for stale in base.rglob(".*.tmp"):
                with contextlib.suppress(OSError):
                    stale.unlink()

    def delete(self, key: str) -> None:
        """Remove ``key`` if it exists."""
        self.path(key).unlink(missing_ok=True)

    def create_exclusive(self, key: str, data: bytes) -> bool:
        """Create ``key`` with ``data`` only if it does not exist; ``False`` if it did.  The bytes are written
        to a temporary file first and linked into place (``link`` fails if the name exists), so a reader
        never sees the object without its content."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = self._temporary()
        try:
            os.fchmod(fd, FILE_MODE)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                return False
            return True
        finally:
            Path(tmp).unlink(missing_ok=True)

    def age_seconds(self, key: str) -> float | None:
        """Seconds since ``key`` was written, or ``None`` if it does not exist."""
        import time

        try:
            return time.time() - self.path(key).stat().st_mtime
        except FileNotFoundError:
            return None

    def list(self, prefix: str) -> Iterator[str]:
        """Keys under ``prefix`` (a folder key), sorted."""
        base = self.path(prefix.rstrip("/"))
        if not base.is_dir():
            return iter(())
        rel = sorted(p.relative_to(self.root).as_posix() for p in base.rglob("*") if p.is_file())
        return iter(rel)

    def verify(self, obj: StoredObject) -> bool:
        """Whether the file at ``obj.key`` is the one written: the same device, inode, size and
        modification time (``obj.stamp``; a file written elsewhere is hashed instead).

        The file was written to a temporary name, flushed to disk and renamed into place by
        :meth:`write`, which hashed the bytes as they went; reading it back right away would only read
        the page cache that ``write`` just filled, so what is checked is that nothing replaced, truncated
        or rewrote it since (the counterpart of :meth:`S3Store.verify`'s ``HeadObject``).  A same-size
        rewrite within the file system's clock tick (a few ms) is not seen.
        """
        path = self.path(obj.key)
        try:
            st = path.stat()
        except FileNotFoundError:
            return False
        if not path.is_file() or st.st_size != obj.size_bytes:
            return False
        if obj.stamp is not None:
            return (st.st_dev, st.st_ino, st.st_mtime_ns) == obj.stamp
        digest = HashBehind()
        with path.open("rb") as fh:
            while chunk := fh.read(8 * 1024 * 1024):
                digest.update(chunk)
        return digest.hexdigest() == obj.sha256


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> ``(bucket, key)``.

    Raises:
        ConfigurationError: not an ``s3://`` URI with a bucket.
    """
    if not uri.startswith("s3://") or len(uri) <= 5:
        raise ConfigurationError(f"{uri!r} is not an s3:// URI", "write s3://bucket/key")
    bucket, _, key = uri[5:].partition("/")
    if not bucket:
        raise ConfigurationError(f"{uri!r} has no bucket", "write s3://bucket/key")
    return bucket, key


class S3Store:
    """A bucket, through boto3.

    Writes use boto3's managed transfer (``upload_fileobj``: multipart above ``multipart_threshold``),
    with server-side encryption (``AES256`` by default, ``aws:kms`` with ``kms_key_id``), the tag
    ``ProcessedTime=<ISO-8601 UTC>`` plus ``tags``, and the SHA-256 of the bytes as the object's
    ``sha256`` metadata, which :meth:`verify` compares with a ``HeadObject``.

    Args:
        bucket: the bucket name.
        sse: ``AES256`` or ``aws:kms``.
        kms_key_id: the KMS key for ``aws:kms``.
        tags: lineage tags put on every object written (run id, source).
        multipart_threshold: bytes above which uploads are multipart (default 64 MiB).
    """

    def __init__(
        self,
        bucket: str,
        *,
        sse: str = "AES256",
        kms_key_id: str | None = None,
        tags: dict[str, str] | None = None,
        multipart_threshold: int = 64 * 1024 * 1024,
        root: str = "",
        client: Any = None,
    ) -> None:
        from model_training import aws

        if sse not in ("AES256", "aws:kms"):
            raise ConfigurationError(f"server-side encryption {sse!r} is not supported", "use AES256 or aws:kms")
        self.bucket = bucket
        self.root = root.strip("/")
        self.sse = sse
        self.kms_key_id = kms_key_id
        self.tags = dict(tags or {})
        self.multipart_threshold = multipart_threshold
        self.client = client or aws.client("s3")

    def with_tags(self, tags: dict[str, str]) -> S3Store:
        """A store that also puts ``tags`` (lineage: run id, source object) on every object it writes."""
        merged = {**self.tags, **{k: _s3_tag_value(v) for k, v in tags.items()}}
        return S3Store(
            self.bucket,
            sse=self.sse,
            kms_key_id=self.kms_key_id,
            tags=merged,
            multipart_threshold=self.multipart_threshold,
            root=self.root,
            client=self.client,
        )

    def key(self, key: str) -> str:
        """The object key of ``key`` under the store's root prefix."""
        return f"{self.root}/{key}" if self.root else key

    def uri(self, key: str) -> str:
        """``s3://bucket/{root/}key``."""
        return f"s3://{self.bucket}/{self.key(key)}"

    def exists(self, key: str) -> bool:
        """Whether ``key`` exists (``HeadObject``)."""
        from model_training.aws import error_code

        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(key))
            return True
        except Exception as exc:
            if error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def read_bytes(self, key: str) -> bytes:
        """The bytes at ``key``."""
        return bytes(self.client.get_object(Bucket=self.bucket, Key=self.key(key))["Body"].read())

    def write(self, key: str, chunks: Iterable[Chunk]) -> StoredObject:
        """Upload ``chunks`` to ``key`` (spooled to a temporary file above 32 MiB, so memory stays bounded).

        Raises:
            ConfigurationError: AWS refused the write (``AccessDenied``), naming the object and the permission.
        """
        import datetime as dt
        from urllib.parse import urlencode

        from boto3.s3.transfer import TransferConfig

        digest = HashBehind()
        size = 0
        with tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024) as fh:
            for chunk in chunks:
                fh.write(chunk)
                digest.update(chunk)
                size += len(chunk)
            fh.seek(0)
            tags = {"ProcessedTime": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **self.tags}
            extra: dict[str, Any] = {
                "ServerSideEncryption": self.sse,
                "Tagging": urlencode(tags),
                "Metadata": {"sha256": digest.hexdigest()},
                "ContentType": "application/json" if key.endswith(".json") else "text/csv",
            }
            if self.sse == "aws:kms" and self.kms_key_id:
                extra["SSEKMSKeyId"] = self.kms_key_id
            # parts of at most 16 MiB, 4 at a time: the upload holds at most 64 MiB whatever the file's size
            part = max(5 * 1024 * 1024, min(self.multipart_threshold, 16 * 1024 * 1024))
            config = TransferConfig(multipart_threshold=self.multipart_threshold, multipart_chunksize=part, max_concurrency=4)
            try:
                self.client.upload_fileobj(fh, self.bucket, self.key(key), ExtraArgs=extra, Config=config)
            except Exception as exc:
                if denied := self._write_denied(exc, key):
                    raise denied from exc
                raise
        return StoredObject(key=key, uri=self.uri(key), size_bytes=size, sha256=digest.hexdigest())

    def write_bytes(self, key: str, data: bytes) -> StoredObject:
        """Upload ``data`` to ``key``."""
        return self.write(key, [data])

    def delete(self, key: str) -> None:
        """Remove ``key`` (no error if it does not exist)."""
        self.client.delete_object(Bucket=self.bucket, Key=self.key(key))

    def sweep(self, prefix: str) -> None:
        """Nothing to remove under ``prefix``: each object is written whole or not at all (a killed multipart
        upload leaves no object), and a redone run rewrites the same keys with the same bytes."""

    def create_exclusive(self, key: str, data: bytes) -> bool:
        """Create ``key`` only if it does not exist: a conditional ``PutObject`` (``If-None-Match: *``,
        S3's conditional writes), so of concurrent callers exactly one gets ``True``.

        Raises:
            ConfigurationError: AWS refused the write (``AccessDenied``), naming the object and the permission.
        """
        import datetime as dt
        from urllib.parse import urlencode

        from model_training.aws import error_code

        tags = {"ProcessedTime": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **self.tags}
        extra: dict[str, Any] = {"ServerSideEncryption": self.sse, "Tagging": urlencode(tags)}
        if self.sse == "aws:kms" and self.kms_key_id:
            extra["SSEKMSKeyId"] = self.kms_key_id
        try:
            self.client.put_object(Bucket=self.bucket, Key=self.key(key), Body=data, IfNoneMatch="*", **extra)
        except Exception as exc:
            if error_code(exc) in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409"):
                return False
            if denied := self._write_denied(exc, key):
                raise denied from exc
            raise
        return True

    def _write_denied(self, exc: BaseException, key: str) -> ConfigurationError | None:
        """``exc`` as a :class:`ConfigurationError` naming the object and the permission, if AWS refused the
        write (``AccessDenied``: the role's policy, the bucket policy or the KMS key policy), else ``None``."""
        from model_training.aws import error_code

        code = error_code(exc)
        if code not in ("AccessDenied", "403", "AllAccessDisabled", "KMS.AccessDeniedException", "AccessDeniedException"):
            return None
        folder = self.key(key).rsplit("/", 1)[0] + "/*" if "/" in self.key(key) else "*"
        kms = f", and kms:GenerateDataKey on {self.kms_key_id or 'the bucket key'}" if self.sse == "aws:kms" else ""
        return ConfigurationError(
            f"{self.uri(key)}: access denied writing the object (PutObject, {code})",
            f"the function's role (or your credentials) needs s3:PutObject and s3:PutObjectTagging on "
            f"arn:aws:s3:::{self.bucket}/{folder}{kms}; check the bucket policy too",
        )

    def age_seconds(self, key: str) -> float | None:
        """Seconds since ``key`` was written (``LastModified``), or ``None`` if it does not exist."""
        import datetime as dt

        from model_training.aws import error_code

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.key(key))
        except Exception as exc:
            if error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return (dt.datetime.now(dt.UTC) - head["LastModified"]).total_seconds()

    def verify(self, obj: StoredObject) -> bool:
        """Whether ``obj.key`` has ``obj``'s size and SHA-256 (``HeadObject``: ``ContentLength`` and the
        ``sha256`` metadata written with it)."""
        head = self.client.head_object(Bucket=self.bucket, Key=self.key(obj.key))
        return int(head["ContentLength"]) == obj.size_bytes and head.get("Metadata", {}).get("sha256") == obj.sha256

    def list(self, prefix: str) -> Iterator[str]:
        """Keys under ``prefix``, in key order."""
        paginator = self.client.get_paginator("list_objects_v2")
        prefix = prefix.strip("/")
        base = self.key(prefix) + "/" if prefix else (self.root + "/" if self.root else "")
        strip = len(self.root) + 1 if self.root else 0
        for page in paginator.paginate(Bucket=self.bucket, Prefix=base):
            for item in page.get("Contents", []):
                yield item["Key"][strip:]


def _s3_tag_value(text: str) -> str:
    # S3 tag values: at most 256 Unicode characters of letters, digits, spaces and + - = . _ : / @
    return re.sub(r"[^\w\s+\-=.:/@]", "_", text)[-256:]

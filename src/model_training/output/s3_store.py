"""An S3 bucket (under a root prefix) used as a store (:class:`~model_training.ports.Store`) of split files, run
records and models, through boto3.

Every object is written whole or not at all (a single ``PutObject``, or a multipart upload that is completed
only once every part is in), so a reader never sees half an object and there are no temporary objects.
"""

from __future__ import annotations

import contextlib
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from model_training.errors import ConfigurationError
from model_training.hashing import HashBehind, crc32_base64, crc32_combine
from model_training.ports import Chunk, StoredObject
from model_training.tags import tag_value

#: The ``ContentType`` of an object by its key's extension (split files and anything else: ``text/csv``).
_CONTENT_TYPES = {"json": "application/json", "png": "image/png"}
#: Bytes per part of a multipart upload (at most; :attr:`S3Store.part_bytes`), and S3's smallest part but the last.
PART_BYTES = 16 * 1024 * 1024
MIN_PART_BYTES = 5 * 1024 * 1024
#: Parts of one object uploaded at a time.
PARTS_IN_FLIGHT = 3


class S3Store:
    """A bucket, through boto3.

    Writes stream the bytes as they come (:meth:`write`: one ``PutObject`` up to :attr:`part_bytes`, else a
    multipart upload), with server-side encryption (``AES256`` by default, ``aws:kms`` with ``kms_key_id``), the
    tag ``ProcessedTime=<ISO-8601 UTC>`` plus ``tags``, and S3's full-object CRC-32 checksum, which :meth:`verify`
    compares with a ``HeadObject``.

    Args:
        bucket: the bucket name.
        sse: ``AES256`` or ``aws:kms``.
        kms_key_id: the KMS key for ``aws:kms``.
        tags: lineage tags put on every object written (run id, source).
        multipart_threshold: bytes above which uploads are multipart, within 5 and 16 MiB (the part size:
            :attr:`part_bytes`; default 16 MiB).
        root: the key prefix the store's keys are under (``""``: the bucket's top).
        client: a boto3 ``s3`` client (default: the process-wide cached one).

    Raises:
        ConfigurationError: ``sse`` is neither ``AES256`` nor ``aws:kms``.
    """

    def __init__(
        self,
        bucket: str,
        *,
        sse: str = "AES256",
        kms_key_id: str | None = None,
        tags: dict[str, str] | None = None,
        multipart_threshold: int = PART_BYTES,
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
        """A store that also puts ``tags`` (lineage: run id, source object) on every object it writes, each value
        made a valid tag value (:func:`~model_training.tags.tag_value`)."""
        merged = {**self.tags, **{k: tag_value(v) for k, v in tags.items()}}
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
        """Upload ``chunks`` (bytes-like, any sizes) to ``key`` as they come, with S3's CRC-32 checksums.

        Nothing is spooled: the bytes are cut into parts of :attr:`part_bytes` (16 MiB by default) as they come;
        an object that fits in one part is one ``PutObject``, a larger one a multipart upload of full-object
        CRC-32 type (``ChecksumType=FULL_OBJECT``), :data:`PARTS_IN_FLIGHT` parts uploaded at a time (memory:
        at most ``PARTS_IN_FLIGHT + 1`` parts, 64 MiB).  Each part is sent with its CRC-32 (computed on the
        upload thread; S3 refuses a part that does not match it), and ``CompleteMultipartUpload`` with the whole
        object's CRC-32 (combined from the parts': :func:`~model_training.hashing.crc32_combine`), which S3
        checks too; :meth:`verify` compares it with a ``HeadObject``.  Until ``CompleteMultipartUpload`` nothing
        is visible at ``key``: a failed write aborts the upload, and a killed one leaves only invisible parts
        (S3's lifecycle rule ``AbortIncompleteMultipartUpload`` removes them).  The SHA-256 of the bytes (the
        run record's) is computed as they pass, on a worker thread.

        Raises:
            ConfigurationError: AWS refused the write (``AccessDenied``), naming the object and the permission.
        """
        digest = HashBehind()
        upload = _Upload(self, key)
        try:
            for chunk in chunks:
                digest.update(chunk)
                upload.add(chunk)
            upload.finish()
        except BaseException as exc:
            upload.abort()
            if denied := self._write_denied(exc, key):
                raise denied from exc
            raise
        return StoredObject(
            key=key, uri=self.uri(key), size_bytes=upload.size, sha256=digest.hexdigest(), checksum=upload.checksum
        )

    @property
    def part_bytes(self) -> int:
        """Bytes per part of a multipart upload: ``multipart_threshold`` within 5 MiB (S3's smallest part) and
        16 MiB; objects of at most this size are one ``PutObject``."""
        return max(MIN_PART_BYTES, min(self.multipart_threshold, PART_BYTES))

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
        from model_training.aws import error_code

        try:
            self.client.put_object(Bucket=self.bucket, Key=self.key(key), Body=data, IfNoneMatch="*", **self._object_args())
        except Exception as exc:
            if error_code(exc) in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409"):
                return False
            if denied := self._write_denied(exc, key):
                raise denied from exc
            raise
        return True

    def _object_args(self) -> dict[str, Any]:
        """What every object written carries: server-side encryption (with the KMS key for ``aws:kms``) and the
        tags, ``ProcessedTime=<ISO-8601 UTC, seconds>`` first, URL-encoded as ``PutObject``'s ``Tagging`` takes them."""
        import datetime as dt
        from urllib.parse import urlencode

        tags = {"ProcessedTime": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **self.tags}
        args: dict[str, Any] = {"ServerSideEncryption": self.sse, "Tagging": urlencode(tags)}
        if self.sse == "aws:kms" and self.kms_key_id:
            args["SSEKMSKeyId"] = self.kms_key_id
        return args

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
        """Whether ``obj.key`` has ``obj``'s size and CRC-32 (``HeadObject`` with ``ChecksumMode=ENABLED``: the
        ``ContentLength`` and the full-object ``ChecksumCRC32`` S3 computed from the bytes it stored, against
        the ones :meth:`write` computed from the bytes it sent); ``False`` for an object without a checksum."""
        head = self.client.head_object(Bucket=self.bucket, Key=self.key(obj.key), ChecksumMode="ENABLED")
        return (
            obj.checksum is not None
            and int(head["ContentLength"]) == obj.size_bytes
            and head.get("ChecksumCRC32") == obj.checksum
        )

    def list(self, prefix: str) -> Iterator[str]:
        """Keys under ``prefix``, in key order."""
        paginator = self.client.get_paginator("list_objects_v2")
        prefix = prefix.strip("/")
        base = self.key(prefix) + "/" if prefix else (self.root + "/" if self.root else "")
        strip = len(self.root) + 1 if self.root else 0
        for page in paginator.paginate(Bucket=self.bucket, Prefix=base):
            for item in page.get("Contents", []):
                yield item["Key"][strip:]


class _Upload:
    """One object being written by :meth:`S3Store.write`: the bytes gathered into parts of ``store.part_bytes``,
    the first part held until a second one starts (an object of one part is a ``PutObject``), then a multipart
    upload with :data:`PARTS_IN_FLIGHT` parts sent at a time on worker threads.

    Attributes:
        size: the bytes added (after :meth:`finish`: the object's size).
        checksum: after :meth:`finish`, the object's CRC-32 as S3 reports it (base64).
    """

    def __init__(self, store: S3Store, key: str) -> None:
        self.store, self.key = store, store.key(key)
        self.part = store.part_bytes
        self.size = 0
        self.checksum: str | None = None
        self._buffer = bytearray()
        self._args = {
            **store._object_args(),
            "ContentType": _CONTENT_TYPES.get(key.rpartition(".")[2], "text/csv"),
            "ChecksumAlgorithm": "CRC32",
        }
        self._upload_id: str | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._sent: deque[Future[tuple[str, int, int]]] = deque()  # (ETag, CRC-32, bytes) of each part, in order
        self._parts: list[dict[str, Any]] = []
        self._crc = 0

    def add(self, chunk: Chunk) -> None:
        """Append ``chunk`` (copied: the caller may reuse it); send each part that is full."""
        self.size += len(chunk)
        view = memoryview(chunk).cast("B")
        while len(view):
            room = self.part - len(self._buffer)
            self._buffer += view[:room]
            view = view[room:]
            if len(self._buffer) == self.part and len(view):  # more follows: the part is not the last
                self._send(self._buffer)
                self._buffer = bytearray()

    def finish(self) -> None:
        """Send the last part and complete the upload (or ``PutObject`` the whole object)."""
        if self._upload_id is None:
            body = self._buffer
            self.checksum = crc32_base64(zlib.crc32(body))
            client = self.store.client
            client.put_object(Bucket=self.store.bucket, Key=self.key, Body=body, ChecksumCRC32=self.checksum, **self._args)
            return
        if self._buffer:
            self._send(self._buffer)
        while self._sent:
            self._collect()
        self.checksum = crc32_base64(self._crc)
        self.store.client.complete_multipart_upload(
            Bucket=self.store.bucket,
            Key=self.key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},
            ChecksumCRC32=self.checksum,
            ChecksumType="FULL_OBJECT",
        )
        self._upload_id = None
        self._shutdown()

    def abort(self) -> None:
        """Abort the multipart upload, if one was started (best effort: its parts are removed, nothing was visible)."""
        upload_id, self._upload_id = self._upload_id, None
        self._shutdown()
        if upload_id is not None:
            with contextlib.suppress(Exception):
                self.store.client.abort_multipart_upload(Bucket=self.store.bucket, Key=self.key, UploadId=upload_id)

    def _send(self, body: bytearray) -> None:
        if self._upload_id is None:
            args = {k: v for k, v in self._args.items() if k != "ChecksumAlgorithm"}
            created = self.store.client.create_multipart_upload(
                Bucket=self.store.bucket, Key=self.key, ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT", **args
            )
            self._upload_id = created["UploadId"]
            self._pool = ThreadPoolExecutor(PARTS_IN_FLIGHT, thread_name_prefix="upload-part")
        while len(self._sent) >= PARTS_IN_FLIGHT:
            self._collect()
        assert self._pool is not None
        self._sent.append(self._pool.submit(self._upload_part, len(self._parts) + len(self._sent) + 1, body))

    def _upload_part(self, number: int, body: bytearray) -> tuple[str, int, int]:
        """``UploadPart`` ``number`` with its CRC-32; returns ``(ETag, CRC-32, bytes)``."""
        crc = zlib.crc32(body)
        answer = self.store.client.upload_part(
            Bucket=self.store.bucket,
            Key=self.key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=body,
            ChecksumAlgorithm="CRC32",
            ChecksumCRC32=crc32_base64(crc),
        )
        return str(answer["ETag"]), crc, len(body)

    def _collect(self) -> None:
        """Wait for the oldest part in flight; fold its CRC-32 into the object's."""
        etag, crc, size = self._sent.popleft().result()
        self._parts.append({"PartNumber": len(self._parts) + 1, "ETag": etag, "ChecksumCRC32": crc32_base64(crc)})
        self._crc = crc32_combine(self._crc, crc, size)

    def _shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

"""An S3 bucket (under a root prefix) used as a store (:class:`~model_training.ports.Store`) of split files, run
records and models, through boto3.

Every object is written whole or not at all (a single ``PutObject``, or a multipart upload that is completed
only once every part is in, both through boto3's managed transfer), so a reader never sees half an object and
there are no temporary objects.
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

from model_training.errors import ConfigurationError
from model_training.hashing import HashBehind, crc32_base64
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

    Writes stream the bytes as they come through boto3's managed transfer (:meth:`write`: one ``PutObject``
    below :attr:`part_bytes`, else a multipart upload), with server-side encryption (``AES256`` by default,
    ``aws:kms`` with ``kms_key_id``), the tag ``ProcessedTime=<ISO-8601 UTC>`` plus ``tags``, and S3's CRC-32
    checksums, the object's of which :meth:`verify` compares with a ``HeadObject``.

    Args:
        bucket: the bucket name.
        sse: ``AES256`` or ``aws:kms``.
        kms_key_id: the KMS key for ``aws:kms``.
        tags: lineage tags put on every object written (run id, source).
        multipart_threshold: bytes from which uploads are multipart, within 5 and 16 MiB (the part size:
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
        """Upload ``chunks`` (bytes-like, any sizes) to ``key`` as they come, through boto3's managed transfer
        (``upload_fileobj``), with S3's CRC-32 checksums.

        Nothing is spooled: s3transfer reads the bytes from a non-seekable reader over ``chunks``
        (:class:`_ChunkReader`) one part of :attr:`part_bytes` (16 MiB by default) at a time.  An object smaller
        than a part is one ``PutObject``; one of a part or more a multipart upload, :data:`PARTS_IN_FLIGHT` parts
        uploaded at a time and at most as many read ahead (memory: about ``PARTS_IN_FLIGHT + 1`` parts, 64 MiB).
        Each request carries the CRC-32 of its body (``ChecksumAlgorithm=CRC32``; S3 refuses a body that does
        not match), and S3 reports the object's: the CRC-32 of a ``PutObject``'s bytes, or of a multipart upload
        the composite ``<CRC-32 of the parts' CRC-32s>-<parts>``.  The reader computes the same from the bytes
        as they pass (:attr:`_ChunkReader.checksum`), which :meth:`verify` compares with a ``HeadObject``.
        Until ``CompleteMultipartUpload`` nothing is visible at ``key``: s3transfer aborts a failed upload, and
        a killed one leaves only invisible parts (S3's lifecycle rule ``AbortIncompleteMultipartUpload`` removes
        them).  The SHA-256 of the bytes (the run record's) is computed as they pass, on a worker thread.

        ``chunks`` is consumed on s3transfer's submission thread, and the chunks are held (not copied) until
        their bytes are read: a chunk must not be changed once yielded.

        Raises:
            ConfigurationError: AWS refused the write (``AccessDenied``), naming the object and the permission.
            Exception: whatever ``chunks`` raised, or boto3's error (the upload aborted).
        """
        from boto3.s3.transfer import TransferConfig

        part = self.part_bytes
        config = TransferConfig(
            multipart_threshold=part,
            multipart_chunksize=part,
            max_concurrency=PARTS_IN_FLIGHT,
            use_threads=True,
            preferred_transfer_client="classic",  # the CRT client cuts parts its own way
        )
        config.max_in_memory_upload_chunks = PARTS_IN_FLIGHT  # parts read ahead and not yet sent (s3transfer's 10)
        reader = _ChunkReader(chunks, part)
        extra = {
            **self._object_args(),
            "ContentType": _CONTENT_TYPES.get(key.rpartition(".")[2], "text/csv"),
            "ChecksumAlgorithm": "CRC32",
        }
        try:
            self.client.upload_fileobj(reader, self.bucket, self.key(key), ExtraArgs=extra, Config=config)
        except BaseException as exc:
            if denied := self._write_denied(exc, key):
                raise denied from exc
            raise
        return StoredObject(
            key=key, uri=self.uri(key), size_bytes=reader.size, sha256=reader.digest.hexdigest(), checksum=reader.checksum
        )

    @property
    def part_bytes(self) -> int:
        """Bytes per part of a multipart upload: ``multipart_threshold`` within 5 MiB (S3's smallest part) and
        16 MiB; objects smaller than this are one ``PutObject``, s3transfer's rule for a non-seekable stream."""
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
        ``ContentLength``, and the ``ChecksumCRC32`` S3 computed from the bytes it stored, against the ones
        :meth:`write` computed from the bytes it sent); ``False`` for an object without a checksum.

        For a multipart upload S3 reports the composite ``<base64>-<parts>`` with ``ChecksumType=COMPOSITE``;
        moto's ``HeadObject`` leaves out the ``-<parts>`` and the type (its ``GetObject`` has them), so each is
        compared when reported, the base64 CRC-32 always.
        """
        if obj.checksum is None:
            return False
        head = self.client.head_object(Bucket=self.bucket, Key=self.key(obj.key), ChecksumMode="ENABLED")
        value, _, parts = obj.checksum.partition("-")
        reported, _, reported_parts = str(head.get("ChecksumCRC32", "")).partition("-")
        kind = "COMPOSITE" if parts else "FULL_OBJECT"
        return (
            int(head["ContentLength"]) == obj.size_bytes
            and reported == value
            and reported_parts in ("", parts)
            and head.get("ChecksumType", kind) == kind
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


class _ChunkReader:
    """A non-seekable, read-only file over ``chunks``, as s3transfer's ``UploadNonSeekableInputManager`` reads it:
    ``read(n)`` returns exactly ``n`` bytes but at the end (s3transfer takes a short first read of
    ``multipart_threshold`` for the end of the object: a ``PutObject``), ``read()`` the rest.  The chunks are held
    as views and copied once, into the bytes returned (a chunk that is exactly the bytes asked is returned as is).

    As the bytes pass, the reader hashes them (SHA-256 on a worker thread: :attr:`digest`) and computes the
    CRC-32 of each part of ``part`` bytes (boundaries at multiples of ``part`` from the start, where s3transfer
    cuts a non-seekable stream with ``multipart_threshold == multipart_chunksize == part``).

    Attributes:
        size: the bytes read so far (at the end: the object's size).
        digest: the SHA-256 of the bytes read.
    """

    def __init__(self, chunks: Iterable[Chunk], part: int) -> None:
        self._chunks = iter(chunks)
        self._part = part
        self._pending = memoryview(b"")
        self.size = 0
        self.digest = HashBehind()
        self._crcs: list[int] = []  # the CRC-32 of each part, the last one running

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def read(self, amount: int | None = -1) -> bytes:
        """Up to ``amount`` bytes (all that is left if ``amount`` is ``None`` or negative); fewer only at the end."""
        want = sys.maxsize if amount is None or amount < 0 else amount
        pieces: list[memoryview] = []
        got = 0
        while got < want:
            if not len(self._pending):
                chunk = next(self._chunks, None)
                if chunk is None:
                    break
                self._pending = memoryview(chunk).cast("B")
                self.digest.update(self._pending)
            piece = self._pending[: want - got]
            self._pending = self._pending[len(piece) :]
            pieces.append(piece)
            got += len(piece)
        if len(pieces) == 1 and isinstance(pieces[0].obj, bytes) and len(pieces[0]) == len(pieces[0].obj):
            data = pieces[0].obj
        else:
            data = b"".join(pieces)
        self._count(data)
        return data

    def _count(self, data: bytes) -> None:
        """Fold ``data`` into the parts' CRC-32s."""
        view = memoryview(data)
        while len(view):
            used = self.size % self._part
            if used == 0:
                self._crcs.append(0)
            piece = view[: self._part - used]
            self._crcs[-1] = zlib.crc32(piece, self._crcs[-1])
            self.size += len(piece)
            view = view[len(piece) :]

    @property
    def checksum(self) -> str:
        """The object's CRC-32 as S3 reports it (``ChecksumCRC32``, base64): below one part (a ``PutObject``) the
        CRC-32 of the bytes; from one part on (a multipart upload) the composite ``<base64 CRC-32 of the
        parts' CRC-32s, 4 big-endian bytes each>-<parts>``, S3's default for CRC-32 (``ChecksumType=COMPOSITE``)."""
        if self.size < self._part:
            return crc32_base64(self._crcs[0] if self._crcs else 0)
        composite = zlib.crc32(b"".join(crc.to_bytes(4, "big") for crc in self._crcs))
        return f"{crc32_base64(composite)}-{len(self._crcs)}"

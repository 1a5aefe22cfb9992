"""An S3 bucket (under a root prefix) used as a store (:class:`~model_training.ports.Store`) of split files, run
records and models, through boto3.

Every object is written whole or not at all (a single ``PutObject``, or a multipart upload that is completed
only once every part is in), so a reader never sees half an object and there are no temporary objects.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

from model_training.errors import ConfigurationError
from model_training.hashing import HashBehind
from model_training.ports import Chunk, StoredObject
from model_training.tags import tag_value

#: The ``ContentType`` of an object by its key's extension (split files and anything else: ``text/csv``).
_CONTENT_TYPES = {"json": "application/json", "png": "image/png"}


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
        """Upload ``chunks`` to ``key`` (spooled to a temporary file above 32 MiB, so memory stays bounded).

        Raises:
            ConfigurationError: AWS refused the write (``AccessDenied``), naming the object and the permission.
        """
        from boto3.s3.transfer import TransferConfig

        digest = HashBehind()
        size = 0
        with tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024) as fh:
            for chunk in chunks:
                fh.write(chunk)
                digest.update(chunk)
                size += len(chunk)
            fh.seek(0)
            extra = {
                **self._object_args(),
                "Metadata": {"sha256": digest.hexdigest()},
                "ContentType": _CONTENT_TYPES.get(key.rpartition(".")[2], "text/csv"),
            }
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

"""An S3 object as the source of a run (:class:`S3Source`), read with boto3, and what S3's refusals mean for
the event that announced the object (:func:`_refusal`: a deleted version, a changed object, access denied; and
:meth:`S3Source._mismatch`: what the event says of the object against what S3 says).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any, cast

from model_training import aws
from model_training.data.local import READ_CHUNK_BYTES
from model_training.data.names import dataset_name
from model_training.data.s3_ranged import RANGED_FROM_BYTES, ranged_pieces, read_ranged
from model_training.errors import DatasetError
from model_training.ports import SourceInfo

#: How to split an object as it is now when an event pins another version of it.
UNPIN = (
    "to split the object as it is now, remove eTag and versionId from the event's object "
    "(s3.object; detail.object in an EventBridge event)"
)


class S3Source:
    """An S3 object as the source of a run, read with boto3 (no s3fs): a large one with parallel ranged requests
    through boto3's managed transfer (:mod:`~model_training.data.s3_ranged`), every one pinned to the version and
    the ``ETag`` identified.

    Args:
        bucket, key: the object (``key`` already URL-decoded).
        version_id: read exactly this version (from the event), if given.
        etag: the ``eTag`` the event reported; when there is no version id, the read requires it
            (``IfMatch``), so the bytes split are the bytes the event announced; with a version id, that
            version's ``ETag`` must equal it (:meth:`identify` refuses the event otherwise).
        size: the object's size in bytes as the event reported it, for messages only (not checked: the eTag or
            the version pins the bytes).
        event: ``version_id`` and ``etag`` come from an event (:func:`~model_training.wiring.object_source`), so a
            mismatch says how to drop them from the event; else from a folder's listing.
        max_bytes: refuse objects larger than this before downloading them (``None``: no limit).
    """

    def __init__(
        self,
        bucket: str,
        key: str,
        *,
        version_id: str | None = None,
        etag: str | None = None,
        size: int | None = None,
        event: bool = False,
        max_bytes: int | None = None,
    ) -> None:
        self.bucket, self.key = bucket, key
        self.version_id, self.etag = version_id, etag
        self.event_etag = etag  # ``etag`` becomes the identified object's for the reads; this stays the event's
        self.event_size, self.event = size, event
        self.max_bytes = max_bytes
        self._info: SourceInfo | None = None

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def display_name(self) -> str:
        return self.key.rsplit("/", 1)[-1]

    def _call(self, method: str, **kwargs: object) -> dict[str, Any]:
        """``method`` of the S3 client on this object (its version, or ``IfMatch`` its eTag).

        Raises:
            DatasetError: S3 refused the call in a way :meth:`_mismatch` or :func:`_refusal` names.
        """
        args: dict[str, object] = {"Bucket": self.bucket, "Key": self.key, **kwargs}
        if self.version_id:
            args["VersionId"] = self.version_id
        elif self.etag:
            args["IfMatch"] = f'"{self.etag}"'
        try:
            return getattr(aws.client("s3"), method)(**args)
        except Exception as exc:
            code = aws.error_code(exc)
            refused = self._mismatch(code) or _refusal(self.uri, code, self.etag, event=self.event)
            if refused is None:
                raise
            raise refused from None

    def _mismatch(self, code: str) -> DatasetError | None:
        """When S3 refused an event's read pinned to its ``eTag`` (``PreconditionFailed``) or to a ``versionId`` it
        does not have (``NoSuchVersion``, 404, or a malformed id) and the object itself exists: the error that names
        what the event says and what S3 says of the object now (a ``HeadObject`` without the pin), and how to
        drop the pin.  ``None`` for any other refusal, for a folder's part, or when the object is gone too
        (:func:`_refusal` says so)."""
        # only an eTag the event gave: one taken from the HeadObject (an event without a pin) is no mismatch of
        # the event's, but the object changing during the run (:func:`_refusal` words it)
        etag_refused = code in ("PreconditionFailed", "412") and bool(self.event_etag) and not self.version_id
        version_unknown = bool(self.version_id) and code in (
            *("NoSuchVersion", "NoSuchKey", "404", "NotFound"),  # HEAD answers 404 without a code
            *("InvalidArgument", "400", "BadRequest"),  # a malformed version id
        )
        if not self.event or not (etag_refused or version_unknown):
            return None
        try:
            head = aws.client("s3").head_object(Bucket=self.bucket, Key=self.key)
        except Exception:
            return None
        now = f"eTag {str(head.get('ETag', '')).strip(chr(34))}, {int(head['ContentLength'])} bytes"
        if head.get("VersionId"):
            now += f", version {head['VersionId']}"
        if version_unknown:
            return DatasetError(
                f"the event's versionId {self.version_id} is not a version of this object (the object version no longer "
                f"exists, or never did); S3's current object: {now}",
                f"the event names a version this object does not have (a sample event?): {UNPIN}",
                uri=self.uri,
            )
        return DatasetError(
            f"the event says eTag {self.etag}{self._event_size()}, S3 says {now}",
            "the object changed after the event (a newer upload has its own event), or the event was not written for "
            f"this object (a sample event?): {UNPIN}",
            uri=self.uri,
        )

    def _event_size(self) -> str:
        return f" ({self.event_size} bytes)" if self.event_size is not None else ""

    def size(self) -> int:
        """Size in bytes (``HeadObject``)."""
        return self.identify().size_bytes

    def identify(self, on_bytes: Callable[[int], None] | None = None, *, keep: bool = True) -> SourceInfo:
        """The object's identity from a ``HeadObject``: URI, size, ``ETag``, ``VersionId`` (``keep`` is
        for :class:`LocalSource`'s sake: nothing is downloaded here).

        Raises:
            DatasetError: the object is missing, changed, unreadable, or larger than ``max_bytes``; with a
                version id: the version or the object was deleted, or its ``ETag`` is not the event's.
        """
        if self._info is None:
            head = self._call("head_object")
            if self.version_id:
                self._check_event_version(head)
            size = int(head["ContentLength"])
            if self.max_bytes is not None and size > self.max_bytes:
                raise DatasetError(
                    f"{size} bytes is more than the configured maximum of {self.max_bytes} bytes",
                    "raise MODEL_TRAINING_MAX_OBJECT_BYTES (objects above MODEL_TRAINING_STREAM_ABOVE_MB are streamed: "
                    "the function's ephemeral storage must hold about the object's size); or, for the Lambda function, "
                    "set MODEL_TRAINING_PROCESSING_IMAGE and MODEL_TRAINING_PROCESSING_ROLE_ARN so that a SageMaker "
                    "Processing job splits it; or run the split from a larger machine: model-training run s3://... "
                    "--output s3://... --backend sagemaker",
                    uri=self.uri,
                )
            self._info = SourceInfo(
                uri=self.uri,
                name=dataset_name(self.key),
                size_bytes=size,
                sha256="",
                etag=str(head.get("ETag", "")).strip('"') or None,
                version_id=head.get("VersionId") or self.version_id,
            )
        return self._info

    def _check_event_version(self, head: dict[str, Any]) -> None:
        """The event's version is the object: its ``ETag`` is the event's ``eTag`` (when the event gives one;
        quotes ignored, a multipart ``-N`` ETag compared as text), and the object has not been deleted since
        (its latest version is not a delete marker: ``HeadObject`` without a version answers 404).

        Raises:
            DatasetError: the eTags differ, or the object was deleted after the event (not retried).
        """
        found = str(head.get("ETag", "")).strip('"')
        if self.etag and found != self.etag.strip('"'):
            raise DatasetError(
                f"version {self.version_id} has eTag {found} ({int(head['ContentLength'])} bytes), but the event says "
                f"{self.etag.strip(chr(34))}{self._event_size()}",
                f"the event does not describe this object version (a sample, forged or corrupted event?): not processed; {UNPIN}",
                uri=self.uri,
            )
        try:
            aws.client("s3").head_object(Bucket=self.bucket, Key=self.key)
        except Exception as exc:
            if aws.error_code(exc) in ("NoSuchKey", "404", "NotFound", "405", "MethodNotAllowed"):
                raise DatasetError(
                    "the object version no longer exists (the object was deleted after the event: "
                    "its latest version is a delete marker)",
                    "nothing to do for this event; upload the file again to start a run",
                    uri=self.uri,
                ) from None
            raise

    def sample(self, size: int) -> bytes:
        """The object's first ``size`` bytes (a ranged ``GetObject`` of the identified version)."""
        info = self.identify()
        if not self.version_id and info.etag:
            self.etag = info.etag
        if info.size_bytes == 0:
            return b""
        return bytes(self._call("get_object", Range=f"bytes=0-{size - 1}")["Body"].read())

    def chunks(self, size: int) -> Iterator[bytes]:
        """The object's bytes in pieces of about ``size`` bytes, of the very version identified (its ``VersionId``,
        and ``IfMatch`` its ``ETag``): the streaming split reads it twice.  An object of at least
        :data:`~model_training.data.s3_ranged.RANGED_FROM_BYTES` is read with parallel ranged requests through a
        bounded pipe (:func:`~model_training.data.s3_ranged.ranged_pieces`), a smaller one with one ``GetObject``.

        Raises:
            DatasetError: the object is missing or changed (:meth:`_call`, :meth:`_transfer_failed`).
        """
        info = self.identify()
        if not self.version_id and info.etag:
            self.etag = info.etag
        if info.size_bytes >= RANGED_FROM_BYTES and info.etag:
            try:
                yield from ranged_pieces(aws.client("s3"), self._args(), info.size_bytes, info.etag, size)
            except Exception as exc:
                raise self._transfer_failed(exc) from None
            return
        body = self._call("get_object")["Body"]
        yield from iter(lambda: body.read(size), b"")

    def read(self, on_bytes: Callable[[int], None] | None = None) -> tuple[SourceInfo, bytes]:
        """Download the object into one buffer, hashed as it arrives: with parallel ranged requests pinned to the
        identified version and ``ETag`` from :data:`~model_training.data.s3_ranged.RANGED_FROM_BYTES` bytes
        (:func:`~model_training.data.s3_ranged.read_ranged`), else one ``GetObject`` read in 8 MiB chunks.

        Raises:
            DatasetError: the object is missing or changed (:meth:`_call`, :meth:`_transfer_failed`).
        """
        info = self.identify()
        if not self.version_id and info.etag:
            self.etag = info.etag  # read the very bytes that were identified
        if info.size_bytes >= RANGED_FROM_BYTES and info.etag:
            try:
                buffer, sha256 = read_ranged(aws.client("s3"), self._args(), info.size_bytes, info.etag, on_bytes)
            except Exception as exc:
                raise self._transfer_failed(exc) from None
        else:
            body = self._call("get_object")["Body"]
            digest = hashlib.sha256()
            buffer = bytearray()
            for chunk in iter(lambda: body.read(READ_CHUNK_BYTES), b""):
                digest.update(chunk)
                buffer += chunk
                if on_bytes:
                    on_bytes(len(chunk))
            sha256 = digest.hexdigest()
        data = cast(bytes, buffer)
        info = SourceInfo(info.uri, info.name, len(data), sha256, info.etag, info.version_id)
        self._info = info
        return info, data

    def _args(self) -> dict[str, Any]:
        return {"Bucket": self.bucket, "Key": self.key, "VersionId": self.version_id}

    def _transfer_failed(self, exc: Exception) -> BaseException:
        """What a ranged read's failure (s3transfer's) means: the error of :meth:`_call` for S3's refusal
        (a ``PreconditionFailed``: the object changed during the read), the last connection error after
        s3transfer's retries (retryable as it was), else ``exc`` itself."""
        from s3transfer.exceptions import RetriesExceededError, S3DownloadFailedError

        if isinstance(exc, RetriesExceededError) and isinstance(exc.last_exception, Exception):
            return exc.last_exception
        code = "PreconditionFailed" if isinstance(exc, S3DownloadFailedError) and "ETag" in str(exc) else aws.error_code(exc)
        return self._mismatch(code) or _refusal(self.uri, code, self.etag, event=self.event) or exc


def _refusal(uri: str, code: str, etag: str | None, *, event: bool = True) -> DatasetError | None:
    """What an S3 error code on a read of the object at ``uri`` means for the run (``etag``: the eTag the read
    required, for the message; ``event``: an event announced the object, else a user named it), or ``None`` for an
    error that is not the object's (raised as it is)."""
    if not event and code in ("NoSuchKey", "404", "NotFound"):
        return DatasetError("no such object", "check the bucket and the key (aws s3 ls s3://bucket/prefix/)", uri=uri)
    if code in ("NoSuchKey", "404", "NotFound", "NoSuchVersion", "405", "MethodNotAllowed"):
        return DatasetError(  # 405: the version is a delete marker
            "the object version no longer exists (deleted after the event?)",
            "nothing to do for this event; upload the file again to start a run",
            uri=uri,
        )
    if code in ("PreconditionFailed", "412"):
        if not event:  # a user named the object (or a folder listed it): no event to speak of
            return DatasetError(
                f"the object changed while it was read (its eTag is no longer {etag})",
                "run again once the object stops changing: the run splits the object as it is then",
                uri=uri,
            )
        return DatasetError(
            f"the object changed after the event (its eTag is no longer {etag})",
            "the newer version has its own event and run",
            uri=uri,
        )
    if code in ("InvalidArgument", "400", "BadRequest"):
        return DatasetError(f"S3 refused the read ({code}; a malformed versionId?)", "check the event's object version", uri=uri)
    if code in ("AccessDenied", "403", "Forbidden"):
        return DatasetError("access denied", "grant the function s3:GetObject on the input prefix", uri=uri)
    return None

"""Copying a model archive once, from the run folder to the model output location: ``s3://`` to ``s3://``
server-side, ``file://`` to ``file://`` locally (:class:`ModelCopier`).  How it stays once:
:mod:`~model_training.training.tuning_outcome`, whose :func:`~model_training.training.tuning_outcome.copy_best_model`
uses it."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from model_training.errors import ConfigurationError, TrainingJobError, TransientError, environment_failure
from model_training.processes import sweep_dead
from model_training.uris import parse_s3_uri, path_from_uri

#: The largest object one ``CopyObject`` copies (S3's limit: 5 GB).
MAX_COPY_BYTES = 5 * 1024**3


class ModelCopier:
    """Copies a model archive once: ``s3://`` to ``s3://`` server-side, ``file://`` to ``file://`` locally.

    Args:
        client: a boto3 ``s3`` client (default: the process-wide cached one, made on the first S3 copy).
        kms_key_id: a KMS key the S3 copy is encrypted with (``aws:kms``: the run's ``output_kms_key_id``, as
            SageMaker encrypts a single job's model); ``None``: the destination bucket's default encryption.
    """

    def __init__(self, client: Any = None, kms_key_id: str | None = None) -> None:
        self._client = client
        self.kms_key_id = kms_key_id

    def __call__(self, source: str, destination: str) -> bool:
        """Copy ``source`` to ``destination`` unless it exists; returns whether this call copied it.

        Raises:
            TrainingJobError: the source does not exist, changed while being copied, or is larger than 5 GB.
            ConfigurationError: the two URIs are not of one kind (both ``s3://`` or both local), or S3 refused
                access (the permissions named).
            TransientError: S3 answered ``409 ConditionalRequestConflict`` (a concurrent write): retry.
        """
        if source.startswith("s3://") and destination.startswith("s3://"):
            return self._copy_s3(source, destination)
        if source.startswith("s3://") or destination.startswith("s3://"):
            raise ConfigurationError(
                f"cannot copy the best model {source} to {destination}",
                "the run folder and the model output must both be in S3, or both local folders",
            )
        return _copy_local(path_from_uri(source), path_from_uri(destination))

    @property
    def client(self) -> Any:
        if self._client is None:
            from model_training import aws

            self._client = aws.client("s3")
        return self._client

    def _copy_s3(self, source: str, destination: str) -> bool:
        from model_training.aws import error_code

        bucket, key = parse_s3_uri(destination)
        if self._head(bucket, key, destination, source) is not None:
            return False
        src_bucket, src_key = parse_s3_uri(source)
        head = self._head(src_bucket, src_key, source, source)
        if head is None:
            raise TrainingJobError(
                f"{source}: the best training job's model does not exist",
                "the tuning job's best training job wrote no model there: describe it (model-training jobs describe)",
            )
        if int(head.get("ContentLength", 0)) > MAX_COPY_BYTES:
            raise TrainingJobError(
                f"{source}: the best model is {head['ContentLength']} bytes, more than one CopyObject copies (5 GB)",
                f"copy it to {destination} by hand (aws s3 cp), once",
            )
        copy_source = {"Bucket": src_bucket, "Key": src_key}
        if head.get("VersionId") and head["VersionId"] != "null":
            copy_source["VersionId"] = head["VersionId"]
        args: dict[str, Any] = {
            "Bucket": bucket,
            "Key": key,
            "CopySource": copy_source,
            "CopySourceIfMatch": head["ETag"],
            "IfNoneMatch": "*",
            "MetadataDirective": "COPY",
        }
        if self.kms_key_id:
            args.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=self.kms_key_id)
        try:
            self.client.copy_object(**args)
        except Exception as exc:
            code = error_code(exc)
            if code in ("PreconditionFailed", "412"):
                if self._head(bucket, key, destination, source) is not None:
                    return False  # a concurrent copy made it first
                raise TrainingJobError(
                    f"{source}: the best model changed while it was being copied (its eTag is no longer {head['ETag']})",
                    "something other than SageMaker rewrote the trial's model: run the stage again to copy it as it is now",
                ) from None
            if code in ("ConditionalRequestConflict", "409"):
                raise TransientError(
                    f"{destination}: another copy of the best model was being written at the same time", "retry"
                ) from None
            if code in ("AccessDenied", "403", "KMS.AccessDeniedException", "AccessDeniedException"):
                raise _denied(source, destination, code) from None
            raise
        return True

    def _head(self, bucket: str, key: str, uri: str, source: str) -> dict[str, Any] | None:
        """``HeadObject`` of ``bucket/key``, ``None`` when it does not exist."""
        from model_training.aws import error_code

        try:
            return dict(self.client.head_object(Bucket=bucket, Key=key))
        except Exception as exc:
            code = error_code(exc)
            if code in ("404", "NoSuchKey", "NotFound"):
                return None
            if code in ("AccessDenied", "403"):
                raise _denied(source, uri if uri != source else "", code) from None
            raise


def _denied(source: str, destination: str, code: str) -> ConfigurationError:
    target = f" and s3:PutObject on {destination}" if destination else ""
    return ConfigurationError(
        f"{source}: access denied copying the best model ({code})",
        f"the function's role (or your credentials) needs s3:GetObject on {source}{target} (and the KMS key's use)",
    )


def _copy_local(source: Path, destination: Path) -> bool:
    """Copy ``source`` to ``destination`` unless it exists: a temporary file beside it, then a hard link to the
    destination name (which fails if the name exists), so the destination appears whole, once.

    The temporary file is named by the process writing it (``.model.tar.gz.{pid}-....partial``); a copy killed
    before it removed its temporary file (SIGKILL mid-copy) leaves it in the model output folder, and every later
    copy to that destination first removes those of processes that are gone (:func:`~model_training.processes.sweep_dead`),
    whether it copies or finds the destination made, so that the model is all the folder keeps.

    Raises:
        TrainingJobError: ``source`` does not exist.
        EnvironmentFailure: the disk is full (or failed): retryable.
        ConfigurationError: the destination folder cannot be written (a file in the way, no permission).
    """
    sweep_dead(destination.parent, _partial_prefix(destination))  # a killed copy's temporary file
    if destination.exists():
        return False
    if not source.is_file():
        raise TrainingJobError(
            f"{source}: the best training job's model does not exist",
            "the tuning job's best training job wrote no model there: describe it (model-training jobs describe)",
        )
    try:
        return _link_copy(source, destination)
    except OSError as exc:
        failure = environment_failure(exc, f"copying the best model to {destination}")
        if failure is not exc:
            raise failure from exc
        raise ConfigurationError(
            f"{destination}: cannot copy the best model there ({exc.strerror or exc})",
            "make the model output folder writable (a file or a link in its way?) and run again: the search is kept",
        ) from None


def _link_copy(source: Path, destination: Path) -> bool:
    destination.parent.mkdir(parents=True, exist_ok=True)
    prefix = f"{_partial_prefix(destination)}{os.getpid()}-"
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=".partial", dir=destination.parent)
    partial = Path(name)
    try:
        with source.open("rb") as src, os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(src, out, 1024 * 1024)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(partial, destination)
        except FileExistsError:
            return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return True


def _partial_prefix(destination: Path) -> str:
    """How the temporary files of copies to ``destination`` begin (the writer's process id follows)."""
    return f".{destination.name}."

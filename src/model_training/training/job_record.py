"""What a job's run says of it, for ``jobs describe``: the ``run.json`` beside the job's ``train`` channel
(:func:`~model_training.training.outcome.run_record_uri`), read from S3 or a local folder, with the reason when it
cannot be read, and a local copy read instead where one exists (the demo copies both buckets to
``{output}/s3/{bucket}/{key}`` before its offline endpoint stops).

The record is extra information: a record that cannot be read never fails the job's description.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from model_training.output.runrecord import RunRecord
from model_training.training.outcome import run_record_uri
from model_training.uris import parse_s3_uri, path_from_uri


@dataclass(frozen=True)
class RecordedRun:
    """A job's run record as ``jobs describe`` found it.

    Attributes:
        uri: the ``run.json`` the job's ``train`` channel leads to.
        record: the record; ``None`` when neither it nor a local copy could be read.
        reason: why ``uri`` could not be read (``no AWS credentials``, ``access denied`` ...); ``None`` when it was.
        copy: the local copy read instead (a path), when ``uri`` could not be read and the copy could.
    """

    uri: str
    record: RunRecord | None
    reason: str | None = None
    copy: Path | None = None


def read_job_run_record(job: dict[str, Any], copies: Path | None = None) -> RecordedRun | None:
    """The run record of a job this stage started; ``None`` for a job without a ``train`` channel.

    Args:
        job: a ``DescribeTrainingJob`` response (or a tuning job's ``TrainingJobDefinition``).
        copies: a folder holding local copies of buckets as ``{bucket}/{key}`` (the demo's ``{output}/s3``): an
            ``s3://`` record that cannot be read is read from there, if it is there.
    """
    uri = run_record_uri(job)
    if uri is None:
        return None
    record, reason = _read(uri)
    if record is None and reason is not None and copies is not None and uri.startswith("s3://"):
        bucket, key = parse_s3_uri(uri)
        copy = copies / bucket / key
        if copy.is_file():
            found, _ = _read(copy.resolve().as_uri())
            if found is not None:
                return RecordedRun(uri, found, reason, copy)
    return RecordedRun(uri, record, reason)


def _read(uri: str) -> tuple[RunRecord | None, str | None]:
    """The record at ``uri`` (``s3://`` or ``file://``), or ``None`` and why not."""
    try:
        if uri.startswith("s3://"):
            from model_training import aws

            bucket, key = parse_s3_uri(uri)
            data = bytes(aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
        else:
            data = path_from_uri(uri).read_bytes()
    except FileNotFoundError:
        return None, "it does not exist: the run was deleted, or moved"
    except OSError as exc:
        return None, f"it cannot be read ({exc.strerror})"
    except Exception as exc:  # boto3's errors: each named as the user can act on it
        return None, _s3_reason(exc)
    try:
        return RunRecord.model_validate_json(data), None
    except ValueError:
        return None, "it is not a run record this version reads"


def _s3_reason(exc: Exception) -> str:
    """Why S3 did not give the record, in words: no credentials, no endpoint, access denied, no such object."""
    from botocore.exceptions import EndpointConnectionError, NoCredentialsError

    from model_training.aws import error_code

    if isinstance(exc, NoCredentialsError):
        return "no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    if isinstance(exc, EndpointConnectionError):
        url = urlsplit(str(exc.kwargs.get("endpoint_url", "")))
        where = f"{url.scheme}://{url.netloc}"
        return f"no S3 endpoint answers at {where}: an offline endpoint, such as the demo's, stops with its process"
    code = error_code(exc)
    if code in ("AccessDenied", "403", "Forbidden"):
        return "access denied (the credentials may not read it)"
    if code in ("NoSuchKey", "404", "NotFound"):
        return "it does not exist: the run was deleted, or moved"
    if code == "NoSuchBucket":
        return "its bucket does not exist"
    return f"S3 refused the read: {code or type(exc).__name__}"

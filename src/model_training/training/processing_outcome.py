"""A processing job's outcome from its ``SageMaker Processing Job State Change`` event: the job described (never the
event trusted), tied to its run by its name, its ``RunId`` tag and its ``HandOffRecord`` tag (the hand-off record's
``s3://`` URI in the data bucket, under the input prefix, in the run's folder), and its final status recorded in that
hand-off record (``handoff.json``, :mod:`~model_training.handoff`) once: a final status is never taken back, an
unchanged record is not rewritten.

A job that ``Failed`` or was ``Stopped`` leaves the run without ``run.json`` (or with one the job's run could not
finish): the hand-off record says so, with SageMaker's ``FailureReason``. A ``Completed`` job is recorded too; the run
itself is ``run.json``'s (the job's run wrote it and started the training job).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from model_training.ports import Store
from model_training.training.processing import PROCESSING_JOB_PREFIX, describe_processing_job, job_tags

#: Where a processing job's hand-off record is named: its tag.
HANDOFF_TAG = "HandOffRecord"
#: SageMaker's final processing job statuses (``DescribeProcessingJob``'s ``ProcessingJobStatus``).
FINAL_PROCESSING_STATUSES = ("Completed", "Failed", "Stopped")
RUN_ID = re.compile(r"[0-9a-f]{16}")


@dataclass(frozen=True)
class ProcessingOutcome:
    """What a processing job's event did.

    Attributes:
        status: ``recorded`` (the hand-off record rewritten), ``unchanged`` (already final, or the job still runs) or
            ``skipped`` (not one of this stage's jobs: ``reason``).
        job_name: the processing job's name.
        run_id: its run's id (``None`` when skipped).
        job_status: SageMaker's status of the job.
        failure_reason: SageMaker's ``FailureReason`` of a failed job.
        record_uri: the hand-off record's URI.
        reason: why it was skipped.
    """

    status: Literal["recorded", "unchanged", "skipped"]
    job_name: str
    run_id: str | None = None
    job_status: str | None = None
    failure_reason: str | None = None
    record_uri: str | None = None
    reason: str | None = None


def record_processing_outcome(name: str, *, client: Any, store: Store, bucket: str, input_prefix: str) -> ProcessingOutcome:
    """Record processing job ``name``'s final status in its hand-off record.

    Args:
        client: a boto3 ``sagemaker`` client.
        store: the data bucket's store (the hand-off record is rewritten through it).
        bucket: the data bucket's name; input_prefix: the stage's input prefix (``automl/``).

    Raises:
        botocore.exceptions.ClientError: SageMaker or S3 refused a call (after boto3's retries).
    """
    skipped = lambda why: ProcessingOutcome("skipped", name, reason=why)  # noqa: E731
    if not name.startswith(PROCESSING_JOB_PREFIX):
        return skipped(f"processing job {name} is not named {PROCESSING_JOB_PREFIX}{{run id}}: not this stage's")
    job = describe_processing_job(client, name)
    if job is None:
        return skipped(f"processing job {name} does not exist in this account and region")
    tags = job_tags(client, job["ProcessingJobArn"])
    run_id, where = tags.get("RunId", ""), tags.get(HANDOFF_TAG, "")
    if not RUN_ID.fullmatch(run_id) or name != f"{PROCESSING_JOB_PREFIX}{run_id}":
        return skipped(f"processing job {name} has no RunId tag of its name's run id: not this stage's")
    found, _, key = where.removeprefix("s3://").partition("/")
    if (
        not where.startswith("s3://")
        or found != bucket
        or not key.startswith(input_prefix)
        or not key.endswith(f"/{run_id}/handoff.json")
    ):
        return skipped(f"processing job {name}'s {HANDOFF_TAG} tag {where[:120]!r} is not a hand-off record of this stage")
    if not store.exists(key):
        return skipped(f"processing job {name}'s hand-off record {where} does not exist (deleted since)")
    record = json.loads(store.read_bytes(key))
    if record.get("run_id") != run_id or record.get("processing_job", {}).get("name") != name:
        return skipped(f"the hand-off record {where} is not processing job {name}'s")
    status = str(job.get("ProcessingJobStatus"))
    reason = job.get("FailureReason")
    done = ProcessingOutcome("unchanged", name, run_id, status, reason, where)
    if status not in FINAL_PROCESSING_STATUSES or record.get("status") != "handed_off":
        return done  # still running, or recorded already: never taken back
    record["status"] = {"Completed": "completed", "Failed": "failed", "Stopped": "stopped"}[status]
    record["processing_job"]["status"] = status
    if reason:
        record["processing_job"]["failure_reason"] = str(reason)[:1024]
    store.with_tags({"RunId": run_id, "SourceObject": str(record.get("source", {}).get("uri", ""))}).write_bytes(
        key, (json.dumps(record, indent=2, sort_keys=True) + "\n").encode("utf-8")
    )
    return ProcessingOutcome("recorded", name, run_id, status, reason, where)

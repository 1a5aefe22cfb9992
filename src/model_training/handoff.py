"""The handler's hand-off: a source the Lambda function cannot split (:func:`~model_training.budget.handoff_reason`)
is split by a SageMaker Processing job instead (:mod:`~model_training.training.processing`), which runs
``model-training run`` on the same object version with the same configuration, and starts the training job itself.

The function decides from a ``HeadObject`` and the first 64 KiB (the size, the estimated in-memory size), computes
the run id and keys exactly as the pipeline would (:func:`~model_training.output.runrecord.compute_run_id`, the
configuration's prefix), records the hand-off as ``{run prefix}/handoff.json`` in the data bucket (:func:`handoff_record`,
created only if absent) and then starts the job under the run id's name (a second delivery finds it; its
``HandOffRecord`` tag names the record, for its state-change event: :mod:`~model_training.training.processing_outcome`).
The record comes first so that a delivery killed between the two leaves what later ones find. ``run.json`` is left to the
job's run: it is written once the split is committed, as for a split inside the function. The job's
``SageMaker Processing Job State Change`` event records how it ended in that record (:func:`record_processing_event`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from model_training import aws
from model_training.budget import handoff_reason
from model_training.config.run import RunConfig
from model_training.config.settings import AwsTargets, StageSettings, resolve_targets
from model_training.data.inflate import max_decompressed_bytes
from model_training.data.parts import PartsSource
from model_training.data.s3 import S3Source
from model_training.job_events import JobRef
from model_training.output.runrecord import RUN_RECORD_NAME, compute_run_id
from model_training.output.s3_store import S3Store
from model_training.split.size import in_memory_size
from model_training.tags import MAX_TAG_VALUE_CHARS, is_tag_text, tag_value
from model_training.training.processing import (
    job_environment,
    processing_request,
    run_command,
    size_processing,
    start_processing_job,
)
from model_training.training.processing_outcome import (
    FINAL_PROCESSING_STATUSES,
    HANDOFF_TAG,
    ProcessingOutcome,
    record_processing_outcome,
)

#: The hand-off's record, in the run folder beside where ``run.json`` will be.
HANDOFF_RECORD_NAME = "handoff.json"


@dataclass(frozen=True)
class HandOff:
    """A source handed to a processing job.

    Attributes:
        run_id: the run's id, as the job's run computes it.
        job_name: the processing job's name.
        created: this delivery created the job (``False``: an earlier delivery did).
        reason: why the function did not split it (:func:`~model_training.budget.handoff_reason`).
        run_uri: the run folder's URI (``run.json`` appears there when the job has split the source).
        record_uri: the hand-off record's URI.
        job_status: the job's ``ProcessingJobStatus`` as found (``Failed`` or ``Stopped``: it ended without
            splitting the source, and nothing else will).
        failure_reason: SageMaker's ``FailureReason`` of a job that failed.
    """

    run_id: str
    job_name: str
    created: bool
    reason: str
    run_uri: str
    record_uri: str
    job_status: str = ""
    failure_reason: str | None = None


def hand_off(
    source: S3Source | PartsSource,
    config: RunConfig,
    settings: StageSettings,
    targets: AwsTargets,
    *,
    time_left: Callable[[], float] | None,
    env: Mapping[str, str] | None = None,
) -> HandOff | None:
    """Start the processing job that splits ``source``, if the function cannot split it; else ``None``.

    A run whose ``run.json`` exists (the job's run has committed it) is not handed off again: ``None``, and the
    pipeline reports it as a duplicate (or trains it) without reading the source.  A run handed off already (its
    ``handoff.json`` exists) stays handed off, even for a delivery that could split it itself (more time left): the
    job is found (or created, if a delivery was killed after the record), never split twice.  A job found ended while
    its record still says ``handed_off`` (its state-change event came before the record) has its final status
    recorded.

    Without a processing job configured (``MODEL_TRAINING_PROCESSING_IMAGE`` and
    ``MODEL_TRAINING_PROCESSING_ROLE_ARN``) nothing is decided here (``None``, with no request made): the function
    refuses such a source as it always has (the size limits' :class:`~model_training.errors.DatasetError`, the time
    budget's retryable :class:`~model_training.errors.TimeBudgetError`).

    Args:
        source: the event's object version (or folder of part files), opened with no size limit.
        time_left: seconds left in the invocation, asked once and only with a processing job configured (``None``:
            no budget).
        env: the function's environment, passed on to the job (default ``os.environ``; credentials are not).

    Raises:
        DatasetError: as the source's ``HeadObject`` raises (missing, changed).
        ConfigurationError: the source is too large even for a processing job's volume, or a job of the run's name
            belongs to another run.
    """
    if not settings.processing_image or not settings.processing_role_arn:
        return None
    size = source.size()
    expanded = in_memory_size(source, size)
    reason = handoff_reason(
        size_bytes=size,
        expanded_bytes=expanded,
        max_object_bytes=settings.max_object_bytes,
        max_decompressed_bytes=max_decompressed_bytes(env),
        seconds_left=time_left() if time_left is not None else None,
    )
    info = source.identify()  # the HeadObject the size came from
    run_id = compute_run_id(info, config)
    store = S3Store(targets.data_bucket, sse=settings.sse, kms_key_id=settings.kms_key_id)
    prefix = f"{config.prefix(info.name)}/{run_id}"
    record_key = f"{prefix}/{HANDOFF_RECORD_NAME}"
    if reason is None:  # split here, unless an earlier delivery (with less time left) handed it off: its job splits it
        if not store.exists(record_key):
            return None
        reason = f"an earlier delivery handed it off ({HANDOFF_RECORD_NAME})"
    if store.exists(f"{prefix}/{RUN_RECORD_NAME}"):
        return None  # split already (by the job's run): the pipeline finds run.json and reads nothing
    sizing = size_processing(size, expanded)
    version = info.version_id if isinstance(source, S3Source) else None
    command = run_command(
        info.uri,
        version,
        config.run_date.isoformat(),
        f"s3://{targets.data_bucket}",
        f"s3://{targets.model_output_bucket}",
        targets.role_arn,
    )
    lineage = {"RunId": run_id, "SourceObject": info.uri}
    record_uri = store.uri(record_key)
    named = len(record_uri) <= MAX_TAG_VALUE_CHARS and is_tag_text(record_uri)  # else its event is skipped
    job_tags = {**{k: tag_value(v) for k, v in lineage.items()}, **({HANDOFF_TAG: record_uri} if named else {})}
    request = processing_request(
        run_id=run_id,
        image=settings.processing_image,
        role_arn=settings.processing_role_arn,
        command=command,
        environment=job_environment(os.environ if env is None else env, sizing, size, expanded),
        sizing=sizing,
        tags=job_tags,
    )
    # the record first, created only if absent (a conditional PUT): a delivery killed before the job exists leaves the
    # record, so every later delivery stays handed off and creates the job; a final status recorded is never rewritten
    store = store.with_tags(lineage)
    store.create_exclusive(record_key, handoff_record(run_id, info.identity(), reason, request, f"{prefix}/{RUN_RECORD_NAME}"))
    job, created = start_processing_job(request)
    status = str(job.get("ProcessingJobStatus", ""))
    if not created and status in FINAL_PROCESSING_STATUSES:  # ended; its state-change event may have found no record
        record_processing_outcome(
            job["ProcessingJobName"], client=aws.client("sagemaker"), store=store, bucket=targets.data_bucket,
            input_prefix=settings.prefix,
        )  # fmt: skip
    failure = job.get("FailureReason")
    return HandOff(
        run_id, request["ProcessingJobName"], created, reason, store.uri(prefix), store.uri(record_key), status,
        str(failure) if failure else None,
    )  # fmt: skip


def handoff_record(run_id: str, source: Mapping[str, Any], reason: str, request: Mapping[str, Any], run_record_key: str) -> bytes:
    """The hand-off record's bytes: indented UTF-8 JSON, written before the job is created (so no ARN, and no times):
    ``status`` ``handed_off``, the run id, the source's identity, why, the processing job (name, instance type,
    volume in GB, command, environment: the stage's settings, no credentials) and the key of the ``run.json`` the
    job's run writes."""
    resources = request["ProcessingResources"]["ClusterConfig"]
    document = {
        "status": "handed_off",
        "run_id": run_id,
        "source": dict(source),
        "reason": reason,
        "processing_job": {
            "name": request["ProcessingJobName"],
            "instance_type": resources["InstanceType"],
            "volume_size_gb": resources["VolumeSizeInGB"],
            "command": request["AppSpecification"]["ContainerEntrypoint"],
            "environment": request["Environment"],
        },
        "run_record": run_record_key,
    }
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8")


def record_processing_event(ref: JobRef, settings: StageSettings) -> ProcessingOutcome:
    """Record the final status of the processing job a SageMaker event names in its hand-off record
    (:func:`~model_training.training.processing_outcome.record_processing_outcome`): the job as SageMaker (boto3's
    endpoint) describes it, the record in the data bucket the SSM parameter names, under the input prefix.

    Raises:
        ConfigurationError: an SSM parameter cannot be read.
    """
    targets = resolve_targets(settings)
    store = S3Store(targets.data_bucket, sse=settings.sse, kms_key_id=settings.kms_key_id)
    return record_processing_outcome(
        ref.name, client=aws.client("sagemaker"), store=store, bucket=targets.data_bucket, input_prefix=settings.prefix
    )

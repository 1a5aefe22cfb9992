"""The split off the Lambda function: a SageMaker Processing job that runs ``model-training run`` on one object
version, in the same image as the function, when the function cannot split it itself
(:func:`~model_training.budget.handoff_reason`).

The job runs the same pipeline with the same configuration: the function's own ``MODEL_TRAINING_*`` settings as its
``Environment`` (the manifest is found beside the object the same way, SSM read the same way), the object version
pinned (``--version-id``), the run date the function would use (``--date``), the data bucket as the output and
``--backend sagemaker``; so the run id, the keys and the bytes are those an in-function split writes, and the job
(not the function) starts the training job, once, by the run id's job name.

Its name is the run id's (:func:`processing_job_name`): a second delivery's ``CreateProcessingJob`` is refused with
``ResourceInUse``, and the job found is this run's if its ``RunId`` tag says so (:func:`start_processing_job`).

Request shape: botocore's SageMaker service model, ``CreateProcessingJobRequest``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from model_training import aws
from model_training.errors import ConfigurationError

#: ``ProcessingJobName``'s limit (the service model: ``^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$``).
MAX_PROCESSING_JOB_NAME_LENGTH = 63
#: The job's name before the run id.
PROCESSING_JOB_PREFIX = "model-training-split-"
GIB = 1024**3
#: Instance types a processing job is sized from, smallest first, with their memory in GiB (AWS's instance tables).
PROCESSING_INSTANCES: tuple[tuple[str, int], ...] = (
    ("ml.m5.large", 8),
    ("ml.m5.xlarge", 16),
    ("ml.m5.2xlarge", 32),
    ("ml.m5.4xlarge", 64),
    ("ml.r5.4xlarge", 128),
    ("ml.r5.8xlarge", 256),
)
#: The in-memory split's peak is about three times the source's in-memory size
#: (:data:`~model_training.config.run.STREAM_ABOVE_BYTES` streams above a third of the memory).
MEMORY_FACTOR = 3
#: A streaming split keeps about the source's size in temporary files, beside the downloaded object: twice.
VOLUME_FACTOR = 2
#: The smallest volume a processing job gets, in GB.
MIN_VOLUME_GB = 30
#: ``ProcessingResources.ClusterConfig.VolumeSizeInGB``'s maximum (the service model).
MAX_VOLUME_GB = 16384
#: Where the job's volume is mounted inside the container (SageMaker Processing's documentation): the streaming
#: split's temporary files go there.
PROCESSING_VOLUME = "/opt/ml/processing"
#: Environment variables of the function that the job's environment carries: the stage's settings only (never the
#: function's credentials, which Lambda also puts in its environment).
PASSED_PREFIXES = ("MODEL_TRAINING_",)
PASSED_NAMES = ("SERVERLESS_ENVIRONMENT", "AWS_REGION", "AWS_DEFAULT_REGION", "POWERTOOLS_SERVICE_NAME")
#: ``Environment``'s values' limit (the service model: ``ProcessingEnvironmentValue``, 256 characters).
MAX_ENVIRONMENT_VALUE_CHARS = 256
#: How the job starts the command line in the function's image: the Dockerfile installs the package into the Lambda
#: task root (``pip install --target``), whose ``bin`` folder is not on ``PATH``, and the base image's working
#: directory is that task root; so ``python3 -m`` finds the package where a ``model-training`` script would not.
ENTRYPOINT: tuple[str, ...] = ("python3", "-m", "model_training.cli")


@dataclass(frozen=True)
class Sizing:
    """The processing job's machine for one source.

    Attributes:
        instance_type: the smallest of :data:`PROCESSING_INSTANCES` with memory >= :data:`MEMORY_FACTOR` x the
            source's in-memory size, else the largest (and the split streams).
        volume_gb: GB of storage: :data:`VOLUME_FACTOR` x the larger of the stored and in-memory sizes, rounded up,
            at least :data:`MIN_VOLUME_GB`.
        stream: the split streams (the source does not fit the largest instance's memory).
        memory_gib: the instance's memory, in GiB.
    """

    instance_type: str
    volume_gb: int
    stream: bool
    memory_gib: int


def size_processing(size_bytes: int, expanded_bytes: int) -> Sizing:
    """The instance type and volume for a source of ``size_bytes`` stored, ``expanded_bytes`` in memory.

    Raises:
        ConfigurationError: the volume needed is over :data:`MAX_VOLUME_GB`.
    """
    fitting = [(t, m) for t, m in PROCESSING_INSTANCES if m * GIB >= MEMORY_FACTOR * expanded_bytes]
    instance, memory = fitting[0] if fitting else PROCESSING_INSTANCES[-1]
    volume = max(MIN_VOLUME_GB, math.ceil(VOLUME_FACTOR * max(size_bytes, expanded_bytes) / 1e9))
    if volume > MAX_VOLUME_GB:
        raise ConfigurationError(
            f"a processing job's volume would need {volume} GB, over SageMaker's {MAX_VOLUME_GB}",
            "split the dataset into a folder of part files (s3://bucket/prefix/ with a _SUCCESS marker) of smaller objects",
        )
    return Sizing(instance, volume, not fitting, memory)


def processing_job_name(run_id: str) -> str:
    """The processing job's name for run ``run_id`` (16 hex digits): ``model-training-split-{run_id}``, 37 characters."""
    name = f"{PROCESSING_JOB_PREFIX}{run_id}"
    assert len(name) <= MAX_PROCESSING_JOB_NAME_LENGTH
    return name


def job_environment(env: Mapping[str, str], sizing: Sizing, size_bytes: int, expanded_bytes: int) -> dict[str, str]:
    """The job's ``Environment``: the function's stage settings from ``env`` (:data:`PASSED_PREFIXES`,
    :data:`PASSED_NAMES`; nothing else: no credentials), with the limits that sent the source here raised to what the
    job's machine holds, and the split's streaming and temporary folder set for that machine.

    Raises:
        ConfigurationError: a value is longer than SageMaker takes (:data:`MAX_ENVIRONMENT_VALUE_CHARS`), naming it.
    """
    chosen = {k: v for k, v in env.items() if k.startswith(PASSED_PREFIXES) or k in PASSED_NAMES}
    room = str(max(size_bytes, expanded_bytes, sizing.volume_gb * 10**9 // VOLUME_FACTOR))
    chosen["MODEL_TRAINING_MAX_OBJECT_BYTES"] = room
    chosen["MODEL_TRAINING_MAX_DECOMPRESSED_BYTES"] = room
    chosen["MODEL_TRAINING_STREAM_ABOVE_MB"] = "0" if sizing.stream else str(sizing.memory_gib * 1024 // MEMORY_FACTOR)
    chosen["MODEL_TRAINING_TMP_DIR"] = f"{PROCESSING_VOLUME}/tmp"
    long = [k for k, v in chosen.items() if len(v) > MAX_ENVIRONMENT_VALUE_CHARS]
    if long:
        raise ConfigurationError(
            f"a processing job's environment values hold at most {MAX_ENVIRONMENT_VALUE_CHARS} characters, and "
            + ", ".join(f"{k} has {len(chosen[k])}" for k in sorted(long)),
            "move the setting into the dataset's manifest.json or the SSM training settings, which the job reads too",
        )
    return dict(sorted(chosen.items()))


def run_command(
    source_uri: str, version_id: str | None, run_date: str, output: str, model_output: str, role_arn: str
) -> list[str]:
    """The ``model-training run`` command the job runs (its ``ContainerEntrypoint``: :data:`ENTRYPOINT` ``run ...``),
    as the function would run the
    source: that version, that run date, the data bucket ``output``, the model output root, the training role and
    SageMaker's backend."""
    command = [*ENTRYPOINT, "run", source_uri]
    pinned = ["--version-id", version_id] if version_id else []
    where = ["--date", run_date, "--output", output, "--model-output", model_output, "--role-arn", role_arn]
    return [*command, *pinned, *where, "--backend", "sagemaker", "--quiet"]


def processing_request(
    *,
    run_id: str,
    image: str,
    role_arn: str,
    command: list[str],
    environment: Mapping[str, str],
    sizing: Sizing,
    tags: Mapping[str, str],
    max_runtime_seconds: int = 86_400,
) -> dict[str, Any]:
    """The ``CreateProcessingJob`` request: one instance of ``sizing``, ``image`` running ``command``, the run's
    lineage ``tags`` (``RunId``, ``SourceObject``), no inputs or outputs (the command reads and writes S3 itself)."""
    return {
        "ProcessingJobName": processing_job_name(run_id),
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": sizing.instance_type,
                "VolumeSizeInGB": sizing.volume_gb,
            }
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime_seconds},
        "AppSpecification": {"ImageUri": image, "ContainerEntrypoint": list(command)},
        "Environment": dict(environment),
        "RoleArn": role_arn,
        "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
    }


def start_processing_job(request: Mapping[str, Any], client: Any = None) -> tuple[dict[str, Any], bool]:
    """Create the processing job ``request`` names, or find it: ``(its description, created)``.

    The job of that name is described first (a second delivery finds it there); else it is created, and a
    ``ResourceInUse`` refusal (a delivery creating it at the same moment) is a job found.  A job found is this run's
    if its ``RunId`` tag is the request's.

    Raises:
        ConfigurationError: a job of that name exists for another run (its tags say so).
        botocore.exceptions.ClientError: any other refusal (after boto3's retries).
    """
    client = client or aws.client("sagemaker")
    name = request["ProcessingJobName"]
    job = describe_processing_job(client, name)
    created = False
    if job is None:
        try:
            client.create_processing_job(**request)
            created = True
        except Exception as exc:
            if aws.error_code(exc) != "ResourceInUse":
                raise
        job = describe_processing_job(client, name)
        assert job is not None, name
    wanted = {t["Key"]: t["Value"] for t in request.get("Tags", [])}.get("RunId")
    found = job_tags(client, job["ProcessingJobArn"]).get("RunId")
    if found != wanted:
        raise ConfigurationError(
            f"processing job {name} exists with RunId tag {found!r}, not this run's {wanted!r}",
            "it was not started by this stage for this run: stop or rename it",
        )
    return job, created


def describe_processing_job(client: Any, name: str) -> dict[str, Any] | None:
    """The processing job ``name`` (``DescribeProcessingJob``), or ``None`` if there is none (SageMaker says
    ``ValidationException``: "Could not find processing job")."""
    try:
        return dict(client.describe_processing_job(ProcessingJobName=name))
    except Exception as exc:
        if aws.error_code(exc) in ("ResourceNotFound", "ValidationException") and "find" in str(exc).lower():
            return None
        raise


def job_tags(client: Any, arn: str) -> dict[str, str]:
    """The tags of the SageMaker resource ``arn`` (``ListTags``, every page), as a dict."""
    pages = client.get_paginator("list_tags").paginate(ResourceArn=arn)
    return {t["Key"]: t["Value"] for page in pages for t in page.get("Tags", [])}

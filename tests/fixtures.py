"""Plain helpers shared by several test modules (pytest fixtures live in ``conftest.py``).

Test modules import helpers from here, never from one another: a test module is collected for its tests,
and importing it from elsewhere runs its module-level set-up twice and ties two test files together.

- Local files: :func:`write_csv`, :func:`load_dataset`, :func:`zip_of`.
- The Lambda world (the moto server of the ``pipeline`` fixture): :data:`EVENT_TIME`, :class:`Context`,
  :class:`Shrinking`, :func:`small_csv`, :func:`training_objects`, :func:`run_day`, :func:`jobs`.
- SageMaker's side of a job: :func:`start_jobs_in_progress`, :func:`set_job_state` (through moto's model of the job,
  in this process), :func:`training_job_event` and :func:`tuning_job_event` (the EventBridge events SageMaker sends).
- Faults: :func:`inject` (a failing AWS call: throttling, a 5xx, a connection reset, a refusal) and :class:`Denied`
  (S3 refusing a call with 403 AccessDenied), both botocore ``before-send`` hooks.
- Requests: :func:`service_problems` (a request against the service model's shapes, field by field).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectionClosedError
from botocore.model import Shape

from model_training import aws
from model_training.data.dataset import Dataset
from model_training.data.local import read_local_source
from model_training.data.parsing import parse_csv

# ----- local files ---------------------------------------------------------------------------------------------


def write_csv(path: Path, text: str | bytes) -> Path:
    """Write a small CSV fixture (text is written as UTF-8 without newline translation); returns ``path``."""
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def load_dataset(tmp_path: Path, content: str | bytes, name: str = "data.csv") -> Dataset:
    """``content`` written as ``tmp_path / name``, read and parsed as the stage parses a local source.

    Raises:
        DatasetError: the content is not a CSV the stage accepts (as ``parse_csv`` and ``read_local_source`` raise it).
    """
    info, data = read_local_source(write_csv(tmp_path / name, content))
    return parse_csv(info, data)


def zip_of(text: str) -> bytes:
    """A zip archive holding ``text`` as ``data.csv`` (what a renamed ``.xlsx`` or ``.zip`` looks like to the stage)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.csv", text)
    return buffer.getvalue()


# ----- the Lambda world ----------------------------------------------------------------------------------------

#: The ``eventTime`` of the S3 events the tests deliver.
EVENT_TIME = "2026-03-04T10:11:12.000Z"


def eventbridge_object_created(
    bucket: str, key: str, meta: dict[str, Any], *, time: str = EVENT_TIME.replace(".000", ""), event_id: str = "eb-1"
) -> dict[str, Any]:
    """An EventBridge ``Object Created`` event (``aws.s3``) for ``key`` (as EventBridge writes it) in ``bucket``, with
    the ``size``, ``etag`` and ``version_id`` of ``meta`` (what :func:`~model_training.offline.upload` returns)."""
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": time,
        "region": "eu-west-2",
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": key, "size": meta["size"], "etag": meta["etag"], "version-id": meta["version_id"]},
            "request-id": "r",
            "requester": "123456789012",
            "reason": "PutObject",
        },
    }


class Context:
    """A Lambda context: the function's name, memory and ARN, and ``remaining_ms`` milliseconds left."""

    function_name = "model-training"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:eu-west-2:123456789012:function:model-training"
    aws_request_id = "req-1"

    def __init__(self, remaining_ms: int = 600_000) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


class Shrinking(Context):
    """A Lambda context with ``first`` seconds left for the handler's first two looks, ``then`` seconds after."""

    def __init__(self, first: int, then: int) -> None:
        super().__init__()
        self.calls, self.first, self.then = 0, first, then

    def get_remaining_time_in_millis(self) -> int:
        self.calls += 1
        return self.first * 1000 if self.calls <= 2 else self.then * 1000


def small_csv(rows: int = 60, seed: int = 0) -> bytes:
    """A CSV the stage splits with its defaults: header ``f1,f2,y_no,y_yes`` and ``rows`` rows (``seed`` shifts the values)."""
    lines = ["f1,f2,y_no,y_yes"]
    for i in range(rows):
        y = (i * 7 + seed) % 3 == 0
        lines.append(f"{(i * 13 + seed) % 17}.5,{i % 5},{int(not y)},{int(y)}")
    return ("\n".join(lines) + "\n").encode()


def training_objects(bucket: str) -> list[dict]:
    """The current objects of every run folder (``automl/{date}/training/...``) in ``bucket``, whatever the
    run date (an object version's own ``LastModified`` date: the upload's day on moto)."""
    paginator = aws.client("s3").get_paginator("list_objects_v2")
    return [
        o
        for page in paginator.paginate(Bucket=bucket, Prefix="automl/")
        for o in page.get("Contents", [])
        if "/training/" in o["Key"]
    ]


def run_day(bucket: str, key: str) -> str:
    """The run date of the current version of ``key``: its ``LastModified`` in UTC, as ``YYYY-MM-DD``."""
    return aws.client("s3").head_object(Bucket=bucket, Key=key)["LastModified"].astimezone(dt.UTC).date().isoformat()


def jobs() -> list[str]:
    """The ``TrainingJobName`` of every SageMaker training job (one page of ``ListTrainingJobs``)."""
    return [j["TrainingJobName"] for j in aws.client("sagemaker").list_training_jobs()["TrainingJobSummaries"]]


# ----- faults --------------------------------------------------------------------------------------------------

#: What S3 answers (status, XML body) for each kind of fault; a HEAD response has no body, so HeadObject gets resets only.
S3_ERRORS = {
    "throttle": (503, b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"),
    "5xx": (500, b"<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>"),
}
#: What the JSON services (SSM, SageMaker) answer (status, body) for each kind of fault: throttling and a server
#: fault (a retry may cure them), and two refusals SageMaker's creates answer (``invalid``, ``limit``).
JSON_ERRORS = {
    "throttle": (400, b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'),
    "5xx": (500, b'{"__type": "InternalFailure", "message": "internal"}'),
    "invalid": (400, b'{"__type": "ValidationException", "message": "The role is not valid"}'),
    "limit": (400, b'{"__type": "ResourceLimitExceeded", "message": "The account-level service limit was exceeded"}'),
}


class RawBody:
    """A response body botocore can stream: ``body`` in one piece."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


class Fault:
    """Fail the next ``times`` calls of one operation with ``kind`` (throttle, 5xx, reset); ``None``: every call."""

    def __init__(self, service: str, kind: str, times: int | None) -> None:
        self.service, self.kind, self.remaining, self.injected = service, kind, times, 0

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        if self.remaining is not None and self.remaining <= 0:
            return None
        if self.remaining is not None:
            self.remaining -= 1
        self.injected += 1
        if self.kind == "reset":
            raise ConnectionClosedError(endpoint_url=request.url)
        status, body = (S3_ERRORS if self.service == "s3" else JSON_ERRORS)[self.kind]
        return AWSResponse(request.url, status, {}, RawBody(body))


@contextmanager
def inject(service: str, operation: str, kind: str, times: int | None = 1) -> Iterator[Fault]:
    """Within the block, the next ``times`` calls of ``service``'s ``operation`` fail with ``kind`` (see :class:`Fault`)."""
    fault = Fault(service, kind, times)
    events = aws.client(service).meta.events
    name = f"before-send.{aws.client(service).meta.service_model.service_name}.{operation}"
    events.register(name, fault, unique_id=f"fault-{id(fault)}")
    try:
        yield fault
    finally:
        events.unregister(name, unique_id=f"fault-{id(fault)}")


class Denied:
    """A botocore before-send hook answering 403 AccessDenied, as S3 does when a policy refuses the call."""

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        body = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
        return AWSResponse(request.url, 403, {}, RawBody(body))


# ----- SageMaker's side of a training job ----------------------------------------------------------------------
# moto's server runs in this process: its model of a training job is what DescribeTrainingJob answers from. moto
# creates every job Completed at once; SageMaker creates it InProgress and says how it ended later.  The helpers
# below drive a job's state through that model, as SageMaker would change it; the stage still reads it over HTTP.


def sagemaker_job_model(name: str) -> Any:
    """moto's model of training job ``name`` (in the region of ``AWS_REGION``)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sagemaker.models import sagemaker_backends

    return sagemaker_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_REGION"]].training_jobs[name]


def start_jobs_in_progress(monkeypatch: Any) -> None:
    """From now on (for the test), moto creates training jobs as SageMaker does: ``InProgress``/``Starting``, with
    no start or end time, metrics or model artifact yet."""
    from moto.sagemaker.models import FakeTrainingJob

    created = FakeTrainingJob.__init__

    def starting(self: Any, *args: Any, **kwargs: Any) -> None:
        created(self, *args, **kwargs)
        self.training_job_status, self.secondary_status = "InProgress", "Starting"
        self.training_start_time = self.training_end_time = self.model_artifacts = None
        self.final_metric_data_list = []

    monkeypatch.setattr(FakeTrainingJob, "__init__", starting)


def start_tuning_jobs_in_progress(monkeypatch: Any) -> None:
    """From now on (for the test), moto creates hyperparameter tuning jobs as SageMaker does: ``InProgress``, with no
    end time, no trials counted and no best training job yet (moto's own are ``Completed`` at once, with a
    placeholder ``FakeTrainingJobName`` as their best)."""
    from moto.sagemaker.models import HyperParameterTuningJob

    created = HyperParameterTuningJob.__init__

    def starting(self: Any, *args: Any, **kwargs: Any) -> None:
        created(self, *args, **kwargs)
        self.hyper_parameter_tuning_job_status = "InProgress"
        self.hyper_parameter_tuning_end_time = self.best_training_job = self.OverallBestTrainingJob = None
        self.training_job_status_counters = dict.fromkeys(self.training_job_status_counters, 0)
        self.objective_status_counters = dict.fromkeys(self.objective_status_counters, 0)

    monkeypatch.setattr(HyperParameterTuningJob, "__init__", starting)


#: What each final state sets, as SageMaker's DescribeTrainingJob shows it.
JOB_ENDINGS = {
    "Completed": {"secondary_status": "Completed"},
    "Failed": {"secondary_status": "Failed", "failure_reason": "AlgorithmError: the label column holds 2.0 (binary:logistic)"},
    "Stopped": {"secondary_status": "MaxRuntimeExceeded"},
}


def set_job_state(name: str, status: str, *, metrics: dict[str, float] | None = None, seconds: int = 120) -> dict[str, Any]:
    """Put training job ``name`` in ``status`` as SageMaker would: ``InProgress`` (``Training``), or a final status
    with its secondary status, failure reason, times, training and billable seconds (``seconds``, billed 90%: spot),
    final metrics and (``Completed`` only) the model artifact.  Returns the fields set, in the job's own names."""
    job = sagemaker_job_model(name)
    job.training_job_status = status
    job.failure_reason = None
    if status in ("InProgress", "Stopping"):
        job.secondary_status = "Training" if status == "InProgress" else "Stopping"
        job.training_start_time = dt.datetime(2026, 3, 4, 10, 15, tzinfo=dt.UTC)
        job.training_end_time = job.training_time_in_seconds = job.billable_time_in_seconds = job.model_artifacts = None
        job.final_metric_data_list = []
        return {"TrainingJobStatus": status}
    for field_name, value in JOB_ENDINGS[status].items():
        setattr(job, field_name, value)
    start = dt.datetime(2026, 3, 4, 10, 15, tzinfo=dt.UTC)
    job.training_start_time, job.training_end_time = start, start + dt.timedelta(seconds=seconds)
    job.training_time_in_seconds, job.billable_time_in_seconds = seconds, int(seconds * 0.9)
    values = metrics if metrics is not None else {"validation:auc": 0.9375, "train:auc": 0.96875}
    job.final_metric_data_list = [{"MetricName": k, "Value": v, "Timestamp": job.training_end_time} for k, v in values.items()]
    output = job.output_data_config["S3OutputPath"]
    job.model_artifacts = {"S3ModelArtifacts": f"{output}/{name}/output/model.tar.gz"} if status == "Completed" else None
    return {"TrainingJobStatus": status, **{f: getattr(job, f) for f in ("secondary_status", "failure_reason")}}


def training_job_event(
    name: str, status: str, *, event_id: str = "844e2571-85d4-695f-b930-0153b71dcb42", **detail: Any
) -> dict[str, Any]:
    """A ``SageMaker Training Job State Change`` event as EventBridge delivers it: the detail is the job's
    ``DescribeTrainingJob`` shape (times in epoch milliseconds) with its tags as a dict; ``detail`` adds or
    replaces fields (an event that lies)."""
    region = os.environ.get("AWS_REGION", "eu-west-2")
    arn = f"arn:aws:sagemaker:{region}:123456789012:training-job/{name}"
    body: dict[str, Any] = {
        "TrainingJobName": name,
        "TrainingJobArn": arn,
        "TrainingJobStatus": status,
        "SecondaryStatus": status,
        "CreationTime": 1772619300000,
        "LastModifiedTime": 1772619420000,
        "Tags": {},
        **detail,
    }
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "SageMaker Training Job State Change",
        "source": "aws.sagemaker",
        "account": "123456789012",
        "time": "2026-03-04T10:17:00Z",
        "region": region,
        "resources": [arn],
        "detail": body,
    }


def tuning_job_event(
    name: str, status: str, *, event_id: str = "5b0e8c43-8a10-4c1f-b1d2-7e4f6a9c0d21", **detail: Any
) -> dict[str, Any]:
    """A ``SageMaker HyperParameter Tuning Job State Change`` event as EventBridge delivers it: the detail is the
    tuning job's ``DescribeHyperParameterTuningJob`` shape (times in epoch milliseconds) with its tags as a dict;
    ``detail`` adds or replaces fields (an event that lies)."""
    region = os.environ.get("AWS_REGION", "eu-west-2")
    arn = f"arn:aws:sagemaker:{region}:123456789012:hyper-parameter-tuning-job/{name}"
    body: dict[str, Any] = {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobArn": arn,
        "HyperParameterTuningJobStatus": status,
        "CreationTime": 1772619300000,
        "LastModifiedTime": 1772620200000,
        "TrainingJobStatusCounters": {"Completed": 0, "InProgress": 0, "RetryableError": 0, "NonRetryableError": 0, "Stopped": 0},
        "ObjectiveStatusCounters": {"Succeeded": 0, "Pending": 0, "Failed": 0},
        "Tags": {},
        **detail,
    }
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "SageMaker HyperParameter Tuning Job State Change",
        "source": "aws.sagemaker",
        "account": "123456789012",
        "time": "2026-03-04T10:30:00Z",
        "region": region,
        "resources": [arn],
        "detail": body,
    }


# ----- requests ------------------------------------------------------------------------------------------------


def _python_pattern(pattern: str) -> str:
    """A service model's (Java) pattern for Python's ``re``: ``\\p{L}``, ``\\p{Z}`` and ``\\p{N}`` (the tag
    pattern's Unicode classes, which ``re`` lacks) become ``\\w``, ``\\s`` and ``\\d``, as in
    ``model_training.tags``."""
    return pattern.replace(r"\p{L}", r"\w").replace(r"\p{Z}", r"\s").replace(r"\p{N}", r"\d")


def service_problems(value: Any, shape: Shape, path: str = "") -> list[str]:
    """Every way ``value`` breaks ``shape``: botocore's own validation (types, required members, minimums) and,
    field by field, what it leaves to the service (enums, maximums, patterns, a map's size and its keys' and
    values' rules)."""
    problems: list[str] = []
    meta = shape.metadata
    if shape.type_name == "structure":
        problems += [f"{path}.{m}: required" for m in shape.required_members if m not in value]
        for key, item in value.items():
            problems += (
                service_problems(item, shape.members[key], f"{path}.{key}")
                if key in shape.members
                else [f"{path}.{key}: unknown"]
            )
    elif shape.type_name == "list":
        if not meta.get("min", 0) <= len(value) <= meta.get("max", len(value)):
            problems.append(f"{path}: {len(value)} items")
        for n, item in enumerate(value):
            problems += service_problems(item, shape.member, f"{path}[{n}]")
    elif shape.type_name == "map":
        if not meta.get("min", 0) <= len(value) <= meta.get("max", len(value)):
            problems.append(f"{path}: {len(value)} entries")
        for key, item in value.items():
            problems += service_problems(key, shape.key, f"{path}{{{key}}}")
            problems += service_problems(item, shape.value, f"{path}[{key!r}]")
    elif shape.type_name == "string":
        if shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} not in {shape.enum}")
        if not meta.get("min", 0) <= len(value) <= meta.get("max", len(value)):
            problems.append(f"{path}: {len(value)} characters")
        if "pattern" in meta and not re.fullmatch(_python_pattern(meta["pattern"]), value):
            problems.append(f"{path}: {value!r} does not match {meta['pattern']}")
    elif shape.type_name == "integer" and not meta.get("min", value) <= value <= meta.get("max", value):
        problems.append(f"{path}: {value} out of range")
    return problems

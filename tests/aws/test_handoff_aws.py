"""The split handed off the Lambda function to a SageMaker Processing job, against moto's server: the decision at the
size limit (one byte under, at, over), the job started once whatever the number of deliveries, the hand-off recorded,
and, end to end, the job's own command run in a subprocess against the same endpoint writing what an in-function split
of the same object version writes: the same run id, keys and bytes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import model_training
from model_training import aws
from model_training.handler import handle
from model_training.offline import Pipeline, s3_event, upload
from model_training.training.processing import processing_job_name
from tests.fixtures import EVENT_TIME, Context, small_csv
from tests.moto_processing import processing_jobs_as_sagemaker, set_processing_state

IMAGE = "123456789012.dkr.ecr.eu-west-2.amazonaws.com/model-training:1.0"
PROCESSING_ROLE = "arn:aws:iam::123456789012:role/mlops-processing"
KEY = "automl/2026-03-04/big.csv"


@pytest.fixture
def processing(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> Pipeline:
    """The pipeline, with a processing job configured as the deployment configures it, and moto's processing jobs
    created ``InProgress`` as SageMaker creates them."""
    processing_jobs_as_sagemaker(monkeypatch)
    monkeypatch.setenv("MODEL_TRAINING_PROCESSING_IMAGE", IMAGE)
    monkeypatch.setenv("MODEL_TRAINING_PROCESSING_ROLE_ARN", PROCESSING_ROLE)
    return pipeline


def deliver(p: Pipeline, meta: dict[str, Any], context: Context | None = None) -> dict[str, Any]:
    event = s3_event(
        p.data_bucket, KEY, version_id=meta["version_id"], etag=meta["etag"], size=meta["size"], event_time=EVENT_TIME
    )
    (result,) = handle(event, context or Context())["results"]
    return result


def run_objects(bucket: str, run_uri: str) -> dict[str, bytes]:
    prefix = run_uri.removeprefix(f"s3://{bucket}/")
    s3 = aws.client("s3")
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}


def processing_jobs() -> list[str]:
    return [j["ProcessingJobName"] for j in aws.client("sagemaker").list_processing_jobs()["ProcessingJobSummaries"]]


@pytest.mark.parametrize(("limit_offset", "status"), [(1, "started"), (0, "started"), (-1, "handed off")])
def test_the_size_limit_decides_at_the_byte(
    processing: Pipeline, monkeypatch: pytest.MonkeyPatch, limit_offset: int, status: str
) -> None:
    data = small_csv()
    monkeypatch.setenv("MODEL_TRAINING_MAX_OBJECT_BYTES", str(len(data) + limit_offset))
    result = deliver(processing, upload(processing.data_bucket, KEY, data))
    assert result["status"] == status, result
    assert processing_jobs() == ([processing_job_name(result["run_id"])] if status == "handed off" else [])
    if status == "started":
        assert result["job_name"]  # split here, the training job started by the function


def test_too_little_time_for_the_stages_estimate_hands_off(processing: Pipeline) -> None:
    meta = upload(processing.data_bucket, KEY, small_csv())
    assert deliver(processing, meta, Context(remaining_ms=600_000))["status"] == "started"
    other = upload(processing.data_bucket, "automl/2026-03-04/other.csv", small_csv(seed=3))
    event = s3_event(processing.data_bucket, "automl/2026-03-04/other.csv", version_id=other["version_id"], event_time=EVENT_TIME)
    # 60 s at the handler's first look (over its 30 s floor), 9 s when the decision asks (under the 10 s margin alone)
    (result,) = handle(event, Shrinking(first=60, then=9))["results"]
    assert result["status"] == "handed off", result
    assert "are left" in result["reason"]


class Shrinking(Context):
    """A Lambda context with ``first`` seconds left at the handler's first look, ``then`` seconds after."""

    def __init__(self, first: int, then: int) -> None:
        super().__init__()
        self.calls, self.first, self.then = 0, first, then

    def get_remaining_time_in_millis(self) -> int:
        self.calls += 1
        return self.first * 1000 if self.calls <= 1 else self.then * 1000


def test_a_second_delivery_finds_the_job_and_the_record(processing: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_TRAINING_MAX_OBJECT_BYTES", "100")
    meta = upload(processing.data_bucket, KEY, small_csv())
    first = deliver(processing, meta)
    again = deliver(processing, meta)
    assert first["status"] == again["status"] == "handed off"
    assert first["created"] is True and again["created"] is False
    assert first["run_id"] == again["run_id"] and first["processing_job_name"] == again["processing_job_name"]
    assert processing_jobs() == [first["processing_job_name"]]
    written = run_objects(processing.data_bucket, first["run_record"].removesuffix("/run.json"))
    (record_key,) = written  # the hand-off record only: run.json is the job's run's to write
    assert record_key.endswith("/handoff.json") and first["handoff_record"].endswith(record_key)
    record = json.loads(written[record_key])
    assert record["status"] == "handed_off" and record["run_id"] == first["run_id"]
    assert record["source"]["version_id"] == meta["version_id"]
    assert "MODEL_TRAINING_MAX_OBJECT_BYTES (100)" in record["reason"]
    job = aws.client("sagemaker").describe_processing_job(ProcessingJobName=first["processing_job_name"])
    assert job["RoleArn"] == PROCESSING_ROLE and job["AppSpecification"]["ImageUri"] == IMAGE
    command = job["AppSpecification"]["ContainerEntrypoint"]
    assert command == record["processing_job"]["command"]
    assert command[:5] == ["python3", "-m", "model_training.cli", "run", f"s3://{processing.data_bucket}/{KEY}"]
    assert command[command.index("--version-id") + 1] == meta["version_id"]
    assert command[command.index("--backend") + 1] == "sagemaker"
    tags = {t["Key"]: t["Value"] for t in aws.client("sagemaker").list_tags(ResourceArn=job["ProcessingJobArn"])["Tags"]}
    assert tags == {
        "RunId": first["run_id"],
        "SourceObject": f"s3://{processing.data_bucket}/{KEY}",
        "HandOffRecord": first["handoff_record"],  # where its state-change event records how it ended
    }


def test_without_a_processing_job_configured_the_object_is_refused_as_before(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODEL_TRAINING_MAX_OBJECT_BYTES", "100")
    result = deliver(pipeline, upload(pipeline.data_bucket, KEY, small_csv()))
    assert result["status"] == "failed" and "more than the configured maximum of 100 bytes" in result["reason"]
    assert "MODEL_TRAINING_PROCESSING_IMAGE and MODEL_TRAINING_PROCESSING_ROLE_ARN" in result["hint"]  # the way on
    assert processing_jobs() == []


def test_the_processing_command_writes_what_the_function_writes(
    processing: Pipeline, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    data = small_csv(rows=400, seed=7)
    meta = upload(processing.data_bucket, KEY, data)
    here = deliver(processing, meta)  # split inside the function
    assert here["status"] == "started", here
    split_here = run_objects(processing.data_bucket, here["run_record"].removesuffix("/run.json"))
    s3 = aws.client("s3")
    for key in split_here:  # the run folder emptied: the job's run writes it again from nothing
        s3.delete_object(Bucket=processing.data_bucket, Key=key)

    monkeypatch.setenv("MODEL_TRAINING_MAX_OBJECT_BYTES", str(len(data) - 1))
    handed = deliver(processing, meta)
    assert handed["status"] == "handed off" and handed["run_id"] == here["run_id"]
    job = aws.client("sagemaker").describe_processing_job(ProcessingJobName=handed["processing_job_name"])
    command = job["AppSpecification"]["ContainerEntrypoint"]
    assert command[0] == "python3"  # the image's; this test's interpreter runs the rest of it
    (record_key,) = [k for k in run_objects(processing.data_bucket, handed["run_record"][:-9]) if k.endswith("handoff.json")]
    record = json.loads(aws.client("s3").get_object(Bucket=processing.data_bucket, Key=record_key)["Body"].read())
    # the container's environment: the job's Environment (moto keeps no copy: the hand-off record's), and what
    # SageMaker adds (credentials, here moto's endpoint); its volume's folder is this test's
    reach = {k: v for k, v in os.environ.items() if k.startswith("AWS_") or k in ("PATH", "HOME", "POWERTOOLS_METRICS_DISABLED")}
    src = Path(model_training.__file__).parents[1]
    env = {**reach, **record["processing_job"]["environment"], "PYTHONPATH": str(src), "MODEL_TRAINING_TMP_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, *command[1:]], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr

    split_there = run_objects(processing.data_bucket, handed["run_record"].removesuffix("/run.json"))
    handoff = next(k for k in split_there if k.endswith("/handoff.json"))
    del split_there[handoff]
    assert sorted(split_there) == sorted(split_here)
    for key, body in split_here.items():
        if key.endswith("/run.json"):
            there, before = json.loads(split_there[key]), json.loads(body)
            assert there["run_id"] == before["run_id"] == here["run_id"]
            assert there["files"] == before["files"] and there["splits"] == before["splits"]
            assert there["training"]["job_name"] == before["training"]["job_name"]  # the one job, found again
        else:
            assert split_there[key] == body, key

    later = deliver(processing, meta)  # a delivery after the job's run: nothing to hand off, nothing read
    assert later["status"] == "duplicate" and later["run_id"] == here["run_id"], later
    assert len(processing_jobs()) == 1


def processing_job_event(name: str, status: str) -> dict[str, Any]:
    """A ``SageMaker Processing Job State Change`` event as EventBridge delivers it (the detail: the job's
    ``DescribeProcessingJob`` shape); only its name is used, the job described instead."""
    region = os.environ.get("AWS_REGION", "eu-west-2")
    arn = f"arn:aws:sagemaker:{region}:123456789012:processing-job/{name}"
    return {
        "version": "0",
        "id": "7a1e2b3c-0000-4d5e-8f90-123456789abc",
        "detail-type": "SageMaker Processing Job State Change",
        "source": "aws.sagemaker",
        "account": "123456789012",
        "time": "2026-03-04T10:47:00Z",
        "region": region,
        "resources": [arn],
        "detail": {"ProcessingJobName": name, "ProcessingJobArn": arn, "ProcessingJobStatus": status},
    }


def read_record(uri: str) -> dict[str, Any]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return dict(json.loads(aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()))


def test_a_failed_processing_job_is_recorded_in_its_hand_off_record_once(
    processing: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODEL_TRAINING_MAX_OBJECT_BYTES", "100")
    handed = deliver(processing, upload(processing.data_bucket, KEY, small_csv()))
    name = handed["processing_job_name"]
    set_processing_state(name, "InProgress")
    (running,) = handle(processing_job_event(name, "InProgress"), Context())["results"]
    assert running["status"] == "unchanged" and read_record(handed["handoff_record"])["status"] == "handed_off"

    set_processing_state(name, "Failed", "AlgorithmError: out of memory")
    (result,) = handle(processing_job_event(name, "Failed"), Context())["results"]
    assert result["status"] == "recorded", result
    assert result["run_id"] == handed["run_id"] and result["failure_reason"] == "AlgorithmError: out of memory"
    record = read_record(handed["handoff_record"])
    assert record["status"] == "failed"
    assert record["processing_job"]["status"] == "Failed"
    assert record["processing_job"]["failure_reason"] == "AlgorithmError: out of memory"

    set_processing_state(name, "Completed")  # a final status is never taken back
    (again,) = handle(processing_job_event(name, "Completed"), Context())["results"]
    assert again["status"] == "unchanged" and read_record(handed["handoff_record"])["status"] == "failed"


def test_a_processing_job_not_started_by_the_stage_is_skipped(processing: Pipeline) -> None:
    client = aws.client("sagemaker")
    for name, tags in (
        ("someone-elses-job", [{"Key": "RunId", "Value": "0123456789abcdef"}]),
        ("model-training-split-0123456789abcdef", [{"Key": "RunId", "Value": "0123456789abcdef"}]),  # no record tag
    ):
        client.create_processing_job(
            ProcessingJobName=name,
            ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 30}},
            AppSpecification={"ImageUri": IMAGE},
            RoleArn=PROCESSING_ROLE,
            Tags=tags,
        )
        (result,) = handle(processing_job_event(name, "Failed"), Context())["results"]
        assert result["status"] == "skipped", result
    (missing,) = handle(processing_job_event("model-training-split-ffffffffffffffff", "Failed"), Context())["results"]
    assert missing["status"] == "skipped" and "does not exist" in missing["reason"]

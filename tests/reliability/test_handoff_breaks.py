"""Trying to break the hand-off to a SageMaker Processing job (issue 15), with real processes against moto's server:
deliveries killed (SIGKILL) at each step of a hand-off and delivered again, the job's command killed mid-split and
run again, two deliveries at once, deliveries that would decide differently, state-change events out of order or
lost, and forged jobs.  Jobs and objects are counted.

moto creates a processing job ``Completed`` at once and lets a second ``CreateProcessingJob`` of the same name replace
the first; :func:`processing_jobs_as_sagemaker` makes it create them ``InProgress`` and refuse a taken name with
``ResourceInUse``, as SageMaker does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import model_training
from model_training import aws
from model_training.handler import handle
from model_training.offline import Pipeline, s3_event, upload
from model_training.training.processing import processing_job_name
from tests.fixtures import EVENT_TIME, Context, eventbridge_object_created, jobs, small_csv
from tests.moto_processing import processing_jobs_as_sagemaker, set_processing_state

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_ROOT = Path(model_training.__file__).resolve().parents[1]
IMAGE = "123456789012.dkr.ecr.eu-west-2.amazonaws.com/model-training:1.0"
PROCESSING_ROLE = "arn:aws:iam::123456789012:role/mlops-processing"
KEY = "automl/2026-03-04/big.csv"


@pytest.fixture
def processing(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> Pipeline:
    """The pipeline with a processing job configured, and every object over the function's size limit."""
    monkeypatch.setenv("MODEL_TRAINING_PROCESSING_IMAGE", IMAGE)
    monkeypatch.setenv("MODEL_TRAINING_PROCESSING_ROLE_ARN", PROCESSING_ROLE)
    monkeypatch.setenv("MODEL_TRAINING_MAX_OBJECT_BYTES", "100")
    return pipeline


def processing_job_event(name: str, status: str, account: str = "123456789012", region: str = "eu-west-2") -> dict[str, Any]:
    """A ``SageMaker Processing Job State Change`` event as EventBridge delivers it."""
    arn = f"arn:aws:sagemaker:{region}:{account}:processing-job/{name}"
    return {
        "version": "0",
        "id": "7a1e2b3c-0000-4d5e-8f90-123456789abc",
        "detail-type": "SageMaker Processing Job State Change",
        "source": "aws.sagemaker",
        "account": account,
        "time": "2026-03-04T10:47:00Z",
        "region": region,
        "resources": [arn],
        "detail": {"ProcessingJobName": name, "ProcessingJobArn": arn, "ProcessingJobStatus": status},
    }


def processing_jobs() -> list[str]:
    return [j["ProcessingJobName"] for j in aws.client("sagemaker").list_processing_jobs()["ProcessingJobSummaries"]]


def the_event(p: Pipeline, meta: dict[str, Any], key: str = KEY) -> dict[str, Any]:
    version, etag, size = meta["version_id"], meta["etag"], meta["size"]
    return s3_event(p.data_bucket, key, version_id=version, etag=etag, size=size, event_time=EVENT_TIME)


def deliver(p: Pipeline, meta: dict[str, Any], context: Context | None = None) -> dict[str, Any]:
    (result,) = handle(the_event(p, meta), context or Context())["results"]
    return result


def read_uri(uri: str) -> dict[str, Any]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return dict(json.loads(aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()))


def run_versions(bucket: str, run_uri: str) -> Counter[str]:
    """Object versions per file name in the run folder ``run_uri``."""
    prefix = run_uri.removeprefix(f"s3://{bucket}/") + "/"
    listed = aws.client("s3").list_object_versions(Bucket=bucket, Prefix=prefix).get("Versions", [])
    return Counter(v["Key"].removeprefix(prefix) for v in listed)


def run_bytes(bucket: str, run_uri: str) -> dict[str, bytes]:
    prefix = run_uri.removeprefix(f"s3://{bucket}/") + "/"
    s3 = aws.client("s3")
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return {o["Key"].removeprefix(prefix): s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}


def driver(step: str, mode: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``tests.reliability.crash_driver`` in a child process, killed (SIGKILL) at ``step``."""
    path = os.pathsep.join([str(PACKAGE_ROOT), str(ROOT)])
    full = {**(os.environ if env is None else env), "PYTHONPATH": path, "POWERTOOLS_METRICS_DISABLED": "true"}
    cmd = [sys.executable, "-m", "tests.reliability.crash_driver", step, "SIGKILL", mode, *args]
    return subprocess.run(cmd, cwd=ROOT, env=full, capture_output=True, text=True, timeout=300)


def job_command(handed: dict[str, Any], tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    """The processing job's command line after ``model_training.cli`` and the container's environment: the job's
    ``Environment`` (the hand-off record's copy), with what SageMaker adds (here moto's endpoint and credentials)."""
    job = aws.client("sagemaker").describe_processing_job(ProcessingJobName=handed["processing_job_name"])
    command = job["AppSpecification"]["ContainerEntrypoint"]
    assert command[:3] == ["python3", "-m", "model_training.cli"]
    record = read_uri(handed["handoff_record"])
    reach = {k: v for k, v in os.environ.items() if k.startswith("AWS_") or k in ("PATH", "HOME", "POWERTOOLS_METRICS_DISABLED")}
    env = {**reach, **record["processing_job"]["environment"], "MODEL_TRAINING_TMP_DIR": str(tmp_path)}
    return command[3:], env


# ------------------------------------------------------------------------------------------------ kills


@pytest.mark.parametrize("step", ["after-processing", "after-handoff"])
def test_a_hand_off_killed_at_each_step_starts_one_processing_job_and_one_training_job(
    processing: Pipeline, catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    processing_jobs_as_sagemaker(monkeypatch)
    meta = upload(processing.data_bucket, KEY, small_csv(rows=300, seed=5))
    event = tmp_path / "event.json"
    event.write_text(json.dumps(the_event(processing, meta)))
    killed = driver(step, "handler", str(event))
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    catalogue.record("kills survived")
    assert len(processing_jobs()) == (1 if step == "after-processing" else 0)  # the record is written first

    again = deliver(processing, meta)  # the redelivery finds the record, and finds (or creates) the job
    name = again["processing_job_name"]
    assert again["status"] == "handed off" and again["created"] is (step == "after-handoff")
    assert processing_jobs() == [name]
    record = read_uri(again["handoff_record"])
    assert record["status"] == "handed_off" and record["processing_job"]["name"] == name
    run_uri = again["run_record"].removesuffix("/run.json")
    assert run_versions(processing.data_bucket, run_uri) == {"handoff.json": 1}

    args, env = job_command(again, tmp_path)
    done = driver("none", "cli", *args, env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert len(jobs()) == 1
    assert deliver(processing, meta)["status"] == "duplicate"
    assert processing_jobs() == [name] and len(jobs()) == 1
    versions = run_versions(processing.data_bucket, run_uri)
    assert all(versions[f] == 1 for f in ("handoff.json", "train/part-00000", "validation/part-00000", "test/part-00000"))


def test_the_processing_command_killed_mid_split_and_run_again_writes_the_same_bytes_and_one_job(
    processing: Pipeline, catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = small_csv(rows=400, seed=11)
    meta = upload(processing.data_bucket, KEY, data)
    monkeypatch.setenv("MODEL_TRAINING_MAX_OBJECT_BYTES", str(len(data)))
    here = deliver(processing, meta)  # split inside the function: what the job must write
    assert here["status"] == "started", here
    run_uri = here["run_record"].removesuffix("/run.json")
    expected = run_bytes(processing.data_bucket, run_uri)
    s3 = aws.client("s3")
    for key in run_versions(processing.data_bucket, run_uri):
        s3.delete_object(Bucket=processing.data_bucket, Key=f"{run_uri.split('/', 3)[3]}/{key}")

    monkeypatch.setenv("MODEL_TRAINING_MAX_OBJECT_BYTES", str(len(data) - 1))
    handed = deliver(processing, meta)
    assert handed["status"] == "handed off" and handed["run_id"] == here["run_id"]
    args, env = job_command(handed, tmp_path)
    killed = driver("mid-train-file", "cli", *args, env=env)
    assert killed.returncode == -signal.SIGKILL, killed.stdout[-2000:] + killed.stderr[-2000:]
    catalogue.record("kills survived")
    rerun = driver("none", "cli", *args, env=env)  # the same host: the killed run's claim is over at once
    assert rerun.returncode == 0, rerun.stdout[-2000:] + rerun.stderr[-2000:]

    written = run_bytes(processing.data_bucket, run_uri)
    written.pop("handoff.json")
    assert written.pop("_run-claim.json")  # the killed run's claim, taken over (never deleted by the taker)
    assert sorted(written) == sorted(expected)
    for name, body in expected.items():
        if name == "run.json":
            assert json.loads(written[name])["files"] == json.loads(body)["files"]
        else:
            assert written[name] == body, name
    assert len(jobs()) == 1 and len(processing_jobs()) == 1


# ------------------------------------------------------------------------------------------------ duplicates


def test_the_same_event_in_two_processes_at_once_creates_the_job_once(
    processing: Pipeline, catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    processing_jobs_as_sagemaker(monkeypatch)
    meta = upload(processing.data_bucket, KEY, small_csv())
    event = tmp_path / "event.json"
    event.write_text(json.dumps(the_event(processing, meta)))
    with ThreadPoolExecutor(2) as pool:
        done = list(pool.map(lambda _: driver("none", "handler", str(event)), range(2)))
    catalogue.record("duplicates delivered")
    results = [json.loads(d.stdout.strip().splitlines()[-1])["results"][0] for d in done]
    assert [r["status"] for r in results] == ["handed off", "handed off"], results
    assert sorted(r["created"] for r in results) == [False, True]
    assert len(processing_jobs()) == 1 and jobs() == []
    run_uri = results[0]["run_record"].removesuffix("/run.json")
    assert set(run_versions(processing.data_bucket, run_uri)) == {"handoff.json"}


def test_a_delivery_with_time_to_spare_after_a_hand_off_does_not_split_the_source_itself(
    processing: Pipeline, catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The S3 notification reaches the function with 9 s left and hands the source off; the EventBridge event for
    the same version arrives with minutes left.  The processing job splits it and starts the training job: the
    second delivery must not split it as well (two splits of one run racing for its claim, the job failing on it)."""
    monkeypatch.delenv("MODEL_TRAINING_MAX_OBJECT_BYTES")
    meta = upload(processing.data_bucket, KEY, small_csv())
    first = deliver(processing, meta, Shrinking(first=60, then=9))
    assert first["status"] == "handed off" and "are left" in first["reason"], first
    eventbridge = eventbridge_object_created(processing.data_bucket, KEY, meta, time="2026-03-04T10:11:13Z")
    (second,) = handle(eventbridge, Context(remaining_ms=600_000))["results"]
    catalogue.record("duplicates delivered")
    assert second["status"] == "handed off" and second["created"] is False, second
    assert jobs() == [] and processing_jobs() == [first["processing_job_name"]]
    run_uri = first["run_record"].removesuffix("/run.json")
    assert set(run_versions(processing.data_bucket, run_uri)) == {"handoff.json"}


class Shrinking(Context):
    """A Lambda context with ``first`` seconds left at the handler's first look, ``then`` seconds after."""

    def __init__(self, first: int, then: int) -> None:
        super().__init__()
        self.calls, self.first, self.then = 0, first, then

    def get_remaining_time_in_millis(self) -> int:
        self.calls += 1
        return self.first * 1000 if self.calls <= 1 else self.then * 1000


# ------------------------------------------------------------------------------------------------ state changes


def test_a_job_whose_end_event_was_lost_has_its_end_recorded_by_the_next_delivery(
    processing: Pipeline, catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hand-off killed once the job exists; the job fails and its Failed event never comes (EventBridge delivers
    at least once, but a rule can be missing or disabled); the redelivery finds the job ended: the record must say the
    job failed, not ``handed_off`` for ever."""
    processing_jobs_as_sagemaker(monkeypatch)
    meta = upload(processing.data_bucket, KEY, small_csv())
    event = tmp_path / "event.json"
    event.write_text(json.dumps(the_event(processing, meta)))
    assert driver("after-processing", "handler", str(event)).returncode == -signal.SIGKILL
    catalogue.record("kills survived")
    (name,) = processing_jobs()
    set_processing_state(name, "Failed", "ClientError: the image could not be pulled")
    sagemaker = aws.client("sagemaker")
    arn = sagemaker.describe_processing_job(ProcessingJobName=name)["ProcessingJobArn"]
    tags = {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=arn)["Tags"]}
    assert read_uri(tags["HandOffRecord"])["status"] == "handed_off"  # and no event will say otherwise

    again = deliver(processing, meta)
    assert again["status"] == "failed" and again["retryable"] is False, again
    record = read_uri(again["handoff_record"])
    assert record["status"] == "failed", record
    assert record["processing_job"]["failure_reason"] == "ClientError: the image could not be pulled"


@pytest.mark.parametrize(("status", "reason"), [("Failed", "AlgorithmError: out of memory"), ("Stopped", None)])
def test_a_delivery_after_the_processing_job_ended_without_a_run_reports_how_it_ended(
    processing: Pipeline, catalogue, status: str, reason: str | None
) -> None:
    meta = upload(processing.data_bucket, KEY, small_csv())
    handed = deliver(processing, meta)
    name = handed["processing_job_name"]
    set_processing_state(name, status, reason)
    (ended,) = handle(processing_job_event(name, status), Context())["results"]
    assert ended["status"] == "recorded" and ended["failure_reason"] == reason
    record = read_uri(handed["handoff_record"])
    assert record["status"] == status.lower() and record["processing_job"].get("failure_reason") == reason

    again = deliver(processing, meta)  # not "handed off": nothing will split it, the job has ended
    catalogue.record("duplicates delivered")
    assert again["status"] == "failed" and again["retryable"] is False, again
    assert name in again["reason"] and status in again["reason"] and (reason or "") in again["reason"]
    assert "--version-id" in again["hint"]  # the way on: run the job's command, or upload the file again
    assert processing_jobs() == [name] and read_uri(handed["handoff_record"])["status"] == status.lower()


def test_completed_twice_and_before_in_progress_records_once(processing: Pipeline, catalogue, monkeypatch) -> None:
    processing_jobs_as_sagemaker(monkeypatch)
    handed = deliver(processing, upload(processing.data_bucket, KEY, small_csv()))
    name = handed["processing_job_name"]
    set_processing_state(name, "Completed")
    statuses = [handle(processing_job_event(name, s), Context())["results"][0]["status"] for s in ("Completed",) * 2]
    statuses.append(handle(processing_job_event(name, "InProgress"), Context())["results"][0]["status"])
    catalogue.record("duplicates delivered", 2)
    assert statuses == ["recorded", "unchanged", "unchanged"]
    record_uri = handed["handoff_record"]
    assert read_uri(record_uri)["status"] == "completed"
    assert run_versions(processing.data_bucket, record_uri.removesuffix("/handoff.json")) == {"handoff.json": 2}


# ------------------------------------------------------------------------------------------------ not ours


def test_jobs_not_the_stages_are_skipped_whatever_their_event_or_tags_say(processing: Pipeline, catalogue) -> None:
    handed = deliver(processing, upload(processing.data_bucket, KEY, small_csv()))
    real = handed["handoff_record"]
    client = aws.client("sagemaker")
    forged_id = "0123456789abcdef"
    other_run = real.replace(handed["run_id"], forged_id).replace("/big/", "/other/")
    for record_tag in (
        real,  # a real record, of another run
        real.replace(handed["run_id"], forged_id).replace(processing.data_bucket, "someone-elses-bucket"),
        real.replace(handed["run_id"], forged_id).replace("automl/", "elsewhere/"),
        other_run,  # the right shape, no record there
    ):
        name = processing_job_name(forged_id)
        client.create_processing_job(  # moto replaces a job of the same name
            ProcessingJobName=name,
            ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 30}},
            AppSpecification={"ImageUri": IMAGE},
            RoleArn=PROCESSING_ROLE,
            Tags=[{"Key": "RunId", "Value": forged_id}, {"Key": "HandOffRecord", "Value": record_tag}],
        )
        for event in (processing_job_event(name, "Failed"), processing_job_event(name, "Failed", "210987654321", "us-east-1")):
            (result,) = handle(event, Context())["results"]
            assert result["status"] == "skipped", result
    catalogue.record("untrusted events refused", 8)
    assert read_uri(real)["status"] == "handed_off"


def test_a_delivery_killed_before_the_record_then_one_with_time_to_spare_leaves_the_split_to_the_job(
    processing: Pipeline, catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    processing_jobs_as_sagemaker(monkeypatch)
    meta = upload(processing.data_bucket, KEY, small_csv())
    event = tmp_path / "event.json"
    event.write_text(json.dumps(the_event(processing, meta)))
    assert driver("after-handoff", "handler", str(event)).returncode == -signal.SIGKILL
    catalogue.record("kills survived")
    assert processing_jobs() == []  # the record, and no job
    monkeypatch.delenv("MODEL_TRAINING_MAX_OBJECT_BYTES")  # this delivery could split it (as with more time left)
    again = deliver(processing, meta)
    assert again["status"] == "handed off" and again["created"] is True, again
    assert processing_jobs() == [again["processing_job_name"]] and jobs() == []

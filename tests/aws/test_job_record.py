"""``jobs describe``'s run record of a job whose channels are in S3 (moto's server): the reason it cannot be read
(no such object or bucket, not a run record, access denied, no credentials, no endpoint), and the local copy of the
bucket read instead (the demo's ``{output}/s3/{bucket}/{key}``).  It said ``(cannot be read)`` with no reason."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from model_training import aws
from model_training.cli import app
from model_training.offline import Pipeline
from model_training.training.job_record import read_job_run_record
from tests.fixtures import Denied, write_csv

PREFIX = "automl/2026-03-04/training/data/0123456789abcdef"


def job(bucket: str) -> dict[str, Any]:
    """A training job's description, as far as finding its run record goes: its ``train`` channel."""
    channel = {"ChannelName": "train", "DataSource": {"S3DataSource": {"S3Uri": f"s3://{bucket}/{PREFIX}/train/"}}}
    return {"TrainingJobName": "data-0123456789abcdef", "InputDataConfig": [channel]}


def a_run_record(tmp_path: Path) -> bytes:
    """The ``run.json`` of a real run (split only)."""
    lines = ["a,b,y_yes"] + [f"{i % 5},{i * 3 % 7},{int(i % 5 > 2)}" for i in range(60)]
    data = write_csv(tmp_path / "data.csv", "\n".join(lines) + "\n")
    assert CliRunner().invoke(app, ["run", str(data), "-o", str(tmp_path / "out"), "--no-train", "-q"]).exit_code == 0
    (path,) = (tmp_path / "out").glob("automl/*/training/data/*/run.json")
    return path.read_bytes()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_reason_a_run_record_cannot_be_read(pipeline: Pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bucket, s3 = pipeline.data_bucket, aws.client("s3")
    key = f"{PREFIX}/run.json"
    found = read_job_run_record(job(bucket))
    assert found is not None and found.record is None and found.uri == f"s3://{bucket}/{key}"
    assert found.reason == "it does not exist: the run was deleted, or moved"
    missing = read_job_run_record(job("no-such-bucket-here"))
    assert missing is not None and missing.reason == "its bucket does not exist"
    s3.put_object(Bucket=bucket, Key=key, Body=b'{"status": "what"}')
    assert read_job_run_record(job(bucket)).reason == "it is not a run record this version reads"  # type: ignore[union-attr]
    record = a_run_record(tmp_path)
    s3.put_object(Bucket=bucket, Key=key, Body=record)
    read = read_job_run_record(job(bucket))
    assert read is not None and read.record is not None and read.reason is None and read.copy is None
    events = s3.meta.events
    events.register("before-send.s3.GetObject", Denied(), unique_id="denied-get")
    try:
        denied = read_job_run_record(job(bucket))
    finally:
        events.unregister("before-send.s3.GetObject", unique_id="denied-get")
    assert denied is not None and denied.record is None and denied.reason == "access denied (the credentials may not read it)"

    copies = tmp_path / "copies"
    (copies / bucket / key).parent.mkdir(parents=True)
    (copies / bucket / key).write_bytes(record)
    port = closed_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")  # the demo's endpoint, gone
    aws.reset_clients()
    gone = read_job_run_record(job(bucket))
    assert gone is not None and gone.record is None
    assert gone.reason == (
        f"no S3 endpoint answers at http://127.0.0.1:{port}: an offline endpoint, such as the demo's, stops with its process"
    )
    copied = read_job_run_record(job(bucket), copies)
    assert copied is not None and copied.record is not None and copied.copy == copies / bucket / key
    assert copied.reason == gone.reason

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"):
        monkeypatch.setenv(name, str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    aws.reset_clients()
    anonymous = read_job_run_record(job(bucket))
    assert anonymous is not None and anonymous.reason is not None
    assert anonymous.reason.startswith("no AWS credentials: "), anonymous.reason
    aws.reset_clients()

"""What a Lambda function's first invocation imports, in a fresh interpreter against moto's server (issue 16's cold
start): the handler's import imports none of numpy, pyarrow and pandas, and only an object that is split imports numpy
and pyarrow.  A duplicate delivery (found from ``run.json``), a training job's state-change event and a skipped object
(one of the stage's own outputs) import neither."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from model_training import aws, lambda_handler
from model_training.offline import FAKE_CREDENTIALS, Pipeline, s3_event, upload
from tests.fixtures import EVENT_TIME, Context, set_job_state, small_csv, start_jobs_in_progress, training_job_event

#: One invocation in a fresh interpreter: prints the results' statuses and which watched libraries were imported.
FIRST_INVOCATION = """
import json, sys
import model_training
response = model_training.lambda_handler(json.loads(sys.argv[1]), None)
heavy = sorted({"numpy", "pyarrow", "pandas"} & set(sys.modules))
print(json.dumps({"statuses": [r["status"] for r in response["results"]], "heavy": heavy}))
"""


def first_invocation(event: dict[str, Any]) -> dict[str, Any]:
    """The handler run on ``event`` in a fresh interpreter (this process's environment: moto's server)."""
    done = subprocess.run(
        [sys.executable, "-c", FIRST_INVOCATION, json.dumps(event)], capture_output=True, text=True, env=dict(os.environ)
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_importing_the_handler_imports_no_numpy_pyarrow_pandas_event_data_classes_or_run_configuration() -> None:
    """The run configuration's models (the manifest's, the run's) are defined by the first object split, not at import."""
    heavy = (
        "{'numpy', 'pyarrow', 'pandas', 'aws_lambda_powertools.utilities.data_classes', 'model_training.config.manifest',"
        " 'model_training.config.run'}"
    )
    code = f"import sys, model_training.handler; print(sorted({heavy} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_every_client_comes_from_one_session_until_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    """One boto3 session for every client (a session per client loaded botocore's data again each time: about half a
    first invocation's client creation); :func:`~model_training.aws.reset_clients` starts a new one, which resolves
    the credentials again."""
    for key, value in {**FAKE_CREDENTIALS, "AWS_REGION": "eu-west-2"}.items():
        monkeypatch.setenv(key, value)
    aws.reset_clients()
    try:
        s3, ssm, sagemaker = aws.client("s3"), aws.client("ssm"), aws.client("sagemaker")
        credentials = s3._request_signer._credentials
        assert ssm._request_signer._credentials is credentials and sagemaker._request_signer._credentials is credentials
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "another")
        assert aws.client("ssm") is ssm  # cached: the same session and credentials
        aws.reset_clients()
        assert aws.client("ssm")._request_signer._credentials.access_key == "another"
    finally:
        aws.reset_clients()


@pytest.fixture
def split_once(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Any], dict[str, Any]]:
    """An object split (in this process) and its training job created ``InProgress``: (its S3 event, the result)."""
    start_jobs_in_progress(monkeypatch)
    key = "automl/2026-03-04/small.csv"
    meta = upload(pipeline.data_bucket, key, small_csv())
    event = s3_event(
        pipeline.data_bucket, key, version_id=meta["version_id"], etag=meta["etag"], size=meta["size"], event_time=EVENT_TIME
    )
    (result,) = lambda_handler(event, Context())["results"]
    assert result["status"] == "started", result
    return event, result


def test_a_split_imports_numpy_and_pyarrow(pipeline: Pipeline) -> None:
    key = "automl/2026-03-04/small.csv"
    meta = upload(pipeline.data_bucket, key, small_csv())
    event = s3_event(
        pipeline.data_bucket, key, version_id=meta["version_id"], etag=meta["etag"], size=meta["size"], event_time=EVENT_TIME
    )
    assert first_invocation(event) == {"statuses": ["started"], "heavy": ["numpy", "pyarrow"]}


def test_a_duplicate_delivery_imports_neither_numpy_nor_pyarrow(split_once: tuple[dict[str, Any], dict[str, Any]]) -> None:
    event, _ = split_once
    assert first_invocation(event) == {"statuses": ["duplicate"], "heavy": []}


def test_a_job_state_change_imports_neither_numpy_nor_pyarrow(split_once: tuple[dict[str, Any], dict[str, Any]]) -> None:
    _, result = split_once
    set_job_state(result["job_name"], "Completed")
    assert first_invocation(training_job_event(result["job_name"], "Completed")) == {"statuses": ["recorded"], "heavy": []}


def test_a_skipped_object_imports_neither_numpy_nor_pyarrow(
    pipeline: Pipeline, split_once: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    _, result = split_once
    output = result["outputs"]["train"].removeprefix(f"s3://{pipeline.data_bucket}/")
    event = s3_event(pipeline.data_bucket, output, event_time=EVENT_TIME)
    assert first_invocation(event) == {"statuses": ["skipped"], "heavy": []}

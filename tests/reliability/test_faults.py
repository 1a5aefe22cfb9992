"""Fault injection through botocore's event hooks, against moto's server: every AWS call of the flow
failing once (throttling, a 5xx, a connection reset) is retried and the run completes with the same
outputs; failing for good, the record is reported failed with nothing half-committed, and the next
delivery completes it."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from model_training import aws
from model_training.handler import handle
from model_training.offline import Pipeline, s3_event, upload
from tests.fixtures import EVENT_TIME, S3_ERRORS, Context, RawBody, inject, jobs, small_csv, training_objects


def deliver(p: Pipeline, key: str, data: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    meta = upload(p.data_bucket, key, data)
    event = s3_event(p.data_bucket, key, version_id=meta["version_id"], event_time=EVENT_TIME)
    return event, handle(event, Context())


def check_complete(p: Pipeline, result: dict[str, Any]) -> None:
    s3 = aws.client("s3")
    record = json.loads(s3.get_object(Bucket=p.data_bucket, Key=result["run_record"].split("/", 3)[3])["Body"].read())
    for file in record["files"].values():
        body = s3.get_object(Bucket=p.data_bucket, Key=file["uri"].split("/", 3)[3])["Body"].read()
        assert hashlib.sha256(body).hexdigest() == file["sha256"]
    assert len(jobs()) == 1


CALLS = [
    ("s3", "GetObject"),
    ("s3", "PutObject"),
    ("s3", "HeadObject"),
    ("ssm", "GetParameter"),
    ("sagemaker", "CreateTrainingJob"),
]


# a HEAD response has no body to carry an error code: HeadObject gets connection resets only
FAULTS = [(s, o, k) for s, o in CALLS for k in ("throttle", "5xx", "reset") if o != "HeadObject" or k == "reset"]


@pytest.mark.parametrize(("service", "operation", "kind"), FAULTS)
def test_a_failing_call_is_retried_and_the_run_completes(
    pipeline: Pipeline, catalogue, service: str, operation: str, kind: str
) -> None:
    with inject(service, operation, kind, times=1) as fault:
        _, response = deliver(pipeline, "automl/2026-03-04/f.csv", small_csv())
    catalogue.record("faults injected", fault.injected)
    assert fault.injected == 1
    (result,) = response["results"]
    assert result["status"] == "started", result
    check_complete(pipeline, result)


@pytest.mark.parametrize(
    ("service", "operation"), [("s3", "PutObject"), ("sagemaker", "CreateTrainingJob"), ("ssm", "GetParameter")]
)
def test_a_call_failing_for_good_is_reported_and_the_next_delivery_completes(
    pipeline: Pipeline, catalogue, service: str, operation: str
) -> None:
    meta = upload(pipeline.data_bucket, "automl/2026-03-04/p.csv", small_csv())
    event = s3_event(pipeline.data_bucket, "automl/2026-03-04/p.csv", version_id=meta["version_id"], event_time=EVENT_TIME)
    sqs_event = {"Records": [{"messageId": "m1", "body": json.dumps(event), "eventSource": "aws:sqs"}]}
    with inject(service, operation, "5xx", times=None) as fault:
        response = handle(sqs_event, Context())
    catalogue.record("faults injected", fault.injected)
    assert response["batchItemFailures"] == [{"itemIdentifier": "m1"}]
    assert response["results"][0]["retryable"] is True
    contents = training_objects(pipeline.data_bucket)
    statuses = []
    for item in contents:
        if item["Key"].endswith("/run.json"):
            statuses.append(
                json.loads(aws.client("s3").get_object(Bucket=pipeline.data_bucket, Key=item["Key"])["Body"].read())["status"]
            )
    assert "complete" not in statuses and "started" not in statuses  # nothing looks done
    assert jobs() == []
    again = handle(sqs_event, Context())
    assert again["batchItemFailures"] == []
    assert again["results"][0]["status"] == "started"
    check_complete(pipeline, again["results"][0])


def test_a_crash_between_files_leaves_no_complete_looking_run_and_the_retry_rewrites_the_same_bytes(
    pipeline: Pipeline, catalogue
) -> None:
    """PutObject works twice (the run claim, the train file), then fails for good: a crash mid-commit."""
    meta = upload(pipeline.data_bucket, "automl/2026-03-04/crash.csv", small_csv(120))
    event = s3_event(pipeline.data_bucket, "automl/2026-03-04/crash.csv", version_id=meta["version_id"], event_time=EVENT_TIME)
    s3 = aws.client("s3")
    calls = {"n": 0}

    def third_put_fails(request: Any, **_: Any) -> AWSResponse | None:
        calls["n"] += 1
        return None if calls["n"] <= 2 else AWSResponse(request.url, 500, {}, RawBody(S3_ERRORS["5xx"][1]))

    s3.meta.events.register("before-send.s3.PutObject", third_put_fails, unique_id="crash")
    try:
        (failed,) = handle({"Records": [{"messageId": "m", "body": json.dumps(event), "eventSource": "aws:sqs"}]}, Context())[
            "results"
        ]
    finally:
        s3.meta.events.unregister("before-send.s3.PutObject", unique_id="crash")
    catalogue.record("faults injected", calls["n"] - 2)
    assert failed["status"] == "failed" and failed["retryable"] is True
    # the train file written before the failure was removed again, and the claim released: nothing current
    assert training_objects(pipeline.data_bucket) == []
    versions = s3.list_object_versions(Bucket=pipeline.data_bucket, Prefix="automl/").get("Versions", [])
    (partial,) = [v for v in versions if v["Key"].endswith("/train/part-00000")]
    before = s3.get_object(Bucket=pipeline.data_bucket, Key=partial["Key"], VersionId=partial["VersionId"])["Body"].read()
    (done,) = handle(event, Context())["results"]
    assert done["status"] == "started"
    assert s3.get_object(Bucket=pipeline.data_bucket, Key=partial["Key"])["Body"].read() == before
    check_complete(pipeline, done)

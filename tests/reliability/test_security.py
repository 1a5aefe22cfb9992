"""Security guarantees: encryption at rest on every object, the training job's network settings passed
through, and logs that hold names, sizes and counts, never credentials or the data."""

from __future__ import annotations

import json
from typing import Any

import pytest

from model_training import aws, lambda_handler
from model_training.offline import Pipeline, s3_event, upload
from tests.fixtures import EVENT_TIME, S3_ERRORS, Context, Denied, RawBody, jobs, small_csv, training_objects


@pytest.mark.parametrize(("sse", "key_id"), [("AES256", None), ("aws:kms", "alias/automl")])
def test_every_object_written_is_encrypted(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, catalogue: Any, sse: str, key_id: str | None
) -> None:
    monkeypatch.setenv("MODEL_TRAINING_SSE", sse)
    if key_id:
        monkeypatch.setenv("MODEL_TRAINING_KMS_KEY_ID", key_id)
    meta = upload(pipeline.data_bucket, "automl/2026-03-04/enc.csv", small_csv())
    (result,) = lambda_handler(
        s3_event(pipeline.data_bucket, "automl/2026-03-04/enc.csv", version_id=meta["version_id"], event_time=EVENT_TIME),
        Context(),
    )["results"]
    assert result["status"] == "started"
    s3 = aws.client("s3")
    written = [o["Key"] for o in training_objects(pipeline.data_bucket)]
    assert len(written) == 4  # three split files and run.json; the run claim was released (deleted) ...
    versions = s3.list_object_versions(Bucket=pipeline.data_bucket, Prefix="automl/")["Versions"]
    (claim,) = [v for v in versions if v["Key"].endswith("/_run-claim.json")]  # ... and was written encrypted too
    written.append(claim["Key"])
    for key in written:
        version = {"VersionId": claim["VersionId"]} if key == claim["Key"] else {}
        head = s3.head_object(Bucket=pipeline.data_bucket, Key=key, **version)
        assert head["ServerSideEncryption"] == sse, key
        if key_id:
            assert key_id in head.get("SSEKMSKeyId", ""), key
    catalogue.record("objects checked for encryption", len(written))


def test_network_settings_of_the_training_job_are_passed_through(pipeline: Pipeline, catalogue: Any) -> None:
    aws.client("s3").put_object(
        Bucket=pipeline.data_bucket,
        Key="automl/2026-03-04/manifest.json",
        Body=json.dumps(
            {
                "training": {
                    "enable_network_isolation": True,
                    "enable_inter_container_traffic_encryption": True,
                    "vpc_subnets": ["subnet-0a1b2c3d"],
                    "vpc_security_groups": ["sg-0a1b2c3d"],
                }
            }
        ),
    )
    meta = upload(pipeline.data_bucket, "automl/2026-03-04/net.csv", small_csv())
    (result,) = lambda_handler(
        s3_event(pipeline.data_bucket, "automl/2026-03-04/net.csv", version_id=meta["version_id"], event_time=EVENT_TIME),
        Context(),
    )["results"]
    job = aws.client("sagemaker").describe_training_job(TrainingJobName=result["job_name"])
    assert job["EnableNetworkIsolation"] is True
    assert job["EnableInterContainerTrafficEncryption"] is True
    assert job["VpcConfig"] == {"Subnets": ["subnet-0a1b2c3d"], "SecurityGroupIds": ["sg-0a1b2c3d"]}
    catalogue.record("security settings checked", 3)


def test_logs_hold_no_credentials_and_no_data(pipeline: Pipeline, catalogue: Any) -> None:
    import io

    from model_training.handler import logger

    captured = io.StringIO()
    previous = logger.registered_handler.setStream(captured)  # type: ignore[attr-defined]
    try:
        results, logs = _run_marked_inputs(pipeline), ""
    finally:
        logger.registered_handler.setStream(previous)  # type: ignore[attr-defined]
    logs = captured.getvalue()
    _check_logs(results, logs)
    catalogue.record("log lines checked", logs.count("\n"))


def _run_marked_inputs(pipeline: Pipeline) -> list[dict[str, Any]]:
    marker_value = "987654.3217"
    good = small_csv().decode().replace("\n", f"\n{marker_value},1,0,1\n", 1).encode()
    bad = b"f1,f2,y_no,y_yes\n" + b"1,2,0,1\n" * 20 + b"SECRET-CUSTOMER-42,2,0,1\n"
    results = []
    for name, body in (("good.csv", good), ("bad.csv", bad)):
        meta = upload(pipeline.data_bucket, f"automl/2026-03-04/{name}", body)
        event = s3_event(pipeline.data_bucket, f"automl/2026-03-04/{name}", version_id=meta["version_id"], event_time=EVENT_TIME)
        results += lambda_handler(event, Context())["results"]
    return results


def _check_logs(results: list[dict[str, Any]], logs: str) -> None:
    marker_value = "987654.3217"
    assert [r["status"] for r in results] == ["started", "failed"]
    assert "SECRET-CUSTOMER-42" in results[1]["reason"]  # the caller is told which value...
    assert "SECRET-CUSTOMER-42" not in logs  # ...but the log never carries it
    assert marker_value not in logs
    for secret in ("testing", "AWS_SECRET_ACCESS_KEY", "X-Amz-Signature", "X-Amz-Credential"):
        assert secret not in logs, secret
    assert "line 22" in logs and "'f1'" in logs  # names and positions are logged


def test_the_retry_log_line_holds_no_data_and_counts_only_transient_failures(pipeline: Pipeline, catalogue: Any) -> None:
    """Issue 11 item 10: an S3 event whose records fail, one on a bad value and one transiently, is raised
    for Lambda's retry; the log line says so with counts and the transient object only, never the value."""
    import io

    from botocore.awsrequest import AWSResponse

    from model_training.handler import RetryableError, logger

    bad = b"f1,f2,y_no,y_yes\n" + b"1,2,0,1\n" * 20 + b"SECRET-CUSTOMER-42,2,0,1\n"
    records = []
    for name, body in (("bad.csv", bad), ("flaky.csv", small_csv())):
        meta = upload(pipeline.data_bucket, f"automl/2026-03-04/{name}", body)
        event = s3_event(pipeline.data_bucket, f"automl/2026-03-04/{name}", version_id=meta["version_id"], event_time=EVENT_TIME)
        records += event["Records"]

    def fail_flaky(request: Any, **_: Any) -> AWSResponse | None:
        status, body = S3_ERRORS["5xx"]
        return AWSResponse(request.url, status, {}, RawBody(body)) if "flaky.csv" in request.url else None

    events = aws.client("s3").meta.events
    events.register("before-send.s3.GetObject", fail_flaky, unique_id="flaky-get")
    captured = io.StringIO()
    previous = logger.registered_handler.setStream(captured)  # type: ignore[attr-defined]
    try:
        with pytest.raises(RetryableError, match=r"^1 of 2 record\(s\) failed transiently"):
            lambda_handler({"Records": records}, Context())
    finally:
        logger.registered_handler.setStream(previous)  # type: ignore[attr-defined]
        events.unregister("before-send.s3.GetObject", unique_id="flaky-get")
    logs = captured.getvalue()
    assert "SECRET-CUSTOMER-42" not in logs
    (line,) = [json.loads(x) for x in logs.splitlines() if "retryable failure" in x]
    assert line["failed"] == 2 and line["transient"] == 1
    assert line["transient_objects"] == [
        {
            "object": f"s3://{pipeline.data_bucket}/automl/2026-03-04/flaky.csv",
            "version_id": records[1]["s3"]["object"]["versionId"],
        }
    ]
    catalogue.record("log lines checked", logs.count("\n"))


def test_a_write_refused_by_a_policy_fails_the_record_with_the_permission_and_no_retry(
    pipeline: Pipeline, catalogue: Any
) -> None:
    """Issue 11 item 12: AccessDenied from PutObject is a clear, permanent failure, with nothing committed."""
    meta = upload(pipeline.data_bucket, "automl/2026-03-04/denied.csv", small_csv())
    event = s3_event(pipeline.data_bucket, "automl/2026-03-04/denied.csv", version_id=meta["version_id"], event_time=EVENT_TIME)
    events = aws.client("s3").meta.events
    events.register("before-send.s3.PutObject", Denied(), unique_id="denied-put")
    try:
        (result,) = lambda_handler(event, Context())["results"]  # no RetryableError: a retry cannot help
    finally:
        events.unregister("before-send.s3.PutObject", unique_id="denied-put")
    catalogue.record("faults injected")
    assert result["status"] == "failed" and result["retryable"] is False, result
    assert f"s3://{pipeline.data_bucket}/automl/" in result["reason"] and "/training/denied/" in result["reason"]
    assert "access denied writing the object" in result["reason"]
    assert "s3:PutObject" in result["hint"] and "role" in result["hint"]
    assert jobs() == []

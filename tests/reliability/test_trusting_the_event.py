"""Trusting the event (issue #11, items 6-9): what an event says is checked against the bucket before
anything runs.  Each refusal is delivered to the Lambda handler against moto's server, and leaves no
training job and no object written."""

from __future__ import annotations

from typing import Any

from model_training import aws
from model_training.handler import handle
from model_training.offline import Pipeline, s3_event, upload
from tests.aws.test_handler import DAY, Context, small_csv


def keys(bucket: str) -> set[str]:
    """Every key in ``bucket`` (every version's key, so a write that was overwritten still counts)."""
    s3 = aws.client("s3")
    found: set[str] = set()
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        found |= {v["Key"] for v in page.get("Versions", [])}
    return found


def jobs() -> list[str]:
    return [j["TrainingJobName"] for j in aws.client("sagemaker").list_training_jobs()["TrainingJobSummaries"]]


def refused(p: Pipeline, event: dict[str, Any], inputs: set[str], reason: str, status: str = "failed") -> dict[str, Any]:
    """Deliver ``event``; assert it is refused with ``reason``, not retried, with no job and nothing written
    beside the ``inputs`` uploaded."""
    (result,) = handle(event, Context())["results"]
    assert result["status"] == status, result
    assert not result.get("retryable"), result
    assert reason in f"{result['reason']} {result.get('hint', '')}", result
    assert jobs() == []
    assert keys(p.data_bucket) == inputs
    assert keys(p.model_output_bucket) == set()
    return result


# ---------------------------------------------------------------------------------------- 7: deleted objects


def test_a_version_deleted_after_the_event_is_refused(pipeline: Pipeline, catalogue: Any) -> None:
    key = "automl/2026-03-04/gone.csv"
    meta = upload(pipeline.data_bucket, key, small_csv())
    aws.client("s3").delete_object(Bucket=pipeline.data_bucket, Key=key, VersionId=meta["version_id"])
    event = s3_event(pipeline.data_bucket, key, version_id=meta["version_id"], etag=meta["etag"], event_time=DAY)
    refused(pipeline, event, set(), "the object version no longer exists")
    catalogue.record("untrusted events refused")


def test_an_object_whose_latest_version_is_a_delete_marker_is_refused(pipeline: Pipeline, catalogue: Any) -> None:
    key = "automl/2026-03-04/deleted.csv"
    meta = upload(pipeline.data_bucket, key, small_csv())
    marker = aws.client("s3").delete_object(Bucket=pipeline.data_bucket, Key=key)
    assert marker["DeleteMarker"]
    event = s3_event(pipeline.data_bucket, key, version_id=meta["version_id"], etag=meta["etag"], event_time=DAY)
    result = refused(pipeline, event, {key}, "the object version no longer exists")
    assert "delete marker" in result["reason"]
    # an event naming the delete marker's own version
    event = s3_event(pipeline.data_bucket, key, version_id=marker["VersionId"], event_time=DAY)
    refused(pipeline, event, {key}, "the object version no longer exists")
    catalogue.record("untrusted events refused", 2)


def test_an_etag_that_does_not_match_the_version_is_refused(pipeline: Pipeline, catalogue: Any) -> None:
    key = "automl/2026-03-04/etag.csv"
    meta = upload(pipeline.data_bucket, key, small_csv())
    event = s3_event(pipeline.data_bucket, key, version_id=meta["version_id"], etag="0" * 32, event_time=DAY)
    result = refused(pipeline, event, {key}, "the event says " + "0" * 32)
    assert meta["etag"] in result["reason"]
    catalogue.record("untrusted events refused")
    # the right eTag, quoted as some producers send it, and a multipart ETag (-N): compared as text, accepted
    event = s3_event(pipeline.data_bucket, key, version_id=meta["version_id"], etag=f'"{meta["etag"]}"', event_time=DAY)
    (result,) = handle(event, Context())["results"]
    assert result["status"] == "started", result
    s3 = aws.client("s3")
    big = "automl/2026-03-04/multipart.csv"
    upload_id = s3.create_multipart_upload(Bucket=pipeline.data_bucket, Key=big)["UploadId"]
    body = small_csv(rows=400_000)
    parts = []
    for number, at in enumerate(range(0, len(body), 5 * 1024 * 1024), start=1):
        part = s3.upload_part(
            Bucket=pipeline.data_bucket, Key=big, UploadId=upload_id, PartNumber=number, Body=body[at : at + 5 * 1024 * 1024]
        )
        parts.append({"PartNumber": number, "ETag": part["ETag"]})
    done = s3.complete_multipart_upload(
        Bucket=pipeline.data_bucket, Key=big, UploadId=upload_id, MultipartUpload={"Parts": parts}
    )
    etag = done["ETag"].strip('"')
    assert "-" in etag
    event = s3_event(pipeline.data_bucket, big, version_id=done["VersionId"], etag=etag, event_time=DAY)
    (result,) = handle(event, Context())["results"]
    assert result["status"] == "started", result

"""Trusting the event (issue #11, items 6-9): what an event says is checked against the bucket before
anything runs.  Each refusal is delivered to the Lambda handler against moto's server, and leaves no
training job and no object written."""

from __future__ import annotations

import gzip
import json
import re
from typing import Any

import pytest

from model_training import aws
from model_training.config import settings
from model_training.handler import handle
from model_training.offline import Pipeline, s3_event, upload
from tests.fixtures import EVENT_TIME, Context, Shrinking, jobs, small_csv


def keys(bucket: str) -> set[str]:
    """Every key in ``bucket`` (every version's key, so a write that was overwritten or deleted still counts),
    except the run claim, which a refused run takes before reading the object and removes when it fails."""
    s3 = aws.client("s3")
    found: set[str] = set()
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        found |= {v["Key"] for v in page.get("Versions", [])}
    current = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    return {k for k in found if not re.search(r"/_run-claim(\.\d+)?\.json$", k) or k in current}


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
    event = s3_event(pipeline.data_bucket, key, version_id=meta["version_id"], etag=meta["etag"], event_time=EVENT_TIME)
    refused(pipeline, event, set(), "the object version no longer exists")
    catalogue.record("untrusted events refused")


def test_an_object_whose_latest_version_is_a_delete_marker_is_refused(pipeline: Pipeline, catalogue: Any) -> None:
    key = "automl/2026-03-04/deleted.csv"
    meta = upload(pipeline.data_bucket, key, small_csv())
    marker = aws.client("s3").delete_object(Bucket=pipeline.data_bucket, Key=key)
    assert marker["DeleteMarker"]
    event = s3_event(pipeline.data_bucket, key, version_id=meta["version_id"], etag=meta["etag"], event_time=EVENT_TIME)
    result = refused(pipeline, event, {key}, "the object version no longer exists")
    assert "delete marker" in result["reason"]
    # an event naming the delete marker's own version
    event = s3_event(pipeline.data_bucket, key, version_id=marker["VersionId"], event_time=EVENT_TIME)
    refused(pipeline, event, {key}, "the object version no longer exists")
    catalogue.record("untrusted events refused", 2)


def test_an_etag_that_does_not_match_the_version_is_refused(pipeline: Pipeline, catalogue: Any) -> None:
    key = "automl/2026-03-04/etag.csv"
    meta = upload(pipeline.data_bucket, key, small_csv())
    event = s3_event(pipeline.data_bucket, key, version_id=meta["version_id"], etag="0" * 32, event_time=EVENT_TIME)
    result = refused(pipeline, event, {key}, "the event says " + "0" * 32)
    assert meta["etag"] in result["reason"]
    catalogue.record("untrusted events refused")
    # the right eTag, quoted as some producers send it, and a multipart ETag (-N): compared as text, accepted
    event = s3_event(pipeline.data_bucket, key, version_id=meta["version_id"], etag=f'"{meta["etag"]}"', event_time=EVENT_TIME)
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
    event = s3_event(pipeline.data_bucket, big, version_id=done["VersionId"], etag=etag, event_time=EVENT_TIME)
    (result,) = handle(event, Context())["results"]
    assert result["status"] == "started", result


# ------------------------------------------------------------------------- 6: only our bucket, our prefix


GREEDY = {"training": {"instance_type": "ml.p5.48xlarge", "instance_count": 100, "max_runtime_seconds": 28 * 86_400}}


def test_an_object_in_another_bucket_is_not_processed(pipeline: Pipeline, catalogue: Any) -> None:
    other = "someone-elses-bucket"
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=other, CreateBucketConfiguration={"LocationConstraint": pipeline.region})
    s3.put_object(Bucket=other, Key="automl/2026-03-04/manifest.json", Body=json.dumps(GREEDY).encode())
    meta = upload(other, "automl/2026-03-04/bait.csv", small_csv())
    event = s3_event(other, "automl/2026-03-04/bait.csv", version_id=meta["version_id"], etag=meta["etag"], event_time=EVENT_TIME)
    result = refused(pipeline, event, set(), f"not in the data bucket {pipeline.data_bucket}", status="skipped")
    assert "mlops-eu-west-2-dev-automl-data" in result["reason"]  # names the SSM parameter
    assert keys(other) == {"automl/2026-03-04/manifest.json", "automl/2026-03-04/bait.csv"}
    catalogue.record("untrusted events refused")


def test_a_key_outside_the_input_prefix_is_not_processed(
    pipeline: Pipeline, catalogue: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "incoming/2026-03-04/outside.csv"
    meta = upload(pipeline.data_bucket, key, small_csv())
    event = s3_event(pipeline.data_bucket, key, version_id=meta["version_id"], etag=meta["etag"], event_time=EVENT_TIME)
    refused(pipeline, event, {key}, "not under the input prefix 'automl/' (MODEL_TRAINING_INPUT_PREFIX)", status="skipped")
    monkeypatch.setenv("MODEL_TRAINING_INPUT_PREFIX", "incoming")  # a setting: the same key is then processed
    (result,) = handle(event, Context())["results"]
    assert result["status"] == "started", result
    catalogue.record("untrusted events refused")


def test_a_manifest_asking_for_more_than_the_ceilings_is_refused_before_anything_runs(pipeline: Pipeline, catalogue: Any) -> None:
    manifest = "automl/2026-03-04/manifest.json"
    aws.client("s3").put_object(Bucket=pipeline.data_bucket, Key=manifest, Body=json.dumps(GREEDY).encode())
    key = "automl/2026-03-04/greedy.csv"
    meta = upload(pipeline.data_bucket, key, small_csv())
    event = s3_event(pipeline.data_bucket, key, version_id=meta["version_id"], etag=meta["etag"], event_time=EVENT_TIME)
    result = refused(pipeline, event, {key, manifest}, "training.instance_count = 100")
    reason = result["reason"]
    assert "'ml.p5.48xlarge'" in reason and "MODEL_TRAINING_ALLOWED_INSTANCE_TYPES" in reason
    assert "above the ceiling of 10" in reason and "MODEL_TRAINING_LIMIT_INSTANCE_COUNT" in reason
    assert "training.max_runtime_seconds = 2419200" in reason and "MODEL_TRAINING_LIMIT_RUNTIME_SECONDS" in reason
    assert f"manifest s3://{pipeline.data_bucket}/{manifest}" in reason  # where the setting came from
    catalogue.record("untrusted events refused")


def test_the_ceilings_are_raised_in_ssm(pipeline: Pipeline, catalogue: Any) -> None:
    manifest = "automl/2026-03-04/manifest.json"
    wants = {"training": {"instance_type": "ml.g5.xlarge", "instance_count": 12, "volume_size_gb": 600}}
    aws.client("s3").put_object(Bucket=pipeline.data_bucket, Key=manifest, Body=json.dumps(wants).encode())
    key = "automl/2026-03-04/bigger.csv"
    meta = upload(pipeline.data_bucket, key, small_csv(rows=200))
    event = s3_event(pipeline.data_bucket, key, version_id=meta["version_id"], etag=meta["etag"], event_time=EVENT_TIME)
    refused(pipeline, event, {key, manifest}, "training.volume_size_gb = 600 is above the ceiling of 512")
    limits = {"instance_types": ["ml.m5.*", "ml.g5.*"], "instance_count": 20, "volume_size_gb": 1024}
    aws.client("ssm").put_parameter(
        Name="mlops-eu-west-2-dev-training-limits", Value=json.dumps(limits), Type="SecureString", Overwrite=True
    )
    settings.clear_cache()
    (result,) = handle(event, Context())["results"]
    assert result["status"] == "started", result
    job = aws.client("sagemaker").describe_training_job(TrainingJobName=result["job_name"])
    assert job["ResourceConfig"]["InstanceCount"] == 12 and job["ResourceConfig"]["InstanceType"] == "ml.g5.xlarge"
    catalogue.record("untrusted events refused")


# ------------------------------------------------------------------------------------ 9: huge manifests


@pytest.mark.parametrize(
    ("names", "where", "reason"),
    [
        (50_000, "top", "more than the limit of 65536 bytes (64 KiB)"),  # 1.2 MB: refused before it is parsed
        (2_400, "top", "and 2380 more"),  # under 64 KiB: 20 problems described, the rest counted
        (2_400, "hyperparameters", "more"),
    ],
)
def test_a_manifest_of_thousands_of_unknown_names_is_refused_quickly_and_briefly(
    pipeline: Pipeline, catalogue: Any, names: int, where: str, reason: str
) -> None:
    import time

    unknown = {f"unknown_setting_{i}": 1 for i in range(names)}
    document = unknown if where == "top" else {"training": {"hyperparameters": unknown}}
    manifest = "automl/2026-03-04/manifest.json"
    aws.client("s3").put_object(Bucket=pipeline.data_bucket, Key=manifest, Body=json.dumps(document).encode())
    key = "automl/2026-03-04/listed.csv"
    meta = upload(pipeline.data_bucket, key, small_csv())
    event = s3_event(pipeline.data_bucket, key, version_id=meta["version_id"], etag=meta["etag"], event_time=EVENT_TIME)
    started = time.monotonic()
    result = refused(pipeline, event, {key, manifest}, reason)
    assert time.monotonic() - started < 5
    assert len(result["reason"]) < 2500, len(result["reason"])
    catalogue.record("untrusted events refused")


# ------------------------------------------------------------------------------------------ 8: gzip bombs


def gzip_of(pieces: Any, level: int = 6) -> bytes:
    """The gzip of the concatenated ``pieces``, compressed as they come (never held inflated)."""
    import io

    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=level) as fh:
        for piece in pieces:
            fh.write(piece)
    return buffer.getvalue()


MIB = 1024 * 1024
ZEROS = gzip_of(b"\0" * MIB for _ in range(200))  # 200 MiB of zero bytes in about 200 KB
ROWS = gzip_of([b"f1,f2,y_no,y_yes\n", *(b"1.5,2,0,1\n2.5,3,1,0\n" * 50_000 for _ in range(100))])  # 95 MiB of rows


@pytest.mark.parametrize("mode", ["in memory", "streaming"])
@pytest.mark.parametrize("bomb", ["zeros", "rows"])
def test_a_gzip_bomb_is_refused_at_the_decompressed_limit(
    pipeline: Pipeline, catalogue: Any, monkeypatch: pytest.MonkeyPatch, bomb: str, mode: str
) -> None:
    monkeypatch.setenv("MODEL_TRAINING_MAX_DECOMPRESSED_BYTES", str(50 * MIB))
    monkeypatch.setenv("MODEL_TRAINING_STREAM_ABOVE_MB", "0" if mode == "streaming" else "4096")
    body = ZEROS if bomb == "zeros" else ROWS
    assert len(body) < 400_000
    key = f"automl/2026-03-04/{bomb}.csv.gz"
    meta = upload(pipeline.data_bucket, key, body)
    event = s3_event(pipeline.data_bucket, key, version_id=meta["version_id"], etag=meta["etag"], event_time=EVENT_TIME)
    result = refused(pipeline, event, {key}, f"inflates to more than {50 * MIB} bytes")
    assert (
        "MODEL_TRAINING_MAX_DECOMPRESSED_BYTES" in result["reason"] and "MODEL_TRAINING_MAX_DECOMPRESSED_BYTES" in result["hint"]
    )
    catalogue.record("bombs refused")


def test_the_default_limit_refuses_a_bomb_of_zeros_in_bounded_memory(pipeline: Pipeline, catalogue: Any) -> None:
    import time

    key = "automl/2026-03-04/zeros.csv.gz"
    meta = upload(pipeline.data_bucket, key, ZEROS)
    event = s3_event(pipeline.data_bucket, key, version_id=meta["version_id"], etag=meta["etag"], event_time=EVENT_TIME)
    started = time.monotonic()
    refused(pipeline, event, {key}, "s3://")  # no header line within the limits: refused, whichever check says so
    assert time.monotonic() - started < 60
    catalogue.record("bombs refused")


def test_gzip_that_inflates_past_the_in_memory_limit_is_streamed_not_refused(
    pipeline: Pipeline, catalogue: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the first 64 KiB (the estimate's sample) compress poorly, the rest well: estimated small, inflated large
    import random

    rng = random.Random(7)
    varied = b"".join(f"{rng.random():.12f},{rng.randrange(1000)},0,1\n".encode() for _ in range(20_000))
    body = gzip_of([b"f1,f2,y_no,y_yes\n", varied, *(b"1.5,2,0,1\n2.5,3,1,0\n" * 50_000 for _ in range(3))])
    monkeypatch.setenv("MODEL_TRAINING_STREAM_ABOVE_MB", "3")
    key = "automl/2026-03-04/surprise.csv.gz"
    meta = upload(pipeline.data_bucket, key, body)
    event = s3_event(pipeline.data_bucket, key, version_id=meta["version_id"], etag=meta["etag"], event_time=EVENT_TIME)
    (result,) = handle(event, Context())["results"]
    assert result["status"] == "started", result
    record = json.loads(
        aws.client("s3").get_object(Bucket=pipeline.data_bucket, Key=result["run_record"].split("/", 3)[3])["Body"].read()
    )
    assert sum(s["rows"] for s in record["splits"].values()) == 20_000 + 300_000
    catalogue.record("bombs refused", 0)


@pytest.mark.parametrize(("then", "reason"), [(5, "inflating the gzip data stopped"), (12, "splitting and writing needs")])
def test_the_time_budget_counts_the_inflated_size_and_is_checked_while_inflating(
    pipeline: Pipeline, catalogue: Any, then: int, reason: str
) -> None:
    key = "automl/2026-03-04/slow.csv.gz"
    meta = upload(pipeline.data_bucket, key, ROWS)  # 95 MiB of rows: about 5 s of writing by the estimate
    event = s3_event(pipeline.data_bucket, key, version_id=meta["version_id"], etag=meta["etag"], event_time=EVENT_TIME)
    sqs = {"Records": [{"messageId": "m1", "body": json.dumps(event), "eventSource": "aws:sqs"}]}
    (result,) = handle(sqs, Shrinking(40, then))["results"]
    assert result["status"] == "failed" and result["retryable"] is True, result
    assert reason in result["reason"], result
    assert jobs() == [] and keys(pipeline.data_bucket) == {key}
    catalogue.record("time budgets exceeded")

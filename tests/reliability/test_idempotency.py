"""Nothing is lost or doubled under at-least-once delivery: the same object version delivered many
times, one after the other and at the same time, gives one run and one training job."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from model_training import aws
from model_training.handler import handle
from model_training.offline import Pipeline, s3_event, upload
from tests.fixtures import EVENT_TIME, Context, eventbridge_object_created, jobs, small_csv


def run_records(bucket: str) -> list[str]:
    contents = aws.client("s3").list_objects_v2(Bucket=bucket, Prefix="automl/").get("Contents", [])
    return [o["Key"] for o in contents if o["Key"].endswith("/run.json")]


def test_sequential_redelivery(pipeline: Pipeline, catalogue) -> None:
    meta = upload(pipeline.data_bucket, "automl/2026-03-04/seq.csv", small_csv())
    event = s3_event(pipeline.data_bucket, "automl/2026-03-04/seq.csv", version_id=meta["version_id"], event_time=EVENT_TIME)
    statuses = [handle(event, Context())["results"][0]["status"] for _ in range(5)]
    catalogue.record("duplicates delivered", 4)
    assert statuses == ["started"] + ["duplicate"] * 4
    assert len(jobs()) == 1 and len(run_records(pipeline.data_bucket)) == 1


def test_concurrent_redelivery_from_8_threads(pipeline: Pipeline, catalogue) -> None:
    meta = upload(pipeline.data_bucket, "automl/2026-03-04/conc.csv", small_csv(200))
    event = s3_event(pipeline.data_bucket, "automl/2026-03-04/conc.csv", version_id=meta["version_id"], event_time=EVENT_TIME)
    body = json.dumps(event)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: handle(json.loads(body), Context())["results"][0], range(8)))
    catalogue.record("duplicates delivered", 7)
    statuses = sorted(r["status"] for r in results)
    assert statuses.count("started") == 1, statuses
    assert statuses.count("duplicate") == 7, statuses
    assert len({r["run_id"] for r in results}) == 1
    # moto accepts a repeated job name (SageMaker would say ResourceInUse): one job means our claim worked
    assert len(jobs()) == 1
    assert len(run_records(pipeline.data_bucket)) == 1
    # the run claim stops the losers before they write: every split file has one version, run.json two
    # (committed, then with the job)
    listed = aws.client("s3").list_object_versions(Bucket=pipeline.data_bucket, Prefix="automl/").get("Versions", [])
    per_file = Counter(
        v["Key"].rsplit("/", 2)[-2] + "/" + v["Key"].rsplit("/", 1)[-1] for v in listed if "/training/" in v["Key"]
    )
    assert per_file["train/part-00000"] == per_file["validation/part-00000"] == per_file["test/part-00000"] == 1, per_file
    assert sum(n for f, n in per_file.items() if f.endswith("/run.json")) == 2, per_file


def test_a_new_object_version_is_a_new_run(pipeline: Pipeline, catalogue) -> None:
    for seed in (1, 2):
        meta = upload(pipeline.data_bucket, "automl/2026-03-04/v.csv", small_csv(seed=seed))
        event = s3_event(pipeline.data_bucket, "automl/2026-03-04/v.csv", version_id=meta["version_id"], event_time=EVENT_TIME)
        assert handle(event, Context())["results"][0]["status"] == "started"
    catalogue.record("versions delivered", 2)
    assert len(jobs()) == 2


def test_one_version_announced_either_side_of_midnight_is_one_run(pipeline: Pipeline, catalogue) -> None:
    """An S3 notification at 23:59:59.950Z and an EventBridge event at 00:00:00Z for the same version."""
    key = "automl/2026-03-04/midnight.csv"
    meta = upload(pipeline.data_bucket, key, small_csv())
    s3 = s3_event(pipeline.data_bucket, key, version_id=meta["version_id"], event_time="2026-03-04T23:59:59.950Z")
    eventbridge = eventbridge_object_created(pipeline.data_bucket, key, meta, time="2026-03-05T00:00:00Z", event_id="eb-midnight")
    (first,) = handle(s3, Context())["results"]
    (second,) = handle(eventbridge, Context())["results"]
    catalogue.record("duplicates delivered")
    assert (first["status"], second["status"]) == ("started", "duplicate"), (first, second)
    assert first["run_id"] == second["run_id"] and first["job_name"] == second["job_name"]
    assert len(jobs()) == 1 and len(run_records(pipeline.data_bucket)) == 1
    # the run date is the version's own LastModified (UTC), in the keys and in S3OutputPath
    day = aws.client("s3").head_object(Bucket=pipeline.data_bucket, Key=key, VersionId=meta["version_id"])["LastModified"]
    day_text = day.astimezone(dt.UTC).date().isoformat()
    assert f"/automl/{day_text}/training/midnight/" in first["run_record"]
    described = aws.client("sagemaker").describe_training_job(TrainingJobName=first["job_name"])
    assert described["OutputDataConfig"]["S3OutputPath"].endswith(f"/{day_text}/output")

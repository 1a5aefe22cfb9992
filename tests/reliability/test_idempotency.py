"""Nothing is lost or doubled under at-least-once delivery: the same object version delivered many
times, one after the other and at the same time, gives one run and one training job."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from model_training import aws
from model_training.handler import handle
from model_training.offline import Pipeline, s3_event, upload
from tests.aws.test_handler import DAY, Context, small_csv


def jobs() -> list[str]:
    return [j["TrainingJobName"] for j in aws.client("sagemaker").list_training_jobs()["TrainingJobSummaries"]]


def run_records(bucket: str) -> list[str]:
    contents = aws.client("s3").list_objects_v2(Bucket=bucket, Prefix="automl/").get("Contents", [])
    return [o["Key"] for o in contents if o["Key"].endswith("/run.json")]


def test_sequential_redelivery(pipeline: Pipeline, catalogue) -> None:
    meta = upload(pipeline.data_bucket, "automl/2026-03-04/seq.csv", small_csv())
    event = s3_event(pipeline.data_bucket, "automl/2026-03-04/seq.csv", version_id=meta["version_id"], event_time=DAY)
    statuses = [handle(event, Context())["results"][0]["status"] for _ in range(5)]
    catalogue.record("duplicates delivered", 4)
    assert statuses == ["started"] + ["duplicate"] * 4
    assert len(jobs()) == 1 and len(run_records(pipeline.data_bucket)) == 1


def test_concurrent_redelivery_from_8_threads(pipeline: Pipeline, catalogue) -> None:
    meta = upload(pipeline.data_bucket, "automl/2026-03-04/conc.csv", small_csv(200))
    event = s3_event(pipeline.data_bucket, "automl/2026-03-04/conc.csv", version_id=meta["version_id"], event_time=DAY)
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


def test_a_new_object_version_is_a_new_run(pipeline: Pipeline, catalogue) -> None:
    for seed in (1, 2):
        meta = upload(pipeline.data_bucket, "automl/2026-03-04/v.csv", small_csv(seed=seed))
        event = s3_event(pipeline.data_bucket, "automl/2026-03-04/v.csv", version_id=meta["version_id"], event_time=DAY)
        assert handle(event, Context())["results"][0]["status"] == "started"
    catalogue.record("versions delivered", 2)
    assert len(jobs()) == 2

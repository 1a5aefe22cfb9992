"""Load: 100 distinct objects delivered as SQS batches of 10 give 100 runs and 100 jobs, no duplicates,
and the process's memory does not grow with the number of objects handled."""

from __future__ import annotations

import gc
import json
import os
from typing import Any

from model_training import aws
from model_training.handler import handle
from model_training.offline import Pipeline, s3_event, upload
from tests.fixtures import EVENT_TIME, Context, small_csv

OBJECTS, BATCH = 100, 10


def rss_bytes() -> int:
    """The process's resident set size now (Linux /proc), not its peak."""
    with open(f"/proc/{os.getpid()}/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_100_objects_in_sqs_batches_of_10(pipeline: Pipeline, catalogue: Any) -> None:
    bodies = []
    for i in range(OBJECTS):
        key = f"automl/2026-03-04/load-{i:03d}.csv"
        meta = upload(pipeline.data_bucket, key, small_csv(rows=200, seed=i))
        bodies.append(json.dumps(s3_event(pipeline.data_bucket, key, version_id=meta["version_id"], event_time=EVENT_TIME)))
    memory = []
    statuses: list[str] = []
    for b in range(0, OBJECTS, BATCH):
        event = {
            "Records": [
                {"messageId": f"m{b + j}", "body": body, "eventSource": "aws:sqs", "attributes": {}}
                for j, body in enumerate(bodies[b : b + BATCH])
            ]
        }
        response = handle(event, Context())
        assert response["batchItemFailures"] == []
        statuses += [r["status"] for r in response["results"]]
        gc.collect()
        memory.append(rss_bytes())
    catalogue.record("objects under load", OBJECTS)
    assert statuses == ["started"] * OBJECTS
    jobs = aws.client("sagemaker").list_training_jobs(MaxResults=100)["TrainingJobSummaries"]
    assert len({j["TrainingJobName"] for j in jobs}) == OBJECTS
    # after the first two batches (imports, caches, connection pools) memory stays flat: the growth over the
    # next eight batches is bounded by what moto itself keeps for 80 more objects and jobs (a few MB)
    growth = memory[-1] - memory[1]
    print(f"RSS after each batch of {BATCH} (MB): {[round(m / 2**20, 1) for m in memory]}; growth {growth / 2**20:.1f} MB")
    assert growth < 40 * 2**20, [round(m / 2**20, 1) for m in memory]

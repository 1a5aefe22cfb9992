"""The Lambda's time budget and warm containers."""

from __future__ import annotations

from typing import Any

import pytest

from model_training.handler import RetryableError, handle
from model_training.offline import Pipeline, s3_event, upload
from tests.fixtures import EVENT_TIME, Context, Shrinking, small_csv, training_objects


def test_the_time_budget_stops_before_the_next_step_not_during_it(pipeline: Pipeline, catalogue: Any) -> None:
    meta = upload(pipeline.data_bucket, "automl/2026-03-04/late.csv", small_csv())
    event = s3_event(pipeline.data_bucket, "automl/2026-03-04/late.csv", version_id=meta["version_id"], event_time=EVENT_TIME)
    with pytest.raises(RetryableError):
        # 40 s left when the object starts, 6 s once it has been read: too little to write the split
        handle(event, Shrinking(40, 6))  # an S3 event: re-raised so Lambda retries it
    catalogue.record("time budgets exceeded")
    written = training_objects(pipeline.data_bucket)
    assert written == []
    (result,) = handle(event, Context())["results"]  # the retry, with time enough
    assert result["status"] == "started"


def test_warm_container_handles_two_objects_as_two_runs(pipeline: Pipeline, catalogue: Any) -> None:
    results = []
    for name in ("first.csv", "second.csv"):
        meta = upload(pipeline.data_bucket, f"automl/2026-03-04/{name}", small_csv(seed=4))  # the same bytes
        event = s3_event(pipeline.data_bucket, f"automl/2026-03-04/{name}", version_id=meta["version_id"], event_time=EVENT_TIME)
        results += handle(event, Context())["results"]
    catalogue.record("warm invocations", 2)
    a, b = results
    assert a["status"] == b["status"] == "started"
    assert a["run_id"] != b["run_id"] and a["job_name"] != b["job_name"]
    assert not set(a["outputs"].values()) & set(b["outputs"].values())

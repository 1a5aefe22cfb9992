"""The Lambda's time budget and warm containers."""

from __future__ import annotations

from typing import Any

import pytest

from model_training.handler import RetryableError, handle
from model_training.offline import Pipeline, s3_event, upload
from tests.aws.conftest import training_objects
from tests.aws.test_handler import DAY, Context, small_csv


class Shrinking(Context):
    """40 s left when the object starts, 6 s once it has been read: too little to write the split."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def get_remaining_time_in_millis(self) -> int:
        self.calls += 1
        return 40_000 if self.calls <= 2 else 6_000


def test_the_time_budget_stops_before_the_next_step_not_during_it(pipeline: Pipeline, catalogue: Any) -> None:
    meta = upload(pipeline.data_bucket, "automl/2026-03-04/late.csv", small_csv())
    event = s3_event(pipeline.data_bucket, "automl/2026-03-04/late.csv", version_id=meta["version_id"], event_time=DAY)
    with pytest.raises(RetryableError):
        handle(event, Shrinking())  # an S3 event: re-raised so Lambda retries it
    catalogue.record("time budgets exceeded")
    written = training_objects(pipeline.data_bucket)
    assert written == []
    (result,) = handle(event, Context())["results"]  # the retry, with time enough
    assert result["status"] == "started"


def test_warm_container_handles_two_objects_as_two_runs(pipeline: Pipeline, catalogue: Any) -> None:
    results = []
    for name in ("first.csv", "second.csv"):
        meta = upload(pipeline.data_bucket, f"automl/2026-03-04/{name}", small_csv(seed=4))  # the same bytes
        event = s3_event(pipeline.data_bucket, f"automl/2026-03-04/{name}", version_id=meta["version_id"], event_time=DAY)
        results += handle(event, Context())["results"]
    catalogue.record("warm invocations", 2)
    a, b = results
    assert a["status"] == b["status"] == "started"
    assert a["run_id"] != b["run_id"] and a["job_name"] != b["job_name"]
    assert not set(a["outputs"].values()) & set(b["outputs"].values())

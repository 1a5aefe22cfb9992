"""Bad-input catalogue item 10, events: each bad record is skipped or failed with a clear reason, and
never fails the rest of its batch."""

from __future__ import annotations

import json
from typing import Any

from model_training.handler import handle
from model_training.offline import Pipeline, s3_event, upload
from tests.fixtures import EVENT_TIME, Context, small_csv


def test_every_kind_of_bad_event_record_in_one_sqs_batch(pipeline: Pipeline, catalogue: Any) -> None:
    good_meta = upload(pipeline.data_bucket, "automl/2026-03-04/good.csv", small_csv())
    good = s3_event(pipeline.data_bucket, "automl/2026-03-04/good.csv", version_id=good_meta["version_id"], event_time=EVENT_TIME)
    no_s3 = {"Records": [{"eventName": "ObjectCreated:Put", "eventSource": "aws:s3"}]}
    deleted = s3_event(pipeline.data_bucket, "automl/2026-03-04/deleted-before-read.csv", event_time=EVENT_TIME)
    own = s3_event(
        pipeline.data_bucket, "automl/2026-03-04/training/good/0123456789abcdef/train/part-00000", event_time=EVENT_TIME
    )
    test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": pipeline.data_bucket}
    bodies = {
        "malformed-json": "{not json",
        "record-without-s3": json.dumps(no_s3),
        "test-event": json.dumps(test_event),
        "no-such-key": json.dumps(deleted),
        "own-output": json.dumps(own),
        "good": json.dumps(good),
    }
    event = {"Records": [{"messageId": mid, "body": body, "eventSource": "aws:sqs"} for mid, body in bodies.items()]}
    response = handle(event, Context())
    catalogue.record("bad inputs tried", len(bodies) - 1)
    by_item = {r["item"]: r for r in response["results"]}
    assert by_item["good"]["status"] == "started"
    assert by_item["test-event"]["status"] == "skipped" and by_item["test-event"]["reason"] == "s3:TestEvent"
    assert by_item["own-output"]["status"] == "skipped" and "own output prefix" in by_item["own-output"]["reason"]
    assert by_item["malformed-json"]["status"] == "failed" and "not JSON" in by_item["malformed-json"]["reason"]
    assert by_item["record-without-s3"]["status"] == "failed" and "'s3'" in by_item["record-without-s3"]["reason"]
    assert by_item["no-such-key"]["status"] == "failed" and "no longer exists" in by_item["no-such-key"]["reason"]
    assert {f["itemIdentifier"] for f in response["batchItemFailures"]} == {"malformed-json", "record-without-s3", "no-such-key"}


def test_unreadable_and_out_of_range_event_times_fail_their_record_only(pipeline: Pipeline, catalogue: Any) -> None:
    """Issue 11 item 11: a time out of range once in UTC, or not a time, fails its record with the reason
    (never an OverflowError traceback, never a retry); a record without a time uses the object's LastModified."""
    import datetime as dt
    import io

    from model_training.handler import logger

    times = {
        "year1.csv": "0001-01-01T00:00:00+14:00",
        "year9999.csv": "9999-12-31T23:59:59-14:00",
        "garbage.csv": "not-a-time",
        "missing.csv": None,
    }
    records = []
    for name, when in times.items():
        meta = upload(pipeline.data_bucket, f"automl/2026-03-04/{name}", small_csv())
        (record,) = s3_event(
            pipeline.data_bucket, f"automl/2026-03-04/{name}", version_id=meta["version_id"], event_time=EVENT_TIME
        )["Records"]
        if when is None:
            del record["eventTime"]
        else:
            record["eventTime"] = when
        records.append(record)
    captured = io.StringIO()
    previous = logger.registered_handler.setStream(captured)  # type: ignore[attr-defined]
    try:
        response = handle({"Records": records}, Context())  # nothing is raised: no retry can cure a bad time
    finally:
        logger.registered_handler.setStream(previous)  # type: ignore[attr-defined]
    catalogue.record("bad inputs tried", 3)
    year1, year9999, garbage, missing = response["results"]
    for result in (year1, year9999):
        assert result["status"] == "failed" and "outside years 1 to 9999" in result["reason"], result
    assert garbage["status"] == "failed" and "'not-a-time' is not an ISO-8601 time" in garbage["reason"]
    assert not any(r.get("retryable") for r in response["results"])
    assert missing["status"] == "started", missing
    assert f"/automl/{dt.datetime.now(dt.UTC).date().isoformat()}/training/missing/" in missing["outputs"]["train"]
    logs = captured.getvalue()
    assert "Traceback" not in logs and "OverflowError" not in logs

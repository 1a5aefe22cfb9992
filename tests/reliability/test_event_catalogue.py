"""Bad-input catalogue item 10, events: each bad record is skipped or failed with a clear reason, and
never fails the rest of its batch."""

from __future__ import annotations

import json
from typing import Any

from model_training.handler import handle
from model_training.offline import Pipeline, s3_event, upload
from tests.aws.test_handler import DAY, Context, small_csv


def test_every_kind_of_bad_event_record_in_one_sqs_batch(pipeline: Pipeline, catalogue: Any) -> None:
    good_meta = upload(pipeline.data_bucket, "automl/2026-03-04/good.csv", small_csv())
    good = s3_event(pipeline.data_bucket, "automl/2026-03-04/good.csv", version_id=good_meta["version_id"], event_time=DAY)
    no_s3 = {"Records": [{"eventName": "ObjectCreated:Put", "eventSource": "aws:s3"}]}
    deleted = s3_event(pipeline.data_bucket, "automl/2026-03-04/deleted-before-read.csv", event_time=DAY)
    own = s3_event(pipeline.data_bucket, "automl/2026-03-04/training/good/0123456789abcdef/train/part-00000", event_time=DAY)
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
    assert by_item["no-such-key"]["status"] == "failed" and "does not exist" in by_item["no-such-key"]["reason"]
    assert {f["itemIdentifier"] for f in response["batchItemFailures"]} == {"malformed-json", "record-without-s3", "no-such-key"}

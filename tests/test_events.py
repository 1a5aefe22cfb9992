"""Event decoding without AWS: every shape, keys URL-decoded, tests and deletes skipped, junk reported; SageMaker's job
state-change events decoded into the job they name, and nothing more."""

from __future__ import annotations

import json

import pytest

from model_training.config.run import DEFAULT_PREFIX_TEMPLATE
from model_training.events import ObjectRef, decode_event, output_key_pattern, skip_reason
from model_training.job_events import JobRef
from model_training.offline import s3_event
from tests.fixtures import training_job_event, tuning_job_event
from tests.keys import KEYS, PROCESSED


def test_s3_keys_are_url_decoded() -> None:
    event = s3_event("b", "automl/données client+v2.csv")
    assert event["Records"][0]["s3"]["object"]["key"] == "automl/donn%C3%A9es+client%2Bv2.csv"
    (item,) = decode_event(event).items
    assert item.objects[0].key == "automl/données client+v2.csv"
    assert item.correlation_id == "EXAMPLE123456789"


def test_every_record_of_an_s3_event() -> None:
    records = [r for i in range(10) for r in s3_event("b", f"automl/{i}.csv")["Records"]]
    decoded = decode_event({"Records": records})
    assert decoded.kind == "s3"
    assert [i.objects[0].key for i in decoded.items] == [f"automl/{i}.csv" for i in range(10)]


def test_sns_envelope_inside_sqs() -> None:
    body = json.dumps({"Type": "Notification", "Message": json.dumps(s3_event("b", "automl/a+b.csv"))})
    event = {"Records": [{"messageId": "m1", "body": body, "eventSource": "aws:sqs", "attributes": {}}]}
    (item,) = decode_event(event).items
    assert item.item_id == "m1" and item.objects[0].key == "automl/a+b.csv"  # a real plus, sent as %2B


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("{nope", "not JSON"),
        ("[1]", "not a JSON object"),
        ('{"Records": [{"eventName": "x"}]}', "without an 's3'"),
        ("{}", "not an S3"),
    ],
)
def test_malformed_sqs_bodies_fail_only_their_message(body: str, error: str) -> None:
    ok = json.dumps(s3_event("b", "automl/ok.csv"))
    event = {
        "Records": [
            {"messageId": "bad", "body": body, "eventSource": "aws:sqs"},
            {"messageId": "good", "body": ok, "eventSource": "aws:sqs"},
        ]
    }
    bad, good = decode_event(event).items
    assert error in (bad.error or "")
    assert good.error is None and good.objects


def test_non_object_created_and_test_events_are_skipped() -> None:
    (item,) = decode_event(s3_event("b", "automl/x.csv", event_name="ObjectRemoved:Delete")).items
    assert item.objects == [] and "not ObjectCreated" in item.skipped[0]
    (test_item,) = decode_event({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"}).items
    assert test_item.skipped == ["s3:TestEvent"]


def test_eventbridge_other_detail_types_are_skipped() -> None:
    event = {"source": "aws.s3", "detail-type": "Object Deleted", "id": "e", "time": "2026-01-01T00:00:00Z", "detail": {}}
    (item,) = decode_event(event).items
    assert item.skipped and not item.objects


def test_unknown_events_are_one_failed_item() -> None:
    (item,) = decode_event({"hello": "world"}).items
    assert item.error


def test_output_prefix_pattern_is_a_prefix_match() -> None:
    pattern = output_key_pattern("automl/{date}/training/{dataset}")
    assert pattern == r"^automl/\d{4}-\d{2}-\d{2}/training/[^/]+/"
    template = "automl/{date}/training/{dataset}"
    assert skip_reason(ObjectRef("b", "automl/2026-01-01/training/bank/abc/train/part-00000"), template)
    assert skip_reason(ObjectRef("b", "automl/2026-01-01/training-data.csv"), template) is None
    assert skip_reason(ObjectRef("b", "automl/2026-01-01/training/x.csv"), template) is None  # not under {dataset}/
    assert skip_reason(ObjectRef("b", "automl/2026-01-01/data.csv.gz"), template) is None
    assert skip_reason(ObjectRef("b", "automl/2026-01-01/data.parquet"), template)


@pytest.mark.parametrize(("key", "expected"), KEYS)
def test_skip_rules_on_the_shared_key_list(key: str, expected: str) -> None:
    # the same list the deployment template's trigger filters are checked against (tests/test_deployment.py)
    assert (skip_reason(ObjectRef("b", key), DEFAULT_PREFIX_TEMPLATE) is None) == (expected == PROCESSED)


def test_output_names_of_earlier_versions_are_still_skipped_by_prefix() -> None:
    # a second guard: the prefix rule skips our outputs whatever their suffix (they once ended in .csv)
    for name in ("train/part-00000.csv", "test/test.csv"):
        key = f"automl/2026-01-01/training/bank/0123456789abcdef/{name}"
        assert "output prefix" in (skip_reason(ObjectRef("b", key), DEFAULT_PREFIX_TEMPLATE) or "")


BAD_EVENT_TIMES = [
    ("0001-01-01T00:00:00+14:00", "outside years 1 to 9999"),  # year 0 in UTC
    ("9999-12-31T23:59:59-14:00", "outside years 1 to 9999"),  # year 10000 in UTC
    ("yesterday", "not an ISO-8601 time"),
    ("2026-13-45T99:00:00Z", "not an ISO-8601 time"),
    ("x" * 5000, "not an ISO-8601 time"),
]


@pytest.mark.parametrize(("text", "reason"), BAD_EVENT_TIMES, ids=[t[:30] for t, _ in BAD_EVENT_TIMES])
def test_an_unreadable_or_out_of_range_event_time_fails_its_record_only(text: str, reason: str) -> None:
    """Issue 11 item 11: never an OverflowError; the record fails with the reason, the others go on."""
    from model_training.errors import EventError
    from model_training.events import parse_event_time

    with pytest.raises(EventError, match=reason) as caught:
        parse_event_time(text)
    assert len(caught.value.message) < 200  # a long time string is shown cut
    records = s3_event("b", "automl/bad.csv", event_time=text)["Records"] + s3_event("b", "automl/good.csv")["Records"]
    bad, good = decode_event({"Records": records}).items
    assert bad.error and reason in bad.error and not bad.objects
    assert good.error is None and good.objects[0].key == "automl/good.csv"
    eventbridge = {
        "source": "aws.s3",
        "detail-type": "Object Created",
        "time": text,
        "detail": {"bucket": {"name": "b"}, "object": {"key": "automl/x.csv", "size": 3}},
    }
    (item,) = decode_event(eventbridge).items
    assert item.error and reason in item.error and not item.objects


def test_event_times_as_aws_writes_them() -> None:
    import datetime as dt

    from model_training.events import parse_event_time

    assert parse_event_time("2026-03-04T23:59:59.950Z") == dt.datetime(2026, 3, 4, 23, 59, 59, 950000, tzinfo=dt.UTC)
    assert parse_event_time("2026-03-05T01:00:00+02:00").date() == dt.date(2026, 3, 4)
    assert parse_event_time("2026-03-04T10:11:12").tzinfo == dt.UTC  # no offset: UTC
    assert parse_event_time("0001-01-01T00:00:00-01:00").year == 1
    record = s3_event("b", "automl/a.csv")["Records"][0]
    del record["eventTime"]
    (item,) = decode_event({"Records": [record]}).items  # no time at all: the run date comes from LastModified
    assert item.error is None and item.objects[0].event_time is None


@pytest.mark.parametrize(
    "key",
    ["automl/_SUCCESS", "automl/2026-01-01/_SUCCESS", "automl/2026-01-01/training/_SUCCESS"],
)
def test_a_marker_of_a_folder_holding_our_outputs_is_skipped(key: str) -> None:
    """Its folder's listing would take the stage's own split files as parts ("its first line is not the
    dataset's header"), or split them into another run."""
    reason = skip_reason(ObjectRef("b", key), DEFAULT_PREFIX_TEMPLATE)
    assert reason and "holds the stage's own outputs" in reason and "a folder of their own" in reason


def test_a_marker_of_a_dataset_folder_is_processed() -> None:
    for key in ("automl/2026-01-01/exports/bank/_SUCCESS", "automl/exports/_SUCCESS"):
        assert skip_reason(ObjectRef("b", key), DEFAULT_PREFIX_TEMPLATE) is None


@pytest.mark.parametrize("key", [12345, ["a.csv"], {"k": "a.csv"}, None, ""])
def test_a_key_that_is_not_text_fails_its_record_with_the_reason(key: object) -> None:
    """A breaking session's SQS body with a number as the key gave "malformed record (AttributeError: 'int'
    object has no attribute 'replace')", an internal exception in the result."""
    s3 = {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "eventTime": "2026-01-01T00:00:00Z",
                       "s3": {"bucket": {"name": "b"}, "object": {"key": key, "size": 1}}}]}  # fmt: skip
    eventbridge = {"source": "aws.s3", "detail-type": "Object Created", "id": "e", "time": "2026-01-01T00:00:00Z",
                   "detail": {"bucket": {"name": "b"}, "object": {"key": key, "size": 1}}}  # fmt: skip
    for body in (s3, eventbridge):
        event = {"Records": [{"eventSource": "aws:sqs", "messageId": "m", "body": json.dumps(body)}]}
        (item,) = decode_event(event).items
        assert item.error and "required" in item.error and "Error" not in item.error, item.error
        assert not item.objects


# -- SageMaker's job state-change events ---------------------------------------------------------------------


def test_a_training_job_state_change_names_the_job_and_nothing_else_is_taken() -> None:
    event = training_job_event("small-0123456789abcdef", "Completed", FailureReason="x", Tags={"RunId": "y"})
    decoded = decode_event(event)
    assert decoded.kind == "sagemaker"
    (item,) = decoded.items
    assert item.item_id == item.correlation_id == event["id"]
    assert item.objects == [] and item.skipped == [] and item.error is None
    assert item.jobs == [JobRef("training", "small-0123456789abcdef", "Completed", "2026-03-04T10:17:00Z")]


def test_a_job_event_inside_an_sqs_message_or_an_sns_envelope() -> None:
    body = json.dumps(training_job_event("job-1", "Failed"))
    (sqs,) = decode_event({"Records": [{"messageId": "m1", "body": body, "eventSource": "aws:sqs"}]}).items
    assert sqs.item_id == "m1" and [j.name for j in sqs.jobs] == ["job-1"]
    envelope = json.dumps({"Type": "Notification", "Message": body})
    (wrapped,) = decode_event({"Records": [{"messageId": "m2", "body": envelope, "eventSource": "aws:sqs"}]}).items
    assert [j.name for j in wrapped.jobs] == ["job-1"]


def test_a_tuning_job_state_change_names_the_tuning_job_and_nothing_else_is_taken() -> None:
    event = tuning_job_event("small-0123456789abcdef", "Completed", FailureReason="x", BestTrainingJob={"TrainingJobName": "y"})
    decoded = decode_event(event)
    assert decoded.kind == "sagemaker"
    (item,) = decoded.items
    assert item.objects == [] and item.skipped == [] and item.error is None
    assert item.jobs == [JobRef("tuning", "small-0123456789abcdef", "Completed", "2026-03-04T10:30:00Z")]


@pytest.mark.parametrize("name", [None, "", "-search", "search_1", "s" * 33, "small-0123456789abcdef-001-1a2b3c4d"])
def test_a_tuning_job_event_without_a_tuning_job_name_fails_with_the_reason(name: object) -> None:
    """A tuning job's name has at most 32 characters: a trial's name (a training job's, 63) is no tuning job's."""
    event = tuning_job_event("search-1", "Completed")
    event["detail"]["HyperParameterTuningJobName"] = name
    if name is None:
        del event["detail"]["HyperParameterTuningJobName"]
    (item,) = decode_event(event).items
    assert item.jobs == [] and item.error and "detail.HyperParameterTuningJobName" in item.error


@pytest.mark.parametrize("detail_type", ["SageMaker Endpoint State Change", "SageMaker Transform Job State Change", None, 7])
def test_other_sagemaker_events_are_skipped_with_the_reason(detail_type: object) -> None:
    (item,) = decode_event({**training_job_event("job-1", "Completed"), "detail-type": detail_type}).items
    assert item.jobs == [] and item.error is None
    assert len(item.skipped) == 1 and "not a job state change the stage records" in item.skipped[0]


@pytest.mark.parametrize("name", [None, "", 12, ["job-1"], "-job", "job_1", "j" * 64, "job 1", "j-" * 32 + "j"])
def test_a_job_event_without_a_job_name_fails_with_the_reason(name: object) -> None:
    """``"j-" * 32 + "j"``: 33 letters, within the pattern's count, but 65 characters, beyond SageMaker's 63."""
    event = training_job_event("job-1", "Completed")
    event["detail"]["TrainingJobName"] = name
    if name is None:
        del event["detail"]["TrainingJobName"]
    (item,) = decode_event(event).items
    assert item.jobs == [] and item.error and "detail.TrainingJobName" in item.error and "not a job name" in item.error
    (not_a_detail,) = decode_event({**event, "detail": "text"}).items
    assert not_a_detail.error and not not_a_detail.jobs


def test_sns_records_and_eventbridge_keys_are_decoded_from_plain_dicts() -> None:
    """Without Powertools' data classes (issue 16: about a tenth of the handler's import): an SNS record's message and an
    EventBridge key (URL-encoded, as Powertools' ``S3EventBridgeNotificationObject.key`` decodes it) are read as they
    were, and an SNS record without its message fails alone."""
    message = json.dumps(s3_event("b", "automl/a+b.csv"))
    sns = {"EventSource": "aws:sns", "Sns": {"MessageId": "s1", "Message": message}}
    broken = {"EventSource": "aws:sns", "Sns": {"MessageId": "s2"}}
    good, bad = decode_event({"Records": [sns, broken]}).items
    assert good.error is None and good.objects[0].key == "automl/a+b.csv"
    assert bad.error == "malformed record (missing field 'Message')" and not bad.objects
    eventbridge = {
        "source": "aws.s3",
        "detail-type": "Object Created",
        "id": "e1",
        "time": "2026-03-04T10:11:12Z",
        "detail": {
            "bucket": {"name": "b"},
            "object": {"key": "automl/donn%C3%A9es+client.csv", "size": 3, "etag": "abc", "version-id": "v1"},
            "reason": "CopyObject",
        },
    }
    (item,) = decode_event(eventbridge).items
    assert item.objects == [
        ObjectRef("b", "automl/données client.csv", "v1", "abc", 3, "2026-03-04T10:11:12Z", "ObjectCreated:CopyObject")
    ]

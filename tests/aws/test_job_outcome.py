"""SageMaker's training job state-change events through the Lambda handler, against moto's server over HTTP: the
job's outcome recorded in its run's ``run.json`` as SageMaker describes the job, whatever the event says, once,
never going back, and only for this stage's jobs.

moto creates jobs Completed at once; here they start InProgress, as on SageMaker, and each test moves the job to
its next state through moto's model of it (:func:`tests.fixtures.set_job_state`) before delivering the event.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

import pytest

from model_training import aws, lambda_handler
from model_training.errors import RetryableError
from model_training.offline import Pipeline, s3_event, upload
from model_training.output.runrecord import RunRecord
from tests.fixtures import (
    EVENT_TIME,
    Context,
    inject,
    set_job_state,
    small_csv,
    start_jobs_in_progress,
    training_job_event,
)

KEY = "automl/2026-03-04/small.csv"


@pytest.fixture
def run(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A run split and started by the handler, its job InProgress on SageMaker: the handler's result."""
    start_jobs_in_progress(monkeypatch)
    meta = upload(pipeline.data_bucket, KEY, small_csv())
    event = s3_event(pipeline.data_bucket, KEY, version_id=meta["version_id"], etag=meta["etag"], event_time=EVENT_TIME)
    (result,) = lambda_handler(event, Context())["results"]
    assert result["status"] == "started", result
    return result


def record_of(result: dict[str, Any]) -> RunRecord:
    bucket, _, key = result["run_record"][len("s3://") :].partition("/")
    return RunRecord.model_validate_json(aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def versions_of(result: dict[str, Any]) -> int:
    """How many times ``run.json`` was written (the buckets are versioned)."""
    bucket, _, key = result["run_record"][len("s3://") :].partition("/")
    listed = aws.client("s3").list_object_versions(Bucket=bucket, Prefix=key)
    return len([v for v in listed.get("Versions", []) if v["Key"] == key])


def deliver(name: str, status: str, **detail: Any) -> dict[str, Any]:
    (result,) = lambda_handler(training_job_event(name, status, **detail), Context())["results"]
    return result


def test_a_started_run_records_its_job_in_progress(run: dict[str, Any]) -> None:
    record = record_of(run)
    assert record.status == "started" and record.training is not None
    assert (record.training.status, record.training.secondary_status) == ("InProgress", "Starting")
    assert record.training.model_artifact is None and record.training.final_metrics == {}
    assert versions_of(run) == 2  # committed, then with the job


def test_a_completed_job_is_recorded_as_sagemaker_describes_it(run: dict[str, Any], pipeline: Pipeline) -> None:
    set_job_state(run["job_name"], "Completed", metrics={"validation:auc": 0.9375, "validation:logloss": 0.25}, seconds=200)
    result = deliver(run["job_name"], "Completed")
    assert result["status"] == "recorded" and result["training_status"] == "Completed", result
    assert result["run_id"] == run["run_id"] and result["run_record"] == run["run_record"]
    record = record_of(run)
    assert record.status == "complete"
    training = record.training
    assert training is not None
    assert (training.status, training.secondary_status, training.failure_reason) == ("Completed", "Completed", None)
    assert training.final_metrics == {"validation:auc": 0.9375, "validation:logloss": 0.25}
    day = record.config["run_date"]
    assert training.model_artifact == f"s3://{pipeline.model_output_bucket}/{day}/output/{run['job_name']}/output/model.tar.gz"
    assert (training.training_seconds, training.billable_seconds) == (200, 180)
    assert (training.start_time, training.end_time) == ("2026-03-04T10:15:00+00:00", "2026-03-04T10:18:20+00:00")
    assert training.serving_image and training.serving_image.endswith("/sagemaker-xgboost:3.0-5")
    assert versions_of(run) == 3
    bucket, _, key = run["run_record"][len("s3://") :].partition("/")
    s3 = aws.client("s3")
    tags = {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]}
    assert tags["RunId"] == run["run_id"]  # rewritten with the run's lineage, as the run wrote it
    assert s3.head_object(Bucket=bucket, Key=key)["ServerSideEncryption"] == "AES256"
    assert not [o for o in s3.list_objects_v2(Bucket=bucket, Prefix=key.rsplit("/", 1)[0])["Contents"] if "claim" in o["Key"]]


def test_a_failed_job_records_why(run: dict[str, Any]) -> None:
    set_job_state(run["job_name"], "Failed", metrics={})
    result = deliver(run["job_name"], "Failed")
    assert result["status"] == "recorded" and result["training_status"] == "Failed"
    assert "the label column holds 2.0" in result["failure_reason"]
    record = record_of(run)
    assert record.status == "complete" and record.training is not None
    assert (record.training.status, record.training.secondary_status) == ("Failed", "Failed")
    assert record.training.failure_reason == "AlgorithmError: the label column holds 2.0 (binary:logistic)"
    assert record.training.model_artifact is None and record.training.billable_seconds == 108


def test_a_stopped_job_is_recorded_with_its_secondary_status(run: dict[str, Any]) -> None:
    set_job_state(run["job_name"], "Stopped", metrics={})
    assert deliver(run["job_name"], "Stopped")["status"] == "recorded"
    record = record_of(run)
    assert record.status == "complete" and record.training is not None
    assert (record.training.status, record.training.secondary_status) == ("Stopped", "MaxRuntimeExceeded")


def test_a_duplicate_event_changes_nothing(run: dict[str, Any]) -> None:
    set_job_state(run["job_name"], "Completed")
    assert deliver(run["job_name"], "Completed")["status"] == "recorded"
    before = record_of(run)
    again = deliver(run["job_name"], "Completed", event_id="another-delivery")
    assert again["status"] == "unchanged" and again["training_status"] == "Completed"
    assert record_of(run) == before
    assert versions_of(run) == 3  # not rewritten


def test_a_late_in_progress_never_takes_a_final_status_back(run: dict[str, Any]) -> None:
    set_job_state(run["job_name"], "Completed")
    assert deliver(run["job_name"], "Completed")["status"] == "recorded"
    before = record_of(run)
    # the InProgress event of earlier, delivered late; and DescribeTrainingJob itself answering from a stale replica
    set_job_state(run["job_name"], "InProgress")
    late = deliver(run["job_name"], "InProgress")
    assert late["status"] == "unchanged" and late["training_status"] == "Completed"
    assert record_of(run) == before and versions_of(run) == 3


@pytest.mark.parametrize(("actual", "first", "then"), [("Completed", "Failed", "Completed"), ("Failed", "Completed", "Failed")])
def test_conflicting_events_record_what_sagemaker_says(run: dict[str, Any], actual: str, first: str, then: str) -> None:
    set_job_state(run["job_name"], actual)
    one = deliver(run["job_name"], first, FailureReason="made up", FinalMetricDataList=[{"MetricName": "x", "Value": 1}])
    two = deliver(run["job_name"], then)
    assert (one["status"], one["training_status"]) == ("recorded", actual)
    assert (two["status"], two["training_status"]) == ("unchanged", actual)
    record = record_of(run)
    assert record.training is not None and record.training.status == actual
    assert "x" not in record.training.final_metrics and record.training.failure_reason != "made up"


def test_an_event_whose_detail_lies_records_what_sagemaker_says(run: dict[str, Any]) -> None:
    set_job_state(run["job_name"], "InProgress")
    lie = deliver(
        run["job_name"],
        "Completed",
        SecondaryStatus="Completed",
        ModelArtifacts={"S3ModelArtifacts": "s3://attacker/model.tar.gz"},
        FinalMetricDataList=[{"MetricName": "validation:auc", "Value": 1.0}],
        BillableTimeInSeconds=1,
        Tags={"RunId": "0123456789abcdef", "Project": "MLOps", "Source": "x"},
    )
    assert lie["status"] == "recorded" and lie["training_status"] == "InProgress"  # Starting -> Training, per SageMaker
    record = record_of(run)
    assert record.status == "started" and record.training is not None
    assert (record.training.status, record.training.secondary_status) == ("InProgress", "Training")
    assert record.training.model_artifact is None and record.training.final_metrics == {}
    assert record.training.billable_seconds is None


def test_events_for_jobs_not_ours_are_skipped_with_the_reason(run: dict[str, Any], pipeline: Pipeline) -> None:
    sagemaker = aws.client("sagemaker")
    described = sagemaker.describe_training_job(TrainingJobName=run["job_name"])
    ours = {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=described["TrainingJobArn"])["Tags"]}
    fields = ("AlgorithmSpecification", "RoleArn", "InputDataConfig", "OutputDataConfig", "ResourceConfig", "StoppingCondition")
    request = {k: described[k] for k in fields}
    prod = "mlops-eu-west-2-prod-automl-data-a1b2c3"  # the same stage's run in another environment, in the same account
    prod_channels = json.loads(json.dumps(request["InputDataConfig"]).replace(pipeline.data_bucket, prod))
    prod_tags = {**ours, "Testing": ours["Testing"].replace(pipeline.data_bucket, prod)}
    jobs = {
        "another-teams-job": ({"Project": "Vision"}, request["InputDataConfig"], "not started by this stage"),
        "no-tags-at-all": ({}, request["InputDataConfig"], "not started by this stage"),
        "prod-environment-job": (prod_tags, prod_channels, "not in the data bucket"),
        "a-run-never-written": (
            {**ours, "RunId": "0123456789abcdef", "Testing": ours["Testing"].replace(run["run_id"], "0123456789abcdef")},
            request["InputDataConfig"],
            "does not exist",
        ),
        "a-copy-of-our-tags": (ours, request["InputDataConfig"], "does not match training job a-copy-of-our-tags: its job name"),
        "a-planted-run-record": (
            {**ours, "RunId": "fedcba9876543210", "Testing": ours["Testing"].replace(run["run_id"], "fedcba9876543210")},
            request["InputDataConfig"],
            f"is the record of run '{run['run_id']}', not of training job a-planted-run-record's 'fedcba9876543210'",
        ),
    }
    bucket, _, key = run["run_record"][len("s3://") :].partition("/")
    planted = key.replace(run["run_id"], "fedcba9876543210")
    aws.client("s3").copy_object(Bucket=bucket, Key=planted, CopySource={"Bucket": bucket, "Key": key})
    for name, (tags, channels, _) in jobs.items():
        tag_list = [{"Key": k, "Value": v} for k, v in tags.items()]
        sagemaker.create_training_job(TrainingJobName=name, **{**request, "InputDataConfig": channels}, Tags=tag_list)
        set_job_state(name, "Completed")
    before = versions_of(run), record_of(run)
    for name, (_, _, reason) in jobs.items():
        result = deliver(name, "Completed")
        assert result["status"] == "skipped" and reason in result["reason"], (name, result)
    missing = deliver("no-such-job", "Completed")
    assert missing["status"] == "skipped" and "does not exist in this account" in missing["reason"]
    assert (versions_of(run), record_of(run)) == before


def test_other_sagemaker_events_and_malformed_ones(pipeline: Pipeline) -> None:
    endpoint = {**training_job_event("x", "Completed"), "detail-type": "SageMaker Endpoint State Change"}
    (skipped,) = lambda_handler(endpoint, None)["results"]
    assert skipped["status"] == "skipped" and "not a job state change the stage records" in skipped["reason"]
    tuning = {**training_job_event("x", "Completed"), "detail-type": "SageMaker HyperParameter Tuning Job State Change"}
    (bad_tuning,) = lambda_handler(tuning, None)["results"]  # a training job's detail: no tuning job's name
    assert bad_tuning["status"] == "failed" and "detail.HyperParameterTuningJobName is missing" in bad_tuning["reason"]
    (bad,) = lambda_handler(training_job_event("not a job name!", "Completed"), None)["results"]
    assert bad["status"] == "failed" and "not a job name" in bad["reason"]


def test_concurrent_deliveries_of_one_event_write_one_record(run: dict[str, Any]) -> None:
    set_job_state(run["job_name"], "Completed")
    results: list[dict[str, Any]] = []
    barrier = threading.Barrier(6)

    def one() -> None:
        barrier.wait()
        results.append(deliver(run["job_name"], "Completed"))

    threads = [threading.Thread(target=one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r["status"] for r in results) == ["recorded"] + ["unchanged"] * 5, results
    assert all(r["training_status"] == "Completed" for r in results)
    assert versions_of(run) == 3
    record = record_of(run)
    assert record.status == "complete" and record.training is not None and record.training.status == "Completed"


def test_a_job_event_through_the_queue(run: dict[str, Any]) -> None:
    set_job_state(run["job_name"], "Completed")
    body = json.dumps(training_job_event(run["job_name"], "Completed"))
    event = {"Records": [{"messageId": "m1", "body": body, "eventSource": "aws:sqs"}]}
    response = lambda_handler(event, Context())
    assert response["batchItemFailures"] == []
    assert response["results"][0]["status"] == "recorded"


def test_a_throttled_describe_is_retried_by_lambda(run: dict[str, Any]) -> None:
    set_job_state(run["job_name"], "Completed")
    with inject("sagemaker", "DescribeTrainingJob", "throttle", times=None), pytest.raises(RetryableError):
        deliver(run["job_name"], "Completed")
    assert record_of(run).status == "started"
    assert deliver(run["job_name"], "Completed")["status"] == "recorded"  # Lambda's retry


def test_jobs_describe_shows_the_recorded_outcome(run: dict[str, Any]) -> None:
    from typer.testing import CliRunner

    from model_training.cli import app

    set_job_state(run["job_name"], "Completed", metrics={"validation:auc": 0.9375}, seconds=200)
    assert deliver(run["job_name"], "Completed")["status"] == "recorded"
    shown = CliRunner().invoke(app, ["jobs", "describe", run["job_name"], "--backend", "sagemaker"])
    assert shown.exit_code == 0, shown.output
    lines = dict(re.split(r"\s{2,}", line, maxsplit=1) for line in shown.output.splitlines())
    assert lines["BillableTimeInSeconds"] == "180"  # SageMaker's own, as before
    assert lines["run record"] == f"{run['run_record']} (complete)"
    assert lines["recorded status"] == "Completed"  # once, as jobs describe prints a status (issue 13)
    assert lines["recorded metrics"] == "validation:auc=0.937500"
    assert lines["recorded billable s"] == "180"
    training = record_of(run).training
    assert training is not None and lines["recorded model"] == training.model_artifact

"""SageMaker's hyperparameter tuning job state-change events through the Lambda handler, against moto's server over
HTTP: the search's outcome recorded in its run's ``run.json`` as SageMaker describes the job and lists its trials,
whatever the event says, once, never going back, only for this stage's tuning jobs; the best trial's model copied
once to the key the deployment stage parses; and the trials' own training job events skipped.

moto creates tuning jobs Completed at once and starts no trial; here they start InProgress and each test starts
trials and ends the search through moto's model (:mod:`tests.moto_tuning`), whose server also answers
``ListTrainingJobsForHyperParameterTuningJob`` (:func:`tests.moto_tuning.serve_trials`: see there why).
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from model_training import aws, lambda_handler
from model_training.errors import RetryableError, TrainingJobNotFoundError
from model_training.offline import Pipeline, s3_event, upload
from model_training.output.runrecord import RunRecord
from model_training.training.naming import tuning_job_name
from model_training.training.sagemaker import SageMakerBackend
from tests.fixtures import EVENT_TIME, Context, inject, service_problems, small_csv, training_job_event, tuning_job_event
from tests.moto_tuning import (
    add_trial,
    model_archive,
    serve_trials,
    set_tuning_state,
    start_tuning_jobs_in_progress,
    tuning_job_model,
)

KEY = "automl/2026-03-04/small.csv"
MANIFEST = "automl/2026-03-04/manifest.json"
SEARCH = {
    "objective_metric": "validation:auc",
    "max_trials": 6,
    "max_parallel_trials": 2,
    "ranges": {"eta": {"min": 0.05, "max": 0.5, "scaling": "Logarithmic"}, "max_depth": [3, 5, 7]},
}


def start_search(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, **training: Any) -> dict[str, Any]:
    """A dataset uploaded with a manifest whose ``tuning`` section is :data:`SEARCH` (and ``training`` settings
    ``training``), and the handler's delivery of its S3 event: the run split and its tuning job started on SageMaker
    (InProgress, no trial yet), ``run.json`` saying so.  Returns ``name`` (the tuning job), ``record_key``,
    ``run_id``, ``bucket`` and ``day`` (the run date)."""
    start_tuning_jobs_in_progress(monkeypatch)
    serve_trials(monkeypatch)
    manifest = {"tuning": SEARCH, **({"training": training} if training else {})}
    aws.client("s3").put_object(Bucket=pipeline.data_bucket, Key=MANIFEST, Body=json.dumps(manifest).encode())
    meta = upload(pipeline.data_bucket, KEY, small_csv(120))
    event = s3_event(pipeline.data_bucket, KEY, version_id=meta["version_id"], etag=meta["etag"], event_time=EVENT_TIME)
    (result,) = lambda_handler(event, Context())["results"]
    assert result["status"] == "started", result
    record_key = result["run_record"].removeprefix(f"s3://{pipeline.data_bucket}/")
    body = aws.client("s3").get_object(Bucket=pipeline.data_bucket, Key=record_key)["Body"].read()
    record = RunRecord.model_validate_json(body)
    assert record.status == "started" and record.tuning is not None and record.tuning.status == "InProgress"
    assert record.training is None
    name = record.tuning.job_name
    assert name == tuning_job_name("small", record.run_id)
    day = str(record.config["run_date"])
    return {"name": name, "record_key": record_key, "run_id": record.run_id, "bucket": pipeline.data_bucket, "day": day}


@pytest.fixture
def search(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A run and its tuning job, started (:func:`start_search`) with the default settings."""
    return start_search(pipeline, monkeypatch)


def record_of(search: dict[str, Any]) -> RunRecord:
    body = aws.client("s3").get_object(Bucket=search["bucket"], Key=search["record_key"])["Body"].read()
    return RunRecord.model_validate_json(body)


def versions_of(search: dict[str, Any]) -> int:
    """How many times ``run.json`` was written (the buckets are versioned)."""
    listed = aws.client("s3").list_object_versions(Bucket=search["bucket"], Prefix=search["record_key"])
    return len([v for v in listed.get("Versions", []) if v["Key"] == search["record_key"]])


def model_output(pipeline: Pipeline) -> list[tuple[str, bytes]]:
    """Every version of every object in the model output bucket (what the deployment stage would be started for)."""
    s3 = aws.client("s3")
    listed = s3.list_object_versions(Bucket=pipeline.model_output_bucket).get("Versions", [])
    return [
        (v["Key"], s3.get_object(Bucket=pipeline.model_output_bucket, Key=v["Key"], VersionId=v["VersionId"])["Body"].read())
        for v in listed
    ]


def deliver(name: str, status: str, **detail: Any) -> dict[str, Any]:
    (result,) = lambda_handler(tuning_job_event(name, status, **detail), Context())["results"]
    return result


def four_trials(name: str) -> list[str]:
    """Trials 000-003 of the search: one failed, three completed with validation:auc 0.81, 0.93 and 0.88."""
    return [
        add_trial(name, 0, {"eta": "0.3", "max_depth": "5"}, status="Failed", failure_reason="AlgorithmError: out of memory"),
        add_trial(name, 1, {"eta": "0.1", "max_depth": "3"}, objective=0.81, seconds=50),
        add_trial(name, 2, {"eta": "0.07", "max_depth": "7"}, objective=0.93, seconds=70),
        add_trial(name, 3, {"eta": "0.2", "max_depth": "5"}, objective=0.88, seconds=60),
    ]


def test_a_completed_search_is_recorded_and_its_best_model_copied_once(search: dict[str, Any], pipeline: Pipeline) -> None:
    assert record_of(search).status == "started" and versions_of(search) == 2  # committed, then the search started
    trials = four_trials(search["name"])
    set_tuning_state(search["name"], "Completed")
    result = deliver(search["name"], "Completed")
    best = trials[2]
    destination = f"s3://{pipeline.model_output_bucket}/{search['day']}/output/{best}/output/model.tar.gz"
    assert result["status"] == "recorded" and result["kind"] == "tuning", result
    assert (result["tuning_status"], result["best_training_job"], result["best_objective"]) == ("Completed", best, 0.93)
    assert result["copied"] is True and result["model_copied_to"] == destination
    assert result["run_id"] == search["run_id"]

    record = record_of(search)
    tuning = record.tuning
    assert record.status == "complete" and tuning is not None and record.training is None
    assert (tuning.backend, tuning.job_name, tuning.status) == ("sagemaker", search["name"], "Completed")
    assert (tuning.strategy, tuning.objective_metric, tuning.objective_type) == ("Bayesian", "validation:auc", "Maximize")
    assert (tuning.best_training_job, tuning.best_objective) == (best, 0.93)
    assert tuning.best_hyperparameters == {"eta": "0.07", "max_depth": "7"}
    assert [(t.job_name, t.status, t.objective) for t in tuning.trials] == [
        (trials[0], "Failed", None),
        (trials[1], "Completed", 0.81),
        (trials[2], "Completed", 0.93),
        (trials[3], "Completed", 0.88),
    ]
    assert tuning.trials[0].failure_reason == "AlgorithmError: out of memory"
    assert [t.seconds for t in tuning.trials[1:]] == [50, 70, 60]
    assert tuning.model_artifact == f"s3://{search['bucket']}/{record.prefix}/tuning/{best}/output/model.tar.gz"
    assert tuning.model_copied_to == destination and tuning.failure_reason is None
    assert tuning.end_time == "2026-03-04T10:24:00+00:00"  # the last trial's end
    # one model reaches the model output bucket: the best trial's, at the key the deployment stage parses
    assert model_output(pipeline) == [(f"{search['day']}/output/{best}/output/model.tar.gz", model_archive(best))]
    assert versions_of(search) == 3

    again = deliver(search["name"], "Completed", event_id="another-delivery")
    assert again["status"] == "unchanged" and again["copied"] is False and again["model_copied_to"] == destination
    assert len(model_output(pipeline)) == 1 and versions_of(search) == 3 and record_of(search) == record


def test_a_failed_search_records_why_and_copies_nothing(search: dict[str, Any], pipeline: Pipeline) -> None:
    for n in range(2):
        add_trial(search["name"], n, {"eta": "0.1", "max_depth": "3"}, status="Failed", failure_reason="AlgorithmError: x")
    set_tuning_state(search["name"], "Failed")
    result = deliver(search["name"], "Failed")
    assert result["status"] == "recorded" and result["tuning_status"] == "Failed" and result["copied"] is False
    assert result["failure_reason"].startswith("No training job succeeded after 5 attempts")
    record = record_of(search)
    assert record.status == "complete" and record.tuning is not None
    assert record.tuning.best_training_job is None and record.tuning.model_copied_to is None
    assert [t.status for t in record.tuning.trials] == ["Failed", "Failed"]
    assert model_output(pipeline) == []


def test_a_stopped_search_keeps_its_best_so_far_and_deploys_nothing(search: dict[str, Any], pipeline: Pipeline) -> None:
    trials = [
        add_trial(search["name"], 0, {"eta": "0.1", "max_depth": "3"}, objective=0.8),
        add_trial(search["name"], 1, {"eta": "0.2", "max_depth": "5"}, status="Stopped"),
    ]
    set_tuning_state(search["name"], "Stopped")
    result = deliver(search["name"], "Stopped")
    assert result["status"] == "recorded" and result["tuning_status"] == "Stopped" and result["copied"] is False
    record = record_of(search)
    assert record.status == "complete" and record.tuning is not None
    assert record.tuning.best_training_job == trials[0] and record.tuning.model_copied_to is None
    assert model_output(pipeline) == []  # a search that did not complete deploys nothing, as a failed job does


def test_out_of_order_events_never_take_a_final_status_back(search: dict[str, Any], pipeline: Pipeline) -> None:
    first = add_trial(search["name"], 0, {"eta": "0.1", "max_depth": "3"}, objective=0.8)
    set_tuning_state(search["name"], "InProgress")
    early = deliver(search["name"], "InProgress")
    assert early["status"] == "recorded" and early["tuning_status"] == "InProgress" and early["copied"] is False
    record = record_of(search)
    assert record.status == "started" and record.tuning is not None and [t.job_name for t in record.tuning.trials] == [first]
    assert model_output(pipeline) == []

    add_trial(search["name"], 1, {"eta": "0.2", "max_depth": "5"}, objective=0.9)
    set_tuning_state(search["name"], "Completed")
    assert deliver(search["name"], "Completed")["copied"] is True
    done = record_of(search)
    writes = versions_of(search)
    # the InProgress event of earlier, delivered late; and DescribeHyperParameterTuningJob answering from a stale replica
    set_tuning_state(search["name"], "InProgress")
    late = deliver(search["name"], "InProgress")
    assert late["status"] == "unchanged" and late["tuning_status"] == "Completed" and late["copied"] is False
    assert record_of(search) == done and versions_of(search) == writes and len(model_output(pipeline)) == 1


def test_concurrent_completed_events_copy_the_best_model_once(search: dict[str, Any], pipeline: Pipeline) -> None:
    four_trials(search["name"])
    set_tuning_state(search["name"], "Completed")
    results: list[dict[str, Any]] = []
    barrier = threading.Barrier(5)

    def one() -> None:
        barrier.wait()
        results.append(deliver(search["name"], "Completed"))

    threads = [threading.Thread(target=one) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r["status"] for r in results) == ["recorded"] + ["unchanged"] * 4, results
    assert [r["copied"] for r in results].count(True) == 1
    assert len({r["model_copied_to"] for r in results}) == 1
    assert len(model_output(pipeline)) == 1  # one object, one version: the deployment stage starts once
    assert versions_of(search) == 3
    record = record_of(search)
    assert record.status == "complete" and record.tuning is not None and record.tuning.model_copied_to


def test_an_event_whose_detail_lies_records_what_sagemaker_says(search: dict[str, Any], pipeline: Pipeline) -> None:
    add_trial(search["name"], 0, {"eta": "0.1", "max_depth": "3"}, status="InProgress")
    set_tuning_state(search["name"], "InProgress")
    lie = deliver(
        search["name"],
        "Completed",
        BestTrainingJob={"TrainingJobName": "attackers-job", "FinalHyperParameterTuningJobObjectiveMetric": {"Value": 1.0}},
        FailureReason="made up",
        Tags={"RunId": "0123456789abcdef", "Project": "MLOps", "Source": "x"},
    )
    assert lie["status"] == "recorded" and lie["tuning_status"] == "InProgress" and lie["copied"] is False
    record = record_of(search)
    assert record.status == "started" and record.tuning is not None and record.tuning.status == "InProgress"
    assert record.tuning.best_training_job is None and record.tuning.failure_reason is None
    assert model_output(pipeline) == []


def test_tuning_jobs_not_ours_are_skipped_with_the_reason(search: dict[str, Any], pipeline: Pipeline) -> None:
    sagemaker = aws.client("sagemaker")
    described = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=search["name"])
    ours = {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=described["HyperParameterTuningJobArn"])["Tags"]}
    request = {k: described[k] for k in ("HyperParameterTuningJobConfig", "TrainingJobDefinition")}
    prod = "mlops-eu-west-2-prod-automl-data-a1b2c3"  # the same stage's run in another environment, in the same account
    jobs = {
        "another-teams-search": {"Project": "Vision"},
        "no-tags-at-all": {},
        "prod-environment-search": {**ours, "Testing": ours["Testing"].replace(pipeline.data_bucket, prod)},
        "a-copy-of-our-tags": ours,
    }
    reasons = {
        "another-teams-search": "not started by this stage",
        "no-tags-at-all": "not started by this stage",
        "prod-environment-search": "not in the data bucket",
        "a-copy-of-our-tags": "does not match tuning job a-copy-of-our-tags: its job name",
    }
    for name, tags in jobs.items():
        tag_list = [{"Key": k, "Value": v} for k, v in tags.items()]
        sagemaker.create_hyper_parameter_tuning_job(HyperParameterTuningJobName=name, **request, Tags=tag_list)
        add_trial(name, 0, {"eta": "0.1", "max_depth": "3"}, objective=0.99)
        set_tuning_state(name, "Completed")
    before = versions_of(search), record_of(search)
    for name, reason in reasons.items():
        result = deliver(name, "Completed")
        assert result["status"] == "skipped" and reason in result["reason"], (name, result)
    missing = deliver("no-such-search", "Completed")
    assert missing["status"] == "skipped" and "tuning job no-such-search does not exist" in missing["reason"]
    assert (versions_of(search), record_of(search)) == before
    assert model_output(pipeline) == []


def test_a_trials_own_training_job_events_are_skipped(search: dict[str, Any], pipeline: Pipeline) -> None:
    """SageMaker copies the tuning job's tags, the run's, to each trial: its DescribeTrainingJob's TuningJobArn tells."""
    trial = add_trial(search["name"], 0, {"eta": "0.1", "max_depth": "3"}, objective=0.8)
    tags = {t["Key"] for t in SageMakerBackend().tags(f"arn:aws:sagemaker:eu-west-2:123456789012:training-job/{trial}")}
    assert {"RunId", "Source", "Testing", "Project"} <= tags
    before = versions_of(search), record_of(search)
    (result,) = lambda_handler(training_job_event(trial, "Completed"), Context())["results"]
    assert result["status"] == "skipped" and result["kind"] == "training"
    assert result["reason"] == f"a trial of tuning job {search['name']}; the search's outcome is recorded when it ends"
    assert (versions_of(search), record_of(search)) == before and model_output(pipeline) == []


def test_a_throttled_trial_listing_is_retried_by_lambda(search: dict[str, Any], pipeline: Pipeline) -> None:
    four_trials(search["name"])
    set_tuning_state(search["name"], "Completed")
    with (
        inject("sagemaker", "ListTrainingJobsForHyperParameterTuningJob", "throttle", times=None),
        pytest.raises(RetryableError),
    ):
        deliver(search["name"], "Completed")
    assert record_of(search).status == "started" and model_output(pipeline) == []
    assert deliver(search["name"], "Completed")["copied"] is True  # Lambda's retry


def test_the_trial_listing_answers_in_the_services_shapes_over_every_page(search: dict[str, Any]) -> None:
    """moto's route (:func:`tests.moto_tuning.serve_trials`) is held to SageMaker's own shapes: every summary checked
    field by field against ``HyperParameterTrainingJobSummary``, paged and sorted as asked.  The stage asks for pages
    of 100, the most the service gives: at its default of 10 a search of 10,000 trials (Random's limit) took 1,000
    requests per listing, and every state-change event lists the trials twice."""
    names = [
        add_trial(search["name"], n, {"eta": f"0.{n + 1:03d}", "max_depth": "5"}, objective=0.5 + n / 1000) for n in range(105)
    ]
    set_tuning_state(search["name"], "Completed")
    requests: list[dict[str, Any]] = []
    client = aws.client("sagemaker")
    hook = "provide-client-params.sagemaker.ListTrainingJobsForHyperParameterTuningJob"
    client.meta.events.register(hook, lambda params, **_: requests.append(dict(params)))
    try:
        listed = SageMakerBackend().list_training_jobs_for_hyper_parameter_tuning_job(search["name"])
    finally:
        client.meta.events.unregister(hook)
    assert [t["TrainingJobName"] for t in listed] == names  # oldest first, over two pages
    assert [r.get("MaxResults") for r in requests] == [100, 100]
    shape = aws.client("sagemaker").meta.service_model.shape_for("HyperParameterTrainingJobSummary")
    for summary in listed:
        assert service_problems(summary, shape) == [], summary
    assert listed[3]["FinalHyperParameterTuningJobObjectiveMetric"] == {
        "Type": "Maximize",
        "MetricName": "validation:auc",
        "Value": 0.503,
    }
    assert tuning_job_model(search["name"]).best_training_job["TrainingJobName"] == names[-1]
    with pytest.raises(TrainingJobNotFoundError, match="tuning job 'no-such-search' not found"):
        SageMakerBackend().list_training_jobs_for_hyper_parameter_tuning_job("no-such-search")


def test_a_copy_that_fails_transiently_leaves_the_run_started_and_the_retry_copies(
    search: dict[str, Any], pipeline: Pipeline
) -> None:
    trials = four_trials(search["name"])
    set_tuning_state(search["name"], "Completed")
    with inject("s3", "CopyObject", "5xx", times=None), pytest.raises(RetryableError):
        deliver(search["name"], "Completed")
    record = record_of(search)  # the search's outcome is recorded; the run is not complete until its model is delivered
    assert record.status == "started" and record.tuning is not None and record.tuning.status == "Completed"
    assert record.tuning.model_copied_to is None and model_output(pipeline) == []
    retried = deliver(search["name"], "Completed")  # Lambda's retry
    assert retried["status"] == "recorded" and retried["copied"] is True
    assert record_of(search).status == "complete" and [k for k, _ in model_output(pipeline)] == [
        f"{search['day']}/output/{trials[2]}/output/model.tar.gz"
    ]


def test_the_copy_is_encrypted_with_the_key_the_trials_models_are(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    key = aws.client("kms").create_key(Description="the jobs' output key")["KeyMetadata"]["Arn"]
    search = start_search(pipeline, monkeypatch, output_kms_key_id=key)
    trials = four_trials(search["name"])
    set_tuning_state(search["name"], "Completed")
    assert deliver(search["name"], "Completed")["copied"] is True
    head = aws.client("s3").head_object(
        Bucket=pipeline.model_output_bucket, Key=f"{search['day']}/output/{trials[2]}/output/model.tar.gz"
    )
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", key)

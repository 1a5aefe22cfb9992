"""The run record's ``training`` section: the same fields in the same shape from SageMaker's ``DescribeTrainingJob``
(boto3's response) and from the local backend's job record; and the rule that updates it, which never takes a
final status back and writes nothing when nothing changes."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from model_training.config.run import build_config
from model_training.errors import RunFailedError, command_line, lambda_function
from model_training.output.layout import OutputLayout
from model_training.output.local_store import LocalStore
from model_training.output.runrecord import RunRecord, TuningRecord
from model_training.training.jobs import outcome_update, raise_if_failed, record_job_outcome, training_record
from model_training.uris import path_from_uri
from model_training.wiring import run_local
from tests.fixtures import write_csv

DAY = dt.date(2026, 1, 15)
#: A sampling method the container accepts that XGBoost trains with on a GPU only: on a CPU (the local backend, and
#: the CPU instance types) the training job fails ("Only uniform sampling is supported").
GPU_ONLY = "gradient_based"


def local_run(tmp_path: Path, **hyperparameters: str) -> RunRecord:
    """A local run of 120 rows labelled 0 and 1, trained 3 rounds (``binary:logistic``, ``auc``, and
    ``hyperparameters``); its record as written."""
    lines = ["f1,f2,label"] + [f"{i % 7}.5,{(i * 37) % 11},{i % 2}" for i in range(120)]
    src = write_csv(tmp_path / "data.csv", "\n".join(lines) + "\n")
    hp = {"num_round": "3", "objective": "binary:logistic", "eval_metric": "auc", **hyperparameters}
    config = build_config(label="label", drop=(), run_date=DAY, hyperparameters=hp)
    try:
        return run_local(src, config, OutputLayout(tmp_path / "out")).record
    except RunFailedError:
        (found,) = (tmp_path / "out").rglob("run.json")
        return RunRecord.model_validate_json(found.read_text())


def utc(text: str | None) -> dt.datetime:
    assert text is not None
    moment = dt.datetime.fromisoformat(text)
    assert moment.utcoffset() == dt.timedelta(0) and moment.microsecond == 0, text
    return moment


def test_a_local_job_records_its_outcome_in_the_shape_of_a_sagemaker_one(tmp_path: Path) -> None:
    record = local_run(tmp_path)
    training = record.training
    assert record.status == "complete" and training is not None and training.backend == "local"
    assert (training.status, training.secondary_status, training.failure_reason) == ("Completed", "Completed", None)
    assert set(training.final_metrics) == {"train:auc", "validation:auc"}
    assert training.model_artifact and training.model_artifact.startswith("file://")
    assert path_from_uri(training.model_artifact).name == "model.tar.gz" and path_from_uri(training.model_artifact).is_file()
    assert training.training_seconds is not None and training.training_seconds >= 1
    assert training.billable_seconds is None  # nothing bills a local job
    assert utc(training.start_time) <= utc(training.end_time)


def test_a_failed_local_job_records_why_and_when(tmp_path: Path) -> None:
    record = local_run(tmp_path, sampling_method=GPU_ONLY)
    training = record.training
    assert record.status == "complete" and training is not None
    assert (training.status, training.secondary_status) == ("Failed", "Failed")
    assert training.failure_reason and training.failure_reason.startswith("AlgorithmError")
    assert training.model_artifact is None and training.final_metrics == {}
    assert utc(training.start_time) <= utc(training.end_time)


def sagemaker_job(status: str, **fields: Any) -> dict[str, Any]:
    """A ``DescribeTrainingJob`` response as boto3 gives it (times are aware ``datetime`` values)."""
    return {
        "TrainingJobName": "data-0123456789abcdef",
        "TrainingJobStatus": status,
        "SecondaryStatus": {"InProgress": "Training"}.get(status, status),
        "AlgorithmSpecification": {"TrainingImage": "764974769150.dkr.ecr.eu-west-2.amazonaws.com/sagemaker-xgboost:3.0-5"},
        **fields,
    }


def test_times_read_the_same_from_boto3_datetimes_and_local_iso_text() -> None:
    start = dt.datetime(2026, 3, 4, 11, 15, 0, 250_000, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    from_boto3 = training_record(sagemaker_job("Completed", TrainingStartTime=start), "sagemaker")
    from_local = training_record(sagemaker_job("Completed", TrainingStartTime="2026-03-04T10:15:00+00:00"), "local")
    assert from_boto3.start_time == from_local.start_time == "2026-03-04T10:15:00+00:00"
    zulu = training_record(sagemaker_job("Completed", TrainingEndTime="2026-03-04T10:15:00Z"), "x")
    assert zulu.end_time == from_boto3.start_time
    assert training_record(sagemaker_job("Completed", TrainingEndTime="not a time"), "x").end_time == "not a time"


def committed(tmp_path: Path) -> RunRecord:
    record = local_run(tmp_path)
    return record.model_copy(update={"status": "committed", "training": None})


def test_the_update_rule(tmp_path: Path) -> None:
    record = committed(tmp_path)
    started = outcome_update(record, sagemaker_job("InProgress"), "sagemaker")
    assert started is not None and started.status == "started" and started.training is not None
    assert outcome_update(started, sagemaker_job("InProgress"), "sagemaker") is None  # nothing new
    done = outcome_update(started, sagemaker_job("Completed", BillableTimeInSeconds=90), "sagemaker")
    assert done is not None and done.status == "complete" and done.training and done.training.billable_seconds == 90
    for earlier in ("InProgress", "Stopping"):
        assert outcome_update(done, sagemaker_job(earlier), "sagemaker") is None  # never back
    failed = outcome_update(done, sagemaker_job("Failed", FailureReason="ClientError"), "sagemaker")
    assert failed is not None and failed.training and failed.training.status == "Failed"  # SageMaker's word on a final one
    other = outcome_update(done, {**sagemaker_job("InProgress"), "TrainingJobName": "another-job"}, "sagemaker")
    assert other is not None and other.status == "started"  # another job of the run (its record names it)


def test_record_job_outcome_writes_only_what_changes_and_never_goes_back(tmp_path: Path) -> None:
    record = committed(tmp_path)
    store = LocalStore(tmp_path / "store")
    key = "run/run.json"
    store.write_bytes(key, record.to_json())
    first = record_job_outcome(record, sagemaker_job("Completed"), "sagemaker", store, key)
    assert first.status == "complete"
    written = os.stat(store.path(key))
    # a stale InProgress (an older describe, a slower delivery) and the same outcome again: nothing is written
    assert record_job_outcome(record, sagemaker_job("InProgress"), "sagemaker", store, key) == first
    assert record_job_outcome(first, sagemaker_job("Completed"), "sagemaker", store, key) == first
    assert os.stat(store.path(key)).st_mtime_ns == written.st_mtime_ns and os.stat(store.path(key)).st_ino == written.st_ino
    assert RunRecord.model_validate_json(store.read_bytes(key)) == first


@pytest.mark.parametrize("status", ["Completed", "Failed", "Stopped"])
def test_a_final_status_completes_the_run(tmp_path: Path, status: str) -> None:
    updated = outcome_update(committed(tmp_path), sagemaker_job(status), "sagemaker")
    assert updated is not None and updated.status == "complete"


def test_jobs_describe_shows_what_the_run_record_holds_of_a_local_job(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from model_training.cli import app

    record = local_run(tmp_path)
    assert record.training is not None
    out = str(tmp_path / "out")
    shown = CliRunner().invoke(app, ["jobs", "describe", record.training.job_name, "-o", out])
    assert shown.exit_code == 0, shown.output
    lines = dict(re.split(r"\s{2,}", line, maxsplit=1) for line in shown.output.splitlines())  # name, then value
    run_json = tmp_path / "out" / record.prefix / "run.json"
    assert lines["run record"] == f"{run_json} (complete)"
    assert lines["recorded status"] == "Completed"
    assert lines["recorded metrics"] == ", ".join(f"{k}={v:.6f}" for k, v in sorted(record.training.final_metrics.items()))
    assert lines["recorded billable s"] == "(none: a local job is not billed)"
    assert lines["recorded model"] == str(path_from_uri(record.training.model_artifact or ""))
    as_json = json.loads(CliRunner().invoke(app, ["jobs", "describe", record.training.job_name, "-o", out, "--json"]).output)
    assert as_json["RecordedOutcome"] == {
        "run_record": run_json.as_uri(),
        "status": "complete",
        "training": record.training.model_dump(mode="json"),
    }
    run_json.unlink()  # a run record gone: the job is still described, and says so
    gone = CliRunner().invoke(app, ["jobs", "describe", record.training.job_name, "-o", out])
    assert gone.exit_code == 0 and f"{run_json} (cannot be read: it does not exist: the run was deleted, or moved)" in gone.output


@pytest.mark.parametrize("search", [False, True], ids=["training job", "tuning job"])
def test_a_failed_sagemaker_job_s_hint_names_no_flag_in_the_lambda_function(tmp_path: Path, search: bool) -> None:
    # before: the hint said "see: model-training jobs describe NAME" (the local records, not SageMaker's job), and a
    # failed search's said "... or --date)" in the Lambda function's words too
    record = local_run(tmp_path)
    assert record.training is not None
    failed = {"status": "Failed", "failure_reason": "AlgorithmError: x", "backend": "sagemaker"}
    if search:
        tuning = TuningRecord(
            job_name="data-tune", strategy="Bayesian", objective_metric="validation:auc", objective_type="Maximize", **failed
        )
        record = record.model_copy(update={"tuning": tuning})
    else:
        record = record.model_copy(update={"training": record.training.model_copy(update=failed)})
    with pytest.raises(RunFailedError) as caught:
        raise_if_failed(record, "s3://bucket/run", earlier=True)
    hint = caught.value.hint_in(lambda_function)
    api = "DescribeHyperParameterTuningJob data-tune" if search else f"DescribeTrainingJob {record.training.job_name}"
    assert f"see: {api} in SageMaker" in hint and "--" not in hint, hint
    assert "--date" in caught.value.hint_in(command_line)

"""A run's hyperparameter search in ``run.json`` (``tuning``), from SageMaker's shapes and the local backend's; the
rule that updates it (never back from a final status, no rewrite when nothing changed, ``complete`` only once the
best model is copied); and the copy itself, once, in S3 (moto's server over HTTP) and in a local folder."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

import model_training
from model_training import aws
from model_training.config.run import build_config
from model_training.errors import TrainingJobError
from model_training.offline import Pipeline, upload
from model_training.output.local_store import LocalStore
from model_training.output.runrecord import RunRecord, TuningRecord
from model_training.training.jobs import TrainingTarget
from model_training.training.tuning_outcome import (
    ModelCopier,
    copy_best_model,
    needs_copy,
    record_tuning_outcome,
    settle_tuning,
    tuning_record,
)
from tests.fixtures import RawBody

DAY = dt.date(2026, 3, 4)
NAME = "bank-0123456789abcdef"


def described(status: str = "Completed", output: str = "s3://data/automl/run/tuning", **extra: Any) -> dict[str, Any]:
    """A ``DescribeHyperParameterTuningJob`` response as boto3 returns it (times are ``datetime`` values)."""
    best = {
        "TrainingJobName": f"{NAME}-002-1a2b3c4d",
        "TrainingJobStatus": "Completed",
        "TunedHyperParameters": {"eta": "0.31", "max_depth": "7"},
        "FinalHyperParameterTuningJobObjectiveMetric": {"MetricName": "validation:auc", "Value": 0.953},
    }
    return {
        "HyperParameterTuningJobName": NAME,
        "HyperParameterTuningJobArn": f"arn:aws:sagemaker:eu-west-2:123456789012:hyper-parameter-tuning-job/{NAME}",
        "HyperParameterTuningJobStatus": status,
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:auc"},
        },
        "TrainingJobDefinition": {"OutputDataConfig": {"S3OutputPath": output}},
        "CreationTime": dt.datetime(2026, 3, 4, 10, 0, 0, 250000, tzinfo=dt.UTC),
        **({"HyperParameterTuningEndTime": dt.datetime(2026, 3, 4, 10, 30, tzinfo=dt.UTC)} if status != "InProgress" else {}),
        **({"BestTrainingJob": best} if status != "InProgress" else {}),
        **extra,
    }


def summaries() -> list[dict[str, Any]]:
    """``TrainingJobSummaries`` of two trials as boto3 returns them: one completed, one failed."""
    start = dt.datetime(2026, 3, 4, 10, 1, tzinfo=dt.UTC)
    return [
        {
            "TrainingJobName": f"{NAME}-001-9f8e7d6c",
            "TrainingJobStatus": "Failed",
            "TunedHyperParameters": {"eta": "0.05", "max_depth": "3"},
            "FailureReason": "AlgorithmError: out of memory",
            "TrainingStartTime": start,
            "TrainingEndTime": start + dt.timedelta(seconds=42),
            "ObjectiveStatus": "Failed",
        },
        {
            "TrainingJobName": f"{NAME}-002-1a2b3c4d",
            "TrainingJobStatus": "Completed",
            "TunedHyperParameters": {"eta": "0.31", "max_depth": "7"},
            "TrainingStartTime": start,
            "TrainingEndTime": start + dt.timedelta(seconds=95, microseconds=500000),
            "FinalHyperParameterTuningJobObjectiveMetric": {"MetricName": "validation:auc", "Value": 0.953},
            "ObjectiveStatus": "Succeeded",
        },
    ]


def test_sagemakers_description_and_trials_make_the_tuning_section() -> None:
    tuning = tuning_record(described(), summaries(), "sagemaker")
    assert (tuning.backend, tuning.job_name, tuning.status, tuning.strategy) == ("sagemaker", NAME, "Completed", "Bayesian")
    assert (tuning.objective_metric, tuning.objective_type) == ("validation:auc", "Maximize")
    assert tuning.best_training_job == f"{NAME}-002-1a2b3c4d" and tuning.best_objective == 0.953
    assert tuning.best_hyperparameters == {"eta": "0.31", "max_depth": "7"}
    assert tuning.model_artifact == f"s3://data/automl/run/tuning/{NAME}-002-1a2b3c4d/output/model.tar.gz"
    assert tuning.default_objective is None  # SageMaker trains no untuned trial
    assert [t.job_name for t in tuning.trials] == [s["TrainingJobName"] for s in summaries()]
    failed, best = tuning.trials
    assert (failed.status, failed.objective, failed.failure_reason, failed.seconds) == (
        "Failed",
        None,
        "AlgorithmError: out of memory",
        42.0,
    )
    assert (best.objective, best.hyperparameters, best.seconds) == (0.953, {"eta": "0.31", "max_depth": "7"}, 95.0)
    assert (tuning.start_time, tuning.end_time) == ("2026-03-04T10:00:00+00:00", "2026-03-04T10:30:00+00:00")
    assert tuning.model_copied_to is None and needs_copy(tuning)


def test_a_local_searchs_trial_000_is_the_untuned_objective() -> None:
    """The local backend's shapes: times as ISO-8601 text, trial 000 the untuned configuration."""
    local = [
        {**s, "TrainingStartTime": s["TrainingStartTime"].isoformat(), "TrainingEndTime": s["TrainingEndTime"].isoformat()}
        for s in summaries()
    ]
    baseline = {**local[1], "TrainingJobName": f"{NAME}-000-00aa11bb", "TunedHyperParameters": {"eta": "0.2"}}
    baseline["FinalHyperParameterTuningJobObjectiveMetric"] = {"MetricName": "validation:auc", "Value": 0.9}
    description = described(CreationTime="2026-03-04T10:00:00+00:00", HyperParameterTuningEndTime="2026-03-04T10:30:00Z")
    tuning = tuning_record(description, [baseline, *local], "local")
    assert tuning.default_objective == 0.9 and tuning.trials[0].seconds == 95.0
    assert (tuning.start_time, tuning.end_time) == ("2026-03-04T10:00:00+00:00", "2026-03-04T10:30:00+00:00")
    # on SageMaker a trial numbered 000 would be a trial like any other
    assert tuning_record(description, [baseline, *local], "sagemaker").default_objective is None


def test_a_best_training_job_that_is_not_the_searchs_own_is_refused() -> None:
    foreign = described(BestTrainingJob={"TrainingJobName": "FakeTrainingJobName", "TunedHyperParameters": {}})
    with pytest.raises(TrainingJobError, match="not one of its own"):
        tuning_record(foreign, [], "sagemaker")


def test_a_search_in_progress_has_no_best_yet() -> None:
    tuning = tuning_record(described("InProgress"), summaries()[:1], "sagemaker")
    assert tuning.best_training_job is None and tuning.model_artifact is None and not needs_copy(tuning)


# ----- the record ----------------------------------------------------------------------------------------------


def committed(tmp_path: Path) -> tuple[LocalStore, RunRecord]:
    """A committed run record in a local store (``run/run.json``)."""
    store = LocalStore(tmp_path / "out")
    record = RunRecord(
        run_id="0123456789abcdef",
        status="committed",
        source={"uri": "file:///data/bank.csv", "name": "bank"},
        config=build_config(run_date=DAY).model_dump(mode="json"),
        prefix="run",
        splits={},
        files={},
        versions={},
    )
    store.write_bytes("run/run.json", record.to_json())
    return store, record


def stamp(store: LocalStore) -> tuple[int, int]:
    stat = store.path("run/run.json").stat()
    return stat.st_ino, stat.st_mtime_ns


def test_the_run_is_started_until_the_best_model_is_copied(tmp_path: Path) -> None:
    store, record = committed(tmp_path)
    running = tuning_record(described("InProgress"), summaries()[:1], "sagemaker")
    assert record_tuning_outcome(record, running, store, "run/run.json").status == "started"
    done = tuning_record(described(), summaries(), "sagemaker")
    written = record_tuning_outcome(record, done, store, "run/run.json")
    assert written.status == "started" and written.tuning == done  # completed, the best model not yet copied
    copied = done.model_copy(update={"model_copied_to": "s3://models/2026-03-04/output/x/output/model.tar.gz"})
    written = record_tuning_outcome(record, copied, store, "run/run.json")
    assert written.status == "complete" and written.tuning == copied
    assert RunRecord.model_validate_json(store.read_bytes("run/run.json")) == written


@pytest.mark.parametrize("status", ["Failed", "Stopped"])
def test_a_search_that_did_not_complete_is_complete_with_nothing_copied(tmp_path: Path, status: str) -> None:
    store, record = committed(tmp_path)
    tuning = tuning_record(described(status, FailureReason="too many failed trials"), summaries(), "sagemaker")
    written = record_tuning_outcome(record, tuning, store, "run/run.json")
    assert written.status == "complete" and not needs_copy(tuning) and written.tuning is not None
    assert written.tuning.failure_reason == "too many failed trials"


def test_a_final_status_is_never_taken_back_and_an_unchanged_record_is_not_rewritten(tmp_path: Path) -> None:
    store, record = committed(tmp_path)
    copied = tuning_record(described(), summaries(), "sagemaker").model_copy(update={"model_copied_to": "s3://m/k"})
    final = record_tuning_outcome(record, copied, store, "run/run.json")
    before = stamp(store)
    stale = tuning_record(described("InProgress"), summaries()[:1], "sagemaker")
    assert record_tuning_outcome(record, stale, store, "run/run.json") == final
    # the same event again, without the copy's destination (an event knows nothing of it): the copy is kept
    again = record_tuning_outcome(record, tuning_record(described(), summaries(), "sagemaker"), store, "run/run.json")
    assert again == final and stamp(store) == before


# ----- the copy ------------------------------------------------------------------------------------------------


def local_search(tmp_path: Path) -> tuple[LocalStore, RunRecord, TrainingTarget, dict[str, Any]]:
    """A committed run whose trials' models are under its run folder (``run/tuning``), as a local search leaves
    them; the model output folder is ``out/model-output``."""
    store, record = committed(tmp_path)
    for trial in summaries():
        store.write_bytes(f"run/tuning/{trial['TrainingJobName']}/output/model.tar.gz", trial["TrainingJobName"].encode())
    target = TrainingTarget(image="local/sagemaker-xgboost:3.0-5", model_output_root=(tmp_path / "out/model-output").as_uri())
    return store, record, target, described(output=store.uri("run/tuning"))


def test_the_best_model_is_copied_once_to_the_deployment_key(tmp_path: Path) -> None:
    store, record, target, description = local_search(tmp_path)
    written = settle_tuning(record, description, summaries(), "local", store, "run/run.json", target)
    best = f"{NAME}-002-1a2b3c4d"
    destination = tmp_path / f"out/model-output/2026-03-04/output/{best}/output/model.tar.gz"
    assert written.status == "complete" and written.tuning is not None
    assert written.tuning.model_copied_to == destination.as_uri()
    assert destination.read_bytes() == best.encode()
    assert [p.name for p in (tmp_path / "out/model-output").rglob("*") if p.is_file()] == ["model.tar.gz"]
    before = stamp(store), destination.stat().st_ino
    assert settle_tuning(record, description, summaries(), "local", store, "run/run.json", target) == written
    assert (stamp(store), destination.stat().st_ino) == before


def test_concurrent_local_copies_make_one_file(tmp_path: Path) -> None:
    description = local_search(tmp_path)[3]
    tuning = tuning_record(description, summaries(), "local")
    results: list[bool | Exception] = []
    source, destination = str(tuning.model_artifact), str(tmp_path / "out/model-output/m/model.tar.gz")
    barrier = threading.Barrier(8)

    def copy() -> None:
        barrier.wait()
        try:
            results.append(ModelCopier()(source, destination))
        except Exception as exc:
            results.append(exc)

    threads = [threading.Thread(target=copy) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=str) == [False] * 7 + [True]
    assert sorted(p.name for p in (tmp_path / "out/model-output").rglob("*") if p.is_file()) == ["model.tar.gz"]


#: Where this process imported model_training from: a child imports the same code.
PACKAGE_ROOT = Path(model_training.__file__).resolve().parents[1]
ROOT = Path(__file__).resolve().parents[2]


def killed_copy(source: str, destination: str, when: str) -> subprocess.CompletedProcess[str]:
    """Copy ``source`` to ``destination`` in a process that kills itself (SIGKILL) ``before`` or ``after`` the hard
    link that makes the destination: its temporary copy, written and flushed, is left where it was written."""
    script = f"""
import os, signal
from model_training.training import model_copy

link = os.link

def killing(src, dst, *args, **kwargs):
    if "{when}" == "after":
        link(src, dst, *args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)

model_copy.os.link = killing
model_copy.ModelCopier()({source!r}, {destination!r})
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PACKAGE_ROOT), str(ROOT)])}
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_copy_killed_midway_leaves_only_the_model_once_the_stage_runs_again(tmp_path: Path, when: str) -> None:
    """A process killed mid-copy left its temporary copy (``.model.tar.gz.*.partial``, a whole model) in the model
    output folder, and the next copy (which made the model, or found it made) left it there for good: the folder the
    deployment stage watches must hold the model alone."""
    description = local_search(tmp_path)[3]
    tuning = tuning_record(description, summaries(), "local")
    source, destination = str(tuning.model_artifact), tmp_path / "out/model-output/2026-03-04/output/best/output/model.tar.gz"
    killed = killed_copy(source, str(destination), when)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    left = [p.name for p in destination.parent.iterdir()]
    assert any(name.endswith(".partial") for name in left) and destination.exists() == (when == "after")

    assert ModelCopier()(source, destination.as_uri()) is (when == "before")  # the stage run again
    assert [p.name for p in (tmp_path / "out/model-output").rglob("*") if p.is_file()] == ["model.tar.gz"]
    assert destination.read_bytes() == f"{NAME}-002-1a2b3c4d".encode()


def test_a_missing_best_model_is_an_error_and_leaves_the_run_started(tmp_path: Path) -> None:
    store, record, target, description = local_search(tmp_path)
    store.delete(f"run/tuning/{NAME}-002-1a2b3c4d/output/model.tar.gz")
    with pytest.raises(TrainingJobError, match="the best training job's model does not exist"):
        settle_tuning(record, description, summaries(), "local", store, "run/run.json", target)
    stored = RunRecord.model_validate_json(store.read_bytes("run/run.json"))
    assert stored.status == "started" and stored.tuning is not None and stored.tuning.status == "Completed"
    assert not (tmp_path / "out/model-output").exists()


def test_a_search_without_a_best_has_nothing_to_copy(tmp_path: Path) -> None:
    tuning = TuningRecord(
        backend="local",
        job_name=NAME,
        status="Failed",
        strategy="Random",
        objective_metric="validation:auc",
        objective_type="Maximize",
    )
    with pytest.raises(TrainingJobError, match="has no best training job to copy"):
        copy_best_model(tuning, TrainingTarget(image="i", model_output_root=tmp_path.as_uri()), DAY)


class Copies:
    """Keeps the parameters of every ``CopyObject`` the client sends (a botocore ``before-call`` hook)."""

    def __init__(self) -> None:
        self.params: list[dict[str, Any]] = []

    def __call__(self, params: dict[str, Any], **_: Any) -> None:
        self.params.append(params)


def s3_search(pipeline: Pipeline) -> tuple[str, TrainingTarget, TuningRecord]:
    """The best trial's model in the data bucket, where a SageMaker search writes it."""
    prefix = "automl/2026-03-04/training/bank/0123456789abcdef/tuning"
    upload(pipeline.data_bucket, f"{prefix}/{NAME}-002-1a2b3c4d/output/model.tar.gz", b"the best model")
    target = TrainingTarget(image="i", model_output_root=f"s3://{pipeline.model_output_bucket}")
    tuning = tuning_record(described(output=f"s3://{pipeline.data_bucket}/{prefix}"), summaries(), "sagemaker")
    return f"2026-03-04/output/{NAME}-002-1a2b3c4d/output/model.tar.gz", target, tuning


def versions(bucket: str) -> list[dict[str, Any]]:
    return list(aws.client("s3").list_object_versions(Bucket=bucket).get("Versions", []))


def test_the_best_model_is_copied_once_in_s3_pinned_to_its_version(pipeline: Pipeline) -> None:
    key, target, tuning = s3_search(pipeline)
    s3 = aws.client("s3")
    copies = Copies()
    s3.meta.events.register("before-call.s3.CopyObject", copies, unique_id="copies")
    try:
        assert copy_best_model(tuning, target, DAY) == f"s3://{pipeline.model_output_bucket}/{key}"
        assert copy_best_model(tuning, target, DAY) == f"s3://{pipeline.model_output_bucket}/{key}"
    finally:
        s3.meta.events.unregister("before-call.s3.CopyObject", unique_id="copies")
    assert s3.get_object(Bucket=pipeline.model_output_bucket, Key=key)["Body"].read() == b"the best model"
    assert [v["Key"] for v in versions(pipeline.model_output_bucket)] == [key]  # one object, one version
    (sent,) = copies.params  # the second call found the copy
    head = s3.head_object(Bucket=pipeline.data_bucket, Key=str(tuning.model_artifact).split("/", 3)[3])
    assert sent["headers"]["If-None-Match"] == "*"
    assert sent["headers"]["x-amz-copy-source-if-match"] == head["ETag"]
    assert f"versionId={head['VersionId']}" in sent["headers"]["x-amz-copy-source"]


def test_a_copy_that_loses_the_race_finds_the_winners_object(pipeline: Pipeline) -> None:
    """S3 answers ``412 Precondition Failed`` to the conditional copy when another copy made the object between
    the ``HeadObject`` and the ``CopyObject`` (moto does not evaluate ``If-None-Match`` on a copy: the hook
    answers as S3 does, after making the winner's object)."""
    key, _, tuning = s3_search(pipeline)
    s3 = aws.client("s3")

    def raced(request: Any, **_: Any) -> AWSResponse:
        upload(pipeline.model_output_bucket, key, b"the best model")
        body = b"<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions failed</Message></Error>"
        return AWSResponse(request.url, 412, {}, RawBody(body))

    s3.meta.events.register("before-send.s3.CopyObject", raced, unique_id="raced")
    try:
        assert ModelCopier()(str(tuning.model_artifact), f"s3://{pipeline.model_output_bucket}/{key}") is False
    finally:
        s3.meta.events.unregister("before-send.s3.CopyObject", unique_id="raced")
    assert len(versions(pipeline.model_output_bucket)) == 1

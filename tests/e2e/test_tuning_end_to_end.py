"""Issue 14, a hyperparameter search per dataset, end to end: scikit-learn's breast cancer data written to CSV here,
searched through the real command line with the local backend (real Optuna, real XGBoost), and through
``lambda_handler`` on moto's server with the SageMaker backend.

What must hold: the run's ``run.json`` has the search (trials, the best, the untuned configuration's objective); one
model reaches the model output location (the best trial's, copied once), no trial's; a second run or delivery finds
everything done (nothing new written, no second tuning job)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from model_training import aws, lambda_handler
from model_training.cli import app
from model_training.offline import Pipeline, s3_event, upload
from model_training.training.naming import tuning_job_name
from tests.fixtures import Context, jobs, start_tuning_jobs_in_progress

SEARCH: dict[str, Any] = {
    "objective_metric": "validation:auc",
    "strategy": "Random",
    "max_trials": 4,
    "max_parallel_trials": 2,
    "seed": 7,
    "ranges": {"eta": {"min": 0.05, "max": 0.5, "scaling": "Logarithmic"}, "max_depth": {"min": 2, "max": 6}},
}
# the best trial's mark in a trials' table: "(best)", or "(best, untuned)" when no searched trial beat the untuned one
BEST_MARK = re.compile(r"\d{3} \(best(, untuned)?\)")
MANIFEST = {"label": "target", "training": {"hyperparameters": {"num_round": 8}}, "tuning": SEARCH}


def breast_cancer_csv(folder: Path) -> bytes:
    """The breast cancer data as a user's pandas writes it (features, then ``target``), as bytes."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    path = folder / "breast_cancer.csv"
    frame.to_csv(path, index=False)
    return path.read_bytes()


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def files(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root``: relative path -> (inode, modification time in ns)."""
    return {p.relative_to(root).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()}


def test_a_local_search_through_the_command_line(tmp_path: Path) -> None:
    breast_cancer_csv(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps(MANIFEST))
    out = tmp_path / "out"
    args = ("run", str(tmp_path / "breast_cancer.csv"), "-o", str(out), "--date", "2026-03-04", "-q")
    res = cli(*args)
    assert res.exit_code == 0, res.output
    # the run id (from the source's path, here a temporary folder) seeds the search: on some paths no searched trial
    # beats the untuned one, which is then the best (trial 000 marked "best, untuned")
    assert re.search(r"000 \((best, )?untuned\)", res.output) and "best hyperparameters: " in res.output, res.output
    assert BEST_MARK.search(res.output), res.output
    (record_path,) = out.glob("automl/2026-03-04/training/breast_cancer/*/run.json")
    record = json.loads(record_path.read_text())
    tuning = record["tuning"]
    assert record["status"] == "complete" and record["training"] is None
    assert (tuning["backend"], tuning["status"], tuning["strategy"]) == ("local", "Completed", "Random")
    assert tuning["job_name"] == tuning_job_name("breast_cancer", record["run_id"])
    trials = {t["job_name"]: t for t in tuning["trials"]}
    assert len(trials) == 5 and all(t["status"] == "Completed" and t["objective"] is not None for t in trials.values())
    baseline = tuning["trials"][0]
    assert "-000-" in baseline["job_name"] and baseline["hyperparameters"] == {"eta": "0.2", "max_depth": "5"}
    assert tuning["default_objective"] == baseline["objective"]
    best = trials[tuning["best_training_job"]]
    assert tuning["best_objective"] == best["objective"] == max(t["objective"] for t in trials.values())
    assert tuning["best_objective"] >= tuning["default_objective"]  # the untuned configuration is a candidate
    assert tuning["best_hyperparameters"] == best["hyperparameters"]
    assert 0.9 < tuning["best_objective"] <= 1

    # exactly one model in the model output location: the best trial's, at the key the deployment stage parses
    (model,) = (p for p in (out / "model-output").rglob("*") if p.is_file())
    assert model.relative_to(out / "model-output").as_posix() == (
        f"2026-03-04/output/{tuning['best_training_job']}/output/model.tar.gz"
    )
    assert tuning["model_copied_to"] == model.as_uri()
    run_folder = record_path.parent
    trial_models = sorted(run_folder.glob("tuning/*/output/model.tar.gz"))
    assert [p.parent.parent.name for p in trial_models] == sorted(trials)  # every trial's model stays in the run folder
    assert model.read_bytes() == (run_folder / "tuning" / tuning["best_training_job"] / "output/model.tar.gz").read_bytes()
    assert Path(tuning["objective_plot"].removeprefix("file://")).read_bytes().startswith(b"\x89PNG")

    before = files(out)
    again = cli(*args)
    assert again.exit_code == 0, again.output
    assert "already done" in again.output and BEST_MARK.search(again.output), again.output
    assert files(out) == before  # nothing written, nothing trained, nothing copied again

    described = cli("jobs", "describe", tuning["job_name"], "-o", str(out))
    assert described.exit_code == 0, described.output
    assert BEST_MARK.search(described.output) and f"model copied to                {model}" in described.output
    as_json = json.loads(cli("jobs", "describe", tuning["job_name"], "-o", str(out), "--json").stdout)
    assert [t["job_name"] for t in as_json["Trials"]] == [t["job_name"] for t in tuning["trials"]]
    assert as_json["RecordedOutcome"]["tuning"]["model_copied_to"] == model.as_uri()
    listed = cli("jobs", "list", "-o", str(out))
    assert listed.exit_code == 0 and tuning["job_name"] in listed.output and "5/5" in listed.output


def test_a_sagemaker_search_through_the_lambda_handler(
    pipeline: Pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    start_tuning_jobs_in_progress(monkeypatch)
    s3 = aws.client("s3")
    s3.put_object(Bucket=pipeline.data_bucket, Key="automl/incoming/manifest.json", Body=json.dumps(MANIFEST).encode())
    key = "automl/incoming/breast_cancer.csv"
    meta = upload(pipeline.data_bucket, key, breast_cancer_csv(tmp_path))
    event = s3_event(pipeline.data_bucket, key, version_id=meta["version_id"], etag=meta["etag"], size=meta["size"])

    (first,) = lambda_handler(event, Context())["results"]
    assert first["status"] == "started", first
    name = tuning_job_name("breast_cancer", first["run_id"])
    assert first["tuning_job_name"] == name and first["job_name"] is None
    record_key = first["run_record"].split("/", 3)[3]
    record = json.loads(s3.get_object(Bucket=pipeline.data_bucket, Key=record_key)["Body"].read())
    assert record["status"] == "started" and record["tuning"]["status"] == "InProgress"
    assert (record["tuning"]["backend"], record["tuning"]["job_name"], record["tuning"]["trials"]) == ("sagemaker", name, [])

    sagemaker = aws.client("sagemaker")
    described = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    config = described["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Random" and config["RandomSeed"] == 7
    assert config["HyperParameterTuningJobObjective"] == {"Type": "Maximize", "MetricName": "validation:auc"}
    assert config["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 4, "MaxParallelTrainingJobs": 2}
    definition = described["TrainingJobDefinition"]
    static = definition["StaticHyperParameters"]
    assert "eta" not in static and "max_depth" not in static and static["num_round"] == "8"
    run_folder = f"s3://{pipeline.data_bucket}/{record_key.rsplit('/', 1)[0]}"
    assert definition["OutputDataConfig"]["S3OutputPath"] == f"{run_folder}/tuning"  # never the model output bucket
    tags = {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=described["HyperParameterTuningJobArn"])["Tags"]}
    assert tags["RunId"] == first["run_id"] and tags["Testing"] == f"{run_folder}/test/part-00000"
    assert jobs() == []  # a search, not a training job

    (second,) = lambda_handler(event, Context())["results"]
    assert second["status"] == "duplicate" and second["tuning_job_name"] == name
    # a delivery that died after creating the tuning job, before recording it: the next one finds it
    s3.put_object(
        Bucket=pipeline.data_bucket, Key=record_key, Body=json.dumps({**record, "status": "committed", "tuning": None}).encode()
    )
    (third,) = lambda_handler(event, Context())["results"]
    assert third["status"] == "duplicate" and third["tuning_job_name"] == name, third
    found = json.loads(s3.get_object(Bucket=pipeline.data_bucket, Key=record_key)["Body"].read())
    assert found["status"] == "started" and found["tuning"]["job_name"] == name
    summaries = sagemaker.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"]
    assert [s["HyperParameterTuningJobName"] for s in summaries] == [name]
    assert s3.list_objects_v2(Bucket=pipeline.model_output_bucket).get("KeyCount", 0) == 0

"""The command line against moto's server: what the Lambda does, from a laptop."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from model_training import aws
from model_training.cli import app
from model_training.offline import Pipeline, s3_event, upload
from tests.fixtures import EVENT_TIME, small_csv

runner = CliRunner()


def test_run_from_s3_to_s3_on_sagemaker(pipeline: Pipeline) -> None:
    upload(pipeline.data_bucket, "automl/2026-03-04/cli.csv", small_csv())
    res = runner.invoke(
        app,
        ["run", f"s3://{pipeline.data_bucket}/automl/2026-03-04/cli.csv", "--output", f"s3://{pipeline.data_bucket}/manual",
         "--backend", "sagemaker", "--date", "2026-03-04", "-q"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "sagemaker)" in res.output
    keys = [o["Key"] for o in aws.client("s3").list_objects_v2(Bucket=pipeline.data_bucket, Prefix="manual/")["Contents"]]
    assert any(k.startswith("manual/automl/2026-03-04/training/cli/") and k.endswith("/run.json") for k in keys)
    (job,) = aws.client("sagemaker").list_training_jobs()["TrainingJobSummaries"]
    described = runner.invoke(app, ["jobs", "describe", job["TrainingJobName"], "--backend", "sagemaker"])
    assert described.exit_code == 0, described.output
    assert job["TrainingJobName"] in described.output
    listed = runner.invoke(app, ["jobs", "list", "--backend", "sagemaker"])
    assert listed.exit_code == 0 and job["TrainingJobName"] in listed.output


def test_run_from_s3_into_a_local_folder_with_local_training(pipeline: Pipeline, tmp_path: Path) -> None:
    upload(pipeline.data_bucket, "automl/2026-03-04/cli.csv", small_csv())
    res = runner.invoke(
        app,
        ["run", f"s3://{pipeline.data_bucket}/automl/2026-03-04/cli.csv", "-o", str(tmp_path / "out"), "-q", "-H", "num_round=3"],
    )
    assert res.exit_code == 0, res.output
    assert "(Completed, local)" in res.output
    assert list((tmp_path / "out").rglob("model.tar.gz"))


def test_sagemaker_backend_needs_an_s3_output(pipeline: Pipeline, tmp_path: Path) -> None:
    upload(pipeline.data_bucket, "automl/2026-03-04/cli.csv", small_csv())
    res = runner.invoke(
        app, ["run", f"s3://{pipeline.data_bucket}/automl/2026-03-04/cli.csv", "-o", str(tmp_path), "--backend", "sagemaker"]
    )
    assert res.exit_code == 1 and "SageMaker reads its channels from S3" in res.output


def test_invoke_runs_the_handler_on_an_event_file(pipeline: Pipeline, tmp_path: Path) -> None:
    meta = upload(pipeline.data_bucket, "automl/2026-03-04/inv.csv", small_csv())
    event = s3_event(pipeline.data_bucket, "automl/2026-03-04/inv.csv", version_id=meta["version_id"], event_time=EVENT_TIME)
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    res = runner.invoke(app, ["invoke", str(path)])
    assert res.exit_code == 0, res.output
    response = json.loads(res.stdout)  # logs go to stderr
    assert response["results"][0]["status"] == "started"
    again = json.loads(runner.invoke(app, ["invoke", str(path)]).stdout)
    assert again["results"][0]["status"] == "duplicate"


def test_invoke_reports_failures_with_exit_1(pipeline: Pipeline, tmp_path: Path) -> None:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(s3_event(pipeline.data_bucket, "automl/2026-03-04/missing.csv", event_time=EVENT_TIME)))
    res = runner.invoke(app, ["invoke", str(path)])
    assert res.exit_code == 1
    assert '"failed"' in res.output
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    res = runner.invoke(app, ["invoke", str(bad)])
    assert res.exit_code == 1 and "not JSON" in res.output

"""The command line against moto's server: what the Lambda does, from a laptop."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from model_training import aws
from model_training.cli import app
from model_training.offline import Pipeline, s3_event, upload
from tests.fixtures import EVENT_TIME, jobs, small_csv

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


def follow_up(output: str) -> list[str]:
    """The arguments of the `jobs describe` command a run printed (after the program's name)."""
    (line,) = [line for line in output.splitlines() if line.startswith("job record: ")]
    program, *args = shlex.split(line.removeprefix("job record: "))
    assert program == "model-training"
    return args


def test_the_follow_up_after_a_run_with_an_s3_output_works(pipeline: Pipeline, tmp_path: Path, monkeypatch: Any) -> None:
    """Issue 13: it printed `-o s3:/bucket/...` (a slash lost), and `jobs list -o s3://...` looked in a local
    folder named `s3:`."""
    monkeypatch.chdir(tmp_path)  # the default output folder, where a local job's record stays
    upload(pipeline.data_bucket, "automl/2026-03-04/cli.csv", small_csv())
    output = f"s3://{pipeline.data_bucket}/manual"
    res = runner.invoke(
        app, ["run", f"s3://{pipeline.data_bucket}/automl/2026-03-04/cli.csv", "-o", output, "-q", "-H", "num_round=2"]
    )
    assert res.exit_code == 0, res.output
    assert "s3:/" + pipeline.data_bucket not in res.output
    args = follow_up(res.output)
    assert args[:2] == ["jobs", "describe"] and "-o" not in args
    described = runner.invoke(app, args)
    assert described.exit_code == 0, described.output
    assert re.search(rf"^TrainingJobName +{args[2]}$", described.output, re.M)
    for listing in (["jobs", "list", "-o", output], ["jobs", "list"]):
        listed = runner.invoke(app, listing)
        assert listed.exit_code == 0 and args[2] in listed.output, listed.output
    sagemaker = runner.invoke(
        app,
        [
            "run",
            f"s3://{pipeline.data_bucket}/automl/2026-03-04/cli.csv",
            "-o",
            output,
            "-b",
            "sagemaker",
            "-q",
            "--date",
            "2026-03-05",
        ],
    )
    assert sagemaker.exit_code == 0, sagemaker.output
    args = follow_up(sagemaker.output)
    assert args[3:] == ["--backend", "sagemaker"]
    assert runner.invoke(app, args).exit_code == 0


EXAMPLE_EVENT = Path(__file__).resolve().parents[2] / "examples" / "s3-put-event.json"


def example_event(**object_fields: Any) -> dict[str, Any]:
    """The README's example event (examples/s3-put-event.json), with ``object_fields`` added to its object."""
    event = json.loads(EXAMPLE_EVENT.read_text())
    event["Records"][0]["s3"]["object"].update(object_fields)
    return event


def test_the_example_event_starts_a_run_once_its_object_is_uploaded(pipeline: Pipeline) -> None:
    """The README's walkthrough: the buckets and SSM parameters of `provision` (eu-west-2, dev), the object
    uploaded at the event's key, then `model-training invoke examples/s3-put-event.json`."""
    record = example_event()["Records"][0]["s3"]
    assert record["bucket"]["name"] == pipeline.data_bucket
    upload(pipeline.data_bucket, record["object"]["key"], small_csv())
    res = runner.invoke(app, ["invoke", str(EXAMPLE_EVENT)])
    assert res.exit_code == 0, res.output
    (result,) = json.loads(res.stdout)["results"]
    assert result["status"] == "started", result


def test_an_event_whose_etag_or_version_s3_does_not_have_names_the_mismatch_and_how_to_drop_it(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    """Issue 13: the AWS console's sample S3 Put event (a made-up eTag) failed with 'the object changed after
    the event', without what S3 has or what to do."""
    key = example_event()["Records"][0]["s3"]["object"]["key"]
    meta = upload(pipeline.data_bucket, key, small_csv())
    made_up = "0123456789abcdef0123456789abcdef"
    unknown_version = "096fKKXTRTtl3on89fVO.nfljtsv6qko"
    cases = [
        ({"eTag": made_up, "size": 1024}, f"the event says eTag {made_up} (1024 bytes), S3 says eTag "),
        ({"versionId": unknown_version}, f"the event's versionId {unknown_version} is not a version of this object"),
        ({"versionId": meta["version_id"], "eTag": "0" * 32}, f"({meta['size']} bytes), but the event says " + "0" * 32),
    ]
    for fields, says in cases:
        path = tmp_path / "event.json"
        path.write_text(json.dumps(example_event(**fields)))
        res = runner.invoke(app, ["invoke", str(path)])
        assert res.exit_code == 1, res.output
        (result,) = json.loads(res.stdout)["results"]
        assert result["status"] == "failed" and says in result["reason"], result
        assert meta["etag"] in result["reason"] and str(meta["size"]) in result["reason"]
        assert "remove eTag and versionId from the event's object" in result["hint"]
    assert jobs() == []


def test_config_show_reads_an_s3_sources_header_and_names_a_missing_object(pipeline: Pipeline) -> None:
    """Issue 13: config show never looked at the source; on S3 it reads the header with one ranged GetObject."""
    key = "automl/2026-03-04/cfg.csv"
    upload(pipeline.data_bucket, key, small_csv(rows=50_000))
    res = runner.invoke(app, ["config", "show", f"s3://{pipeline.data_bucket}/{key}"])
    assert res.exit_code == 0, res.output
    assert "columns (4): f1, f2, y_no, y_yes" in res.output
    res = runner.invoke(app, ["config", "show", f"s3://{pipeline.data_bucket}/{key}", "--label", "y"])
    assert res.exit_code == 1 and "the label column 'y' is not in the header" in res.output
    missing = f"s3://{pipeline.data_bucket}/automl/2026-03-04/nope.csv"
    res = runner.invoke(app, ["config", "show", missing])
    assert res.exit_code == 1
    assert res.output.startswith(f"error: {missing}: no such object\nhint: check the bucket and the key")


def test_a_sagemaker_search_started_from_the_command_line_is_finished_by_running_it_again(
    pipeline: Pipeline, monkeypatch: Any
) -> None:
    """A search run on SageMaker from the command line, its folders outside the Lambda function's (``-o``) and its
    model output its own (``--model-output``): the tuning job's state-change event is not the function's to record
    (skipped), and running the command again once the search has ended answered "already done" with the search
    ``InProgress`` for good, its best model never delivered.  Run again, it records the search and copies the best
    model to its model output, once."""
    from model_training import lambda_handler
    from tests.fixtures import Context, tuning_job_event
    from tests.moto_tuning import add_trial, model_archive, serve_trials, set_tuning_state, start_tuning_jobs_in_progress

    start_tuning_jobs_in_progress(monkeypatch)
    serve_trials(monkeypatch)
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="team-models", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    s3.put_bucket_versioning(Bucket="team-models", VersioningConfiguration={"Status": "Enabled"})
    upload(pipeline.data_bucket, "automl/2026-03-04/cli.csv", small_csv())
    search = {"objective_metric": "validation:auc", "max_trials": 2, "ranges": {"max_depth": [3, 5]}}
    args = ["run", f"s3://{pipeline.data_bucket}/automl/2026-03-04/cli.csv", "--output", f"s3://{pipeline.data_bucket}/manual",
            "--backend", "sagemaker", "--date", "2026-03-04", "-q", "--tuning", json.dumps(search),
            "--model-output", "s3://team-models"]  # fmt: skip
    started = runner.invoke(app, args)
    assert started.exit_code == 0 and "(InProgress, sagemaker" in started.output, started.output
    (summary,) = aws.client("sagemaker").list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"]
    name = summary["HyperParameterTuningJobName"]
    add_trial(name, 0, {"max_depth": "3"}, objective=0.8)
    best = add_trial(name, 1, {"max_depth": "5"}, objective=0.9)
    set_tuning_state(name, "Completed")
    (event,) = lambda_handler(tuning_job_event(name, "Completed"), Context())["results"]
    assert event["status"] == "skipped", event

    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    assert "(Completed, sagemaker" in done.output and "001 (best)" in done.output
    key = f"2026-03-04/output/{best}/output/model.tar.gz"
    assert [v["Key"] for v in s3.list_object_versions(Bucket="team-models").get("Versions", [])] == [key]
    assert s3.get_object(Bucket="team-models", Key=key)["Body"].read() == model_archive(best)
    assert s3.list_objects_v2(Bucket=pipeline.model_output_bucket).get("KeyCount", 0) == 0
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "already done" in again.output, again.output
    assert len(s3.list_object_versions(Bucket="team-models").get("Versions", [])) == 1


def test_version_id_pins_the_object_version_read(pipeline: Pipeline) -> None:
    key = "automl/2026-03-04/pinned.csv"
    first = upload(pipeline.data_bucket, key, small_csv(rows=60))
    upload(pipeline.data_bucket, key, small_csv(rows=90, seed=1))  # the latest version, not the one asked for
    res = runner.invoke(
        app,
        ["run", f"s3://{pipeline.data_bucket}/{key}", "--version-id", first["version_id"], "--output",
         f"s3://{pipeline.data_bucket}/manual", "--no-train", "--date", "2026-03-04", "-q"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    s3 = aws.client("s3")
    (record_key,) = [
        o["Key"]
        for o in s3.list_objects_v2(Bucket=pipeline.data_bucket, Prefix="manual/")["Contents"]
        if o["Key"].endswith("run.json")
    ]
    record = json.loads(s3.get_object(Bucket=pipeline.data_bucket, Key=record_key)["Body"].read())
    assert record["source"]["version_id"] == first["version_id"]
    assert record["source"]["size_bytes"] == first["size"]


def test_version_id_is_refused_for_a_local_file(tmp_path: Path) -> None:
    path = tmp_path / "local.csv"
    path.write_bytes(small_csv())
    res = runner.invoke(app, ["run", str(path), "--version-id", "v1", "-o", str(tmp_path / "out"), "--no-train"])
    assert res.exit_code == 1
    assert "is not one S3 object" in res.output and "--version-id" in res.output

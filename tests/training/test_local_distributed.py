"""A local job of several instances trains as the container's distributed mode does: one worker process per
host with data, joined by XGBoost's collective, each reading the part files ``ShardedByS3Key`` gives its host;
the master's model and metrics recorded as a single-host job's."""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from model_training.training.local import LocalTrainingBackend
from model_training.training.local_distributed import host_names, shard
from model_training.training.request import build_training_request
from model_training.uris import path_from_uri

HP = {"objective": "binary:logistic", "num_round": "10", "max_depth": "3", "eval_metric": "auc,logloss"}


def write_parts(folder: Path, parts: int, rows: int, seed: int) -> np.ndarray:
    """``parts`` part files of ``rows`` rows each (label, 4 features) under ``folder``; returns every row."""
    rng = np.random.RandomState(seed)
    x = rng.normal(size=(parts * rows, 4))
    y = (x[:, 0] + 0.5 * x[:, 1] + rng.normal(scale=0.5, size=len(x)) > 0).astype(int)
    table = np.column_stack([y, x])
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(parts):
        lines = [",".join([str(int(r[0])), *(repr(float(v)) for v in r[1:])]) for r in table[i * rows : (i + 1) * rows]]
        (folder / f"part-{i:05d}").write_text("\n".join(lines) + "\n")
    return table


def run_job(tmp_path: Path, name: str, instances: int) -> dict[str, Any]:
    backend = LocalTrainingBackend(tmp_path / "jobs")
    backend.create_training_job(
        build_training_request(
            job_name=name,
            image="local/sagemaker-xgboost:3.0-5",
            hyperparameters=HP,
            channels={k: (tmp_path / k).as_uri() + "/" for k in ("train", "validation")},
            output_path=(tmp_path / "output").as_uri(),
            instance_count=instances,
        )
    )
    return backend.run_training_job(name)


def load_model(job: dict[str, Any]) -> Any:
    import xgboost as xgb

    with tarfile.open(path_from_uri(job["ModelArtifacts"]["S3ModelArtifacts"]), "r:gz") as tar:
        assert tar.getnames() == ["xgboost-model"]
        booster = xgb.Booster()
        booster.load_model(bytearray(tar.extractfile("xgboost-model").read()))  # type: ignore[union-attr]
    return booster


def log_of(job: dict[str, Any]) -> str:
    return Path(job["LogFile"]).read_text(encoding="utf-8")


def test_sharded_by_s3_key_gives_each_host_every_nth_object_in_key_order() -> None:
    keys = [f"train/part-{i:05d}" for i in (4, 0, 3, 1, 2)]
    assert shard(keys, 2) == [
        ["train/part-00000", "train/part-00002", "train/part-00004"],
        ["train/part-00001", "train/part-00003"],
    ]
    assert shard(keys[:2], 4) == [["train/part-00000"], ["train/part-00004"], [], []]
    assert host_names(3) == ["algo-1", "algo-2", "algo-3"]


def test_several_instances_shard_the_train_channel_and_replicate_validation() -> None:
    request = build_training_request(
        job_name="j", image="local/sagemaker-xgboost:3.0-5", hyperparameters={},
        channels={"train": "s3://b/t/", "validation": "s3://b/v/"}, output_path="s3://b/o", instance_count=4,
    )  # fmt: skip
    kinds = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3DataDistributionType"] for c in request["InputDataConfig"]}
    assert kinds == {"train": "ShardedByS3Key", "validation": "FullyReplicated"}
    assert request["ResourceConfig"]["InstanceCount"] == 4


@pytest.mark.parametrize("instances", [2, 4])
def test_workers_joined_by_the_collective_train_a_model_that_loads_and_predicts(tmp_path: Path, instances: int) -> None:
    import xgboost as xgb

    write_parts(tmp_path / "train", 4, 150, seed=1)
    validation = write_parts(tmp_path / "validation", 1, 200, seed=2)
    single = run_job(tmp_path, "one", 1)
    job = run_job(tmp_path, "many", instances)

    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert set(job) == set(single)  # the job record's shape is a single-host job's
    booster = load_model(job)
    assert booster.num_features() == 4 and booster.num_boosted_rounds() == 10
    predictions = booster.predict(xgb.DMatrix(validation[:, 1:]))
    accuracy = float(((predictions > 0.5) == validation[:, 0]).mean())
    assert accuracy > 0.8
    log = log_of(job)
    hosts = ", ".join(host_names(instances))
    assert f"distributed training on {instances} hosts: {hosts} (master algo-1)" in log
    # each worker read only its share: 4 parts of 150 rows over the hosts
    rows = 4 * 150 // instances
    assert re.search(rf"^training many: {rows} train rows", log, re.M)
    assert re.search(rf"^\[algo-2\] training many: {rows} train rows", log, re.M)
    # the metrics recorded are the master's, which XGBoost's collective computes over every worker's rows
    metrics = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    assert set(metrics) == {"train:auc", "train:logloss", "validation:auc", "validation:logloss"}
    last = re.findall(r"\[9\]\ttrain-auc:\S+\ttrain-logloss:(\S+)\tvalidation-auc:(\S+)", log)
    assert len(last) == instances  # every host logged its last round, with the same metrics
    assert len(set(last)) == 1
    assert float(last[0][0]) == pytest.approx(metrics["train:logloss"], abs=1e-5)
    assert float(last[0][1]) == pytest.approx(metrics["validation:auc"], abs=1e-5)
    out = path_from_uri(job["ModelArtifacts"]["S3ModelArtifacts"]).parent
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["final"] == metrics and len(saved["history"]["validation"]["auc"]) == 10


def test_a_host_without_training_data_leaves_the_training_and_the_others_train(tmp_path: Path) -> None:
    write_parts(tmp_path / "train", 2, 150, seed=1)
    write_parts(tmp_path / "validation", 1, 100, seed=2)
    job = run_job(tmp_path, "three", 3)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    log = log_of(job)
    assert "warning: host algo-3 has no train data: it is not used in distributed training" in log
    assert "distributed training on 2 hosts: algo-1, algo-2 (master algo-1)" in log
    assert "[algo-3]" not in log
    assert load_model(job).num_boosted_rounds() == 10


def test_one_host_with_data_trains_alone_as_a_single_host_job(tmp_path: Path) -> None:
    write_parts(tmp_path / "train", 1, 150, seed=1)
    write_parts(tmp_path / "validation", 1, 100, seed=2)
    job = run_job(tmp_path, "two", 2)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    log = log_of(job)
    assert "warning: host algo-2 has no train data" in log
    assert "only algo-1 has training data: single-host training" in log
    assert re.search(r"^training two: 150 train rows", log, re.M)
    assert load_model(job).num_boosted_rounds() == 10


@pytest.mark.parametrize("bad", [0, 1], ids=["the-master", "another-host"])
def test_a_workers_bad_data_fails_the_job_naming_its_host_and_no_worker_is_left_waiting(tmp_path: Path, bad: int) -> None:
    write_parts(tmp_path / "train", 2, 150, seed=1)
    write_parts(tmp_path / "validation", 1, 100, seed=2)
    part = tmp_path / "train" / f"part-0000{bad}"
    part.write_text("yes" + part.read_text()[1:])  # the first row's label is not a number
    job = run_job(tmp_path, "bad", 2)
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith(f"ClientError: Data: algo-{bad + 1}: train channel file part-0000{bad}: column")
    assert "ModelArtifacts" not in job
    assert not (tmp_path / "output" / "bad").exists()


def test_a_run_of_two_instances_trains_locally_and_is_recorded_as_a_single_host_run(tmp_path: Path) -> None:
    import datetime as dt

    from sklearn.datasets import load_breast_cancer

    from model_training.config.run import build_config
    from model_training.output.layout import OutputLayout
    from model_training.wiring import run_local

    frame = load_breast_cancer(as_frame=True).frame
    source = tmp_path / "cancer.csv"
    frame.to_csv(source, index=False)
    records = {}
    for instances in (1, 2):
        config = build_config(
            run_date=dt.date(2026, 8, 1), instance_count=instances, label="target", hyperparameters={"num_round": "10"}
        )
        result = run_local(source, config, OutputLayout(tmp_path / f"out-{instances}"))
        training = result.record.training
        assert training is not None and training.status == "Completed"
        records[instances] = json.loads((tmp_path / f"out-{instances}" / result.record.prefix / "run.json").read_text())
    assert sorted(records[2]["training"]) == sorted(records[1]["training"])
    assert sorted(records[2]["files"]) == ["test", "train/part-00000", "train/part-00001", "validation/part-00000",
                                            "validation/part-00001"]  # fmt: skip
    assert records[2]["training"]["final_metrics"]["validation:auc"] > 0.9
    assert records[2]["training"]["model_artifact"].endswith("/output/model.tar.gz")


def test_workers_read_their_shares_from_s3(pipeline: Any, tmp_path: Path) -> None:
    """Channels in S3 (moto's server): each worker process reads its host's objects through boto3."""
    from model_training import aws

    write_parts(tmp_path / "train", 2, 150, seed=1)
    write_parts(tmp_path / "validation", 1, 100, seed=2)
    s3 = aws.client("s3")
    for channel in ("train", "validation"):
        for part in sorted((tmp_path / channel).iterdir()):
            s3.put_object(Bucket=pipeline.data_bucket, Key=f"run/{channel}/{part.name}", Body=part.read_bytes())
    backend = LocalTrainingBackend(tmp_path / "jobs")
    backend.create_training_job(
        build_training_request(
            job_name="s3-job",
            image="local/sagemaker-xgboost:3.0-5",
            hyperparameters=HP,
            channels={k: f"s3://{pipeline.data_bucket}/run/{k}/" for k in ("train", "validation")},
            output_path=(tmp_path / "output").as_uri(),
            instance_count=2,
        )
    )
    job = backend.run_training_job("s3-job")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    log = log_of(job)
    assert re.search(r"^training s3-job: 150 train rows", log, re.M)
    assert re.search(r"^\[algo-2\] training s3-job: 150 train rows", log, re.M)
    assert load_model(job).num_boosted_rounds() == 10

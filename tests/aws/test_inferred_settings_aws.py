"""Issue 13 on the Lambda's path (moto's server): a ``multi:`` objective's ``num_class`` inferred from an S3 object's
labels reaches SageMaker's ``CreateTrainingJob``, in memory and streaming, and a regression's ``run.json``
summarises its label instead of counting every value."""

from __future__ import annotations

import json

import pytest

from model_training import aws, lambda_handler
from model_training.offline import Pipeline, s3_event, upload
from tests.fixtures import EVENT_TIME, Context

KEY = "automl/2026-03-04/wine.csv"


def wine_like(rows: int = 120) -> bytes:
    lines = ["alcohol,ash,target"] + [f"{12 + i % 3}.{i % 10},{i % 7}.5,{i % 3}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def deliver(p: Pipeline, data: bytes) -> dict:
    meta = upload(p.data_bucket, KEY, data)
    version, etag, size = meta["version_id"], meta["etag"], meta["size"]
    event = s3_event(p.data_bucket, KEY, version_id=version, etag=etag, size=size, event_time=EVENT_TIME)
    (result,) = lambda_handler(event, Context())["results"]
    assert result["status"] == "started", result
    return result


def record_of(p: Pipeline, result: dict) -> dict:
    s3 = aws.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=p.data_bucket, Prefix="automl/")["Contents"]]
    (key,) = [k for k in keys if k.endswith(f"{result['run_id']}/run.json")]
    return json.loads(s3.get_object(Bucket=p.data_bucket, Key=key)["Body"].read())


@pytest.mark.parametrize("stream", [False, True], ids=["in-memory", "streaming"])
def test_an_inferred_num_class_is_sent_to_sagemaker(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, stream: bool) -> None:
    monkeypatch.setenv("MODEL_TRAINING_LABEL", "target")
    monkeypatch.setenv("MODEL_TRAINING_HYPERPARAMETERS", json.dumps({"objective": "multi:softprob"}))
    if stream:
        monkeypatch.setenv("MODEL_TRAINING_STREAM_ABOVE_MB", "0")
    result = deliver(pipeline, wine_like())
    described = aws.client("sagemaker").describe_training_job(TrainingJobName=result["job_name"])
    assert described["HyperParameters"]["num_class"] == "3"
    assert described["HyperParameters"]["eval_metric"] == "merror,mlogloss"
    record = record_of(pipeline, result)
    assert record["inferred"] == {"hyperparameters": {"num_class": "3"}, "drop": []}
    assert "num_class" not in record["config"]["training"]["hyperparameters"]


def test_a_regression_is_summarised_per_split(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_TRAINING_LABEL", "target")
    monkeypatch.setenv("MODEL_TRAINING_HYPERPARAMETERS", json.dumps({"objective": "reg:squarederror"}))
    lines = ["a,b,target"] + [f"{i % 13},{i % 5},{i * 1.25}" for i in range(200)]
    result = deliver(pipeline, ("\n".join(lines) + "\n").encode())
    described = aws.client("sagemaker").describe_training_job(TrainingJobName=result["job_name"])
    assert described["HyperParameters"]["eval_metric"] == "rmse"
    splits = record_of(pipeline, result)["splits"]
    assert [splits[s]["rows"] for s in ("train", "validation", "test")] == [140, 40, 20]
    for split in splits.values():
        assert split["label_counts"] is None and split["positives"] is None
        assert 0 <= split["label_summary"]["min"] < split["label_summary"]["mean"] < split["label_summary"]["max"] <= 248.75

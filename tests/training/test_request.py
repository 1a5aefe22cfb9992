from __future__ import annotations

import pytest

from model_training.training.request import build_training_request


def test_request_has_the_shape_sagemaker_expects() -> None:
    req = build_training_request(
        job_name="bank-0123",
        image="img:3.0-5",
        hyperparameters={"num_round": "100"},
        channels={"validation": "s3://b/p/validation/", "train": "s3://b/p/train/"},
        output_path="s3://out/2026-01-01/output",
        tags={"Project": "MLOps"},
    )
    assert req["TrainingJobName"] == "bank-0123"
    assert req["AlgorithmSpecification"] == {"TrainingImage": "img:3.0-5", "TrainingInputMode": "File"}
    assert [c["ChannelName"] for c in req["InputDataConfig"]] == ["train", "validation"]
    for ch in req["InputDataConfig"]:
        assert ch["ContentType"] == "text/csv"
        assert ch["CompressionType"] == "None"
        assert ch["DataSource"]["S3DataSource"]["S3DataType"] == "S3Prefix"
    assert req["OutputDataConfig"] == {"S3OutputPath": "s3://out/2026-01-01/output"}
    assert req["Tags"] == [{"Key": "Project", "Value": "MLOps"}]
    assert all(isinstance(v, str) for v in req["HyperParameters"].values())


@pytest.mark.parametrize("channels", [{"train": "a", "test": "b"}, {"validation": "a"}])
def test_only_train_and_validation_channels(channels: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="channels"):
        build_training_request(job_name="j", image="i", hyperparameters={}, channels=channels, output_path="o")

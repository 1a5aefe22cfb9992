"""The ``CreateTrainingJob`` request of a run, in the shape boto3's ``sagemaker.create_training_job``
takes it (SageMaker API reference, CreateTrainingJob).  The local backend accepts the same request, so a
run trained locally and one trained on SageMaker are described by the same document.
"""

from __future__ import annotations

from typing import Any

#: Image used by the local backend (it runs the real xgboost library in-process, not a container).
LOCAL_IMAGE = "local/sagemaker-xgboost:{version}"


def channel(name: str, s3_uri: str, distribution: str = "FullyReplicated") -> dict[str, Any]:
    """One ``InputDataConfig`` entry: CSV (``text/csv``; an omitted content type means libsvm),
    uncompressed, every object under the ``S3Prefix`` ``s3_uri``; ``distribution`` is
    ``FullyReplicated`` (every instance reads everything) or ``ShardedByS3Key`` (each of several instances
    reads about 1/n of the objects: SageMaker's ``S3DataDistributionType``)."""
    return {
        "ChannelName": name,
        "ContentType": "text/csv",
        "CompressionType": "None",
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": s3_uri, "S3DataDistributionType": distribution}},
    }


def build_training_request(
    *,
    job_name: str,
    image: str,
    hyperparameters: dict[str, str],
    channels: dict[str, str],
    output_path: str,
    role_arn: str | None = None,
    instance_type: str = "ml.m5.xlarge",
    instance_count: int = 1,
    volume_size_gb: int = 30,
    max_runtime_seconds: int = 86_400,
    tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A ``CreateTrainingJob`` request.

    Args:
        job_name: the ``TrainingJobName`` (see :mod:`model_training.training.naming`).
        image: the algorithm's ``TrainingImage``.
        hyperparameters: ``HyperParameters``, every value a string.
        channels: ``{"train": uri, "validation": uri}``; only ``train`` and ``validation`` are allowed
            (any other channel fails the built-in algorithm's job).
        output_path: ``S3OutputPath``; the model lands at ``{output_path}/{job_name}/output/model.tar.gz``.
        max_runtime_seconds: ``StoppingCondition.MaxRuntimeInSeconds`` (1 second to 28 days).

    Raises:
        ValueError: a channel other than ``train``/``validation``, or no ``train`` channel.
    """
    unknown = set(channels) - {"train", "validation"}
    if unknown or "train" not in channels:
        raise ValueError(f"channels must be 'train' and optionally 'validation', got {sorted(channels)}")
    request: dict[str, Any] = {
        "TrainingJobName": job_name,
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
        "HyperParameters": dict(hyperparameters),
        "InputDataConfig": [
            channel(name, channels[name], "ShardedByS3Key" if name == "train" and instance_count > 1 else "FullyReplicated")
            for name in ("train", "validation")
            if name in channels
        ],
        "OutputDataConfig": {"S3OutputPath": output_path},
        "ResourceConfig": {"InstanceType": instance_type, "InstanceCount": instance_count, "VolumeSizeInGB": volume_size_gb},
        "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime_seconds},
        "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
    }
    if role_arn:
        request["RoleArn"] = role_arn
    return request

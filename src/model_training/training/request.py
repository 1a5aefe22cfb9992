"""The ``CreateTrainingJob`` request of a run, in the shape boto3's ``sagemaker.create_training_job``
takes it (SageMaker API reference, CreateTrainingJob), and the job definition it shares with a tuning job's
``TrainingJobDefinition``.  The local backend accepts the same request, so a run trained locally and one
trained on SageMaker are described by the same document.
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


def build_job_definition(
    *,
    image: str,
    channels: dict[str, str],
    output_path: str,
    role_arn: str | None = None,
    instance_type: str = "ml.m5.xlarge",
    instance_count: int = 1,
    volume_size_gb: int = 30,
    max_runtime_seconds: int = 86_400,
) -> dict[str, Any]:
    """What a ``CreateTrainingJob`` request and a tuning job's ``TrainingJobDefinition``
    (``HyperParameterTrainingJobDefinition``) share, under the same member names: ``AlgorithmSpecification``
    (image, File mode), ``InputDataConfig``, ``OutputDataConfig``, ``ResourceConfig``, ``StoppingCondition``
    and ``RoleArn`` when given.

    Args:
        image: the algorithm's ``TrainingImage``.
        channels: ``{"train": uri, "validation": uri}``; only ``train`` and ``validation`` are allowed
            (any other channel fails the built-in algorithm's job).  With several instances the train channel
            is ``ShardedByS3Key``.
        output_path: ``S3OutputPath``; a job's model lands at ``{output_path}/{job_name}/output/model.tar.gz``.
        max_runtime_seconds: ``StoppingCondition.MaxRuntimeInSeconds`` (1 second to 28 days).

    Raises:
        ValueError: a channel other than ``train``/``validation``, or no ``train`` channel.
    """
    unknown = set(channels) - {"train", "validation"}
    if unknown or "train" not in channels:
        raise ValueError(f"channels must be 'train' and optionally 'validation', got {sorted(channels)}")
    definition: dict[str, Any] = {
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
        "InputDataConfig": [
            channel(name, channels[name], "ShardedByS3Key" if name == "train" and instance_count > 1 else "FullyReplicated")
            for name in ("train", "validation")
            if name in channels
        ],
        "OutputDataConfig": {"S3OutputPath": output_path},
        "ResourceConfig": {"InstanceType": instance_type, "InstanceCount": instance_count, "VolumeSizeInGB": volume_size_gb},
        "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime_seconds},
    }
    if role_arn:
        definition["RoleArn"] = role_arn
    return definition


def tag_list(tags: dict[str, str] | None) -> list[dict[str, str]]:
    """``Tags`` as SageMaker takes them: ``[{"Key": k, "Value": v}]`` in the map's order."""
    return [{"Key": k, "Value": v} for k, v in (tags or {}).items()]


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
    """A ``CreateTrainingJob`` request: ``TrainingJobName``, ``HyperParameters`` (every value a string) and
    ``Tags`` around the job definition (:func:`build_job_definition`, whose arguments these are).

    Raises:
        ValueError: a channel other than ``train``/``validation``, or no ``train`` channel.
    """
    definition = build_job_definition(
        image=image,
        channels=channels,
        output_path=output_path,
        role_arn=role_arn,
        instance_type=instance_type,
        instance_count=instance_count,
        volume_size_gb=volume_size_gb,
        max_runtime_seconds=max_runtime_seconds,
    )
    return {"TrainingJobName": job_name, **definition, "HyperParameters": dict(hyperparameters), "Tags": tag_list(tags)}

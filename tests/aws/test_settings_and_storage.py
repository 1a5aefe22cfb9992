"""Settings from the environment and SSM, the S3 store's managed transfer, and the handler's metrics."""

from __future__ import annotations

import json

import pytest

from model_training import aws
from model_training.config.settings import resolve_targets, settings_from_env
from model_training.errors import ConfigurationError
from model_training.offline import Pipeline, s3_event, upload
from model_training.output.s3_store import S3Store
from tests.fixtures import EVENT_TIME, Context, Denied, small_csv


def test_defaults_are_the_originals() -> None:
    s = settings_from_env({})
    assert (s.environment, s.region) == ("dev", "eu-west-2")
    assert s.data_bucket_name_parameter == "mlops-eu-west-2-dev-automl-data"
    assert s.model_output_name_parameter == "mlops-eu-west-2-dev-model-output"
    assert s.role_parameter == "mlops-eu-west-2-dev-sagemaker-role-arn"
    assert s.role_name == "SageMakerExecutionRole"
    assert settings_from_env({"SERVERLESS_ENVIRONMENT": "prod", "AWS_REGION": "us-east-1"}).data_bucket_name_parameter == (
        "mlops-us-east-1-prod-automl-data"
    )


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"MODEL_TRAINING_SSE": "DES"}, "MODEL_TRAINING_SSE"),
        ({"MODEL_TRAINING_INSTANCE_COUNT": "zero"}, "MODEL_TRAINING_INSTANCE_COUNT"),
        ({"MODEL_TRAINING_MAX_OBJECT_BYTES": "1e9"}, "MODEL_TRAINING_MAX_OBJECT_BYTES"),
        ({"MODEL_TRAINING_MAX_OBJECT_BYTES": "-1"}, "MODEL_TRAINING_MAX_OBJECT_BYTES"),
        # refused when read, not by CreateProcessingJob when the first source too large for the function arrives
        ({"MODEL_TRAINING_PROCESSING_ROLE_ARN": "mlops-processing-role-name"}, "MODEL_TRAINING_PROCESSING_ROLE_ARN"),
        ({"MODEL_TRAINING_PROCESSING_ROLE_ARN": "arn:aws:iam::123456789012:user/someone"}, "MODEL_TRAINING_PROCESSING_ROLE_ARN"),
        ({"MODEL_TRAINING_PROCESSING_IMAGE": " "}, "MODEL_TRAINING_PROCESSING_IMAGE"),
        ({"MODEL_TRAINING_PROCESSING_IMAGE": "model training:latest"}, "MODEL_TRAINING_PROCESSING_IMAGE"),
    ],
)
def test_invalid_environment_names_the_variable(env: dict[str, str], name: str) -> None:
    from model_training.config.resolve import env_settings

    with pytest.raises(ConfigurationError, match=name):
        settings_from_env(env)
        env_settings(env)


@pytest.mark.parametrize(
    "env",
    [
        {"MODEL_TRAINING_PROCESSING_IMAGE": "123456789012.dkr.ecr.eu-west-2.amazonaws.com/model-training:1.0"},
        {"MODEL_TRAINING_PROCESSING_ROLE_ARN": "arn:aws:iam::123456789012:role/mlops-processing"},
    ],
)
def test_one_processing_setting_without_the_other_is_refused(env: dict[str, str]) -> None:
    """One alone used to leave the hand-off off without a word: large sources refused as if neither were set."""
    with pytest.raises(ConfigurationError) as caught:
        settings_from_env(env)
    message = str(caught.value)
    assert "MODEL_TRAINING_PROCESSING_IMAGE" in message and "MODEL_TRAINING_PROCESSING_ROLE_ARN" in message
    assert "set both" in message and "Value error" not in message


def test_ssm_values_are_decrypted_and_cached_across_invocations(pipeline: Pipeline) -> None:
    settings = settings_from_env()
    first = resolve_targets(settings)
    assert first.data_bucket == pipeline.data_bucket and first.role_arn == pipeline.role_arn
    aws.client("ssm").put_parameter(Name="mlops-eu-west-2-dev-automl-data", Value="changed", Type="SecureString", Overwrite=True)
    assert resolve_targets(settings).data_bucket == pipeline.data_bucket  # cached (max age 300 s)
    fresh = settings.model_copy(update={"ssm_max_age": 0})
    assert resolve_targets(fresh).data_bucket == "changed"


def test_missing_role_parameter_falls_back_to_the_role_name(pipeline: Pipeline) -> None:
    aws.client("ssm").delete_parameter(Name="mlops-eu-west-2-dev-sagemaker-role-arn")
    targets = resolve_targets(settings_from_env().model_copy(update={"ssm_max_age": 0}))
    assert targets.role_arn.endswith(":role/SageMakerExecutionRole")
    assert targets.role_arn.startswith("arn:aws:iam::")


def test_missing_bucket_parameter_is_a_clear_error(pipeline: Pipeline) -> None:
    aws.client("ssm").delete_parameter(Name="mlops-eu-west-2-dev-model-output")
    with pytest.raises(ConfigurationError, match="mlops-eu-west-2-dev-model-output"):
        resolve_targets(settings_from_env().model_copy(update={"ssm_max_age": 0}))


def test_large_writes_use_multipart_upload(pipeline: Pipeline) -> None:
    store = S3Store(pipeline.data_bucket, multipart_threshold=5 * 1024 * 1024)
    data = b"0123456789abcdef" * (1024 * 1024)  # 16 MiB: four 5 MiB parts and a rest
    obj = store.write("automl/x/training/big/part.csv", [data[i : i + 1_000_000] for i in range(0, len(data), 1_000_000)])
    head = aws.client("s3").head_object(Bucket=pipeline.data_bucket, Key=obj.key)
    assert head["ETag"].strip('"').endswith("-4")  # the ETag of a multipart upload: md5-of-md5s, dash, part count
    assert head["ServerSideEncryption"] == "AES256"
    assert store.verify(obj)
    assert store.read_bytes(obj.key) == data


def test_training_resources_and_kms_keys_are_configurable(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    from model_training import lambda_handler

    for key, value in {
        "MODEL_TRAINING_INSTANCE_TYPE": "ml.c5.2xlarge",
        "MODEL_TRAINING_INSTANCE_COUNT": "2",
        "MODEL_TRAINING_VOLUME_SIZE_GB": "50",
        "MODEL_TRAINING_MAX_RUNTIME_SECONDS": "3600",
        "MODEL_TRAINING_OUTPUT_KMS_KEY_ID": "alias/model",
        "MODEL_TRAINING_VOLUME_KMS_KEY_ID": "alias/volume",
        "MODEL_TRAINING_ALGORITHM_VERSION": "1.7-1",
    }.items():
        monkeypatch.setenv(key, value)
    meta = upload(pipeline.data_bucket, "automl/2026-03-04/res.csv", small_csv())
    event = s3_event(pipeline.data_bucket, "automl/2026-03-04/res.csv", version_id=meta["version_id"], event_time=EVENT_TIME)
    (result,) = lambda_handler(event, Context())["results"]
    assert result["status"] == "started", result
    job = aws.client("sagemaker").describe_training_job(TrainingJobName=result["job_name"])
    assert job["ResourceConfig"]["InstanceType"] == "ml.c5.2xlarge"
    assert job["ResourceConfig"]["InstanceCount"] == 2
    assert job["ResourceConfig"]["VolumeSizeInGB"] == 50
    assert job["StoppingCondition"]["MaxRuntimeInSeconds"] == 3600
    assert job["OutputDataConfig"]["KmsKeyId"] == "alias/model"
    assert job["AlgorithmSpecification"]["TrainingImage"].endswith("/sagemaker-xgboost:1.7-1")


def test_metrics_are_emitted_in_emf(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from model_training import lambda_handler
    from model_training.handler import metrics

    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED")
    metrics.clear_metrics()  # what earlier invocations with metrics disabled left behind
    meta = upload(pipeline.data_bucket, "automl/2026-03-04/m.csv", small_csv())
    event = s3_event(pipeline.data_bucket, "automl/2026-03-04/m.csv", version_id=meta["version_id"], event_time=EVENT_TIME)
    lambda_handler(event, Context())
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{") and '"_aws"' in line]
    assert emf, "no EMF document on stdout"
    names = {m["Name"] for doc in emf for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {"JobsStarted", "RowsSplit", "BytesRead", "SecondsPerObject", "SecondsReading", "SecondsWritingTrain"} <= names
    assert emf[-1]["JobsStarted"] in (1.0, [1.0])


@pytest.mark.parametrize("sse", ["AES256", "aws:kms"])
def test_a_refused_write_names_the_object_and_the_permission(pipeline: Pipeline, sse: str) -> None:
    """Issue 11 item 12: AccessDenied from PutObject came with no hint."""
    store = S3Store(pipeline.data_bucket, sse=sse, kms_key_id="alias/automl" if sse == "aws:kms" else None)
    events = aws.client("s3").meta.events
    events.register("before-send.s3.PutObject", Denied(), unique_id="denied-put")
    try:
        for write in (
            lambda: store.write_bytes("automl/x/run.json", b"{}"),
            lambda: store.create_exclusive("automl/x/c.json", b"{}"),
        ):
            with pytest.raises(ConfigurationError) as caught:
                write()
            assert caught.value.message.startswith(f"s3://{pipeline.data_bucket}/automl/x/")
            assert "access denied writing the object (PutObject, AccessDenied)" in caught.value.message
            assert (
                f"needs s3:PutObject and s3:PutObjectTagging on arn:aws:s3:::{pipeline.data_bucket}/automl/x/*"
                in caught.value.hint
            )
            assert ("kms:GenerateDataKey on alias/automl" in caught.value.hint) == (sse == "aws:kms")
    finally:
        events.unregister("before-send.s3.PutObject", unique_id="denied-put")
